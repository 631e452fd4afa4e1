"""The gradebook on PostgreSQL, through nbgrader's own db_url, against a real server.

The test starts a throw-away PostgreSQL server from the distribution's
binaries (package postgresql; `make test` installs it as root on Debian or
Ubuntu) and skips, saying what to install, where there is none.
"""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from conftest import course_with, grade
from samples import scores

BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)
pytestmark = pytest.mark.skipif(
    BIN is None or not (BIN / "initdb").exists(),
    reason="no PostgreSQL server: install postgresql (apt-get install postgresql; make test "
           "does it when run as root on Debian or Ubuntu)")


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server on a free local port; yields its database URL."""
    folder = Path(tempfile.mkdtemp(prefix="coursekit-postgres-"))
    as_owner = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    def pg(*command):
        done = subprocess.run([*as_owner, *command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    pg(str(BIN / "initdb"), "-D", f"{folder}/data", "-A", "trust", "-U", "grader")
    pg(str(BIN / "pg_ctl"), "-D", f"{folder}/data", "-l", f"{folder}/log", "-w", "start", "-o",
       f"-p {port} -k {folder} -c listen_addresses=127.0.0.1")
    try:
        pg(str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "grader", "gradebook")
        yield f"postgresql://grader@127.0.0.1:{port}/gradebook"
    finally:
        pg(str(BIN / "pg_ctl"), "-D", f"{folder}/data", "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def test_grading_writes_a_postgresql_gradebook(postgres, tmp_path):
    graded = [("sample-slips", "02_reshape"), ("sample-slips", "05_losses"),
              ("sample-wrong-axis", "05_losses")]
    course = course_with(tmp_path, graded, config=f"\nc.CourseDirectory.db_url = {postgres!r}\n")
    (course / "gradebook.db").unlink()  # the copy's SQLite gradebook: this one must not need it
    done = grade(course, "--workers", "2")
    assert not (course / "gradebook.db").exists()
    expected = {key: points for key, points in scores().items() if key in graded}
    with Gradebook(postgres) as gradebook:
        got = {(student, assignment): {cell: gradebook.find_grade(
                   cell, assignment, assignment, student).score for cell in points}
               for (student, assignment), points in expected.items()}
    assert got == expected
    assert "report: grades-report.html" in done.stdout
