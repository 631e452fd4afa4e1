"""The grading sandbox: what a student's process can and cannot do inside it."""

import asyncio
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from nbgrader.api import Gradebook

from conftest import ROOT, SANDBOXED, copy_course, nbgrader
from coursekit import grade, sandbox

PROBE = textwrap.dedent(f"""
    import os, socket
    import numpy as np
    print("uid", os.getuid())
    print("sees source", os.path.exists({str(ROOT / 'source')!r}))
    print("sees config", os.path.exists({str(ROOT / 'nbgrader_config.py')!r}))
    open("written-inside", "w").write("ok")
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2)
        print("network open")
    except OSError:
        print("network closed")
    try:
        np.ones(1 << 31)
        print("memory unlimited")
    except MemoryError:
        print("memory limited")
""")


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    if not SANDBOXED:
        pytest.skip("SANDBOX=off")
    folder = tmp_path_factory.mktemp("sandboxed")
    private = tmp_path_factory.mktemp("private")
    done = subprocess.run(
        [sys.executable, "-m", "coursekit.sandbox", "--memory-mb", "1024", "--private",
         str(private), "--", sys.executable, "-c", PROBE],
        cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return folder, done.stdout.splitlines()


def test_runs_as_an_unprivileged_user(probe):
    assert "uid 65534" in probe[1]


def test_sees_none_of_the_course(probe):
    assert "sees source False" in probe[1] and "sees config False" in probe[1]


def test_writes_only_its_own_folder(probe):
    folder, _ = probe
    assert (folder / "written-inside").read_text() == "ok"


def test_has_no_network(probe):
    assert "network closed" in probe[1]


def test_memory_is_limited(probe):
    assert "memory limited" in probe[1]


def test_grading_stops_when_the_sandbox_cannot_start(tmp_path, monkeypatch, capsys):
    (tmp_path / "submitted").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COURSEKIT_SANDBOX", raising=False)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.setattr(grade, "nbgrader_api", lambda *a, **k: pytest.fail("graded unsandboxed"))
    monkeypatch.setattr(grade, "grade_all", lambda *a, **k: pytest.fail("graded unsandboxed"))
    assert grade.main([]) == 2
    assert "bwrap is not installed" in capsys.readouterr().err


def test_a_notebook_stops_at_its_time_limit(tmp_path):
    """With 8 s for the whole notebook, sigmoid's endless loop uses them all up."""
    submitted = tmp_path / "only" / "sample-loops-forever"
    shutil.copytree(ROOT / "submitted" / "sample-loops-forever", submitted)
    course = copy_course(tmp_path / "course", submitted=submitted.parent, generated=True)
    done = nbgrader("autograde", "01_sigmoid", "--student", "sample-loops-forever",
                    "--Sandbox.notebook_timeout=8", "--Execute.timeout=60", cwd=course)
    assert done.returncode == 0, done.stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = [gradebook.find_grade(f"test_{name}", "01_sigmoid", "01_sigmoid",
                                       "sample-loops-forever").score
                  for name in ("basic_sigmoid", "sigmoid", "sigmoid_derivative")]
    assert scores == [1, 0, 0]


def test_a_kernel_starts_sandboxed_in_its_folder_without_a_debugger(tmp_path):
    if not SANDBOXED:
        pytest.skip("SANDBOX=off")
    printed = []

    async def run():
        km = sandbox.SandboxKernelManager(kernel_name="python3")
        await km.start_kernel(cwd=str(tmp_path))
        client = km.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            await client.execute_interactive(
                "import os, sys; print(os.getcwd(), os.getuid(), sys.modules['debugpy'])",
                timeout=60, output_hook=lambda msg: printed.append(msg["content"].get("text", "")))
        finally:
            client.stop_channels()
            await km.shutdown_kernel(now=True)

    asyncio.run(run())
    assert "".join(printed).split() == [os.path.realpath(tmp_path), "65534", "None"]


def test_a_killed_kernel_is_waited_for_in_milliseconds(tmp_path, monkeypatch):
    """A worker kills each graded kernel (shutdown_kernel(now=True)) and waits
    until it is gone: jupyter_client checked every 0.1 s, and the worker sat
    idle 0.1 s a notebook; the sandbox is gone within milliseconds."""
    if not SANDBOXED:
        pytest.skip("SANDBOX=off")
    import jupyter_client.manager

    naps, real_sleep = [], asyncio.sleep

    async def sleep(seconds, *args):
        naps.append(seconds)
        await real_sleep(seconds, *args)

    async def run():
        km = sandbox.SandboxKernelManager(kernel_name="python3")
        await km.start_kernel(cwd=str(tmp_path))
        client = km.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        client.stop_channels()
        monkeypatch.setattr(jupyter_client.manager.asyncio, "sleep", sleep)
        await km.shutdown_kernel(now=True)
        return await km.is_alive()

    assert asyncio.run(run()) is False
    assert naps and max(naps) <= 0.01, naps


def test_a_copied_course_grades_with_its_own_coursekit(tmp_path):
    """A new term's folder, graded with the first folder's .venv: the kernels
    import the coursekit the grader runs (the copy's), not the one the
    environment's editable install points to."""
    if not SANDBOXED:
        pytest.skip("SANDBOX=off")
    from conftest import course_with, grade
    course = course_with(tmp_path, [("sample-correct", "01_sigmoid")])
    shutil.copytree(ROOT / "coursekit", course / "coursekit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    inside = tmp_path / "inside"
    inside.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "coursekit.sandbox", "--private", str(tmp_path), "--",
         sys.executable, "-c", "import coursekit.checks; print(coursekit.checks.__file__)"],
        cwd=inside, env=dict(os.environ, PYTHONPATH=str(course)),
        capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == str(course / "coursekit" / "checks.py"), done.stderr
    graded = grade(course, "--workers", "1").stdout
    assert "sample-correct  5 / 5" in graded


# The three probes of a submission that takes the machine down, through the
# sandbox command: each is stopped as a whole, and the limit is named.
LIMIT_PROBES = {
    "memory": ("""
import os, time, numpy as np
for _ in range(3):
    if os.fork() == 0:
        a = np.ones(int(1.5 * 2**30) // 8); time.sleep(30); os._exit(0)
a = np.ones(int(1.5 * 2**30) // 8); time.sleep(30)
""", "its memory limit (2048 MiB for all its processes together)"),
    "processes": ("""
import os, time
for _ in range(300):
    if os.fork() == 0:
        time.sleep(30); os._exit(0)
time.sleep(30)
""", "its process limit (32 processes at once)"),
    "disk": ("""
block = b"x" * 2**20
for n in range(6):
    with open(f"part{n}", "wb") as f:
        for _ in range(500):
            f.write(block)
""", "its disk limit (512 MiB written in its folder)"),
}


@pytest.mark.parametrize("probe_name", sorted(LIMIT_PROBES))
def test_a_submission_is_limited_as_a_whole(tmp_path, probe_name):
    if not SANDBOXED:
        pytest.skip("SANDBOX=off")
    code, limit = LIMIT_PROBES[probe_name]
    folder, private = tmp_path / "work", tmp_path / "private"
    folder.mkdir(), private.mkdir()
    started = __import__("time").monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "coursekit.sandbox", "--private", str(private), "--",
         sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 137, done.stderr
    assert f"stopped: the command went past {limit}" in done.stderr
    assert __import__("time").monotonic() - started < 25  # stopped, not run to its end
    assert sandbox.folder_size(folder) < 2 * 2**30


def test_a_sandboxed_kernel_starts_with_the_graders_matplotlib_font_list(tmp_path):
    """Without it, every kernel that imports Matplotlib lists the system's fonts again."""
    if not SANDBOXED:
        pytest.skip("SANDBOX=off")
    import matplotlib.font_manager  # noqa: F401  (the grader's font list exists)
    code = ("import os, matplotlib; before = sorted(os.listdir(os.environ['MPLCONFIGDIR'])); "
            "import matplotlib.font_manager; print(before, matplotlib.get_cachedir())")
    done = subprocess.run(sandbox.sandbox_command([sys.executable, "-c", code], tmp_path, tmp_path,
                                                  sandbox.Sandbox()),
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    listed, folder = done.stdout.rsplit(" ", 1)
    assert "fontlist-v" in listed and folder.strip() == str(tmp_path / "matplotlib"), done.stderr


def test_a_sandboxed_kernel_imports_coursekit_compiled(tmp_path, monkeypatch):
    """coursekit is mounted read-only in the sandbox: its bytecode is written
    before a kernel starts, or each kernel compiles checks.py and values.py again."""
    if not SANDBOXED:
        pytest.skip("SANDBOX=off")
    shutil.rmtree(os.path.join(sandbox.coursekit_dir(), "__pycache__"), ignore_errors=True)
    sandbox.compile_coursekit.cache_clear()
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # as under PYTHONDONTWRITEBYTECODE
    code = ("import os, sys, importlib.util, coursekit.checks; print(sorted(m for m, module in "
            "sys.modules.items() if m.startswith('coursekit') and not "
            "os.path.exists(importlib.util.cache_from_source(module.__file__))))")
    done = subprocess.run(sandbox.sandbox_command([sys.executable, "-c", code], tmp_path, tmp_path,
                                                  sandbox.Sandbox()),
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_a_kernel_started_ahead_serves_only_a_notebook_with_the_same_limits():
    """A Dask worker may grade another course next: its spare kernel, started
    under the first course's sandbox limits, is not taken for the second."""
    from traitlets.config import Config

    from coursekit.execute import ExecuteWithReference

    def started_as(memory_mb):
        config = Config()
        config.Sandbox.memory_mb = memory_mb
        return ExecuteWithReference(config=config)._start_as()

    assert started_as(2048) == started_as(2048) != started_as(1024)


def test_the_watchdog_finds_every_process_under_a_kernel(tmp_path):
    """sandbox.descendants reads /proc/PID/task/TID/children: it must find what
    psutil finds, children started from another thread and grandchildren too."""
    import psutil
    code = textwrap.dedent("""
        import subprocess, sys, threading, time
        threading.Thread(target=subprocess.run, args=(["sleep", "30"],), daemon=True).start()
        subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & wait"])
        print("started", flush=True)
        time.sleep(30)
    """)
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline() == "started\n"
        root = psutil.Process(parent.pid)
        deadline = __import__("time").monotonic() + 10
        while len(root.children(recursive=True)) < 4 and __import__("time").monotonic() < deadline:
            __import__("time").sleep(0.05)
        expected = {p.pid for p in root.children(recursive=True)}
        assert len(expected) == 4
        assert {p.pid for p in sandbox.descendants(root)} == expected
    finally:
        sandbox.kill_tree(psutil.Process(parent.pid))
        parent.wait()
    with pytest.raises(psutil.NoSuchProcess):
        sandbox.descendants(root)
