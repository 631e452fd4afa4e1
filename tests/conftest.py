"""Shared fixtures: a throw-away copy of the course, graded once per session."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coursekit import sandbox

ROOT = Path(__file__).resolve().parent.parent
COURSE_FILES = ["source", "release", "submitted", "nbgrader_config.py"]

# SANDBOX=off (make test SANDBOX=off): for machines without bubblewrap.
SANDBOXED = sandbox.requested()
# Samples that attack the machine itself are graded only inside the sandbox.
NEEDS_SANDBOX = {"sample-escapes-sandbox", "sample-eats-memory"}
LEFT_OUT = set() if SANDBOXED else NEEDS_SANDBOX

# nbgrader runs `alembic` by name: make the one beside this Python findable.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])


def copy_course(destination, submitted=None):
    """Copy the course into `destination`; `submitted` replaces submitted/ if given."""
    for name in COURSE_FILES:
        source = ROOT / name
        if name == "submitted" and submitted is not None:
            source = submitted
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=lambda _, names: LEFT_OUT & set(names))
        else:
            shutil.copy(source, destination / name)
    return destination


def run(*command, cwd):
    """Run a command in `cwd`; return the CompletedProcess (output as text)."""
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=1800)


def nbgrader(*args, cwd):
    return run(sys.executable, "-m", "nbgrader", *args, cwd=cwd)


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory):
    """The course copied, its assignments generated and every sample graded."""
    course = copy_course(tmp_path_factory.mktemp("course"))
    for assignment in sorted(p.name for p in (course / "source").iterdir()):
        done = nbgrader("generate_assignment", assignment, "--force", cwd=course)
        assert done.returncode == 0, done.stderr
    # a short cell time limit keeps sample-loops-forever quick
    os.environ["COURSEKIT_CELL_TIMEOUT"] = "10"
    # four workers on two cores: concurrent writers to the SQLite gradebook
    return course, grade(course, "--workers", "4").stdout


def course_with(folder, chosen, config=""):
    """A course in `folder` whose submitted/ holds only the samples `chosen`,
    [(student, assignment)], with those assignments generated; `config` is
    added to its nbgrader_config.py."""
    for student, assignment in chosen:
        shutil.copytree(ROOT / "submitted" / student / assignment,
                        folder / "submitted" / student / assignment)
    course = copy_course(folder / "course", folder / "submitted")
    with open(course / "nbgrader_config.py", "a") as file:
        file.write(config)
    for assignment in sorted({assignment for _, assignment in chosen}):
        done = nbgrader("generate_assignment", assignment, "--force", cwd=course)
        assert done.returncode == 0, done.stderr
    return course


def grade(course, *args):
    """Run `python -m coursekit.grade` in `course`; it must succeed."""
    done = run(sys.executable, "-m", "coursekit.grade", *args, cwd=course)
    assert done.returncode == 0, done.stdout + done.stderr
    return done
