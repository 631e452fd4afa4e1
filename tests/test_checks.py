"""The check helper and the verdict, on small functions written here."""

import numpy as np
import pytest

from coursekit import checks
from coursekit.checks import check
from coursekit.values import compare, encode
from coursekit.verdict import judge


def square(x):
    return np.asarray(x) ** 2


def cube_wrong(x):
    return np.asarray(x) ** 2


def test_check_passes_a_right_answer_and_fails_a_wrong_one():
    check(square, np.array([1, 2]), expect=[1, 4])
    with pytest.raises(AssertionError, match=r"cube_wrong\(array\(\[2\]\)\): expected \[8\.\], got \[4\.\]"):
        check(cube_wrong, np.array([2]), expect=[8])


def test_check_shows_the_shape_when_only_the_shape_is_wrong():
    with pytest.raises(AssertionError, match=r"expected shape \(3, 1\), got shape \(3,\)"):
        check(square, np.array([1, 2, 3]), expect=np.array([[1], [4], [9]]))


def test_check_spots_a_missing_return():
    with pytest.raises(AssertionError, match="returned None"):
        check(lambda x: None, 1, expect=1)


def test_check_does_not_let_the_function_change_the_callers_input():
    data = np.array([1.0, 2.0])
    check(lambda x: x.fill(0) or x, data, expect=[0, 0])
    assert data.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("got, expected", [
    (0.1 + 0.2, 0.3),
    (np.float32(0.5), 0.5),
    ([1, 2], np.array([1.0, 2.0])),
    ({"dw": np.ones((2, 1)), "db": 0.5}, {"dw": [[1.0], [1.0]], "db": 0.5}),
    ((np.nan, 1), (np.nan, 1)),
])
def test_equal_values_compare_equal(got, expected):
    assert compare(encode(got), encode(expected)) is None


@pytest.mark.parametrize("got, expected, words", [
    (0.31, 0.3, "expected 0.3, got 0.31"),
    (np.ones(3), np.ones((3, 1)), "shape"),
    ({"dw": 1}, {"dw": 1, "db": 0}, "no key 'db'"),
    (np.inf, 1.0, "got inf"),
    ("0.3", 0.3, "expected 0.3"),
])
def test_different_values_compare_different(got, expected, words):
    assert words in compare(encode(got), encode(expected))


@pytest.mark.parametrize("garbage", [None, 3, "x", {"type": "array"},
                                     {"type": "array", "shape": [2], "data": [1]},
                                     {"type": "array", "shape": [1], "data": ["abc"]}])
def test_unreadable_reports_never_pass(garbage):
    assert compare(garbage, encode(1.0)) is not None


def test_judge_needs_every_check_in_order():
    expected = [{"function": "f", "call": "f(1)", "value": encode(1.0)},
                {"function": "f", "call": "f(2)", "value": encode(4.0)}]
    right = [{"function": "f", "value": encode(1.0)}, {"function": "f", "value": encode(4.0)}]
    assert judge(expected, right) is None
    assert "no result came back" in judge(expected, right[:1])
    assert "f(2): expected 4.0, got 1.0" in judge(expected, [right[0], right[0]])
    assert "not written yet" in judge(expected, [{"function": "f", "error": "NotImplementedError: "}])


@pytest.mark.parametrize("got", [np.float64(1.1), np.array([1.1]), np.array([[1.1]])])
def test_a_single_number_may_come_back_as_a_one_element_array(got):
    assert compare(encode(got), encode(1.1)) is None


@pytest.mark.parametrize("got, expected", [
    (np.array([1.1, 1.1]), 1.1),
    (np.array([[[1.1]]]), 1.1),
    (1.1, np.array([1.1])),
    (np.array([[1.1]]), np.array([1.1])),
])
def test_other_shapes_stay_exact(got, expected):
    assert "shape" in compare(encode(got), encode(expected))


def test_judge_names_a_known_mistake_by_its_value_or_its_error():
    want = {"function": "f", "call": "f(2)", "value": encode(4.0),
            "mistakes": [{"hint": "it doubles", "value": encode(4.0)},
                         {"hint": "it returns x", "value": encode(2.0)},
                         {"hint": "axis 1", "error": "AxisError"}]}
    assert judge([want], [{"function": "f", "value": encode(2.0)}]) == (
        "f(2): expected 4.0, got 2.0. Likely mistake: it returns x")
    assert judge([want], [{"function": "f", "error": "AxisError: axis 1 is out of bounds"}]) == (
        "f(2) raised AxisError: axis 1 is out of bounds; expected 4.0. Likely mistake: axis 1")
    assert judge([want], [{"function": "f", "value": encode(3.0)}]) == "f(2): expected 4.0, got 3.0"
    assert judge([want], [{"function": "f", "error": "ValueError: no"}]) == (
        "f(2) raised ValueError: no; expected 4.0")


def test_check_reports_what_each_known_mistake_gives(monkeypatch):
    shown = []
    monkeypatch.setattr(checks, "_show", lambda report, text: shown.append(report))

    def halve(x):
        return x / 2

    checks.mistake(halve, "it doubles", lambda x: x * 2)
    checks.mistake("halve", "it fails", lambda x: x["key"])
    check(halve, 3.0)
    assert "mistakes" not in shown[0]  # a student's kernel never runs them
    monkeypatch.setattr(checks, "_recording", False)
    checks.record_mistakes()
    check(halve, 3.0)
    assert shown[1]["mistakes"] == [{"hint": "it doubles", "value": encode(6.0)},
                                    {"hint": "it fails", "error": "TypeError"}]


def test_a_failing_self_check_that_raised_says_what_was_expected(monkeypatch):
    shown = []
    monkeypatch.setattr(checks, "_show", lambda report, text: shown.append(text))

    def broken(x):
        raise ValueError("no")

    with pytest.raises(ValueError):
        check(broken, 1, expect=2)
    assert shown == ["✘ broken(1) raised ValueError: no; expected 2.0"]
