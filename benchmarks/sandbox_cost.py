"""Print what the grading sandbox costs per notebook: `python benchmarks/sandbox_cost.py`.

Copies the course to a temporary folder, then autogrades the same correct
submission ROUNDS times with the sandbox and ROUNDS times without, alternating,
in one run on one machine, and prints the wall time of each
`nbgrader autograde` call (one notebook) and the medians.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT, STUDENT = "01_sigmoid", "sample-correct"
ROUNDS = int(os.environ.get("ROUNDS", 5))


def nbgrader(course, *args, sandbox="on"):
    env = dict(os.environ, COURSEKIT_SANDBOX=sandbox,
               PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))
    subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)


def main():
    with tempfile.TemporaryDirectory() as folder:
        course = Path(folder)
        for name in ["source", "nbgrader_config.py"]:
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, course / name)
        shutil.copytree(ROOT / "submitted" / STUDENT, course / "submitted" / STUDENT)
        nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
        nbgrader(course, "autograde", ASSIGNMENT, "--student", STUDENT, "--force")  # warm caches
        times = {"on": [], "off": []}
        for _ in range(ROUNDS):
            for mode in times:
                start = time.perf_counter()
                nbgrader(course, "autograde", ASSIGNMENT, "--student", STUDENT, "--force",
                         sandbox=mode)
                times[mode].append(time.perf_counter() - start)
    for mode, label in (("off", "without sandbox"), ("on", "with sandbox")):
        runs = " ".join(f"{t:.2f}" for t in times[mode])
        print(f"{label:16}  median {statistics.median(times[mode]):.2f} s  runs: {runs}")
    cost = statistics.median(times["on"]) - statistics.median(times["off"])
    print(f"sandbox cost per notebook (median difference): {cost:+.2f} s")


if __name__ == "__main__":
    main()
