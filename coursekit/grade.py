"""Grade every submission in submitted/: `python -m coursekit.grade`.

The steps, each in a module of its own:

- coursekit.submitted sorts out submitted/ (what to grade, what cannot be
  graded and why);
- coursekit.verdict runs each assignment's master notebook once;
- coursekit.workers grades the submissions in worker processes (or on Dask),
  as `nbgrader autograde` and `nbgrader generate_feedback` would;
- then `nbgrader export --to grades.csv`, a score table, the submissions that
  could not be graded with the reason, and a grade report (coursekit.report:
  grades-report.html).

`make grade` generates the assignments first (`nbgrader
generate_assignment`); one that the gradebook does not know yet (a removed
gradebook.db, a new PostgreSQL one) is generated here, through nbgrader's API.
"""

import argparse
import csv
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from nbgrader.api import Gradebook

from coursekit import fingerprints, sandbox
from coursekit.report import FOLDER, write_report
from coursekit.submitted import submissions
from coursekit.verdict import ReferenceFailure, reference_cached, reference_reports
from coursekit.workers import (LOG_DIR, SUBMISSION_TIMEOUT, WorkersCannotGrade,
                               add_students, export_grades, grade_all, limit_hit, nbgrader_api,
                               quiet_about_old_notebooks, reason_from, write_log)


def in_gradebook(api, assignments):
    """Generate each assignment the gradebook does not know yet (after a removed
    gradebook.db), through `api` (an NbGraderAPI): in this process, as a new
    one would import nbgrader again."""
    with Gradebook(api.coursedir.db_url) as gradebook:
        known = {assignment.name for assignment in gradebook.assignments}
    for assignment in sorted(set(assignments) - known):
        print(f"{assignment} is not in the gradebook: nbgrader generate_assignment {assignment} --force")
        result = api.generate_assignment(assignment, force=True)
        output = result.get("log", "") + result.get("error", "")
        write_log(LOG_DIR / f"generate-{assignment}.log", output)
        if not result["success"]:
            raise ReferenceFailure(f"nbgrader generate_assignment {assignment} failed: "
                                   f"{reason_from(output)}")


def run_references(root, assignments, workers=1):
    """Run each assignment's master notebook once, before the workers need its
    results: `workers` at a time, each in a process of its own (a fresh class
    would otherwise wait for the masters one by one).  A master whose results
    are cached is not run again, nor read here."""
    masters = [str(master) for assignment in sorted(assignments)
               for master in sorted((root / "source" / assignment).glob("*.ipynb"))
               if not reference_cached(master, str(root))]
    if workers <= 1 or len(masters) <= 1:
        for master in masters:
            reference_reports(master, str(root))
        return
    with ProcessPoolExecutor(min(workers, len(masters)),
                             mp_context=multiprocessing.get_context("fork")) as pool:
        for _ in pool.map(reference_reports, masters, [str(root)] * len(masters)):
            pass


def score_table(path, graded, failures=(), stopped=()):
    """Rows of the table printed from nbgrader's grades.csv.

    `graded` are the (student, assignment) pairs graded in this run; where
    grading failed the table says "not graded", where nothing was submitted "-",
    where a submission was `stopped` past a limit its score is marked "(stopped)".
    """
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assignments = sorted({r["assignment"] for r in rows})
    students = sorted({r["student_id"] for r in rows})
    cells = {(r["student_id"], r["assignment"]): f"{float(r['score']):g} / {float(r['max_score']):g}"
             for r in rows if (r["student_id"], r["assignment"]) in graded}
    cells.update({key: f"{cells[key]} (stopped)" for key in stopped if key in cells})
    cells.update({key: "not graded" for key in failures})
    table = [["student", *assignments]]
    table += [[s, *(cells.get((s, a), "-") for a in assignments)] for s in students]
    return table


def format_table(table):
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    try:
        return grade(argv)
    except KeyboardInterrupt:
        print("\ninterrupted: run again to finish (what was graded is kept)", file=sys.stderr)
        return 130


def grade(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grades", default="grades.csv", help="where to export (default grades.csv)")
    parser.add_argument("--timeout", type=int, default=SUBMISSION_TIMEOUT,
                        help=f"seconds one submission may take (default {SUBMISSION_TIMEOUT})")
    # one more than the cores: a worker waiting for its kernel's reply leaves
    # its core idle (on 2 cores, 3 workers grade 9 % more notebooks a second)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1,
                        help="submissions graded at once (default: the number of cores plus one)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="grade on Dask's distributed scheduler: 'local' for a local "
                             "cluster of --workers processes, or a scheduler's address")
    parser.add_argument("--force", action="store_true",
                        help="grade every submission again, changed or not")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)  # `kill`, as Ctrl-C: stop and clean up
    quiet_about_old_notebooks()
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
    api = nbgrader_api()  # the course as nbgrader_config.py sets it
    coursedir, db_url = api.coursedir, api.coursedir.db_url
    to_grade, now = fingerprints.unchanged(coursedir, todo, force=args.force)
    try:
        in_gradebook(api, {assignment for _, assignment in to_grade})
        run_references(root, {assignment for _, assignment in to_grade}, args.workers)
    except ReferenceFailure as error:
        print(f"Nothing was graded: {error}", file=sys.stderr)
        return 1
    # every student with a folder is in the gradebook, so the export lists them all
    add_students(db_url, {student for student, _ in [*todo, *failures]
                          if (root / "submitted" / student).is_dir()})
    kept = len(todo) - len(to_grade)
    print(f"grading {len(to_grade)} submission(s) with {args.workers} worker(s)"
          + (f"; {kept} unchanged since their last grade (--force grades them again)"
             if kept else ""), flush=True)
    record = fingerprints.Record(db_url)
    finished = []

    def remember(key, reason):  # a submission that failed is graded again next time
        finished.append(key)
        record.graded(*key, None if reason else now[key])

    # the kernels' private folders, with those a worker leaves behind when it exits
    kernel_dirs = tempfile.mkdtemp(prefix="ck-run-")
    os.environ[sandbox.KERNEL_DIRS] = kernel_dirs
    try:
        failures.update(grade_all(to_grade, args.workers, args.timeout, args.scheduler,
                                  on_done=remember))
    except WorkersCannotGrade as error:
        print(f"Nothing was graded: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: {len(finished)} of {len(to_grade)} submission(s) done and kept; "
              "run again to grade the rest", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(kernel_dirs, ignore_errors=True)
        record.close()

    stopped = {}  # submissions stopped past a limit of the sandbox: graded up to there
    for key, plan in todo.items():
        if key not in failures and (limit := limit_hit(coursedir, *key, plan)):
            stopped[key] = limit
            notes[key] = "; ".join(filter(None, [notes.get(key), f"stopped past {limit}: "
                                                 "the cells before keep their points"]))

    with ThreadPoolExecutor(1) as background:  # the report is drawn while nbgrader exports
        export = background.submit(export_grades, api, args.grades, LOG_DIR / "export.log")
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
    print(format_table(score_table(args.grades, set(todo), failures, stopped)))
    print(f"\ngrades exported to {args.grades}; feedback in feedback/")
    print(report, file=stream)
    if notes:
        print("\nGraded, with a note:")
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
