"""Grading verdicts computed outside the student's kernel.

`ReferenceVerdict`, in nbgrader's autograde pipeline right after the Execute
step (coursekit.execute), replaces each test cell's outputs with the grader's
own verdict: the results the student's kernel reported, compared in this
process with the results of the instructor's notebook in `source/`.
nbgrader's SaveAutoGrades then scores the cell as usual (an error output: no
marks).

The expected results come from running the master notebook once, cached in
`.coursekit-cache/` under the course root, keyed by the notebook's bytes and
the code that writes and reads the reports (and the message catalogs).

The verdicts are written in the language of the notebook graded, its
`metadata.coursekit.language` (absent: English): the messages through
coursekit.i18n's catalogs, the known-mistake hints too (their msgid is the
English hint of the master), and each check's call as the reference run
wrote it in that language (its report's `call_in`).
"""

import base64
import binascii
import functools
import hashlib
import json
import os
import re

import nbformat
from nbclient import NotebookClient
from nbgrader import utils
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from coursekit import checks, i18n, values
from coursekit.checks import REPORT_MIME
from coursekit.sandbox import IpcKernelManager
from coursekit.i18n import _
from coursekit.values import compare

CACHE_DIR = ".coursekit-cache"
# aliases of Python's types that NumPy 1.24 removed (np.float, np.int, ...)
REMOVED_ALIAS = re.compile(r"^AttributeError: module 'numpy' has no attribute '(float|int|bool|"
                           r"object|complex|str|long|unicode)'")
MAX_PICTURE_BYTES = 300_000


class ReferenceFailure(Exception):
    """The instructor's notebook itself failed a check."""


def test_cell_id(cell):
    """The grade_id of an autograded test cell, or None."""
    if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
        return cell.metadata["nbgrader"]["grade_id"]
    return None


def reports_in(outputs):
    """The check reports among a cell's outputs, in order."""
    return [out["data"][REPORT_MIME] for out in outputs
            if out.get("output_type") == "display_data" and REPORT_MIME in out.get("data", {})]


def run_reference(path, timeout=120):
    """Execute the master notebook at `path`; return {grade_id: [reports]}."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "import coursekit.checks\ncoursekit.checks.record_mistakes()"))
    # ipc sockets in a folder of its own, as the sandboxed kernels use (not TCP,
    # which ipykernel warns is unencrypted); the kernel imports the coursekit
    # this process runs, wherever the environment's install points; nbclient
    # owns the kernel manager, so it stops the kernel, also in a forked worker
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            kernel_manager_class=IpcKernelManager,
                            resources={"metadata": {"path": os.path.dirname(path)}})
    coursekit_parent = os.path.dirname(os.path.dirname(os.path.realpath(checks.__file__)))
    # in English: the calls in other languages go in each report's call_in
    client.execute(env=dict(os.environ, COURSEKIT_LANG=i18n.ENGLISH, PYTHONPATH=os.pathsep.join(
        filter(None, [coursekit_parent, os.environ.get("PYTHONPATH")]))))
    expected = {}
    for cell in nb.cells:
        grade_id = test_cell_id(cell)
        if grade_id is None:
            continue
        reports = reports_in(cell.outputs)
        for report in reports:
            if "value" not in report:
                raise ReferenceFailure(f"{path}: test {grade_id}: the reference solution fails: "
                                      f"{report.get('error', report.get('call'))}")
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        if errors:
            raise ReferenceFailure(f"{path}: test {grade_id} fails on the reference solution: "
                                  f"{errors[0].get('ename')}: {errors[0].get('evalue')}")
        expected[grade_id] = reports
    return expected


_loaded = {}  # cache file -> reports, read once per process
_served = {}  # cache file -> {grade_id: the answers served to its checks, as JSON text}


def _cache_file(path, cache_root):
    """Where the reports of the master at `path` are cached: named by the
    notebook's content and the code that writes and reads them."""
    with open(path, "rb") as file:
        digest = hashlib.sha256(file.read() + _code_digest())
    return os.path.join(cache_root, CACHE_DIR, f"{os.path.basename(path)}-{digest.hexdigest()[:16]}.json")


@functools.cache
def _code_digest():
    """The code that writes and reads the reports, and the message catalogs,
    as this process loaded them: read once, not for every notebook graded."""
    digest = hashlib.sha256()
    catalogs = [str(i18n.catalog_path(lang)) for lang in i18n.languages()]
    for part in (checks.__file__, values.__file__, i18n.__file__, __file__, *catalogs):
        with open(part, "rb") as file:
            digest.update(file.read())
    return digest.digest()


def reference_cached(path, cache_root):
    """Whether the reports of the master at `path` are cached under `cache_root`."""
    return os.path.exists(_cache_file(path, cache_root))


def reference_reports(path, cache_root):
    """`run_reference(path)`, cached under `cache_root` by the notebook's content."""
    return _reports(path, _cache_file(path, cache_root))


def _reports(path, cache):
    """The reports of the master at `path`, from the file `cache` if it holds them."""
    if cache in _loaded:
        return _loaded[cache]
    try:
        with open(cache, encoding="utf-8") as file:
            _loaded[cache] = json.load(file)
            return _loaded[cache]
    except (OSError, ValueError):
        pass
    expected = run_reference(path)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    partial = f"{cache}.{os.getpid()}"
    with open(partial, "w", encoding="utf-8") as file:
        json.dump(expected, file)
    os.replace(partial, cache)
    _loaded[cache] = expected
    return expected


def served_answers(path, cache_root):
    """{grade_id: text} for the master at `path`: what the dependencies named in
    uses= answered its test cell's checks, the answers the grader serves
    (coursekit.execute, read by coursekit.checks), as the JSON text
    {name: [[inputs, result], ...]}.

    Each pair is there once, in order: several checks of one cell often make
    the same calls (07's checks of model each train on the same images).
    Made once per process, not for every notebook graded.
    """
    cache = _cache_file(path, cache_root)
    if cache not in _served:
        _served[cache] = {grade_id: _answers_text(reports)
                          for grade_id, reports in _reports(path, cache).items()}
    return _served[cache]


def _answers_text(reports):
    answers, seen = {}, set()
    for report in reports:
        for name, calls in report.get("calls", {}).items():
            for pair in calls:
                key = (name, json.dumps(pair))
                if key not in seen:
                    seen.add(key)
                    answers.setdefault(name, []).append(pair)
    return json.dumps(answers) if answers else None


def judge(expected, got, own_test=None):
    """Return None when every expected check is matched by `got`, else why not.

    `own_test(name)` says whether the graded function `name` passes its own
    tests (None: it has none here; without `own_test`, none has).  A failure
    blames a dependency named in the check's report as coursekit.checks does
    in the kernel (blame_dependencies): when it raised, or when it answered
    calls itself and fails its own tests; a known mistake of the function
    itself is named instead.
    """
    for i, want in enumerate(expected):
        call = shown_call(want)
        if i >= len(got):
            return _("{call}: no result came back (the test stopped before this check)").format(
                call=call)
        have = got[i]
        if not isinstance(have, dict) or have.get("function") != want["function"]:
            return _("{call}: the test's checks did not run in their order").format(call=call)
        blame = _blame(want, have, own_test)
        if "error" in have:
            error = str(have["error"])[:300]
            raised = have.get("dependency_error")
            if blame and isinstance(raised, dict) and raised.get("propagated") is True:
                return f"{call}: {blame}"
            if error.startswith("NotImplementedError"):
                return checks.not_written_text(call)
            removed = REMOVED_ALIAS.search(error)
            if removed:
                return _("{call} raised AttributeError: np.{name} no longer exists: it was an alias "
                         "of Python's built-in {name}, removed in NumPy 1.24. Write {name} "
                         "instead").format(call=call, name=removed.group(1))
            wanted = values.describe(want["value"])
            return _with_hint(checks.raised_text(call, error, wanted), want, have, blame)
        problem = compare(have.get("value"), want["value"], **want.get("tolerance", {}))
        if problem:
            return _with_hint(f"{call}: {problem}", want, have, blame)
    return None


def shown_call(want):
    """The call of the reference's check `want` as the current language shows it."""
    shown = want.get("call_in")
    lang = i18n.current_language()
    if lang != i18n.ENGLISH and isinstance(shown, dict) and isinstance(shown.get(lang), str):
        return shown[lang]
    return want["call"]


def notebook_language(nb):
    """The language a notebook is written in: its metadata.coursekit.language, else English."""
    try:
        lang = nb.metadata.get("coursekit", {}).get("language")
    except AttributeError:
        return i18n.ENGLISH
    return lang if isinstance(lang, str) else i18n.ENGLISH


def _blame(want, have, own_test):
    """The sentence blaming a dependency of the check `want` the student's
    report `have` failed, or ""."""
    try:
        return checks.blame_dependencies({**have, "call": want["call"], "function": want["function"]},
                                         own_test or (lambda name: None))
    except Exception:  # the student's report is not what a check writes
        return ""


def cell_subjects(grade_id, expected, graded_names):
    """The graded functions a test cell tests: the longest of `graded_names`
    its grade_id names (test_<name> or test_<name>_<aspect>, in any case),
    and the function each of its checks calls (as its message shows it),
    unless the check names that function in uses=."""
    lowered = grade_id.lower()
    owners = [name for name in graded_names
              if lowered == f"test_{name.lower()}" or lowered.startswith(f"test_{name.lower()}_")]
    subjects = {max(owners, key=len)} if owners else set()
    for want in expected:
        called = checks.called_name(want.get("call"))
        if called not in want.get("uses", ()):  # a check of g(...) through f: f's, not g's
            subjects.add(called)
    return subjects - {None}


def own_tests(expected, outputs, graded_names):
    """own_test(name) for the grader: whether every test cell of the graded
    function `name` passed, or None when it has no test cell here.
    `outputs` maps each test cell's grade_id to its outputs after execution."""
    passed = {}
    for grade_id, want in expected.items():
        ok = grade_id in outputs and judge(want, reports_in(outputs[grade_id])) is None
        for name in cell_subjects(grade_id, want, graded_names):
            passed[name] = passed.get(name, True) and ok
    return passed.get


def likely_mistake(want, have):
    """The hint of the first known mistake in the reference report `want` that
    the student's report `have` matches: same value (within the check's
    tolerance; for a plot, the same lines and no more), or the same type of error."""
    tolerance = want.get("tolerance", {})
    for known in want.get("mistakes", []):
        if "error" in known:
            if str(have.get("error", "")).split(":", 1)[0] == known["error"]:
                return known["hint"]
        elif ("value" in have and _same_count_of_lines(have["value"], known["value"])
              and compare(have["value"], known["value"], **tolerance) is None):
            return known["hint"]
    return None


def _same_count_of_lines(got, known):
    """Plots may have extra lines; a plot matches a known mistake only if it has as many."""
    if isinstance(got, dict) and got.get("type") == "axes" == known.get("type"):
        return len(got.get("lines", [])) == len(known.get("lines", []))
    return True


def _with_hint(problem, want, have, blame=""):
    """`problem` with the known mistake it matches; else with the sentence
    blaming a dependency, if any (a known mistake of the function itself
    explains the result without its dependencies)."""
    hint = likely_mistake(want, have)
    if hint is not None:
        return _("{problem}. Likely mistake: {hint}").format(problem=problem, hint=_(hint))
    return f"{problem} ({blame})" if blame else problem


def verdict_outputs(expected, outputs, own_test=None):
    """The outputs a test cell keeps after grading: the pictures the student's
    functions drew, then a line per check or the failure (an error output,
    which nbgrader scores as failed, showing the ✘ message alone).

    The lines are in the current language.  The failure's `evalue`, which
    no page shows but the instructor's report reads (coursekit.report), is
    in English whatever the notebook's language, so that the report counts
    a mistake once across a class that mixes editions."""
    got = reports_in(outputs)
    problem = judge(expected, got, own_test)
    kept = [nbformat.v4.new_output("display_data", data={"image/png": picture})
            for picture in map(picture_in, got[:len(expected)]) if picture]
    if problem is None:
        passed = "".join(f"✔ {shown_call(want)}\n" for want in expected)
        return kept + [nbformat.v4.new_output("stream", name="stdout", text=passed)]
    english = problem
    if i18n.current_language() != i18n.ENGLISH:
        with i18n.language(i18n.ENGLISH):
            english = judge(expected, got, own_test)
    return kept + [nbformat.v4.new_output("error", ename="AssertionError", evalue=english,
                                          traceback=[f"✘ {problem}"])]


def picture_in(report):
    """The PNG a check attached to its report, if it is one (base64), else None."""
    picture = report.get("picture") if isinstance(report, dict) else None
    if not isinstance(picture, str) or len(picture) > MAX_PICTURE_BYTES * 4 // 3 + 4:
        return None
    try:
        data = base64.b64decode(picture, validate=True)
    except (binascii.Error, ValueError):
        return None
    return picture if data.startswith(b"\x89PNG\r\n\x1a\n") else None


class ReferenceMixin:
    """For preprocessors: the reference reports of the notebook being graded."""

    def _expected(self, resources, served=False):
        """The reference reports, {grade_id: [report]}; with `served`, the
        answers served to each test cell (see served_answers)."""
        coursedir = CourseDirectory(config=self.config)
        path = os.path.join(
            coursedir.format_path(coursedir.source_directory, ".", resources["nbgrader"]["assignment"]),
            resources["nbgrader"]["notebook"] + ".ipynb")
        return (served_answers if served else reference_reports)(path, coursedir.root)


class ReferenceVerdict(ReferenceMixin, NbGraderPreprocessor):
    """Score each test cell by comparing its reports with the reference, here."""

    def preprocess(self, nb, resources):
        with i18n.language(notebook_language(nb)):
            return self._preprocess(nb, resources)

    def _preprocess(self, nb, resources):
        expected = self._expected(resources)
        tests = {test_cell_id(cell): cell for cell in nb.cells if test_cell_id(cell) in expected}
        graded_names = [cell.metadata["nbgrader"].get("grade_id") for cell in nb.cells
                        if cell.cell_type == "code" and utils.is_solution(cell)]
        own_test = own_tests(expected, {g: cell.outputs for g, cell in tests.items()},
                             [name for name in graded_names if isinstance(name, str)])
        for cell in nb.cells:
            grade_id = test_cell_id(cell)
            if grade_id in expected:
                cell.outputs = verdict_outputs(expected[grade_id], cell.outputs, own_test)
        return nb, resources
