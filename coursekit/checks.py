"""The one helper every test cell calls: `check(function, *inputs, expect=...)`.

Each call runs the student's function on a copy of the inputs, shows one line
saying what happened, and attaches a report of what came back (MIME type
`REPORT_MIME`).  With `expect` it also compares in the kernel and raises
CheckFailed (an AssertionError) on a mismatch: that is the student's
self-check.

When the course is graded nothing decided in the kernel counts: student code
runs there first and can rewrite anything that runs after it.  The grader
(`coursekit.verdict`) reads the reports, runs the instructor's notebook to
get the expected values, and compares them in its own process.

A failing check stops the cell with an error (nbgrader scores the cell as
failed) that IPython shows as the ✘ message alone (`_render_traceback_`): no
traceback into this module, and the message is not repeated.  When the
student's function raised, its own error stops the cell (`except ValueError`
still works), shown as the ✘ message saying what it raised, then the
traceback of the student's code alone: no frames of this module, of Python's
or installed libraries, or of the test cell (its helpers and inputs).

`uses="sigmoid"` names graded functions that `function` calls.  At grading
time the grader lets them answer with the reference's values for exactly the
calls the reference made, so that a wrong `sigmoid` does not also cost the
marks of `sigmoid_derivative`.  A failing check names a dependency only when
it may be to blame (`blame_dependencies`):

- it raised during the check: "softmax, which SimpleNet.loss calls, raised
  NotImplementedError: write it first" (that is the whole message when its
  error stopped the check; otherwise it is added in parentheses);
- or it answered some calls itself (in the kernel every call; at grading the
  calls the reference's answers did not cover) and fails its own test: in the
  kernel, the last run of some self-check of that name failed; at grading,
  some test cell of that function failed (test_<name> or test_<name>_<aspect>,
  or a cell whose checks' calls name it; see verdict.cell_subjects).  Then
  "(gradient_descent calls numerical_gradient, which fails its own test: fix
  numerical_gradient first)", unless a known mistake of the function itself
  explains the result (at grading).

A dependency with no test of its own (an earlier section's answer pasted
into an ungraded cell) is named only when it raised.

`shown_as` is the call as every message shows it, for a check that goes
through a helper the student never wrote:

    check(gradient_of_f_reading_W, W, expect=...,
          shown_as="numerical_gradient(f, W) with W = {0}, where f reads W itself")

It replaces the whole call text `function(inputs)` (and " evaluated at ..."
of `probe=`) in the ✔/✘ line, in "... raised ..." messages, in the report's
"call" and so in the feedback and the grade report.  `{0}`, `{1}`, ... stand
for the inputs as messages show them (other braces are kept as written).  The
report's "function" stays the helper's name: known mistakes key off it.  The
first `name(` in the shown text (here numerical_gradient) is the function a
dependency sentence says calls its dependencies, and, unless it is named in
`uses=`, the function whose own test the check counts as.

Functions as inputs are shown by their label: `labelled(lambda x: ..., "x²")`
reads `f = x²` in messages, and a call with it matches the reference's call
with the same label.  A function that returns a function is checked with
`probe=`: the returned function is called on each probe and the values are
compared.  A function that draws is checked through the Axes it returns:
what is compared is what was drawn on the Axes it was given (the first Axes
among the inputs, or the current Axes when none is given and a figure is
open), and the check shows that picture.

Every message is in the student's language (coursekit.i18n): env
COURSEKIT_LANG, else coursekit/LANGUAGE, else English; `shown_as` texts,
labels and hints are looked up in the same catalogs by their English.  In
the grader's reference run each report also carries its call in every
catalog's language (`call_in`), for feedback in the submitted notebook's
language.

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
import os
import re
import sys
import sysconfig
import types
import warnings
from contextlib import contextmanager

import numpy as np

from coursekit import i18n
from coursekit.i18n import _
from coursekit.values import (compare, decode, describe, encode, flat, is_axes, is_function,
                              kind_of, label)

REPORT_MIME = "application/vnd.coursekit.check+json"
STUBS_FILE = ".coursekit-stubs.json"
# a check's picture: the figure scaled to PICTURE_INCHES wide (within these
# bounds), saved at PICTURE_WIDTH pixels wide, with PICTURE_DPI bounds
PICTURE_INCHES = (4, 6.4)
PICTURE_WIDTH = 560
PICTURE_DPI = (100, 140)
# uses=: a call gets the reference's answer when its inputs are the reference's
# to this relative tolerance (they come from the same arithmetic)
STUB_RTOL = 1e-9

_mistakes = {}  # function name -> [(hint, wrong implementation)]
_recording = False
_own_results = {}  # function name -> {call: whether that check passed}, in this kernel


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


class CheckFailed(AssertionError):
    """A check's result is not the expected one.  In IPython it shows as its
    message alone, not as a traceback into this module."""

    def _render_traceback_(self):
        return [f"✘ {self}"]


def check(function, *inputs, expect=None, uses=(), rtol=None, atol=None, probe=None,
          shown_as=None):
    """Call `function(*inputs)`; compare with `expect` when it is given.

    With `probe`, a list of inputs, the result must be a function: what is
    compared is the list of its values on each probe.  `shown_as` is the call
    as messages show it (see the module's docstring).
    """
    name = _name(function)
    call = _call_text(function, name, inputs, probe, shown_as)
    uses = (uses,) if isinstance(uses, str) else tuple(uses)
    report = {"function": name, "call": call}
    if _recording:  # the grader's reference run: the call as each catalog's language shows it
        report["call_in"] = {}
        for lang in i18n.languages():
            with i18n.language(lang):
                report["call_in"][lang] = _call_text(function, name, inputs, probe, shown_as)
    if uses:
        report["uses"] = list(uses)
    if _recording and name in _mistakes:
        report["mistakes"] = [_known_mistake(hint, wrong, inputs, probe)
                              for hint, wrong in _mistakes[name]]
    dependencies = _Dependencies(sys._getframe(1).f_code.co_filename)
    try:
        with _dependencies(function, uses, dependencies):
            result, report["value"] = _run(function, inputs, probe, report)
    except Exception as error:
        report["error"] = f"{type(error).__name__}: {error}"
        dependencies.describe(report, error)
        if expect is not None:
            _remember(report, False)
        text = _raised_text(report, error, expect)
        _show(report, f"✘ {text}", failed=True)
        _render_as(error, text, with_traceback=not isinstance(error, NotImplementedError))
        raise
    dependencies.describe(report)
    tolerance = {k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}
    if tolerance:
        report["tolerance"] = tolerance  # the grader compares with the reference's
    if expect is None:
        _show(report, "• " + _("{call} returned {value}").format(
            call=call, value=describe(report["value"])))
        return
    problem = compare(report["value"], _expected(expect), **tolerance)
    _remember(report, problem is None)
    if problem is None:
        _show(report, "✔ " + _("{call} gives the expected result").format(call=call))
        return
    blame = blame_dependencies(report, _own_test)
    if blame:
        problem += f" ({blame})"
    _show(report, f"✘ {call}: {problem}", failed=True)
    raise CheckFailed(f"{call}: {problem}")


def _call_text(function, name, inputs, probe, shown_as):
    """The call as messages show it, in the current language."""
    if shown_as is not None:
        return _fill_in(_(str(shown_as)), inputs)
    call = _show_call(function, name, inputs)
    if probe is not None:
        call = _("{call} evaluated at {probe}").format(call=call, probe=_show_input(list(probe)))
    return call


def _raised_text(report, error, expect):
    """What a check whose function raised `error` says (after its ✘)."""
    call, blame = report["call"], blame_dependencies(report, _own_test)
    if report.get("dependency_error", {}).get("propagated"):
        return f"{call}: {blame}"
    if isinstance(error, NotImplementedError):
        return not_written_text(call)
    return raised_text(call, _error_text(error),
                       None if expect is None else describe(_expected(expect)), blame)


def not_written_text(call):
    """What a check says of a function that raises NotImplementedError."""
    return _("{call}: the function is not written yet (it raises NotImplementedError)").format(
        call=call)


def raised_text(call, error, expected=None, blame=""):
    """What a check says of a function that raised `error` ("Type: message"):
    with what was expected (described), and the sentence blaming a dependency."""
    if expected is None:
        text = _("{call} raised {error}").format(call=call, error=translated_error(error))
    else:
        text = _("{call} raised {error}; expected {expected}").format(
            call=call, error=translated_error(error), expected=expected)
    return text + (f" ({blame})" if blame else "")


def translated_error(error):
    """An error text ("Type: message") this module wrote in English (in the
    student's kernel at grading), in the current language; others as they are."""
    found = re.fullmatch(r"TypeError: it returned (.*), not a function", str(error), re.S)
    if found:
        return "TypeError: " + _("it returned {value}, not a function").format(value=found.group(1))
    return error


def called_name(call):
    """The function a call text names: the first `name(` in it (Class.method included)."""
    found = re.search(r"([A-Za-z_][\w.]*)\s*\(", str(call))
    return found.group(1) if found else None


def blame_dependencies(report, own_test):
    """The sentence that blames a dependency of a failed check, or "".

    A dependency is blamed when it raised during the check, or when it
    answered some calls itself (not with the reference's answers) and
    `own_test(name)` is False: it fails its own test.  `own_test` gives None
    for a function with no test of its own: such a dependency is blamed only
    when it raised.  `report` is a check's report (plain data, read with care:
    at grading it comes from the student's kernel).
    """
    callers = report.get("callers")
    callers = callers if isinstance(callers, dict) else {}
    shown = called_name(report.get("call"))

    def caller_of(dependency):
        """The student's function that called `dependency`, else the one the check names."""
        caller = callers.get(dependency)
        if isinstance(caller, str) and _IDENTIFIER.fullmatch(caller) and caller != dependency:
            return caller
        return shown if shown != dependency else None

    raised = report.get("dependency_error")
    if isinstance(raised, dict) and isinstance(raised.get("function"), str):
        dependency, error = raised["function"], str(raised.get("error", ""))[:300]
        caller = caller_of(dependency)
        if error.split(":", 1)[0] == "NotImplementedError":
            text = (_("{dependency}, which {caller} calls, raised NotImplementedError: write it first")
                    if caller else _("{dependency} raised NotImplementedError: write it first"))
        else:
            text = (_("{dependency}, which {caller} calls, raised {error}: fix {dependency} first")
                    if caller else _("{dependency} raised {error}: fix {dependency} first"))
        return text.format(dependency=dependency, caller=caller, error=error)
    answered = report.get("own_answers")
    if not isinstance(answered, dict):
        return ""
    sentences = []
    for dependency, count in answered.items():
        if isinstance(count, int) and count > 0 and own_test(str(dependency)) is False:
            caller = caller_of(dependency)
            text = (_("{caller} calls {dependency}, which fails its own test: fix {dependency} first")
                    if caller else
                    _("{dependency}, called here, fails its own test: fix {dependency} first"))
            sentences.append(text.format(dependency=dependency, caller=caller))
    return "; ".join(sentences)


_IDENTIFIER = re.compile(r"[A-Za-z_]\w{0,60}(\.[A-Za-z_]\w{0,60})?")


def _own_test(name):
    """Whether the checks of `name` run in this kernel passed (the last run of
    each), or None when none ran."""
    results = _own_results.get(name)
    return None if not results else all(results.values())


def _remember(report, passed):
    """Record a self-check's outcome under the function's name and the name in
    its call (unless that is a dependency it names in uses=)."""
    for name in {report["function"], called_name(report["call"])} - {None, *report.get("uses", ())}:
        _own_results.setdefault(name, {})[report["call"]] = passed


def _fill_in(text, inputs):
    """`text` with {0}, {1}, ... replaced by the inputs as messages show them."""
    def shown(match):
        i = int(match.group(1))
        return _show_input(inputs[i]) if i < len(inputs) else match.group(0)
    return re.sub(r"\{(\d+)\}", shown, text)


def _error_text(error):
    """`Type: message`, or `Type` alone when the message is empty."""
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _render_as(error, text, with_traceback=True):
    """Make IPython show `error` as the ✘ line `text` and the traceback of the
    student's own code, without the frames of this module or of libraries."""
    def render():  # IPython shows no error at all if this raises: it must not
        try:
            return [f"✘ {text}", *(_student_traceback(error) if with_traceback else [])]
        except Exception:
            return [f"✘ {text}"]
    try:
        error._render_traceback_ = render
    except Exception:  # an exception that takes no attributes shows as usual
        pass


def _student_traceback(error):
    """IPython's traceback of `error` through the student's frames only, or [].

    Those are the frames below the check's call of the function, but for
    this module's, libraries' and the test cell's own (its helpers and the
    functions it passes as inputs).
    """
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    inside = [i for i, tb in enumerate(frames) if tb.tb_frame.f_code.co_filename.startswith(_HERE)]
    if not inside:
        return []
    test_cell = frames[inside[0] - 1].tb_frame.f_code.co_filename if inside[0] else None
    kept = [tb for tb in frames[inside[0]:]
            if not _is_library(tb.tb_frame.f_code.co_filename)
            and tb.tb_frame.f_code.co_filename != test_cell]
    if not kept:
        return []
    chain = None
    for tb in reversed(kept):
        chain = types.TracebackType(chain, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
    try:
        from IPython import get_ipython
        shell = get_ipython()
        if shell is not None:
            return ["", *shell.InteractiveTB.structured_traceback(
                type(error), error, chain, tb_offset=0)]
    except Exception:
        pass
    import traceback
    return ["", *"".join(traceback.format_exception(type(error), error, chain)).splitlines()]


_LIBRARIES = tuple({sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib",
                                                           "platlib")})
_HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _is_library(filename):
    """Whether a frame's file is this package's, Python's or an installed library's."""
    return filename.startswith(_HERE) or filename.startswith(_LIBRARIES)


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
            raise TypeError(_("it returned {value}, not a function").format(
                value=describe(encode(result))))
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
    """The figure as a PNG of 560 to 640 pixels wide, base64; the figure is
    closed (shown once).  A small figure is enlarged, fonts included, so that
    its tick labels can be read at normal zoom (at 60 dpi a 4 x 3 inch figure
    was 240 x 180 pixels and could not be read)."""
    buffer = io.BytesIO()
    width, height = figure.get_size_inches()
    wanted = min(max(width, PICTURE_INCHES[0]), PICTURE_INCHES[1])
    if wanted != width and width > 0:
        figure.set_size_inches(wanted, height * wanted / width)
    dpi = min(max(PICTURE_WIDTH / wanted, PICTURE_DPI[0]), PICTURE_DPI[1])
    figure.savefig(buffer, format="png", dpi=dpi)
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
            _result, value = _run(wrong, inputs, probe)
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


class _Dependencies:
    """What the dependencies named in `uses=` did during one check: their calls
    and results, how many calls each answered itself (not with the
    reference's answers), and the first error one raised."""

    def __init__(self, test_cell=None):
        self.calls, self.own_answers, self.errors, self.callers = {}, {}, [], {}
        self.test_cell = test_cell  # the file of the code that called check

    def called(self, name):
        """Note the student's function that called the dependency `name` (its first call)."""
        if name not in self.callers:
            self.callers[name] = _student_caller(sys._getframe(2), self.test_cell)

    def describe(self, report, error=None):
        """Add to `report` what the dependencies did; `error` is what the check raised."""
        if _recording and self.calls and error is None:
            report["calls"] = self.calls
        if self.own_answers:
            report["own_answers"] = dict(self.own_answers)
        callers = {name: caller for name, caller in self.callers.items() if caller}
        if callers:
            report["callers"] = callers
        if self.errors:
            name, raised = self.errors[0]
            report["dependency_error"] = {
                "function": name, "error": _error_text(raised)[:300],
                "propagated": any(raised is error for _, raised in self.errors)}


@contextmanager
def _dependencies(function, names, seen):
    """Record in `seen` (_Dependencies) the calls `function` makes to the graded
    functions `names`.

    When the grader has left the reference's answers for this cell in
    STUBS_FILE, calls with the same inputs get the reference's answer.
    """
    namespace = getattr(function, "__globals__", None)
    if not names or namespace is None:
        yield seen
        return
    stubs = _read_stubs()
    originals = {n: namespace[n] for n in names if n in namespace}
    for dep, original in originals.items():
        seen.calls[dep] = []
        namespace[dep] = _stand_in(original, seen.calls[dep], stubs.get(dep, []), dep, seen)
    try:
        yield seen
    finally:
        namespace.update(originals)


def _stand_in(original, log, answers, name=None, seen=None):
    """`original`, answering with the reference's result for inputs it was called with.

    A result that is a function is served as a function that answers the same way.
    With `seen` (_Dependencies), counts the calls `original` answers itself and
    keeps what it raised, under `name`.
    """
    answers = _Answers(answers)
    try:
        signature = inspect.signature(original)
    except (TypeError, ValueError):
        signature = None

    def dependency(*args, **kwargs):
        if seen is not None:
            seen.called(name)
        forms = [encode(form) for form in _call_forms(signature, args, kwargs)]
        given, known = forms[0], None
        for form in forms:
            known = answers.find(form)
            if known is not None:
                given = form
                break
        try:
            if known is None:
                if seen is not None:
                    seen.own_answers[name] = seen.own_answers.get(name, 0) + 1
                result = original(*args, **kwargs)
            elif known.get("type") == "function":
                result = _served_function(known, lambda: original(*args, **kwargs))
            else:
                result = decode(known)
        except Exception as error:
            if seen is not None:
                seen.errors.append((name, error))
            raise
        if _recording:  # the reference's calls are the answers served when grading
            entry = [given, encode(result)]
            if is_function(result):
                entry[1]["calls"] = []
                result = _recorded(result, entry[1]["calls"])
            log.append(entry)
        return result
    dependency.__name__ = getattr(original, "__name__", "dependency")
    return dependency


def _call_forms(signature, args, kwargs):
    """The ways a call's inputs may have been recorded, most literal first.

    The reference and the student may pass the same inputs differently:
    `optimize(w, b, X, Y, n, lr, False)` and `optimize(w, b, X, Y,
    num_iterations=n, learning_rate=lr)` are one call.  So a call is also
    matched with its keywords made positional, with and without the
    defaults of the function called, whose signature may have more
    parameters than the reference's (`numerical_diff(f, x, h=1e-4)`).
    """
    forms = [] if kwargs else [args]
    if signature is not None:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            bound = None
        if bound is not None and not bound.kwargs:
            given = bound.args
            bound.apply_defaults()
            for form in (bound.args, given):  # the same inputs, so their number tells them apart
                if not bound.kwargs and all(len(form) != len(f) for f in forms):
                    forms.append(form)
    if not forms:  # keywords the signature cannot place
        forms.append((args, kwargs))
    return forms


def _student_caller(frame, test_cell):
    """The name of the nearest function up the stack from `frame` that the
    student wrote: not in this package, a library or the test cell's file,
    and not a lambda; None when there is none."""
    while frame is not None:
        filename = frame.f_code.co_filename
        name = getattr(frame.f_code, "co_qualname", frame.f_code.co_name).rsplit("<locals>.", 1)[-1]
        if filename == test_cell or filename.startswith(_HERE):
            if filename.startswith(_HERE) and frame.f_code.co_name == "_run":
                return None  # the check's own call of the function: nothing above is the student's
        elif not _is_library(filename) and "<" not in name:
            return name
        frame = frame.f_back
    return None


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
            for i, (inputs, _result) in enumerate(self.pairs):
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


_stubs_read = ("", {})  # the stubs file's last text, and what it holds


def _read_stubs():
    """The answers the grader left for this cell's checks (STUBS_FILE), read
    once however many checks the cell makes."""
    global _stubs_read
    try:
        with open(STUBS_FILE, encoding="utf-8") as file:
            text = file.read()
    except (OSError, ValueError):
        return {}
    if text != _stubs_read[0]:
        try:
            answers = json.loads(text)
        except ValueError:
            answers = {}
        _stubs_read = (text, answers if isinstance(answers, dict) else {})
    return _stubs_read[1]


def _show(report, text, failed=False):
    """Display the report with its line `text`.  A failed check's line is
    shown by the error that stops the cell (CheckFailed, or the student's
    error): in IPython the report goes with an empty line."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        print(text)
        return
    if failed and get_ipython() is not None:
        text = ""
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
            call = _("{call} with {state}").format(call=call, state=", ".join(state))
    return call


def _show_input(value):
    """The input as the student would type it, or its shape when that is too long."""
    if is_axes(value):
        return "ax"
    if is_function(value):
        return _(label(value))
    text = " ".join(repr(value).split())
    if len(text) > 80:
        shape = getattr(value, "shape", None)
        text = (_("<array of shape {shape}>").format(shape=shape) if shape is not None
                else f"<{type(value).__name__}>")
    return text
