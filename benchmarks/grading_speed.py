"""Print how fast a class is graded: `python benchmarks/grading_speed.py [STUDENTS]`.

Copies the course to a temporary folder with a synthetic class of STUDENTS
(default 20) who each submitted the correct 01_sigmoid notebook, then grades
it, on the same machine with the same nbgrader_config.py (sandbox, limits and
verdicts), three ways:

- nbgrader's own serial commands: `nbgrader autograde 01_sigmoid`,
  `nbgrader generate_feedback 01_sigmoid`, `nbgrader export`;
- `python -m coursekit.grade --workers 1`;
- `python -m coursekit.grade --workers N`, N the number of cores;

and prints the wall time and notebooks per second of each.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "01_sigmoid"
SAMPLE = ROOT / "submitted" / "sample-correct" / ASSIGNMENT


def make_course(folder, students):
    for name in ("source", "nbgrader_config.py"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, folder / name)
    for i in range(students):
        shutil.copytree(SAMPLE, folder / "submitted" / f"student-{i:03d}" / ASSIGNMENT)
    run(folder, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force")
    run(folder, "-m", "nbgrader", "validate", f"source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")


def run(folder, *args):
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))
    subprocess.run([sys.executable, *args], cwd=folder, env=env, check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)


def timed(folder, *commands):
    started = time.perf_counter()
    for command in commands:
        run(folder, *command)
    return time.perf_counter() - started


def main():
    students = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    cores = os.cpu_count() or 1
    ways = {
        "nbgrader autograde + generate_feedback + export (serial)": [
            ("-m", "nbgrader", "autograde", ASSIGNMENT, "--force"),
            ("-m", "nbgrader", "generate_feedback", ASSIGNMENT, "--force"),
            ("-m", "nbgrader", "export")],
        "python -m coursekit.grade --workers 1": [("-m", "coursekit.grade", "--workers", "1")],
        f"python -m coursekit.grade --workers {cores}": [
            ("-m", "coursekit.grade", "--workers", str(cores))],
    }
    print(f"{students} students, one {ASSIGNMENT} notebook each, {cores} cores\n")
    print(f"{'':58} {'wall':>8} {'notebooks/s':>12}")
    for label, commands in ways.items():
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            make_course(folder, students)  # the reference run is cached here, as in a real course
            wall = timed(folder, *commands)
        print(f"{label:58} {wall:7.1f}s {students / wall:12.2f}", flush=True)


if __name__ == "__main__":
    main()
