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
    monkeypatch.setattr(checks, "_show", lambda report, text, failed=False: shown.append(report))

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
    monkeypatch.setattr(checks, "_show", lambda report, text, failed=False: shown.append(text))

    def broken(x):
        raise ValueError("no")

    with pytest.raises(ValueError):
        check(broken, 1, expect=2)
    assert shown == ["✘ broken(1) raised ValueError: no; expected 2.0"]


def slope(f, x):
    return (f(x + 1e-4) - f(x - 1e-4)) / 2e-4


def test_a_function_given_as_input_is_shown_by_its_label():
    f = checks.labelled(lambda x: x ** 2, "x²")
    with pytest.raises(AssertionError, match=r"slope\(f = x², x = 3\): expected 7.0, got 6"):
        check(slope, f, 3, expect=7)
    assert compare(encode(f), encode(checks.labelled(lambda x: 0, "x²"))) is None
    assert compare(encode(f), encode(checks.labelled(lambda x: 0, "x³"))) is not None


def test_a_returned_function_is_checked_on_its_probes():
    def line(a, b):
        return lambda t: a * t + b
    check(line, 2, 1, probe=[0, 1, 2], expect=[1, 3, 5])
    with pytest.raises(AssertionError, match=r"line\(2, 1\) evaluated at \[0, 1\]: expected"):
        check(line, 2, 1, probe=[0, 1], expect=[1, 4])
    with pytest.raises(TypeError, match="not a function"):
        check(lambda a: a, 2, probe=[0])


def test_a_result_returned_with_others_is_named():
    problem = compare(encode((np.array([1.0, 2.0]), [0, 1])), encode(np.array([1.0, 2.0])))
    assert "2 values returned together; item 0 is the expected result" in problem


def test_a_method_is_shown_with_its_object():
    class Net:
        def __init__(self):
            self.W = np.array([2.0])

        def predict(self, x):
            return x * self.W
    with pytest.raises(AssertionError, match=r"Net.predict\(3\) with W = array\(\[2.\]\)"):
        check(Net().predict, 3, expect=[5])


def test_plots_are_compared_as_the_lines_drawn_on_the_axes_given():
    pyplot = pytest.importorskip("matplotlib.pyplot")
    xs = np.linspace(0, 1, 5)

    def draw(ax):
        ax.plot(xs, xs ** 2, "r--", label="styling is free")
        ax.plot(xs, 2 * xs)
        ax.legend()
        return ax

    def draw_elsewhere(ax):
        return draw(pyplot.figure().gca())

    check(draw, pyplot.subplots()[1], expect=[(xs, xs ** 2), (xs, 2 * xs)])
    with pytest.raises(AssertionError, match="line 2 of the plot, its y data"):
        check(draw, pyplot.subplots()[1], expect=[(xs, xs ** 2), (xs, 3 * xs)])
    with pytest.raises(AssertionError, match="did not draw on the Axes it was given"):
        check(draw_elsewhere, pyplot.subplots()[1], expect=[(xs, xs ** 2), (xs, 2 * xs)])
    assert pyplot.get_fignums() == []  # each check closes what it drew


def test_a_dependency_returning_a_function_is_served_the_reference_answers():
    answers = [[encode((2,)), {"type": "function", "label": "a function",
                               "calls": [[encode((1.0,)), encode(10.0)]]}]]
    served = checks._stand_in(lambda a: (lambda t: 0.0), [], answers)
    function = served(2)
    assert function(1.0) == 10.0 and function(5.0) == 0.0



def test_a_dependency_gets_the_reference_answer_for_inputs_called_in_any_order():
    inputs = [(np.array([[float(i)], [2.0]]), 0.5) for i in range(6)]
    answers = [[encode(args), encode(10.0 * k)] for k, args in enumerate(inputs)]
    answers.append([encode(({"w": 1.0},)), encode(-1.0)])
    served = checks._stand_in(lambda *args: None, [], answers)
    assert [served(*inputs[k]) for k in (0, 1, 4, 2, 2, 5)] == [0.0, 10.0, 40.0, 20.0, 20.0, 50.0]
    assert served(np.array([[3.0], [2.0]]), np.array([[0.5]])) == 30.0  # (1, 1) for a number
    assert served({"w": 1.0, "extra": 2.0}) == -1.0  # a dict with more keys than expected
    assert served(np.array([[3.0], [2.0 + 1e-6]]), 0.5) is None  # not close enough: its own result
    assert served(np.array([3.0, 2.0]), 0.5) is None  # another shape

@pytest.mark.parametrize("picture, kept", [
    ("iVBORw0KGgo=", True), ("not base64!", False), ("aGVsbG8=", False), (None, False),
    ("A" * 500_000, False)])
def test_only_small_png_pictures_are_kept_in_the_feedback(picture, kept):
    from coursekit.verdict import picture_in
    assert (picture_in({"picture": picture}) is not None) is kept


def test_a_removed_numpy_alias_is_named_with_what_to_write():
    expected = [{"function": "f", "call": "f(2)", "value": encode(0.0)}]
    got = [{"function": "f", "error": "AttributeError: module 'numpy' has no attribute 'float'.\n`np.float` was..."}]
    assert "np.float no longer exists" in judge(expected, got)
    assert "Write float instead" in judge(expected, got)


def test_a_plot_on_the_current_axes_instead_of_the_one_given_fails():
    pyplot = pytest.importorskip("matplotlib.pyplot")
    xs = np.linspace(0, 1, 5)

    def ignores_ax(ax):
        pyplot.plot(xs, xs ** 2)
        return pyplot.gca()

    _, given = pyplot.subplots()
    pyplot.figure()  # another figure is current
    with pytest.raises(AssertionError, match="did not draw on the Axes it was given"):
        check(ignores_ax, given, expect=[(xs, xs ** 2)])
    pyplot.close("all")
