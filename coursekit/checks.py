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

`mistake(function, hint, wrong)` names a mistake students make.  The
instructor writes these in a hidden block of the master notebook.  In the
grader's own run of that notebook (and only there: `record_mistakes()`), every
later check of `function` also reports what `wrong` gives for the same inputs,
and the grader shows `hint` when a student's result matches it.  In a
student's kernel `wrong` never runs, so it can neither slow down nor be
disturbed by the student's code.
"""

import copy
import json
import warnings
from contextlib import contextmanager

import numpy as np

from coursekit.values import compare, decode, describe, encode

REPORT_MIME = "application/vnd.coursekit.check+json"
STUBS_FILE = ".coursekit-stubs.json"

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


def check(function, *inputs, expect=None, uses=(), rtol=None, atol=None):
    """Call `function(*inputs)`; compare with `expect` when it is given."""
    name = _name(function)
    call = f"{name}({', '.join(_show_input(x) for x in inputs)})"
    uses = (uses,) if isinstance(uses, str) else tuple(uses)
    report = {"function": name, "call": call}
    if _recording and name in _mistakes:
        report["mistakes"] = [_known_mistake(hint, wrong, inputs) for hint, wrong in _mistakes[name]]
    try:
        with _dependencies(function, uses) as calls:
            result = function(*copy.deepcopy(inputs))
    except Exception as error:
        report["error"] = f"{type(error).__name__}: {error}"
        wanted = "" if expect is None else f"; expected {describe(encode(expect))}"
        _show(report, f"✘ {call} raised {report['error']}{wanted}")
        raise
    report["value"] = encode(result)
    if calls:
        report["calls"] = calls
    if expect is None:
        _show(report, f"• {call} returned {describe(report['value'])}")
        return
    tolerance = {k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}
    problem = compare(report["value"], encode(expect), **tolerance)
    if problem is None:
        _show(report, f"✔ {call} gives the expected result")
        return
    if calls and uses:
        problem += f" ({name} calls {', '.join(uses)}: check that it passes its own test first)"
    _show(report, f"✘ {call}: {problem}")
    raise AssertionError(f"{call}: {problem}")


def _name(function):
    return getattr(function, "__name__", type(function).__name__)


def _known_mistake(hint, wrong, inputs):
    """What the mistake `wrong` gives for `inputs`: a value or an error's type."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return {"hint": hint, "value": encode(wrong(*copy.deepcopy(inputs)))}
    except Exception as error:
        return {"hint": hint, "error": type(error).__name__}


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
    def dependency(*args):
        given = encode(args)
        for known_args, known_result in answers:
            if compare(given, known_args) is None:
                result = decode(known_result)
                break
        else:
            result = original(*args)
        log.append([given, encode(result)])
        return result
    dependency.__name__ = getattr(original, "__name__", "dependency")
    return dependency


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


def _show_input(value):
    """The input as the student would type it, or its shape when that is too long."""
    text = " ".join(repr(value).split())
    if len(text) > 80:
        shape = getattr(value, "shape", None)
        text = f"<array of shape {shape}>" if shape is not None else f"<{type(value).__name__}>"
    return text
