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
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from pebble import ProcessExpired, ProcessPool
from tqdm import tqdm

from coursekit import sandbox
from coursekit.report import FOLDER, write_report
from coursekit.verdict import ReferenceFailure, reference_reports

LOG_DIR = Path(".coursekit-cache") / "logs"
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


def unreadable_notebook(folder):
    """Why a notebook in `folder` cannot be graded, or None."""
    for notebook in sorted(folder.glob("*.ipynb")):
        reason = unreadable(notebook)
        if reason:
            return f"{notebook.name}: {reason}"
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
    """(student, assignment, folder) for every submitted assignment that has a source."""
    assignments = {p.name for p in (root / "source").iterdir() if p.is_dir()}
    for student in sorted(p for p in (root / "submitted").iterdir() if p.is_dir()):
        for folder in sorted(p for p in student.iterdir() if p.is_dir()):
            if folder.name in assignments:
                yield student.name, folder.name, folder


# One NbGraderAPI per worker process, made by start_worker.
_api = None


def start_worker():
    """Read the course's nbgrader configuration, once per worker process."""
    global _api
    from nbgrader.apps import NbGraderAPI
    from nbgrader.apps.nbgraderapp import NbGraderApp

    app = NbGraderApp()
    app.initialize([])  # nbgrader_config.py and the rest, as `nbgrader` reads them
    app.log.handlers = []  # each submission's log goes to its own file
    app.log.propagate = False
    _api = NbGraderAPI(parent=app)


def grade_in_worker(student, assignment):
    """Autograde one submission and give feedback; return a reason on failure."""
    log = LOG_DIR / f"{student}--{assignment}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
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


def grade_all(todo, workers, timeout):
    """Grade every (student, assignment) in `todo`; return {(student, assignment): reason}."""
    failures = {}
    on_terminal = sys.stderr.isatty()
    with ProcessPool(max_workers=workers, initializer=start_worker) as pool, \
            tqdm(total=len(todo), unit="notebook", disable=not on_terminal,
                 dynamic_ncols=True) as progress:
        futures = {pool.schedule(grade_in_worker, args=key, timeout=timeout): key for key in todo}
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
                    left = (len(todo) - done) / rate
                    print(f"[{done}/{len(todo)}] {student} / {assignment}: "
                          f"{'not graded' if reason else 'graded'}; {len(failures)} failed, "
                          f"{rate:.2f} notebooks/s, about {left:.0f} s left", flush=True)
            time.sleep(0.05)
    return failures


def score_table(path):
    """Rows of the table printed from nbgrader's grades.csv."""
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assignments = sorted({r["assignment"] for r in rows})
    students = sorted({r["student_id"] for r in rows})
    cells = {(r["student_id"], r["assignment"]): f"{float(r['score']):g} / {float(r['max_score']):g}"
             for r in rows}
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

    failures, todo = {}, []
    for student, assignment, folder in submissions(root):
        reason = unreadable_notebook(folder)
        if reason:
            failures[student, assignment] = reason
        else:
            todo.append((student, assignment))
    try:
        run_references(root, {assignment for _, assignment in todo})
    except ReferenceFailure as error:
        print(f"Nothing was graded: {error}", file=sys.stderr)
        return 1
    print(f"grading {len(todo)} submission(s) with {args.workers} worker(s)", flush=True)
    failures.update(grade_all(todo, args.workers, args.timeout))
    for student in sorted({student for student, _ in failures}):
        # keep the student in the gradebook so the export lists them
        nbgrader("db", "student", "add", student)

    ok, output = nbgrader("export", "--to", args.grades, log=LOG_DIR / "export.log")
    if not ok:
        print(f"nbgrader export failed: {reason_from(output)}", file=sys.stderr)
        return 1
    print()
    print(format_table(score_table(args.grades)))
    print(f"\ngrades exported to {args.grades}; feedback in feedback/")
    try:
        print(f"report: {write_report(root, failures).name} (plots in {FOLDER}/)")
    except Exception as error:  # the grades are exported: a report that fails loses nothing
        print(f"warning: the grade report could not be written: {error!r}", file=sys.stderr)
    if failures:
        print(f"\nCould not grade {len(failures)} submission(s):")
        for (student, assignment), reason in sorted(failures.items()):
            print(f"  {student} / {assignment}: {reason}")
    else:
        print("\nEvery submission was graded.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
