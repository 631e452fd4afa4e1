"""Grade every submission in submitted/: `python -m coursekit.grade`.

Worker processes (`--workers`, default: the number of cores) each read the
course's nbgrader configuration once and then grade one submission at a time
through nbgrader's Python API (`NbGraderAPI`, which the formgrader uses too):

    nbgrader autograde ASSIGNMENT --student STUDENT --force
    nbgrader generate_feedback ASSIGNMENT --student STUDENT --force

without paying a new process for each.  Every submission still gets its own
working copy, kernel, sandbox and time limits.  One that fails, or runs past
`--timeout` (its worker is then replaced), is listed as not graded and the
others go on.  Then `nbgrader export --to grades.csv`, a score table, and the
submissions that could not be graded with the reason, and a grade report
(coursekit/report.py: grades-report.html).  The assignments must
be in the gradebook already (`nbgrader generate_assignment`, which
`make grade` runs first).
"""

import argparse
import csv
import difflib
import json
import shutil
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.apps.nbgraderapp import NbGraderApp
from nbgrader.utils import temp_attrs
from pebble import ProcessExpired, ProcessPool
from tqdm import tqdm

from coursekit import sandbox
from coursekit.report import FOLDER, write_report
from coursekit.verdict import ReferenceFailure, reference_reports

LOG_DIR = Path(".coursekit-cache") / "logs"
STAGING = Path(".coursekit-cache") / "staging"  # what nbgrader grades, see stage()
SUBMISSION_TIMEOUT = 30 * 60

KNOWN_FAILURES = [
    (r"SubmissionTimeout", "grading it ran past the time limit of a submission"),
    (r"DeadKernelError|Kernel died", "the kernel died while running the notebook "
                                     "(a cell exited Python or crashed it)"),
    (r"No reply from kernel|CellTimeoutError|TimeoutError",
     "a cell ran past the time limit"),
    (r"NotJSONError|Notebook does not appear to be JSON|JSONDecodeError",
     "the notebook file is not valid JSON"),
    (r"NotebookValidationError|ValidationError", "the file is not a valid notebook"),
]


def nbgrader(*args, log=None, timeout=SUBMISSION_TIMEOUT):
    """Run one nbgrader command; return (ok, output)."""
    command = [sys.executable, "-m", "nbgrader", *args]
    # nbgrader runs `alembic` by name: find it beside this Python.
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable),
                                                 os.environ.get("PATH", "")]))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=env)
        ok, output = done.returncode == 0, done.stdout + done.stderr
    except subprocess.TimeoutExpired as expired:
        ok, output = False, f"SubmissionTimeout: stopped after {timeout} s\n{expired.stdout or ''}"
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(" ".join(command) + "\n" + output, encoding="utf-8")
    return ok, output


def unreadable(path):
    """Why the notebook file at `path` cannot be graded, or None if it can."""
    data = path.read_bytes()
    if not data.strip():
        return "the notebook file is empty"
    try:
        notebook = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return "the notebook file is not UTF-8 text"
    except ValueError as error:
        return f"the notebook file is not valid JSON ({error})"
    if not isinstance(notebook, dict) or "cells" not in notebook and "worksheets" not in notebook:
        return "the file is JSON but not a notebook (it has no cells)"
    return None


def run_references(root, assignments):
    """Run each assignment's master notebook once, before the workers need its results."""
    for assignment in sorted(assignments):
        for master in sorted((root / "source" / assignment).glob("*.ipynb")):
            reference_reports(str(master), str(root))


def reason_from(output):
    for pattern, reason in KNOWN_FAILURES:
        if re.search(pattern, output):
            return reason
    errors = [line.strip() for line in output.splitlines() if "ERROR" in line]
    return errors[-1] if errors else "nbgrader autograde failed (see the log)"


def submissions(root):
    """Sort out submitted/: what to grade, and what cannot be graded and why.

    Returns (todo, failures, notes): todo maps (student, assignment) to the
    notebooks to grade, {expected name: submitted file}; failures maps
    (student, folder or file) to a reason; notes maps (student, assignment)
    to what was done about files that did not fit the assignment.
    """
    expected = {p.name: sorted(n.name for n in p.glob("*.ipynb"))
                for p in sorted((root / "source").iterdir()) if p.is_dir()}
    todo, failures, notes = {}, {}, {}
    for student in sorted((root / "submitted").iterdir()):
        if not student.is_dir():
            failures[student.name, "-"] = ("a file directly in submitted/, outside any student's "
                                           "folder: move it to submitted/<student>/<assignment>/")
            continue
        entries = sorted(student.iterdir())
        if not entries:
            failures[student.name, "-"] = "the student's folder is empty"
        for entry in entries:
            if not entry.is_dir():
                failures[student.name, entry.name] = (
                    f"a file outside any assignment folder: move it to "
                    f"submitted/{student.name}/{guess(entry.stem, expected)}/")
            elif entry.name not in expected:
                failures[student.name, entry.name] = (
                    f"there is no assignment {entry.name!r}: rename the folder to "
                    f"{guess(entry.name, expected)}")
            else:
                key = (student.name, entry.name)
                plan, reason, note = match_notebooks(entry, expected[entry.name])
                if reason:
                    failures[key] = reason
                else:
                    todo[key] = plan
                if note:
                    notes[key] = note
    return todo, failures, notes


def guess(name, expected):
    """The assignment a misnamed folder or file was probably meant for."""
    close = difflib.get_close_matches(name, list(expected), n=1, cutoff=0.5)
    return close[0] if close else "<one of: " + ", ".join(expected) + ">"


def match_notebooks(folder, names):
    """(plan, reason, note) for one assignment folder: which file to grade as which notebook."""
    present = sorted(p.name for p in folder.glob("*.ipynb"))
    plan = {name: name for name in names if name in present}
    others = [name for name in present if name not in plan]
    missing = [name for name in names if name not in plan]
    note = None
    if len(missing) == 1 and len(others) == 1:
        plan[missing[0]] = others[0]
        note = f"graded {others[0]!r} as {missing[0]}"
    elif others:
        note = "ignored " + ", ".join(repr(n) for n in others) + " (not part of the assignment)"
    if not plan:
        if not present:
            return None, f"no notebook in the folder (expected {', '.join(names)})", None
        return None, (f"no {' or '.join(names)} but {len(others)} other notebooks "
                      f"({', '.join(others)}): rename the one to grade to {names[0]}"), None
    for name, file in plan.items():
        reason = unreadable(folder / file)
        if reason:
            return None, f"{file}: {reason}", note
    return plan, None, note


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
    share_across_submissions()
    _api = nbgrader_api(prestart_kernel=True)


def share_across_submissions():
    """Keep, for the whole worker, what nbgrader rebuilds for every notebook.

    Profiled on 28 notebooks, a worker spent about a third of its CPU time in two
    places (compiling queries 2.4 s, checking the schema 1.2 s, of 13.6 s):

    - every `Gradebook(db_url)` (eleven per notebook) makes a new SQLAlchemy
      engine, and each engine compiles every query again: the engine is
      kept per database URL, so its compiled queries are too.  Each
      Gradebook still closes its connections (`dispose`) when it is done.
    - every graded cell's nbgrader metadata is checked with
      `jsonschema.validate`, which first checks the schema itself: the
      schema is checked once, then each cell with the same validator (as
      jsonschema's documentation advises when validating many instances).

    The gradebook's contents and every validation result stay the same.
    """
    import nbgrader.api
    import nbgrader.nbgraderformat.common
    import sqlalchemy

    engines = {}

    def shared_engine(url, **options):
        key = (str(url), tuple(sorted(options.items())))
        if key not in engines:
            engines[key] = sqlalchemy.create_engine(url, **options)
        return engines[key]

    nbgrader.api.create_engine = shared_engine
    nbgrader.nbgraderformat.common.jsonschema = _CheckedSchemas()


class _CheckedSchemas:
    """Stands for the jsonschema module in nbgrader's metadata validator."""

    def __init__(self):
        self._validators = {}

    def validate(self, instance, schema):
        """jsonschema.validate(instance, schema), checking each schema only once."""
        import jsonschema

        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            kind = jsonschema.validators.validator_for(schema)
            kind.check_schema(schema)
            self._validators[key] = kind(schema)
        error = jsonschema.exceptions.best_match(self._validators[key].iter_errors(instance))
        if error is not None:
            raise error


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
    log.parent.mkdir(parents=True, exist_ok=True)
    stage(Path(_api.coursedir.root), student, assignment, plan)
    with temp_attrs(_api.coursedir, submitted_directory=str(STAGING)):
        steps = [("autograde", _api.autograde(assignment, student, force=True, create=True))]
    if steps[0][1]["success"]:
        steps.append(("generate_feedback", _api.generate_feedback(assignment, student, force=True)))
    text = "".join(f"== nbgrader {step} {assignment} --student {student} --force\n"
                   f"{result.get('log', '')}{result.get('error', '')}\n" for step, result in steps)
    log.write_text(text, encoding="utf-8")
    step, result = steps[-1]
    if result["success"]:
        return None
    failed = result.get("log", "") + result.get("error", "")
    if step == "autograde":
        return f"{reason_from(failed)} (log: {log})"
    return f"feedback could not be generated: {reason_from(failed)} (log: {log})"


def grade_all(todo, workers, timeout, scheduler=None):
    """Grade `todo`, {(student, assignment): plan}; return {(student, assignment): reason}.

    In `workers` local processes, or on Dask's distributed scheduler when
    `scheduler` is given (see grade_on_dask).
    """
    if scheduler:
        return grade_on_dask(todo, workers, scheduler)
    with ProcessPool(max_workers=workers, initializer=start_worker) as pool:
        futures = {pool.schedule(grade_in_worker, args=(*key, plan), timeout=timeout): key
                   for key, plan in todo.items()}
        return wait_for_all(futures, timeout)


def grade_on_dask(todo, workers, scheduler):
    """Grade on Dask's distributed scheduler.

    `scheduler` is "local", for a local cluster of `workers` processes, or the
    address of a running scheduler whose workers see the course folder at the
    same path as here and have this environment installed. Dask cannot stop a
    task, so `--timeout` does not apply there; each notebook's own time limits do.
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
        futures = {client.submit(grade_task, root, *key, plan, pure=False): key
                   for key, plan in todo.items()}
        return wait_for_all(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def grade_task(root, student, assignment, plan):
    """One submission, as a Dask task: in the course folder, with a worker's API made once."""
    if os.getcwd() != root:
        os.chdir(root)
    if _api is None:
        start_worker()
    return grade_in_worker(student, assignment, plan)


def wait_for_all(futures, timeout=None):
    """Wait for every future, showing progress; return {(student, assignment): reason}."""
    failures = {}
    on_terminal = sys.stderr.isatty()
    with tqdm(total=len(futures), unit="notebook", disable=not on_terminal,
              dynamic_ncols=True) as progress:
        pending = dict(futures)
        started, done = time.monotonic(), 0
        while pending:
            for future in [f for f in pending if f.done()]:
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
                done += 1
                progress.set_postfix(failed=len(failures), refresh=False)
                progress.update()
                if not on_terminal:
                    rate = done / max(time.monotonic() - started, 1e-9)
                    left = (len(futures) - done) / rate
                    print(f"[{done}/{len(futures)}] {student} / {assignment}: "
                          f"{'not graded' if reason else 'graded'}; {len(failures)} failed, "
                          f"{rate:.2f} notebooks/s, about {left:.0f} s left", flush=True)
            time.sleep(0.05)
    return failures


def score_table(path, graded, failures=()):
    """Rows of the table printed from nbgrader's grades.csv.

    `graded` are the (student, assignment) pairs graded in this run; where
    grading failed the table says "not graded", where nothing was submitted "-".
    """
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assignments = sorted({r["assignment"] for r in rows})
    students = sorted({r["student_id"] for r in rows})
    cells = {(r["student_id"], r["assignment"]): f"{float(r['score']):g} / {float(r['max_score']):g}"
             for r in rows if (r["student_id"], r["assignment"]) in graded}
    cells.update({key: "not graded" for key in failures})
    table = [["student", *assignments]]
    table += [[s, *(cells.get((s, a), "-") for a in assignments)] for s in students]
    return table


def format_table(table):
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grades", default="grades.csv", help="where to export (default grades.csv)")
    parser.add_argument("--timeout", type=int, default=SUBMISSION_TIMEOUT,
                        help=f"seconds one submission may take (default {SUBMISSION_TIMEOUT})")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: the number of cores)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="grade on Dask's distributed scheduler: 'local' for a local "
                             "cluster of --workers processes, or a scheduler's address")
    args = parser.parse_args(argv)
    root = Path.cwd()
    if not (root / "submitted").is_dir():
        parser.error("no submitted/ folder here: run this from the course root")

    if sandbox.requested():
        try:
            sandbox.check_available()
        except sandbox.SandboxUnavailable as error:
            print(error, file=sys.stderr)
            return 2
    else:
        print("warning: grading WITHOUT the sandbox (COURSEKIT_SANDBOX=off): student code "
              "runs with your user's rights", file=sys.stderr)

    todo, failures, notes = submissions(root)
    try:
        run_references(root, {assignment for _, assignment in todo})
    except ReferenceFailure as error:
        print(f"Nothing was graded: {error}", file=sys.stderr)
        return 1
    # every student with a folder is in the gradebook, so the export lists them all
    db_url = nbgrader_api().coursedir.db_url  # as nbgrader_config.py sets it
    add_students(db_url, {student for student, _ in [*todo, *failures]
                          if (root / "submitted" / student).is_dir()})
    print(f"grading {len(todo)} submission(s) with {args.workers} worker(s)", flush=True)
    # the kernels' private folders, with those a worker leaves behind when it exits
    kernel_dirs = tempfile.mkdtemp(prefix="ck-run-")
    os.environ[sandbox.KERNEL_DIRS] = kernel_dirs
    try:
        failures.update(grade_all(todo, args.workers, args.timeout, args.scheduler))
    finally:
        shutil.rmtree(kernel_dirs, ignore_errors=True)

    with ThreadPoolExecutor(1) as background:  # the report is drawn while nbgrader exports
        export = background.submit(nbgrader, "export", "--to", args.grades,
                                   log=LOG_DIR / "export.log")
        try:
            page = write_report(root, db_url, failures, notes)
            report, stream = f"report: {page.name} (plots in {FOLDER}/)", sys.stdout
        except Exception as error:  # a report that fails loses no grade
            report, stream = f"warning: the grade report could not be written: {error!r}", sys.stderr
        ok, output = export.result()
    if not ok:
        print(f"nbgrader export failed: {reason_from(output)}", file=sys.stderr)
        return 1
    print()
    print(format_table(score_table(args.grades, set(todo), failures)))
    print(f"\ngrades exported to {args.grades}; feedback in feedback/")
    print(report, file=stream)
    if notes:
        print(f"\nGraded, with a note:")
        for (student, assignment), note in sorted(notes.items()):
            print(f"  {student} / {assignment}: {note}")
    if failures:
        print(f"\nCould not grade {len(failures)} submission(s):")
        for (student, assignment), reason in sorted(failures.items()):
            print(f"  {student} / {assignment}: {reason}")
    else:
        print("\nEvery submission was graded.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
