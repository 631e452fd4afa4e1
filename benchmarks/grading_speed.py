"""Print how fast a class is graded: `python benchmarks/grading_speed.py [STUDENTS]`.

Builds a synthetic class of STUDENTS (default 20) who each submitted every
assignment, their answers taken in turn from the correct, blank and mistaken
samples in submitted/. Then grades it twice, in one run on one machine with
the same nbgrader_config.py (sandbox, limits, verdicts):

- with nbgrader's own serial commands: `nbgrader autograde A` and
  `nbgrader generate_feedback A` for every assignment A, then `nbgrader export`;
- with `python -m coursekit.grade` as `make grade` runs it (its default
  number of workers: the cores plus one);

checks that every grade agrees, and prints wall time, notebooks per second,
their ratio and the peak memory of each run's whole process tree.

Then re-runs `python -m coursekit.grade` as an instructor would: on the
unchanged class (nothing is graded again; grades, feedback and table must be
identical), and after three students resubmitted a notebook (only those three
are graded again).  `--no-serial` skips nbgrader's serial run.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from nbgrader.api import Gradebook

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ["sample-correct", "sample-blank", "sample-wrong-shape", "sample-wrong-axis",
           "sample-whole-array", "sample-unstable", "sample-slips", "sample-other-idioms"]


def make_course(folder, students):
    """The course with `students` synthetic students; return the number of notebooks."""
    for name in ("source", "nbgrader_config.py"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, folder / name)
    assignments = sorted(p.name for p in (ROOT / "source").iterdir())
    for i in range(students):
        for assignment in assignments:
            sample = ANSWERS[i % len(ANSWERS)]
            if not (ROOT / "submitted" / sample / assignment).is_dir():
                sample = "sample-correct"
            shutil.copytree(ROOT / "submitted" / sample / assignment,
                            folder / "submitted" / f"student-{i:03d}" / assignment)
    for assignment in assignments:
        run(folder, "-m", "nbgrader", "generate_assignment", assignment, "--force")
    return assignments, students * len(assignments)


def run(folder, *args):
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))
    subprocess.run([sys.executable, *args], cwd=folder, env=env, check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)


def timed(folder, commands):
    """Run `commands` in `folder`; return (seconds, peak MiB of this process's children)."""
    peak, done = [0], threading.Event()

    def sample():
        me = psutil.Process()
        while not done.is_set():
            try:
                rss = sum(p.memory_info().rss for p in me.children(recursive=True))
            except psutil.Error:
                rss = 0
            peak[0] = max(peak[0], rss)
            time.sleep(0.1)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    started = time.perf_counter()
    for command in commands:
        run(folder, *command)
    wall = time.perf_counter() - started
    done.set()
    watcher.join()
    return wall, peak[0] / 2**20


def grades(folder):
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gradebook:
        return {(g.student.id, g.assignment.name, g.name): g.score
                for a in gradebook.assignments for s in a.submissions
                for n in s.notebooks for g in n.grades}


def outputs(folder):
    """A hash of every feedback page and the grades, to compare two runs."""
    digest = hashlib.sha256()
    for page in sorted((folder / "feedback").rglob("*")):
        if page.is_file():
            digest.update(str(page.relative_to(folder)).encode() + page.read_bytes())
    digest.update(repr(sorted(grades(folder).items())).encode())
    return digest.hexdigest()


def table(output):
    """The score table and what follows it in coursekit.grade's output."""
    return output[output.index("student "):]


def reruns(folder, assignments):
    """Time a re-run on the unchanged class, then one after three resubmissions."""
    command = [sys.executable, "-m", "coursekit.grade"]
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))

    def grade():
        started = time.monotonic()
        done = subprocess.run(command, cwd=folder, env=env, check=True, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL)
        return time.monotonic() - started, done.stdout

    _, first = grade()
    before = outputs(folder)
    wall, again = grade()
    same = outputs(folder) == before and table(again) == table(first)
    print(f"{'re-run, nothing changed':64} {wall:7.1f}s   grades, feedback and table identical: {same}")
    resubmitted = ["student-000", "student-001", "student-002"]
    for student in resubmitted:  # each resubmits its first assignment, with a note added
        path = folder / "submitted" / student / assignments[0] / f"{assignments[0]}.ipynb"
        notebook = json.loads(path.read_text(encoding="utf-8"))
        notebook["cells"].append({"cell_type": "markdown", "id": "resubmitted", "metadata": {},
                                  "source": "Resubmitted after the deadline."})
        path.write_text(json.dumps(notebook), encoding="utf-8")
    wall, output = grade()
    line = next(line for line in output.splitlines() if line.startswith("grading "))
    print(f"{'re-run after three resubmissions':64} {wall:7.1f}s   ({line})")
    return 0 if same else 1


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    students = int(args[0]) if args else 20
    serial_too = "--no-serial" not in sys.argv
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        serial, parallel = Path(tmp) / "serial", Path(tmp) / "coursekit"
        for folder in (serial, parallel) if serial_too else (parallel,):
            assignments, notebooks = make_course(folder, students)
            run(folder, "-c", "from coursekit.grade import run_references; from pathlib import Path;"
                f"run_references(Path('.'), {assignments!r})")  # both start with the references cached
        print(f"{students} students x {len(assignments)} assignments = {notebooks} notebooks, "
              f"{cores} cores\n")
        ways = {} if not serial_too else {
            "nbgrader autograde + generate_feedback per assignment, export": (serial, [
                *[("-m", "nbgrader", step, a, "--force")
                  for a in assignments for step in ("autograde", "generate_feedback")],
                ("-m", "nbgrader", "export")]),
        }
        ways["python -m coursekit.grade (make grade)"] = (parallel, [("-m", "coursekit.grade")])
        rates = []
        print(f"{'':64} {'wall':>8} {'notebooks/s':>12} {'peak memory':>12}")
        for label, (folder, commands) in ways.items():
            wall, peak = timed(folder, commands)
            rates.append(notebooks / wall)
            print(f"{label:64} {wall:7.1f}s {rates[-1]:12.2f} {peak:9.0f} MiB", flush=True)
        differ = []
        if serial_too:
            print(f"\nthroughput ratio: {rates[1] / rates[0]:.2f}x")
            first, second = grades(serial), grades(parallel)
            differ = sorted(k for k in first.keys() | second.keys() if first.get(k) != second.get(k))
            print(f"grades compared: {len(first)}; differing: {len(differ)} {differ[:5] if differ else ''}\n")
        return reruns(parallel, assignments) or (1 if differ else 0)


if __name__ == "__main__":
    sys.exit(main())
