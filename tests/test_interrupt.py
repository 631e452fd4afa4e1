"""An interrupted run of coursekit.grade leaves no process behind and loses nothing."""

import os
import signal
import subprocess
import sys
import time

import psutil

from conftest import course_with

CHOSEN = [(student, assignment) for student in ("sample-correct", "sample-slips")
          for assignment in ("04_softmax", "05_losses", "06_gradient")]


def left_behind(folder):
    """Processes whose command line or working folder lies under `folder`."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            where = " ".join(process.info["cmdline"] or []) + " " + (process.info["cwd"] or "")
        except psutil.Error:
            continue
        if str(folder) in where and process.pid != os.getpid():
            found.append(" ".join(process.info["cmdline"] or [])[:100])
    return found


def start(course, env):
    return subprocess.Popen([sys.executable, "-m", "coursekit.grade", "--workers", "2"],
                            cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, stdin=subprocess.DEVNULL, start_new_session=True)


def wait_for_progress(process):
    for line in process.stdout:
        if line.startswith("[1/"):
            return
    raise AssertionError("grading ended before any progress: " + process.stderr.read())


def settled(folder, seconds=10):
    """Wait up to `seconds` for every process under `folder` to be gone; return those left."""
    deadline = time.monotonic() + seconds
    while left_behind(folder) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left_behind(folder)


def test_killed_or_interrupted_grading_stops_everything_and_the_next_run_finishes(tmp_path):
    course = course_with(tmp_path, CHOSEN)
    (tmp_path / "tmp").mkdir()
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))

    killed = start(course, env)  # kill -9 of the grader alone: its workers and kernels follow
    wait_for_progress(killed)
    killed.kill()
    killed.wait(timeout=30)
    assert settled(tmp_path) == []

    interrupted = start(course, env)  # Ctrl-C: SIGINT to the whole process group
    wait_for_progress(interrupted)
    os.killpg(interrupted.pid, signal.SIGINT)
    _, err = interrupted.communicate(timeout=60)
    assert interrupted.returncode == 130
    assert "interrupted:" in err and "Traceback" not in err, err
    assert settled(tmp_path) == []

    finished = subprocess.run([sys.executable, "-m", "coursekit.grade", "--workers", "2"],
                              cwd=course, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=600)
    assert finished.returncode == 0, finished.stderr
    grading = next(line for line in finished.stdout.splitlines() if line.startswith("grading "))
    graded_now = int(grading.split()[1])
    assert 0 < graded_now < len(CHOSEN), grading  # what the earlier runs finished is kept
    assert "not graded" not in finished.stdout
    assert "sample-correct  4 / 4" in finished.stdout
