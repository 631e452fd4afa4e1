"""Grading verdicts computed outside the student's kernel.

Two nbgrader preprocessors, set in nbgrader_config.py's autograde pipeline:

- `ExecuteWithReference` is nbgrader's Execute that, just before a test cell
  runs, leaves the reference's answers for the graded functions that cell's
  checks name in `uses=` (see coursekit.checks).
- `ReferenceVerdict` replaces each test cell's outputs with the grader's own
  verdict: the student's reported results compared, in this process, with
  the results of the instructor's notebook in `source/`.  nbgrader's
  SaveAutoGrades then scores the cell as usual (an error output: no marks).

The expected results come from running the master notebook once, cached in
`.coursekit-cache/` under the course root and keyed by the notebook's bytes.
"""

import copy
import hashlib
import json
import os
import stat

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from coursekit import checks, values
from coursekit.checks import REPORT_MIME, STUBS_FILE
from coursekit.sandbox import SandboxKernelManager
from coursekit.values import compare

CACHE_DIR = ".coursekit-cache"
MAX_RESTARTS = 3
KERNEL_DIED = ("the kernel stopped while running this cell (the code exited Python, "
               "crashed or ran out of memory); it was restarted to grade the rest")


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
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(path)}})
    client.execute()
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


def reference_reports(path, cache_root):
    """`run_reference(path)`, cached under `cache_root` by the notebook's content."""
    digest = hashlib.sha256()
    for part in (path, checks.__file__, values.__file__):  # the reports' format too
        with open(part, "rb") as file:
            digest.update(file.read())
    digest = digest.hexdigest()[:16]
    cache = os.path.join(cache_root, CACHE_DIR, f"{os.path.basename(path)}-{digest}.json")
    try:
        with open(cache, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError):
        pass
    expected = run_reference(path)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    partial = f"{cache}.{os.getpid()}"
    with open(partial, "w", encoding="utf-8") as file:
        json.dump(expected, file)
    os.replace(partial, cache)
    return expected


def judge(expected, got):
    """Return None when every expected check is matched by `got`, else why not."""
    for i, want in enumerate(expected):
        call = want["call"]
        if i >= len(got):
            return f"{call}: no result came back (the test stopped before this check)"
        have = got[i]
        if not isinstance(have, dict) or have.get("function") != want["function"]:
            return f"{call}: the test's checks did not run in their order"
        if "error" in have:
            error = str(have["error"])[:300]
            if error.startswith("NotImplementedError"):
                return f"{call}: the function is not written yet (it raises NotImplementedError)"
            return f"{call} raised {error}"
        problem = compare(have.get("value"), want["value"])
        if problem:
            return f"{call}: {problem}"
    return None


def verdict_outputs(expected, outputs):
    """The outputs a test cell keeps after grading: a line per check, or the failure."""
    problem = judge(expected, reports_in(outputs))
    passed = [f"✔ {want['call']}" for want in expected]
    if problem is None:
        return [nbformat.v4.new_output("stream", name="stdout", text="\n".join(passed) + "\n")]
    return [nbformat.v4.new_output("error", ename="AssertionError", evalue=problem,
                                   traceback=[f"AssertionError: {problem}"])]


class _ReferenceMixin:
    def _expected(self, resources):
        coursedir = CourseDirectory(config=self.config)
        path = os.path.join(
            coursedir.format_path(coursedir.source_directory, ".", resources["nbgrader"]["assignment"]),
            resources["nbgrader"]["notebook"] + ".ipynb")
        return reference_reports(path, coursedir.root)


class ExecuteWithReference(_ReferenceMixin, Execute):
    """nbgrader's Execute in the sandbox, serving the reference's answers to `uses=`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources, km=None):
        self._stub_answers = self._expected(resources)
        self._stub_dir = resources.get("metadata", {}).get("path") or "."
        self._tests_run = set()
        try:
            return super().preprocess(nb, resources, km=km)
        finally:
            remove_links(self._stub_dir)

    def preprocess_cell(self, cell, resources, index):
        grade_id = test_cell_id(cell)
        answers = {}
        # The reference's answers are shown only after every earlier test has
        # run: moving a test cell later cannot turn them into its answers.
        order = list(self._stub_answers)
        earlier = order[:order.index(grade_id)] if grade_id in order else []
        if self._tests_run.issuperset(earlier):
            for report in self._stub_answers.get(grade_id, []):
                for name, calls in report.get("calls", {}).items():
                    answers.setdefault(name, []).extend(calls)
        self._tests_run.add(grade_id)
        stubs = os.path.join(self._stub_dir, STUBS_FILE)
        if answers:
            _remove(stubs)
            try:  # "x": never through a link the kernel may have left there
                with open(stubs, "x", encoding="utf-8") as file:
                    json.dump(answers, file)
            except FileExistsError:
                pass
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._revive(index)
            cell.outputs.append(nbformat.v4.new_output(
                "error", ename="KernelDied", evalue=KERNEL_DIED,
                traceback=[f"KernelDied: {KERNEL_DIED}"]))
            return cell, resources
        finally:
            if answers:
                _remove(stubs)

    def _revive(self, index):
        """Restart a kernel that died in cell `index` and run the cells above again.

        So a cell that exits Python or crashes costs only its own marks.  The
        replayed cells' outputs are thrown away: the first run's stand.
        """
        self._deaths = getattr(self, "_deaths", 0) + 1
        if self._deaths > MAX_RESTARTS:
            raise DeadKernelError(f"the kernel died {self._deaths} times")
        self.log.warning("The kernel died in cell %d; restarting it", index)
        run_sync(self.km.restart_kernel)(now=True)
        run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
        for i, earlier in enumerate(self.nb.cells[:index]):
            if earlier.cell_type == "code":
                self.execute_cell(copy.deepcopy(earlier), i, store_history=False)


def remove_links(folder):
    """Delete symbolic links and special files the kernel left in its folder.

    nbgrader writes the graded notebook back into this folder after the kernel
    has stopped: a link left in its place would redirect that write.
    """
    for parent, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(parent, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                _remove(path)


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class ReferenceVerdict(_ReferenceMixin, NbGraderPreprocessor):
    """Score each test cell by comparing its reports with the reference, here."""

    def preprocess(self, nb, resources):
        expected = self._expected(resources)
        for cell in nb.cells:
            grade_id = test_cell_id(cell)
            if grade_id in expected:
                cell.outputs = verdict_outputs(expected[grade_id], cell.outputs)
        return nb, resources
