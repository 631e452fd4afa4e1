"""The one helper every test cell calls: `check(function, *inputs, expect=...)`.

Each call runs the student's function on a copy of the inputs, shows one line
saying what happened, and attaches a report of what came back (MIME type
`REPORT_MIME`).  With `expect` it also compares in the kernel and raises
AssertionError on a mismatch: that is the student's self-check.

When the course is graded nothing decided in the kernel counts: student code
runs there first and can rewrite anything that runs after it.  The grader
(`coursekit.verdict`) reads the reports, runs the instructor's notebook to
get the expected values, and compares them in its own process.

`uses="sigmoid"` names graded functions that `function` calls.  At grading
time the grader lets them answer with the reference's values for exactly the
calls the reference made, so that a wrong `sigmoid` does not also cost the
marks of `sigmoid_derivative`.

Functions as inputs are shown by their label: `labelled(lambda x: ..., "x²")`
reads `f = x²` in messages, and a call with it matches the reference's call
with the same label.  A function that returns a function is checked with
`probe=`: the returned function is called on each probe and the values are
compared.  A function that draws is checked through the Axes it returns:
what is compared is what was drawn on the Axes it was given (the first Axes
among the inputs, or the current Axes when none is given and a figure is
open), and the check shows that picture.

`mistake(function, hint, wrong)` names a mistake students make.  The
instructor writes these in a hidden block of the master notebook.  In the
grader's own run of that notebook (and only there: `record_mistakes()`), every
later check of `function` also reports what `wrong` gives for the same inputs,
and the grader shows `hint` when a student's result matches it.  In a
student's kernel `wrong` never runs, so it can neither slow down nor be
disturbed by the student's code.
"""

import base64
import copy
import inspect
import io
import json
import sys
import warnings
from contextlib import contextmanager

import numpy as np

from coursekit.values import (compare, decode, describe, encode, flat, is_axes, is_function,
                              kind_of, label)

REPORT_MIME = "application/vnd.coursekit.check+json"
STUBS_FILE = ".coursekit-stubs.json"
PICTURE_DPI = 60
# uses=: a call gets the reference's answer when its inputs are the reference's
# to this relative tolerance (they come from the same arithmetic)
STUB_RTOL = 1e-9

_mistakes = {}  # function name -> [(hint, wrong implementation)]
_recording = False


def record_mistakes():
    """Make later checks report what each known mistake gives (the grader's reference run)."""
    global _recording
    _recording = True


def mistake(function, hint, wrong):
    """Name a known mistake: `wrong` computes what it gives, `hint` explains it."""
    name = function if isinstance(function, str) else _name(function)
    _mistakes.setdefault(name, []).append((hint, wrong))


def labelled(function, label):
    """`function`, named `label` in messages (for lambdas and other functions
    given as inputs: `labelled(lambda x: 0.01*x**2 + 0.1*x, "0.01x² + 0.1x")`)."""
    def named(*args, **kwargs):
        return function(*args, **kwargs)
    named.coursekit_label = named.__name__ = named.__qualname__ = label
    return named


def check(function, *inputs, expect=None, uses=(), rtol=None, atol=None, probe=None):
    """Call `function(*inputs)`; compare with `expect` when it is given.

    With `probe`, a list of inputs, the result must be a function: what is
    compared is the list of its values on each probe.
    """
    name = _name(function)
    call = _show_call(function, name, inputs)
    if probe is not None:
        call += f" evaluated at {_show_input(list(probe))}"
    uses = (uses,) if isinstance(uses, str) else tuple(uses)
    report = {"function": name, "call": call}
    if _recording and name in _mistakes:
        report["mistakes"] = [_known_mistake(hint, wrong, inputs, probe)
                              for hint, wrong in _mistakes[name]]
    try:
        with _dependencies(function, uses) as calls:
            result, report["value"] = _run(function, inputs, probe, report)
    except Exception as error:
        report["error"] = f"{type(error).__name__}: {error}"
        wanted = "" if expect is None else f"; expected {describe(_expected(expect))}"
        _show(report, f"✘ {call} raised {report['error']}{wanted}")
        raise
    if calls:
        report["calls"] = calls
    tolerance = {k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}
    if tolerance:
        report["tolerance"] = tolerance  # the grader compares with the reference's
    if expect is None:
        _show(report, f"• {call} returned {describe(report['value'])}")
        return
    problem = compare(report["value"], _expected(expect), **tolerance)
    if problem is None:
        _show(report, f"✔ {call} gives the expected result")
        return
    if calls and uses:
        problem += f" ({name} calls {', '.join(uses)}: check that it passes its own test first)"
    _show(report, f"✘ {call}: {problem}")
    raise AssertionError(f"{call}: {problem}")


def _name(function):
    """The function's name; a method's is Class.method."""
    name = getattr(function, "coursekit_label", None) or getattr(
        function, "__name__", type(function).__name__)
    owner = getattr(function, "__self__", None)
    if owner is not None and not inspect.ismodule(owner) and not isinstance(owner, type):
        name = f"{type(owner).__name__}.{name}"
    return name


def _run(function, inputs, probe, report=None):
    """Call `function` on a copy of `inputs`; return (result, encoded value).

    A result that is an Axes is encoded as what was drawn on the Axes the
    function was given (or the current Axes), and that picture goes in `report`.
    """
    inputs = _copy(inputs)
    target = _target_axes(inputs)
    result = function(*inputs)
    if probe is not None:
        if not callable(result):
            raise TypeError(f"it returned {describe(encode(result))}, not a function")
        return result, encode([result(copy.deepcopy(p)) for p in probe])
    if not is_axes(result):
        return result, encode(result)
    drawn = target if target is not None else result
    value = encode(drawn)
    value["on_given"] = result is drawn
    if drawn.figure is not result.figure:
        _close(drawn.figure)
    if report is None:  # a known mistake's run: nobody looks at its picture
        _close(result.figure)
    else:
        report["picture"] = _picture(result.figure)  # what it drew, wherever it drew it
        _show_picture(report["picture"])
    return result, value


def _copy(inputs):
    """A deep copy of `inputs` that keeps Axes and their figures as they are:
    a plotting function must draw on the very Axes it is given."""
    memo = {}
    for value in inputs:
        if is_axes(value):
            memo[id(value)] = value
            memo[id(value.figure)] = value.figure
    return copy.deepcopy(inputs, memo)


def _target_axes(inputs):
    """The Axes a plotting function should draw on: the first Axes among its
    inputs, else the current Axes if a figure is open, else None."""
    for value in inputs:
        if is_axes(value):
            return value
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None and pyplot.get_fignums():
        return pyplot.gca()
    return None


def _picture(figure):
    """The figure as a small PNG, base64; the figure is closed (shown once)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PICTURE_DPI)
    _close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _close(figure):
    pyplot = sys.modules.get("matplotlib.pyplot")  # a figure made without pyplot needs no closing
    if pyplot is not None:
        pyplot.close(figure)


def _show_picture(picture):
    try:
        from IPython.display import display
    except ImportError:
        return
    display({"image/png": picture}, raw=True)


def _expected(expect):
    """`expect` encoded; a list of (x, y) pairs stands for the lines of a plot."""
    value = encode(expect)
    if (isinstance(expect, list) and expect and all(isinstance(p, tuple) and len(p) == 2
                                                     for p in expect)):
        value = {"type": "axes", "on_given": True,
                 "lines": [[encode(x), encode(y)] for x, y in expect]}
    return value


def _known_mistake(hint, wrong, inputs, probe=None):
    """What the mistake `wrong` gives for `inputs`: a value or an error's type.

    It draws on Axes of its own, never on the ones the real check uses.
    """
    pyplot = sys.modules.get("matplotlib.pyplot")
    before = set(pyplot.get_fignums()) if pyplot is not None else set()
    current = pyplot.gcf() if before else None
    if any(is_axes(x) for x in inputs):
        inputs = tuple(pyplot.subplots()[1] if is_axes(x) else x for x in inputs)
    elif current is not None:
        pyplot.figure()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            _, value = _run(wrong, inputs, probe)
            return {"hint": hint, "value": value}
    except Exception as error:
        return {"hint": hint, "error": type(error).__name__}
    finally:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            for number in set(pyplot.get_fignums()) - before:
                pyplot.close(number)
            if current is not None:
                pyplot.figure(current.number)


@contextmanager
def _dependencies(function, names):
    """Record the calls `function` makes to the graded functions `names`.

    When the grader has left the reference's answers for this cell in
    STUBS_FILE, calls with the same inputs get the reference's answer.
    """
    calls = {}
    namespace = getattr(function, "__globals__", None)
    if not names or namespace is None:
        yield calls
        return
    stubs = _read_stubs()
    originals = {n: namespace[n] for n in names if n in namespace}
    for dep, original in originals.items():
        calls[dep] = []
        namespace[dep] = _stand_in(original, calls[dep], stubs.get(dep, []))
    try:
        yield calls
    finally:
        namespace.update(originals)


def _stand_in(original, log, answers):
    """`original`, answering with the reference's result for inputs it was called with.

    A result that is a function is served as a function that answers the same way.
    """
    answers = _Answers(answers)

    def dependency(*args):
        given = encode(args)
        known = answers.find(given)
        if known is None:
            result = original(*args)
        elif known.get("type") == "function":
            result = _served_function(known, lambda: original(*args))
        else:
            result = decode(known)
        entry = [given, encode(result)]
        if is_function(result):
            entry[1]["calls"] = []
            result = _recorded(result, entry[1]["calls"])
        log.append(entry)
        return result
    dependency.__name__ = getattr(original, "__name__", "dependency")
    return dependency


class _Answers:
    """The reference's [inputs, result] pairs for one function, found by inputs.

    The pair after the last one served is tried first: calls on nearly equal
    inputs get their answers in order.  Then every other pair, in order from
    there, whose inputs could match: a student whose inputs went another way
    after a mistake makes hundreds of calls, and comparing each with every
    pair one by one would take minutes.
    """

    def __init__(self, pairs):
        self.pairs, self.cursor, self._groups = pairs, 0, None

    def find(self, given):
        """The reference's result for the inputs `given` (encoded), or None."""
        for i in self._candidates(given):
            if compare(given, self.pairs[i][0], rtol=STUB_RTOL, atol=0) is None:
                self.cursor = i + 1
                return self.pairs[i][1]
        return None

    def _candidates(self, given):
        count = len(self.pairs)
        if not count:
            return
        first = self.cursor % count
        yield first
        try:
            layout, numbers = flat(given)
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
            yield from (i % count for i in range(first + 1, first + count))
            return
        found = []
        for member_layout, (indices, rows) in self._grouped().get(kind_of(layout), {}).items():
            if member_layout == layout:  # the same numbers in the same places: compare all at once
                close = _close_rows(np.asarray(numbers, dtype=float), rows)
                found.extend(i for i, ok in zip(indices, close) if ok)
            else:
                found.extend(indices)
        yield from sorted((i for i in found if i != first), key=lambda i: (i - first) % count)

    def _grouped(self):
        """{kind: {layout: (indices, their inputs' numbers as rows)}} of the pairs;
        inputs that cannot be read are left out: they match nothing."""
        if self._groups is None:
            members = {}
            for i, (inputs, _) in enumerate(self.pairs):
                try:
                    layout, numbers = flat(inputs)
                except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
                    continue
                members.setdefault(kind_of(layout), {}).setdefault(layout, []).append((i, numbers))
            self._groups = {
                kind: {layout: ([i for i, _ in rows], np.array([n for _, n in rows], dtype=float))
                       for layout, rows in layouts.items()}
                for kind, layouts in members.items()}
        return self._groups


def _close_rows(given, rows):
    """Which rows are close to `given` in every place: np.isclose(given, rows,
    rtol=STUB_RTOL, atol=0, equal_nan=True).all(axis=1), written with operators
    alone, as the student's code may have replaced NumPy's functions."""
    infinite = float("inf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # inf - inf
        finite = (abs(given - rows) <= STUB_RTOL * abs(rows)) & (abs(rows) < infinite)
        same = finite | (given == rows) | ((given != given) & (rows != rows))
    return same.all(axis=1)


def _served_function(known, student_result):
    """A function answering as the reference's returned function did, and
    otherwise as the student's would."""
    answers, student = _Answers(known.get("calls", [])), []

    def function(*args):
        result = answers.find(encode(args))
        if result is not None:
            return decode(result)
        if not student:  # the student's function, made once, at the first call it must answer
            student.append(student_result())
        return student[0](*args)
    return function


def _recorded(function, calls):
    """`function`, writing each call and its result to `calls`."""
    def recorded(*args):
        result = function(*args)
        calls.append([encode(args), encode(result)])
        return result
    recorded.__name__ = getattr(function, "__name__", "function")
    return recorded


def _read_stubs():
    try:
        with open(STUBS_FILE, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError):
        return {}


def _show(report, text):
    try:
        from IPython.display import display
    except ImportError:
        print(text)
        return
    display({REPORT_MIME: report, "text/plain": text}, raw=True)


def _show_call(function, name, inputs):
    """`name(inputs)`; with `parameter = value` when an input is a function."""
    shown = [_show_input(x) for x in inputs]
    if any(is_function(x) for x in inputs):
        try:
            parameters = list(inspect.signature(function).bind(*inputs).arguments)
        except (TypeError, ValueError):
            parameters = []
        if len(parameters) == len(shown):
            shown = [f"{parameter} = {text}" for parameter, text in zip(parameters, shown)]
    call = f"{name}({', '.join(shown)})"
    owner = getattr(function, "__self__", None)
    if owner is not None and not inspect.ismodule(owner) and hasattr(owner, "__dict__"):
        state = [f"{k} = {_show_input(v)}" for k, v in vars(owner).items() if not k.startswith("_")]
        if state:
            call += f" with {', '.join(state)}"
    return call


def _show_input(value):
    """The input as the student would type it, or its shape when that is too long."""
    if is_axes(value):
        return "ax"
    if is_function(value):
        return label(value)
    text = " ".join(repr(value).split())
    if len(text) > 80:
        shape = getattr(value, "shape", None)
        text = f"<array of shape {shape}>" if shape is not None else f"<{type(value).__name__}>"
    return text
