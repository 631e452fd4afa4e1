"""Grade every submission in submitted/: `python -m coursekit.grade`.

For each student and assignment this runs nbgrader's own commands, each in a
process of its own so that one broken submission cannot stop the others:

    nbgrader autograde ASSIGNMENT --student STUDENT --force
    nbgrader generate_feedback ASSIGNMENT --student STUDENT --force
    nbgrader export --to grades.csv

then prints a score table and the submissions it could not grade, each with
the reason.  The assignments must be in the gradebook already
(`nbgrader generate_assignment`, which `make grade` runs first).
"""

import argparse
import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from coursekit import sandbox

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


def grade_one(student, assignment, folder, timeout=SUBMISSION_TIMEOUT):
    """Autograde and give feedback on one submission; return a reason on failure."""
    for notebook in sorted(folder.glob("*.ipynb")):
        reason = unreadable(notebook)
        if reason:
            return f"{notebook.name}: {reason}"
    log = LOG_DIR / f"{student}--{assignment}.log"
    ok, output = nbgrader("autograde", assignment, "--student", student, "--force", log=log,
                          timeout=timeout)
    if not ok:
        return f"{reason_from(output)} (log: {log})"
    ok, output = nbgrader("generate_feedback", assignment, "--student", student, "--force",
                          log=LOG_DIR / f"{student}--{assignment}--feedback.log")
    if not ok:
        return f"feedback could not be generated: {reason_from(output)}"
    return None


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

    failures = []
    for student, assignment, folder in submissions(root):
        print(f"grading {student} / {assignment} ...", flush=True)
        reason = grade_one(student, assignment, folder, args.timeout)
        if reason:
            failures.append((student, assignment, reason))
            # keep the student in the gradebook so the export lists them
            nbgrader("db", "student", "add", student)

    ok, output = nbgrader("export", "--to", args.grades, log=LOG_DIR / "export.log")
    if not ok:
        print(f"nbgrader export failed: {reason_from(output)}", file=sys.stderr)
        return 1
    print()
    print(format_table(score_table(args.grades)))
    print(f"\ngrades exported to {args.grades}; feedback in feedback/")
    if failures:
        print(f"\nCould not grade {len(failures)} submission(s):")
        for student, assignment, reason in failures:
            print(f"  {student} / {assignment}: {reason}")
    else:
        print("\nEvery submission was graded.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
