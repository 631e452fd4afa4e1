"""Grade submissions in worker processes, or on Dask, with progress.

Each worker reads the course's nbgrader configuration once and then grades
one submission at a time through nbgrader's Python API (`NbGraderAPI`, which
the formgrader uses too), as

    nbgrader autograde ASSIGNMENT --student STUDENT --force
    nbgrader generate_feedback ASSIGNMENT --student STUDENT --force

would, without paying a new process for each.  Every submission still gets
its own working copy (`stage`), kernel, sandbox and time limits.  One that
fails, or runs past `--timeout` (its worker is then replaced), comes back
with the reason and the others go on.
"""

import json
import os
import re
import shutil
import signal
import sys
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.apps.nbgraderapp import NbGraderApp
from nbgrader.utils import temp_attrs
from pebble import ProcessExpired, ProcessPool
from tqdm import tqdm

from coursekit import speedups

LOG_DIR = Path(".coursekit-cache") / "logs"
STAGING = Path(".coursekit-cache") / "staging"  # what nbgrader grades, see stage()
SUBMISSION_TIMEOUT = 30 * 60
STARTED = "coursekit-started"  # the Dask event by which a task says that it began, and where

KNOWN_FAILURES = [
    (r"DeadKernelError|Kernel died", "the kernel died while running the notebook "
                                     "(a cell exited Python or crashed it)"),
    (r"No reply from kernel|CellTimeoutError|TimeoutError",
     "a cell ran past the time limit"),
    (r"NotJSONError|Notebook does not appear to be JSON|JSONDecodeError",
     "the notebook file is not valid JSON"),
    (r"NotebookValidationError|ValidationError", "the file is not a valid notebook"),
]


def export_grades(api, to, log):
    """`nbgrader export --to TO`, run in this process through `api` (an
    NbGraderAPI with the course's configuration: a new process would spend
    some 3 s importing nbgrader again); its log goes to the file `log`.
    Return (ok, the log)."""
    from nbgrader.apps.exportapp import ExportApp
    from nbgrader.utils import capture_log

    api.config.ExportPlugin.to = str(to)
    app = ExportApp(coursedir=api.coursedir, parent=api)
    app.log.handlers = []  # its log goes to `log`, not to the screen
    app.log.propagate = False
    result = capture_log(app)
    output = result.get("log", "") + result.get("error", "")
    write_log(log, f"nbgrader export --to {to}\n{output}")
    return result["success"], output


def write_log(path, text):
    """Write one step's log (under LOG_DIR), making its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def reason_from(output):
    for pattern, reason in KNOWN_FAILURES:
        if re.search(pattern, output):
            return reason
    errors = [line.strip() for line in output.splitlines() if "ERROR" in line]
    return errors[-1] if errors else "nbgrader autograde failed (see the log)"


# One NbGraderAPI per worker process, made by start_worker.
_api = None


def nbgrader_api(prestart_kernel=False):
    """nbgrader's API with the course's configuration, read as `nbgrader` reads it.

    A process that grades many notebooks starts each kernel ahead
    (`prestart_kernel`, see coursekit.execute) and stops each without waiting.
    """
    app = NbGraderApp()
    app.initialize([])
    if prestart_kernel:
        app.config.ExecuteWithReference.prestart_kernel = True
        # a graded kernel is thrown away: no need to wait for it to exit
        app.config.ExecuteWithReference.shutdown_kernel = "immediate"
    app.log.handlers = []  # each submission's log goes to its own file
    app.log.propagate = False
    return NbGraderAPI(parent=app)


def start_worker():
    """Read the course's nbgrader configuration, once per worker process."""
    global _api
    die_with_parent()
    quiet_about_old_notebooks()
    speedups.share_across_submissions()
    speedups.build_outputs_unchecked()
    speedups.read_dates_faster()
    speedups.read_cells_once()
    _api = nbgrader_api(prestart_kernel=True)
    speedups.collect_garbage_less_often()


def quiet_about_old_notebooks():
    """Say nothing on the instructor's screen about cells without ids.

    nbgrader restores a test cell a student deleted without giving it an id
    (and Jupyter before nbformat 4.5 saved none); nbformat adds them as it
    validates, and warns (MissingIDFieldWarning): nothing the instructor can
    act on.
    """
    from nbformat.validator import MissingIDFieldWarning
    warnings.filterwarnings("ignore", category=MissingIDFieldWarning)


def die_with_parent():
    """Have Linux kill this process when the process that started it dies.

    A killed `coursekit.grade` (kill -9) would otherwise leave its workers
    grading on, each with its kernels; a worker's kernels die with it
    (bwrap --die-with-parent).
    """
    if sys.platform.startswith("linux"):
        import ctypes
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def add_students(db_url, students):
    """Put the students in the gradebook before grading, from one process.

    Workers grading two assignments of one student at once would both try to
    create the student, and one would fail.
    """
    with Gradebook(db_url) as gradebook:
        for student in sorted(students):
            gradebook.update_or_create_student(student)


def stage(root, student, assignment, plan):
    """Copy the submission to STAGING with each notebook under its expected name.

    nbgrader grades every notebook it finds under its own name: a renamed
    notebook would be skipped and a stray one could fail the submission.  The
    staged copy holds only the notebooks in `plan` and the other files.
    """
    source = root / "submitted" / student / assignment
    target = root / STAGING / student / assignment
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.ipynb"), symlinks=True)
    for name, submitted in plan.items():
        shutil.copyfile(source / submitted, target / name)


def grade_in_worker(student, assignment, plan):
    """Autograde one submission and give feedback; return a reason on failure."""
    log = LOG_DIR / f"{student}--{assignment}.log"
    stage(Path(_api.coursedir.root), student, assignment, plan)
    with temp_attrs(_api.coursedir, submitted_directory=str(STAGING)):
        steps = [("autograde", _api.autograde(assignment, student, force=True, create=True))]
    if steps[0][1]["success"]:
        steps.append(("generate_feedback", _api.generate_feedback(assignment, student, force=True)))
    text = "".join(f"== nbgrader {step} {assignment} --student {student} --force\n"
                   f"{result.get('log', '')}{result.get('error', '')}\n" for step, result in steps)
    write_log(log, text)
    step, result = steps[-1]
    if result["success"]:
        return None
    failed = result.get("log", "") + result.get("error", "")
    if step == "autograde":
        return f"{reason_from(failed)} (log: {log})"
    return f"feedback could not be generated: {reason_from(failed)} (log: {log})"


def limit_hit(coursedir, student, assignment, plan):
    """The limit that stopped this graded submission (see coursekit.sandbox), or None.

    Read from the autograded notebooks (where nbgrader's CourseDirectory
    `coursedir` puts them), in which coursekit.execute names it.
    """
    folder = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
    for name in plan:
        path = folder / name
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if b"SubmissionLimit" not in data:
            continue
        for cell in json.loads(data).get("cells", []):
            for output in cell.get("outputs", []):
                if output.get("ename") == "SubmissionLimit" and "past " in output.get("evalue", ""):
                    return output["evalue"].split("past ", 1)[1]
    return None


def grade_all(todo, workers, timeout, scheduler=None, on_done=None):
    """Grade `todo`, {(student, assignment): plan}; return {(student, assignment): reason}.

    In `workers` local processes, or on Dask's distributed scheduler when
    `scheduler` is given (see grade_on_dask).  `on_done(key, reason)` is
    called in this process as each submission finishes (reason None: graded).
    """
    if scheduler:
        return grade_on_dask(todo, workers, timeout, scheduler, on_done)
    pool = ProcessPool(max_workers=workers, initializer=start_worker)
    try:
        futures = {pool.schedule(grade_in_worker, args=(*key, plan), timeout=timeout): key
                   for key, plan in todo.items()}
        return wait_for_all(futures, timeout, on_done)
    except BaseException:  # Ctrl-C, or SIGTERM: stop the workers, and their kernels with them
        pool.stop()
        raise
    finally:
        pool.close()
        pool.join()


def grade_on_dask(todo, workers, timeout, scheduler, on_done=None):
    """Grade on Dask's distributed scheduler.

    `scheduler` is "local", for a local cluster of `workers` processes, or the
    address of a running scheduler whose workers see the course folder at the
    same path as here and have this environment installed.  A submission
    still grading `timeout` s after it began is stopped (see OnDask).
    """
    from dask.distributed import Client, LocalCluster

    root = str(Path.cwd())
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        cluster, client = None, Client(scheduler)
    try:
        if cluster is None:  # workers on other machines: check that they can grade
            require_on_workers(client, root, nbgrader_api().coursedir.db_url)
        started = {}  # task key: (when this process heard that it began, its worker)

        def heard(event):
            _, said = event
            started[said["key"]] = time.monotonic(), said["worker"]

        client.subscribe_topic(STARTED, heard)
        futures = {OnDask(client.submit(grade_task, root, *key, plan, pure=False),
                          started, timeout): key
                   for key, plan in todo.items()}
        return wait_for_all(futures, timeout, on_done)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class OnDask:
    """A Dask future, given up `timeout` s after its task began on a worker.

    Dask cannot stop a running task.  Past its time the task is cancelled
    (so that Dask does not run it again) and its worker restarted by its
    nanny, the kernels dying with the worker process; `result()` then raises
    concurrent.futures.TimeoutError, as a pebble future past its timeout does.
    The time is counted from when this process heard that the task began
    (`started`, filled from the STARTED events): a worker's clock may differ.
    """

    def __init__(self, future, started, timeout):
        self.future, self.started, self.timeout = future, started, timeout
        self.overdue = False

    def done(self):
        if self.future.done() or self.overdue:
            return True
        worker = self.past_deadline()
        if worker is not None:
            self.overdue = True
            self.future.cancel()
            restart_worker(self.future.client, worker)
        return self.overdue

    def past_deadline(self):
        """The worker running the task if its time is up, else None."""
        key = self.future.key
        began = self.started.get(key)
        if began is None or time.monotonic() - began[0] < self.timeout:
            return None
        worker = began[1]
        if key not in self.future.client.processing().get(worker, ()):
            # that worker died: Dask runs the task again, which says so when it begins
            if self.started.get(key) == began:
                del self.started[key]
            return None
        return worker

    def result(self):
        if self.overdue:
            raise FutureTimeout
        return self.future.result()


def restart_worker(client, worker):
    """Restart a Dask worker through its nanny; a warning if it cannot be."""
    try:
        client.restart_workers([worker])
    except Exception as error:  # no nanny (dask worker --no-nanny), or it did not come back
        print(f"warning: Dask worker {worker} could not be restarted ({error}): it grades on "
              "until the notebook's own time limits stop it", file=sys.stderr, flush=True)


class WorkersCannotGrade(RuntimeError):
    """Some Dask workers lack what grading needs; the message says which and what."""


def require_on_workers(client, root, db_url):
    """Raise WorkersCannotGrade unless every Dask worker has what grading needs."""
    from coursekit import sandbox
    lacking = client.run(missing_on_worker, root, db_url, sandbox.requested())
    problems = [f"  {worker}: {what}" for worker, missing in sorted(lacking.items())
                for what in missing]
    if not lacking:
        problems = ["  the scheduler has no workers"]
    if problems:
        raise WorkersCannotGrade("Dask workers that cannot grade this course:\n" + "\n".join(problems))


def missing_on_worker(root, db_url, sandboxed):
    """What this machine lacks to grade the course at `root` into `db_url`: [text]."""
    missing = []
    if not os.path.isfile(os.path.join(root, "nbgrader_config.py")):
        missing.append(f"the course folder at {root} (share it, at the same path, on every worker)")
    if sandboxed and not all(shutil.which(program) for program in ("bwrap", "prlimit")):
        missing.append("bubblewrap and prlimit, for the grading sandbox (apt-get install bubblewrap)")
    try:
        import sqlalchemy
        if db_url.startswith("sqlite") and not os.path.isfile(db_url.split("///", 1)[-1]):
            raise OSError("no such file")
        engine = sqlalchemy.create_engine(db_url)
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()
    except Exception as error:
        missing.append(f"the gradebook {db_url} ({type(error).__name__}: {error}; "
                       "workers on several machines need one they all reach, such as PostgreSQL)")
    return missing


def grade_task(root, student, assignment, plan):
    """One submission, as a Dask task, in the course folder at `root`.

    It first says (STARTED) that it began, and where: its `--timeout` counts
    from then.  A worker reads a course's configuration once; a worker that
    outlives a run may grade another course next.
    """
    global _api
    from distributed import get_worker

    worker = get_worker()
    worker.log_event(STARTED, {"key": worker.get_current_task(), "worker": worker.address})
    if os.getcwd() != root:
        os.chdir(root)
    if _api is None:
        start_worker()
    elif _api.coursedir.root != root:
        _api = nbgrader_api(prestart_kernel=True)
    return grade_in_worker(student, assignment, plan)


def wait_for_all(futures, timeout=None, on_done=None):
    """Wait for every future, showing progress; return {(student, assignment): reason}."""
    failures = {}
    on_terminal = sys.stderr.isatty()
    with tqdm(total=len(futures), unit="notebook", disable=not on_terminal,
              dynamic_ncols=True) as progress:
        pending = dict(futures)
        started, done = time.monotonic(), 0
        while pending:
            for future in finished(pending):
                student, assignment = key = pending.pop(future)
                try:
                    reason = future.result()
                except FutureTimeout:
                    reason = f"grading it ran past the time limit of a submission ({timeout} s)"
                except ProcessExpired as error:
                    reason = f"the grading process died ({error})"
                except Exception as error:
                    reason = f"grading failed: {type(error).__name__}: {error}"
                if reason:
                    failures[key] = reason
                if on_done is not None:
                    on_done(key, reason)
                done += 1
                progress.set_postfix(failed=len(failures), refresh=False)
                progress.update()
                if not on_terminal:
                    rate = done / max(time.monotonic() - started, 1e-9)
                    left = (len(futures) - done) / rate
                    print(f"[{done}/{len(futures)}] {student} / {assignment}: "
                          f"{'not graded' if reason else 'graded'}; {len(failures)} failed, "
                          f"{rate:.2f} notebooks/s, about {left:.0f} s left", flush=True)
    return failures


def finished(pending):
    """Wait until some of the futures `pending` are done; return those.

    Local workers' futures are waited for (concurrent.futures.wait), so that a
    class of 2,000 notebooks is not scanned twenty times a second; Dask's
    (OnDask, which gives a task up past its time) are checked every 50 ms.
    """
    if all(isinstance(future, Future) for future in pending):
        done, _ = wait(pending, timeout=1, return_when=FIRST_COMPLETED)
        return done
    time.sleep(0.05)
    return [future for future in pending if future.done()]
