"""Student kernels run inside a bubblewrap sandbox while they are graded.

`SandboxKernelManager` is the kernel manager nbgrader's Execute uses (see
coursekit.execute.ExecuteWithReference).  It starts the usual ipykernel
command through `prlimit` (util-linux), which sets a memory limit and execs
bubblewrap (`bwrap`) with:

- a filesystem that holds the system's /usr, the Python environment and the
  coursekit package (all read-only), the student's working copy (read-write)
  and one private folder for the kernel's connection file and sockets;
  nothing else of the course: no source/, gradebook, release/ or other
  student's folder;
- new user, PID, network, IPC, UTS and cgroup namespaces, no capabilities and
  an unprivileged uid: it cannot signal or ptrace the grader or reach the
  network.  The grader talks to it over the `ipc` transport, through the
  private folder.

If the sandbox cannot start, grading stops with a message that says so:
it never falls back to grading unsandboxed.  An instructor opts out
explicitly with `Sandbox.enabled = False` (COURSEKIT_SANDBOX=off in
nbgrader_config.py).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Int
from traitlets.config import Configurable

import coursekit

SANDBOX_UID = 65534  # nobody
# Where kernels' private folders go, if set (coursekit.grade: one folder per
# run, removed at its end with whatever a worker left); else the temp folder.
KERNEL_DIRS = "COURSEKIT_KERNEL_DIRS"
SYSTEM_DIRS = ["/bin", "/lib", "/lib32", "/lib64", "/sbin"]
SYSTEM_FILES = ["/etc/ld.so.cache", "/etc/localtime", "/etc/fonts", "/etc/alternatives"]
UNAVAILABLE = ("the grading sandbox cannot start: {why}. Install bubblewrap and prlimit "
               "(Debian/Ubuntu: apt-get install bubblewrap util-linux), or grade without "
               "the sandbox on a throw-away machine with COURSEKIT_SANDBOX=off.")


class SandboxUnavailable(RuntimeError):
    pass


def requested():
    """Whether grading is to be sandboxed: yes unless COURSEKIT_SANDBOX=off."""
    return os.environ.get("COURSEKIT_SANDBOX", "on") != "off"


def require_sandbox_programs():
    for program in ("bwrap", "prlimit"):
        if shutil.which(program) is None:
            raise SandboxUnavailable(UNAVAILABLE.format(why=f"{program} is not installed"))


class Sandbox(Configurable):
    """Limits for the sandboxed kernel (set them in nbgrader_config.py)."""

    enabled = Bool(True, help="Run student kernels in bubblewrap.").tag(config=True)
    memory_mb = Int(2048, help="Address-space limit of a kernel, in MiB.").tag(config=True)
    notebook_timeout = Int(600, help="Seconds all the cells of one notebook may take together; "
                                     "the cells left when they are up are not run.").tag(config=True)


def coursekit_dir():
    """The folder of the coursekit package this process runs."""
    return os.path.dirname(os.path.realpath(coursekit.__file__))


def read_only_paths():
    """What a kernel may read: this Python, its environment, coursekit."""
    paths = {sys.prefix, os.path.realpath(sys.base_prefix), coursekit_dir()}
    paths.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    return sorted(paths)


def sandbox_command(command, workdir, private_dir, memory_mb):
    """The argv that runs `command` in the sandbox, with at most `memory_mb` MiB of
    address space and no core dumps.

    prlimit sets the limits and execs bwrap: no Python starts before the
    kernel's own (a Python launcher cost 0.15 s of CPU per notebook).
    """
    limit = memory_mb * 1024 * 1024
    return (["prlimit", f"--as={limit}", "--core=0", "--"]
            + bwrap_command(command, os.path.realpath(workdir), os.path.realpath(private_dir)))


def bwrap_command(command, workdir, private_dir):
    """The bwrap argv that runs `command` with only `workdir` and `private_dir` writable."""
    argv = ["bwrap", "--unshare-all", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev",
            "--tmpfs", "/tmp"]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    for path in SYSTEM_FILES:
        argv += ["--ro-bind-try", path, path]
    for path in read_only_paths():
        argv += ["--ro-bind", path, path]
    argv += ["--bind", private_dir, private_dir, "--bind", workdir, workdir, "--chdir", workdir,
             "--clearenv"]
    env = {"PATH": f"{sys.prefix}/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
           "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           # ipykernel polls its parent; inside the PID namespace that is pid 1
           "JPY_PARENT_PID": "1",
           # the coursekit the grader runs, wherever the environment's own
           # install points (a course folder copied with another's .venv)
           "PYTHONPATH": os.path.dirname(coursekit_dir())}
    if "NBGRADER_EXECUTION" in os.environ:
        env["NBGRADER_EXECUTION"] = os.environ["NBGRADER_EXECUTION"]
    for name, value in env.items():
        argv += ["--setenv", name, value]
    return argv + ["--", *command]


def check_available():
    """Raise SandboxUnavailable unless a sandboxed Python starts here."""
    require_sandbox_programs()
    with tempfile.TemporaryDirectory(prefix="ck-") as folder:
        command = sandbox_command([sys.executable, "-c", "import numpy, coursekit.checks; print('ok')"],
                                  folder, folder, Sandbox().memory_mb)
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=60)
    if done.stdout.strip() != "ok":
        why = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SandboxUnavailable(UNAVAILABLE.format(why=f"a test run failed ({why})"))


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in the sandbox, reached over ipc."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sandbox = Sandbox(parent=self)
        self._private_dir = None
        if self.sandbox.enabled:
            require_sandbox_programs()
            # short path: ipc socket names must fit in 107 bytes
            self._private_dir = tempfile.mkdtemp(prefix="ck-", dir=os.environ.get(KERNEL_DIRS))
            self.transport = "ipc"
            self.ip = os.path.join(self._private_dir, "kernel")
            self.connection_file = os.path.join(self._private_dir, "kernel.json")

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None and self.sandbox.enabled:
            # a signal would reach bwrap, not the kernel
            spec.interrupt_mode = "message"
        return spec

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        if command[1:3] == ["-m", "ipykernel_launcher"]:
            command[1:3] = ["-m", "coursekit.kernel"]  # ipykernel without its debugger
        if not self.sandbox.enabled:
            return command
        # the folder the kernel is started in (jupyter_client keeps its arguments)
        workdir = (self._launch_args or {}).get("cwd") or os.getcwd()
        return sandbox_command(command, workdir, self._private_dir, self.sandbox.memory_mb)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if self._private_dir and not restart:
            shutil.rmtree(self._private_dir, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Run a command in the grading sandbox, in the current directory.")
    parser.add_argument("--memory-mb", type=int, default=2048)
    parser.add_argument("--private", required=True,
                        help="a folder of the grader's, writable inside (the kernel's sockets)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    argv = sandbox_command(command, os.getcwd(), args.private, args.memory_mb)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
