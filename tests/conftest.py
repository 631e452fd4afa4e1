"""Shared fixtures: a throw-away copy of the course, graded once per session."""

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

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


def copy_course(destination, submitted=None, generated=False):
    """Copy the course into `destination`; `submitted` replaces submitted/ if given.

    `generated`: a copy of the course as `make grade` leaves it before grading,
    every assignment generated into its gradebook and every master notebook's
    results cached (copied from `_generated_course()`; release/ is the same).
    """
    for name in COURSE_FILES:
        source = ROOT / name
        if name == "submitted" and submitted is not None:
            source = submitted
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=lambda _, names: LEFT_OUT & set(names))
        else:
            shutil.copy(source, destination / name)
    if generated:
        template = _generated_course()
        shutil.copy(template / "gradebook.db", destination / "gradebook.db")
        shutil.copytree(template / CACHE, destination / CACHE,
                        ignore=shutil.ignore_patterns("logs", "staging"))
    return destination


CACHE = ".coursekit-cache"
_template = []


def _generated_course():
    """A copy of the course with every assignment generated and every master's
    results cached, made once per session: each course copied from it skips
    seven `nbgrader generate_assignment` runs and seven reference runs."""
    if not _template:
        folder = Path(tempfile.mkdtemp(prefix="coursekit-generated-"))
        atexit.register(shutil.rmtree, folder, True)
        empty = folder / "nobody"
        empty.mkdir()
        course = copy_course(folder / "course", submitted=empty)
        assignments = sorted(p.name for p in (course / "source").iterdir())
        through_api(course, "generate_assignment", assignments)
        done = run(sys.executable, "-c", "import sys; from pathlib import Path; "
                   "from coursekit.grade import run_references; "
                   "run_references(Path('.'), sys.argv[1:], 2)", *assignments, cwd=course)
        assert done.returncode == 0, done.stdout + done.stderr
        _template.append(course)
    return _template[0]


def through_api(course, method, assignments, **env):
    """NbGraderAPI's `method` (generate_assignment, release_feedback) for each of
    `assignments`, in `course`, in one process (each nbgrader command would
    import nbgrader anew, some 3 s); each must succeed. `env` is added to the
    environment (COURSEKIT_EDITION="ko")."""
    done = subprocess.run([sys.executable, "-c", (
        "import sys\n"
        "from coursekit.workers import nbgrader_api\n"
        "api = nbgrader_api()\n"
        "for a in sys.argv[2:]:\n"
        "    result = getattr(api, sys.argv[1])(a)\n"
        "    assert result['success'], a + ': ' + result['log'] + result.get('error', '')\n"),
        method, *assignments], cwd=course, env=dict(os.environ, **env), capture_output=True,
        text=True, stdin=subprocess.DEVNULL, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr


def run(*command, cwd):
    """Run a command in `cwd`; return the CompletedProcess (output as text)."""
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=1800)


def nbgrader(*args, cwd):
    return run(sys.executable, "-m", "nbgrader", *args, cwd=cwd)


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory):
    """The course copied, its assignments generated and every sample graded."""
    course = copy_course(tmp_path_factory.mktemp("course"), generated=True)
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
    course = copy_course(folder / "course", folder / "submitted", generated=True)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for assignment in [a.name for a in gradebook.assignments]:
            if assignment not in {a for _, a in chosen}:
                gradebook.remove_assignment(assignment)  # as if only the chosen were generated
    with open(course / "nbgrader_config.py", "a") as file:
        file.write(config)
    if "db_url" in config:  # a gradebook elsewhere: the copy's SQLite one must not be needed
        (course / "gradebook.db").unlink()
    return course


def grade(course, *args):
    """Run `python -m coursekit.grade` in `course`; it must succeed."""
    done = run(sys.executable, "-m", "coursekit.grade", *args, cwd=course)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


POSTGRES_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL server on a free local port, from the distribution's
    binaries; `postgres()` makes an empty database on it and gives its URL.

    Skips, saying what to install, where there is no server (package postgresql;
    `make test` installs it as root on Debian or Ubuntu).
    """
    if POSTGRES_BIN is None or not (POSTGRES_BIN / "initdb").exists():
        pytest.skip("no PostgreSQL server: install postgresql (apt-get install postgresql; "
                    "make test does it when run as root on Debian or Ubuntu)")
    folder = Path(tempfile.mkdtemp(prefix="coursekit-postgres-"))
    as_owner = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def pg(*command):
        done = subprocess.run([*as_owner, *command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    pg(str(POSTGRES_BIN / "initdb"), "-D", f"{folder}/data", "-A", "trust", "-U", "grader")
    pg(str(POSTGRES_BIN / "pg_ctl"), "-D", f"{folder}/data", "-l", f"{folder}/log", "-w", "start",
       "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1")
    made = []

    def new_database():
        name = f"gradebook{len(made)}"
        pg(str(POSTGRES_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "grader", name)
        made.append(name)
        return f"postgresql://grader@127.0.0.1:{port}/{name}"
    try:
        yield new_database
    finally:
        pg(str(POSTGRES_BIN / "pg_ctl"), "-D", f"{folder}/data", "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def free_port():
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
