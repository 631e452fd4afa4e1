"""Grading on Dask's distributed scheduler, beyond one process.

Most tests here grade through a scheduler and two workers started from their
command lines (`dask scheduler`, `dask worker`) on 127.0.0.1, as they would
run on other machines: each worker is one process of one thread under its
nanny.  They grade into PostgreSQL, lose no submission when a worker is
killed while it grades, and stop a submission past `--timeout`.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from nbgrader.api import Gradebook

from conftest import course_with, free_port, grade
from samples import scores

distributed = pytest.importorskip("dask.distributed")

from coursekit import workers  # noqa: E402  (needs dask.distributed)

SCORES = scores()
DASK = Path(sys.executable).with_name("dask")
# The notebooks' own cell limit, longer than the --timeout tested below.
CELL_TIMEOUT = 90


class Cluster:
    """`dask scheduler` and `dask worker`s on 127.0.0.1, each started from its command line."""

    def __init__(self, folder):
        self.folder = folder
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.processes = []
        self.start("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
        self.client = None

    def start(self, *command):
        log = open(self.folder / f"dask-{len(self.processes)}.log", "w")
        env = dict(os.environ, COURSEKIT_CELL_TIMEOUT=str(CELL_TIMEOUT))
        self.processes.append(subprocess.Popen([str(DASK), *command], cwd=self.folder, env=env,
                                               stdin=subprocess.DEVNULL, stdout=log, stderr=log))
        log.close()

    def add_worker(self):
        """Start a `dask worker` (its nanny runs the worker process): its pid."""
        self.start("worker", self.address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                   "--host", "127.0.0.1", "--local-directory", str(self.folder))
        return self.processes[-1].pid

    def worker_pids(self):
        """{worker address: pid of its worker process}."""
        return self.client.run(os.getpid, on_error="ignore")

    def stop(self):
        """Stop the workers, then the scheduler (a worker whose scheduler closed
        first waits 8 s before its nanny kills it)."""
        if self.client is not None:
            self.client.close()
        scheduler, *workers = self.processes
        for group in (workers, [scheduler]):
            for process in group:
                if process.poll() is None:
                    process.terminate()
            for process in group:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two workers started from the `dask` command line."""
    cluster = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        nannies = [cluster.add_worker(), cluster.add_worker()]
        cluster.client = distributed.Client(cluster.address, timeout=60)
        cluster.client.wait_for_workers(2, timeout=120)
        cluster.nannies = nannies
        yield cluster
    finally:
        cluster.stop()


@contextlib.contextmanager
def grading_in_background(course, *args):
    """`python -m coursekit.grade ARGS` in `course`, running while the block watches
    it (its output in one pipe); killed if the block ends before it does."""
    grading = subprocess.Popen([sys.executable, "-m", "coursekit.grade", *args], cwd=course,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        yield grading
    finally:
        if grading.poll() is None:
            grading.kill()
            grading.wait()


def gradebook_scores(db_url, chosen):
    """{(student, assignment): {test cell: points}} for the submissions `chosen`."""
    with Gradebook(db_url) as gradebook:
        return {(student, assignment): {cell: gradebook.find_grade(
                    cell, assignment, assignment, student).score for cell in SCORES[student, assignment]}
                for student, assignment in chosen}


def started_since(client, seen):
    """The STARTED events after the first `seen`: [{"key": task, "worker": address}]."""
    return [message for _, message in client.get_events(workers.STARTED)[seen:]]


def descendants(pid):
    """{process: name} of every live descendant of `pid`."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return {}
    names = {}
    for child in children:
        try:
            names[child] = child.name()
        except psutil.NoSuchProcess:
            pass
    return names


def left_behind(processes):
    """Which of `processes` still run 15 s on (a killed parent's children die with it)."""
    _, alive = psutil.wait_procs(list(processes), timeout=15)
    return alive


def test_workers_started_from_the_command_line_grade_into_postgresql(cluster, postgres, tmp_path):
    """Both workers grade, in the course folder (not their own), into one PostgreSQL
    gradebook, each test cell as the table says; the workers were checked first."""
    db_url = postgres()
    chosen = [("sample-correct", "05_losses"), ("sample-slips", "05_losses"),
              ("sample-wrong-axis", "05_losses"), ("sample-wrong-shape", "05_losses")]
    course = course_with(tmp_path, chosen, config=f"\nc.CourseDirectory.db_url = {db_url!r}\n")
    seen = len(cluster.client.get_events(workers.STARTED))
    done = grade(course, "--scheduler", cluster.address)
    assert "Every submission was graded." in done.stdout, done.stdout
    assert not (course / "gradebook.db").exists()
    assert gradebook_scores(db_url, chosen) == {key: SCORES[key] for key in chosen}
    assert {said["worker"] for said in started_since(cluster.client, seen)} == set(cluster.worker_pids())


def test_a_worker_killed_while_grading_loses_no_submission(cluster, tmp_path):
    """SIGKILL of a `dask worker` command (the nanny) while its worker process grades:
    the worker process exits with it (Dask's own watch on its parent), its kernels
    with it (bwrap --die-with-parent), and Dask runs the task again on another worker.
    Nothing restarts a killed nanny: a new `dask worker` is started, as a deployment would."""
    chosen = [("sample-correct", "07_logistic_regression"), ("sample-slips", "07_logistic_regression")]
    course = course_with(tmp_path, chosen)
    client = cluster.client
    seen = len(client.get_events(workers.STARTED))
    with grading_in_background(course, "--scheduler", cluster.address) as grading:
        killed = None
        deadline = time.monotonic() + 240
        while killed is None and grading.poll() is None and time.monotonic() < deadline:
            for said in started_since(client, seen):
                if said["key"] not in client.processing().get(said["worker"], ()):
                    continue  # done already
                pid = cluster.worker_pids().get(said["worker"])
                kernels = descendants(pid) if pid else {}
                if kernels:  # grading, its kernel up
                    worker = psutil.Process(pid)
                    nanny = worker.parent()
                    assert nanny.pid in cluster.nannies
                    os.kill(nanny.pid, signal.SIGKILL)
                    killed = said["key"], worker, kernels
                    cluster.nannies.append(cluster.add_worker())  # as a deployment would
                    break
            time.sleep(0.2)
        output, _ = grading.communicate(timeout=300)
    assert killed is not None, "no worker was seen grading:\n" + output
    task, worker, kernels = killed
    assert grading.returncode == 0, output
    assert "Every submission was graded." in output, output
    ran_on = [said["worker"] for said in started_since(client, seen) if said["key"] == task]
    assert len(ran_on) == 2 and ran_on[0] != ran_on[1], ran_on  # run again, on another worker
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    assert gradebook_scores(db_url, chosen) == {key: SCORES[key] for key in chosen}
    assert left_behind([worker, *kernels]) == []
    client.wait_for_workers(2, timeout=120)


def test_a_submission_past_the_timeout_is_stopped_and_listed(cluster, tmp_path):
    """sample-loops-forever runs past --timeout 10 (its cells may run 90 s each):
    its task is cancelled and its worker restarted, its kernel dying with it; it is
    listed as not graded, with the reason, and the other submission is graded."""
    chosen = [("sample-loops-forever", "01_sigmoid"), ("sample-correct", "01_sigmoid")]
    course = course_with(tmp_path, chosen)
    client = cluster.client
    began = time.monotonic()
    seen = {}  # worker process: {descendant: name}, as seen while grading
    with grading_in_background(course, "--scheduler", cluster.address, "--timeout", "10") as grading:
        while grading.poll() is None and time.monotonic() - began < 3 * CELL_TIMEOUT:
            for pid in cluster.worker_pids().values():
                try:
                    seen.setdefault(psutil.Process(pid), {}).update(descendants(pid))
                except psutil.NoSuchProcess:
                    pass
            time.sleep(0.5)
        output, _ = grading.communicate(timeout=60)
    took = time.monotonic() - began
    assert grading.returncode == 0, output
    assert re.search(r"^sample-loops-forever +not graded$", output, re.M), output
    assert re.search(r"^  sample-loops-forever / 01_sigmoid: grading it ran past the time limit "
                     r"of a submission \(10 s\)$", output, re.M), output
    assert re.search(r"^sample-correct +5 / 5$", output, re.M), output
    assert took < CELL_TIMEOUT, output  # not left to the notebook's own limits
    restarted = [worker for worker in seen if not worker.is_running()]
    assert len(restarted) == 1, seen
    kernels = seen[restarted[0]]
    assert kernels, "the restarted worker ran no kernel"
    assert left_behind(kernels) == []
    client.wait_for_workers(2, timeout=120)


def test_grading_on_a_local_dask_cluster_gives_the_same_grades(tmp_path):
    """--scheduler local: a multi-process LocalCluster in the grader's own process."""
    chosen = [("sample-slips", "04_softmax"), ("sample-wrong-axis", "04_softmax"),
              ("sample-whole-array", "04_softmax")]
    course = course_with(tmp_path, chosen)
    done = grade(course, "--scheduler", "local", "--workers", "2")
    assert "Every submission was graded." in done.stdout
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    assert gradebook_scores(db_url, chosen) == {key: SCORES[key] for key in chosen}
    assert len(list((course / "feedback").rglob("*.html"))) == len(chosen)


def test_dask_workers_that_cannot_grade_are_named_with_what_they_lack(tmp_path, monkeypatch):
    """Before a remote Dask cluster grades anything, each worker checks the course
    folder at the same path, the sandbox's programs and the gradebook."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text("")
    gradebook = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(gradebook):
        pass
    assert workers.missing_on_worker(str(course), gradebook, sandboxed=False) == []
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap, no prlimit
    lacking = workers.missing_on_worker(str(tmp_path / "elsewhere"),
                                        f"sqlite:///{tmp_path / 'none.db'}", sandboxed=True)
    assert [what.split(" (")[0].split(",")[0] for what in lacking] == [
        f"the course folder at {tmp_path / 'elsewhere'}", "bubblewrap and prlimit",
        f"the gradebook sqlite:///{tmp_path / 'none.db'}"]

    class Client:  # what a dask Client.run returns: {worker address: result}
        def run(self, function, *args):
            return {"tcp://127.0.0.1:40000": function(*args)}

    with pytest.raises(workers.WorkersCannotGrade, match=r"tcp://127.0.0.1:40000: the course folder"):
        workers.require_on_workers(Client(), str(tmp_path / "elsewhere"), gradebook)


def test_a_task_past_its_time_is_given_up_only_on_the_worker_still_running_it():
    """OnDask: its time counts from when the task began; past it, the task is cancelled
    and its worker restarted, unless that worker died and Dask runs the task again."""
    from concurrent.futures import TimeoutError as FutureTimeout

    class Client:
        def __init__(self):
            self.running, self.restarted = {}, []

        def processing(self):
            return self.running

        def restart_workers(self, addresses):
            self.restarted += addresses

    class Future:
        key, cancelled = "grade_task-1", False

        def __init__(self, client):
            self.client = client

        def done(self):
            return self.cancelled

        def cancel(self):
            self.cancelled = True

    client = Client()
    started = {}
    future = workers.OnDask(Future(client), started, timeout=10)
    assert not future.done()  # queued: no time counts
    started[future.future.key] = time.monotonic() - 11, "tcp://a:1"
    assert not future.done() and future.future.key not in started  # tcp://a:1 died
    assert client.restarted == []
    started[future.future.key] = time.monotonic() - 5, "tcp://b:2"  # run again
    client.running = {"tcp://b:2": [future.future.key]}
    assert not future.done()
    started[future.future.key] = time.monotonic() - 11, "tcp://b:2"
    assert future.done() and future.future.cancelled and client.restarted == ["tcp://b:2"]
    with pytest.raises(FutureTimeout):
        future.result()
