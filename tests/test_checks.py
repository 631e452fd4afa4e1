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
                                     {"type": "array", "shape": [1], "data": [1.0]},
                                     {"type": "array", "shape": [1], "data": ["abc"]},
                                     {"type": "array", "shape": [1], "data": "AAAA"},
                                     {"type": "array", "shape": [2], "data": encode(1.0)["data"]},
                                     {"type": "array", "shape": [-1, -1], "data": encode(1.0)["data"]},
                                     {"type": "array", "shape": [1], "data": "not base64!"}])
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


def test_a_dependency_called_with_keywords_or_its_own_defaults_is_served():
    """model() may call optimize with keywords (as DLS's notebooks do) where the
    reference passed them by position, and numerical_diff may have an extra
    parameter with a default: both are the reference's call."""
    w = np.array([[1.0], [2.0]])
    reference = [[encode((w, 2.0, 7, 0.5, False)), encode(1.0)], [encode((w, 2.0)), encode(2.0)]]

    def optimize(w, b, num_iterations=100, learning_rate=0.009, print_cost=False):
        return None

    served = checks._stand_in(optimize, [], reference)
    assert served(w, 2.0, 7, 0.5, False) == 1.0
    assert served(w, 2.0, num_iterations=7, learning_rate=0.5) == 1.0
    assert served(w, 2.0, learning_rate=0.5, num_iterations=7, print_cost=False) == 1.0
    assert served(w, 2.0, num_iterations=8, learning_rate=0.5) is None  # other inputs: its own

    def numerical_diff(f, x, h=1e-4):
        return None

    assert checks._stand_in(numerical_diff, [], reference)(w, 2.0) == 2.0


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


# Which dependency a failing check blames (issue 15, item 7)

def halve(x):
    return x / 2


def not_written(x):
    raise NotImplementedError()


def uses_halve(x):
    return halve(x) + 1


def uses_not_written(x):
    return not_written(x) + 1


def failure_of(*args, **kwargs):
    with pytest.raises(AssertionError) as failed:
        check(*args, **kwargs)
    return str(failed.value)


def test_a_dependency_that_passes_its_own_test_is_not_blamed(monkeypatch):
    monkeypatch.setattr(checks, "_own_results", {})
    check(halve, 4.0, expect=2.0)
    message = failure_of(uses_halve, 4.0, expect=5.0, uses="halve")
    assert message == "uses_halve(4.0): expected 5.0, got 3.0"


def test_a_dependency_with_no_test_of_its_own_is_not_blamed(monkeypatch):
    monkeypatch.setattr(checks, "_own_results", {})
    assert failure_of(uses_halve, 4.0, expect=5.0, uses="halve") == (
        "uses_halve(4.0): expected 5.0, got 3.0")


def test_a_dependency_that_fails_its_own_test_is_blamed_until_it_passes(monkeypatch):
    monkeypatch.setattr(checks, "_own_results", {})
    failure_of(halve, 4.0, expect=3.0)  # as if halve were wrong
    assert failure_of(uses_halve, 4.0, expect=5.0, uses="halve") == (
        "uses_halve(4.0): expected 5.0, got 3.0 (uses_halve calls halve, which fails its own "
        "test: fix halve first)")
    # the same check of halve, run again after a fix, passes: halve is no longer blamed
    checks._own_results["halve"]["halve(4.0)"] = True
    assert "fails its own test" not in failure_of(uses_halve, 4.0, expect=5.0, uses="halve")
    # a dependency that was not called is not blamed either
    failure_of(halve, 4.0, expect=3.0)
    assert "fails its own test" not in failure_of(lambda x: x, 4.0, expect=5.0, uses="halve")


def test_a_dependency_that_raised_is_named_with_what_it_raised(monkeypatch):
    monkeypatch.setattr(checks, "_own_results", {})
    shown = []
    monkeypatch.setattr(checks, "_show", lambda report, text, failed=False: shown.append((report, text)))
    with pytest.raises(NotImplementedError) as raised:
        check(uses_not_written, 1.0, expect=2.0, uses="not_written")
    report, text = shown[-1]
    assert text == ("✘ uses_not_written(1.0): not_written, which uses_not_written calls, raised "
                    "NotImplementedError: write it first")
    assert raised.value._render_traceback_() == [text]  # no traceback: the message says it all
    assert report["dependency_error"] == {"function": "not_written", "error": "NotImplementedError",
                                          "propagated": True}
    # the grader says the same from the report alone
    want = {"function": "uses_not_written", "call": "uses_not_written(1.0)", "value": encode(2.0)}
    assert judge([want], [report], own_test=lambda name: None) == text[2:]


def test_the_grader_blames_a_dependency_only_when_it_fails_its_own_tests_and_answered():
    want = {"function": "g", "call": "g(1)", "value": encode(2.0)}
    have = {"function": "g", "value": encode(3.0), "own_answers": {"f": 2}}
    assert judge([want], [have], own_test={"f": True}.get) == "g(1): expected 2.0, got 3.0"
    assert judge([want], [have], own_test={}.get) == "g(1): expected 2.0, got 3.0"  # no test of its own
    assert judge([want], [have], own_test={"f": False}.get) == (
        "g(1): expected 2.0, got 3.0 (g calls f, which fails its own test: fix f first)")
    served = dict(have, own_answers={"f": 0})  # every call got the reference's answer
    assert judge([want], [served], own_test={"f": False}.get) == "g(1): expected 2.0, got 3.0"
    raised = dict(have, dependency_error={"function": "f", "error": "ValueError: no",
                                          "propagated": False})
    assert judge([want], [raised], own_test={"f": True}.get) == (
        "g(1): expected 2.0, got 3.0 (f, which g calls, raised ValueError: no: fix f first)")
    garbage = dict(have, own_answers=[1], dependency_error="f")
    assert judge([want], [garbage], own_test={"f": False}.get) == "g(1): expected 2.0, got 3.0"


def test_a_test_cell_belongs_to_the_longest_graded_name_it_starts_with():
    from coursekit.verdict import cell_subjects
    names = ["sigmoid", "sigmoid_derivative", "SimpleNet", "propagate"]
    assert cell_subjects("test_sigmoid_derivative", [], names) == {"sigmoid_derivative"}
    assert cell_subjects("test_sigmoid", [], names) == {"sigmoid"}
    assert cell_subjects("test_simplenet_loss", [], names) == {"SimpleNet"}
    shown = [{"call": "numerical_gradient(f, W), where f reads W"}]
    assert cell_subjects("test_propagate_dw", shown, names) == {"propagate", "numerical_gradient"}


# shown_as (issue 15, item 6)

def gradient_of_f_reading_W(W):  # a test helper the student never wrote
    return np.asarray(W) * 2


def test_shown_as_replaces_the_call_in_every_message(monkeypatch):
    shown = []
    monkeypatch.setattr(checks, "_show", lambda report, text, failed=False: shown.append((report, text)))
    as_shown = "numerical_gradient(f, W) with W = {0}, where f reads W through the network"
    check(gradient_of_f_reading_W, np.array([1.0]), expect=[2.0], shown_as=as_shown)
    assert shown[-1][1] == ("✔ numerical_gradient(f, W) with W = array([1.]), where f reads W "
                            "through the network gives the expected result")
    assert shown[-1][0]["function"] == "gradient_of_f_reading_W"  # mistakes key off the helper
    assert shown[-1][0]["call"] == ("numerical_gradient(f, W) with W = array([1.]), where f reads "
                                    "W through the network")
    with pytest.raises(AssertionError, match=r"^numerical_gradient\(f, W\) with W = array\(\[1.\]\), "
                                             r"where f reads W through the network: expected \[3.\]"):
        check(gradient_of_f_reading_W, np.array([1.0]), expect=[3.0], shown_as=as_shown)
    with pytest.raises(TypeError):
        check(gradient_of_f_reading_W, "a", expect=[3.0], shown_as="numerical_gradient(f, W)")
    assert shown[-1][1].startswith("✘ numerical_gradient(f, W) raised TypeError")
    assert "gradient_of_f_reading_W" not in " ".join(text for _, text in shown)
    # the kernel counts it as one of numerical_gradient's own checks
    assert checks._own_results["numerical_gradient"]


# What a student sees of a failing check (issue 15, item 5)

def test_a_failing_check_renders_as_its_message_alone():
    with pytest.raises(AssertionError) as failed:
        check(cube_wrong, np.array([2]), expect=[8])
    assert isinstance(failed.value, checks.CheckFailed)
    assert failed.value._render_traceback_() == ["✘ cube_wrong(array([2])): expected [8.], got [4.]"]


def test_plot_lines_in_the_wrong_order_are_named_as_such():
    pyplot = pytest.importorskip("matplotlib.pyplot")
    xs = np.linspace(0, 1, 5)

    def swapped(ax):
        ax.plot(xs, 2 * xs)
        ax.plot(xs, xs ** 2)
        return ax

    with pytest.raises(AssertionError, match=r"the right lines in the wrong order \(the line expected "
                                             r"1st was drawn 2nd, the line expected 2nd was drawn 1st\)"):
        check(swapped, pyplot.subplots()[1], expect=[(xs, xs ** 2), (xs, 2 * xs)])
    pyplot.close("all")


def test_check_pictures_are_readable_and_small():
    pyplot = pytest.importorskip("matplotlib.pyplot")
    import base64
    import struct
    for size in [(4, 3), (6.4, 4.8), (2, 1.5)]:
        fig, ax = pyplot.subplots(figsize=size)
        xs = np.linspace(0, 20, 41)
        ax.plot(xs, 0.01 * xs ** 2 + 0.1 * xs, label="f")
        ax.plot(xs, 0.75 + 0.2 * (xs - 5), "--", label="tangent at 5")
        ax.legend()
        png = base64.b64decode(checks._picture(fig))
        width, height = struct.unpack(">II", png[16:24])
        assert 480 <= width <= 640 and height >= 300, (size, width, height)
        assert len(png) < 100_000
    assert pyplot.get_fignums() == []


def test_a_check_through_a_dependency_is_not_one_of_the_dependencys_own():
    from coursekit.verdict import cell_subjects
    shown = [{"call": "numerical_gradient(f, net.W), where f = net.loss", "uses": ["numerical_gradient"]}]
    assert cell_subjects("test_simplenet_gradient", shown, ["SimpleNet", "numerical_gradient"]) == {
        "SimpleNet"}


def test_a_known_mistake_of_the_function_itself_is_named_instead_of_a_dependency():
    want = {"function": "g", "call": "g(1)", "value": encode(2.0),
            "mistakes": [{"hint": "one step too many", "value": encode(3.0)}]}
    have = {"function": "g", "value": encode(3.0), "own_answers": {"f": 1}}
    assert judge([want], [have], own_test={"f": False}.get) == (
        "g(1): expected 2.0, got 3.0. Likely mistake: one step too many")


@pytest.mark.parametrize("f_passes", [True, False])
def test_the_grader_reads_a_dependencys_verdict_from_its_own_test_cells(f_passes):
    import nbformat

    from coursekit.checks import REPORT_MIME
    from coursekit.verdict import own_tests, verdict_outputs

    def shown(*reports):
        return [nbformat.v4.new_output("display_data", data={REPORT_MIME: r, "text/plain": ""})
                for r in reports]
    expected = {"test_f": [{"function": "f", "call": "f(1)", "value": encode(1.0)}],
                "test_g": [{"function": "g", "call": "g(1)", "value": encode(2.0), "uses": ["f"]}]}
    outputs = {"test_f": shown({"function": "f", "value": encode(1.0 if f_passes else 5.0)}),
               "test_g": shown({"function": "g", "value": encode(3.0), "own_answers": {"f": 1}})}
    own_test = own_tests(expected, outputs, ["f", "g", "earlier_answers"])
    assert own_test("f") is f_passes and own_test("g") is False and own_test("softmax") is None
    [error] = verdict_outputs(expected["test_g"], outputs["test_g"], own_test)
    blamed = " (g calls f, which fails its own test: fix f first)"
    assert error.traceback == [f"✘ g(1): expected 2.0, got 3.0{'' if f_passes else blamed}"]


def test_the_blamed_dependency_is_named_with_its_caller_or_alone():
    report = {"function": "helper", "call": "the gradient of the loss", "own_answers": {"f": 1}}
    assert checks.blame_dependencies(report, {"f": False}.get) == (
        "f, called here, fails its own test: fix f first")
    assert checks.blame_dependencies(dict(report, callers={"f": "Net.loss"}), {"f": False}.get) == (
        "Net.loss calls f, which fails its own test: fix f first")
    forged = dict(report, callers={"f": "<b>x</b> and more"})  # callers come from the kernel
    assert checks.blame_dependencies(forged, {"f": False}.get).startswith("f, called here")
    shown = dict(report, call="f(x) with x = 1")  # the check names f itself
    assert checks.blame_dependencies(shown, {"f": False}.get).startswith("f, called here")


def test_arrays_travel_as_their_exact_numbers_packed_in_one_string():
    """Reports cross ipykernel, JSON and nbformat: a string passes as one item,
    where a list of 20,000 numbers costs each layer 20,000 steps."""
    big = np.linspace(-1, 1, 20_000).reshape(100, 200)
    data = encode(big)
    assert isinstance(data["data"], str) and data["shape"] == [100, 200]
    assert np.array_equal(checks.decode(data), big)
    special = np.array([np.nan, np.inf, -np.inf, 1e-300, -0.0])
    assert compare(encode(special), encode(special.copy())) is None
    assert np.array_equal(checks.decode(encode(special)), special, equal_nan=True)


def test_only_the_reference_run_reports_what_the_dependencies_answered(monkeypatch):
    """The grader serves the reference's calls of uses= dependencies; a
    student's kernel does not send back its own (07's checks make 1,000 such calls)."""
    shown = []
    monkeypatch.setattr(checks, "_show", lambda report, text, failed=False: shown.append(report))
    monkeypatch.setattr(checks, "_recording", False)
    check(uses_halve, 4.0, uses="halve")
    assert "calls" not in shown[0]
    checks.record_mistakes()
    check(uses_halve, 4.0, uses="halve")
    assert shown[1]["calls"] == {"halve": [[encode((4.0,)), encode(2.0)]]}


def test_a_dependency_is_never_served_for_inputs_that_cannot_be_compared():
    """Inputs encode can only describe (a string, an object) never match the
    reference's, even when described the same: the student's own answer stands."""
    answers = [[encode(("abc",)), encode(1.0)], [encode((3.0,)), encode(1.0)]]
    served = checks._stand_in(lambda value: 2.0, [], answers)
    assert served("abc") == 2.0
    assert served(3.0) == 1.0


def test_the_answers_served_to_a_test_cell_are_each_pair_once_in_order():
    from coursekit.verdict import _answers_text
    one, two = [encode((1.0,)), encode(10.0)], [encode((2.0,)), encode(20.0)]
    reports = [{"calls": {"f": [one, two]}}, {"calls": {"f": [one, two], "g": [one]}}, {}]
    assert __import__("json").loads(_answers_text(reports)) == {"f": [one, two], "g": [one]}
    assert _answers_text([{}, {"value": encode(1.0)}]) is None
