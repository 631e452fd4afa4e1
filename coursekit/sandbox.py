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

Each submission is limited as a whole, not process by process
(`SubmissionLimits`, a watchdog over the kernel's process tree): the memory
of all its processes together, their number, the disk it writes (its folder,
and /tmp, a size-limited tmpfs) and their CPU time.  Past a limit the whole
tree is killed and the limit is named; cells that ran before keep their
results.  Each process is also held by rlimits (address space, CPU time,
file size), which stop most excess before the watchdog needs to.  The
watchdog is what holds in a container without cgroup delegation, as on CI.

If the sandbox cannot start, grading stops with a message that says so:
it never falls back to grading unsandboxed.  An instructor opts out
explicitly with `Sandbox.enabled = False` (COURSEKIT_SANDBOX=off in
nbgrader_config.py).
"""

import argparse
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

import psutil

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Int
from traitlets.config import Configurable

import coursekit
from coursekit.i18n import N_

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
    """Limits for the sandboxed kernel (set them in nbgrader_config.py).

    Each limit holds for one submission's kernel with every process it
    starts, together: a kernel that forks three children of 1.5 GiB is
    stopped at `memory_mb`, not allowed 2 GiB each.
    """

    enabled = Bool(True, help="Run student kernels in bubblewrap.").tag(config=True)
    memory_mb = Int(2048, help="Memory of a submission's processes together (their proportional "
                               "resident size), in MiB; also each process's address-space "
                               "limit.").tag(config=True)
    max_processes = Int(32, help="Processes a submission's kernel may run at once, the "
                                 "kernel and the sandbox's own two included.").tag(config=True)
    disk_mb = Int(512, help="What a submission may write, in MiB: its working folder, and "
                            "/tmp separately.").tag(config=True)
    cpu_seconds = Int(900, help="CPU time of a submission's processes together, in "
                                "seconds.").tag(config=True)
    notebook_timeout = Int(600, help="Seconds all the cells of one notebook may take together; "
                                     "the cells left when they are up are not run.").tag(config=True)


# What a submission went past, as messages say it (coursekit.i18n translates them).
LIMITS = {
    "processes": N_("its process limit ({value} processes at once)"),
    "memory": N_("its memory limit ({value} MiB for all its processes together)"),
    "cpu": N_("its CPU time limit ({value} s for all its processes together)"),
    "disk": N_("its disk limit ({value} MiB written in its folder)"),
}


class SubmissionLimits:
    """Watches one kernel's process tree; past a limit, kills all of it.

    `over` then holds which limit, as its message and value (a msgid of
    LIMITS, 2048), and `hit` says it in English: "its memory limit (2048 MiB
    for all its processes together)".  The tree is read every
    `interval` seconds with psutil: memory as the sum of proportional set
    sizes (a forked child's pages shared with its parent count once), CPU
    as user and system time of the live processes and the children they
    reaped, disk as the size of the working folder.
    """

    interval = 0.1

    def __init__(self, pid, workdir, sandbox):
        self.root = psutil.Process(pid)
        self.workdir = workdir
        self.sandbox = sandbox
        self.over = None  # (message, value) of the limit the tree went past
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="coursekit-limits", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _watch(self):
        while not self._stop.wait(self.interval):
            try:
                tree = [self.root, *descendants(self.root)]
            except psutil.Error:
                return  # the kernel is gone
            self.over = self._over(tree)
            if self.over:
                kill_tree(self.root)
                return

    @property
    def hit(self):
        """Which limit stopped the tree, in English, or None."""
        return self.over[0].format(value=self.over[1]) if self.over else None

    def _over(self, tree):
        limits = self.sandbox
        if len(tree) > limits.max_processes:
            return LIMITS["processes"], limits.max_processes
        memory = cpu = 0
        for process in tree:
            try:
                memory += (process.memory_full_info().pss if len(tree) > 3
                           else process.memory_info().rss)
                times = process.cpu_times()
                cpu += times.user + times.system + times.children_user + times.children_system
            except psutil.Error:
                continue
        if memory > limits.memory_mb * 2**20:
            return LIMITS["memory"], limits.memory_mb
        if cpu > limits.cpu_seconds:
            return LIMITS["cpu"], limits.cpu_seconds
        if folder_size(self.workdir) > limits.disk_mb * 2**20:
            return LIMITS["disk"], limits.disk_mb
        return None


def descendants(process):
    """The processes under `process` (a psutil.Process), as psutil's
    children(recursive=True) finds them, but read from each thread's
    /proc/PID/task/TID/children: psutil reads every process of the machine
    to find them (1 ms ten times a second for each kernel here, more on a
    server running hundreds of processes).  A process that ends meanwhile is
    left out; psutil.NoSuchProcess if `process` itself has ended."""
    if not _PROC_CHILDREN:  # a Linux built without it
        return process.children(recursive=True)
    try:
        pids = _child_pids(process.pid)
    except FileNotFoundError:
        raise psutil.NoSuchProcess(process.pid) from None
    found = []
    while pids:
        pid = pids.pop()
        try:
            found.append(psutil.Process(pid))
            pids.extend(_child_pids(pid))
        except (psutil.Error, FileNotFoundError):
            continue  # it ended
    return found


def _child_pids(pid):
    pids = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as file:
                pids.extend(int(child) for child in file.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue  # that thread ended
    return pids


_PROC_CHILDREN = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


def folder_size(folder):
    """Bytes the files under `folder` take on disk (links not followed)."""
    total = 0
    for parent, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(parent, name)).st_blocks * 512
            except OSError:
                pass
    return total


def kill_tree(process):
    """SIGKILL `process` and everything under it, children first."""
    try:
        tree = process.children(recursive=True) + [process]
    except psutil.Error:
        tree = [process]
    for member in tree:
        try:
            member.send_signal(signal.SIGKILL)
        except psutil.Error:
            pass


def coursekit_dir():
    """The folder of the coursekit package this process runs."""
    return os.path.dirname(os.path.realpath(coursekit.__file__))


def read_only_paths():
    """What a kernel may read: this Python, its environment, coursekit."""
    paths = {sys.prefix, os.path.realpath(sys.base_prefix), coursekit_dir()}
    paths.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    return sorted(paths)


def sandbox_command(command, workdir, private_dir, limits):
    """The argv that runs `command` in the sandbox, each of its processes held
    by `limits` (a Sandbox): address space, CPU time, file size, no core dumps.

    prlimit sets the limits and execs bwrap: no Python starts before the
    kernel's own (a Python launcher cost 0.15 s of CPU per notebook).
    """
    share_font_list(private_dir)
    compile_coursekit()
    return (["prlimit", f"--as={limits.memory_mb * 2**20}", f"--cpu={limits.cpu_seconds}",
             f"--fsize={limits.disk_mb * 2**20}", "--core=0", "--"]
            + bwrap_command(command, os.path.realpath(workdir), os.path.realpath(private_dir),
                            limits.disk_mb))


@functools.cache
def compile_coursekit():
    """Write the bytecode of coursekit's modules beside them, once per process.

    A kernel reads coursekit from a read-only mount, so it cannot write that
    bytecode itself: where nothing had written it (PYTHONDONTWRITEBYTECODE is
    set, as on CI), every kernel compiled checks.py and values.py again as it
    started, 12 ms of CPU per notebook.  Bytecode older than its source is
    written again; where the folder cannot be written, kernels compile as before.
    """
    import compileall
    compileall.compile_dir(coursekit_dir(), maxlevels=0, quiet=2)


def share_font_list(private_dir):
    """Copy this process's Matplotlib font list into `private_dir`/matplotlib,
    the kernel's MPLCONFIGDIR: a kernel with an empty one lists the system's
    fonts again as it imports Matplotlib (0.15 s of every 06 notebook)."""
    folder = os.path.join(private_dir, "matplotlib")
    os.makedirs(folder, exist_ok=True)
    try:
        import matplotlib
        cache = matplotlib.get_cachedir()
        for name in os.listdir(cache):
            if name.startswith("fontlist-") and name.endswith(".json"):
                shutil.copy(os.path.join(cache, name), folder)
    except (ImportError, OSError):
        pass  # the kernel lists the fonts itself


def bwrap_command(command, workdir, private_dir, tmp_mb=512):
    """The bwrap argv that runs `command` with only `workdir` and `private_dir` writable
    (and /tmp, `tmp_mb` MiB of memory)."""
    argv = ["bwrap", "--unshare-all", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev",
            "--size", str(tmp_mb * 2**20), "--tmpfs", "/tmp"]
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
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": os.path.join(private_dir, "matplotlib"),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
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
                                  folder, folder, Sandbox())
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=60)
    if done.stdout.strip() != "ok":
        why = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SandboxUnavailable(UNAVAILABLE.format(why=f"a test run failed ({why})"))


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager that talks to its kernel over ipc sockets in a private
    folder of its own (removed with the kernel), not over TCP: nothing else on
    the machine can connect, and ipykernel has nothing to warn about."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._private_dir = None
        if self.over_ipc():
            # short path: ipc socket names must fit in 107 bytes
            self._private_dir = tempfile.mkdtemp(prefix="ck-", dir=os.environ.get(KERNEL_DIRS))
            self.transport = "ipc"
            self.ip = os.path.join(self._private_dir, "kernel")
            self.connection_file = os.path.join(self._private_dir, "kernel.json")

    def over_ipc(self):
        """Whether to reach the kernel over ipc (always, here)."""
        return True

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if self._private_dir and not restart:
            shutil.rmtree(self._private_dir, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources

    async def _async_wait(self, pollinterval=0.005):
        """Wait for a killed kernel to be gone, checking every 5 ms.

        jupyter_client waits so after `shutdown_kernel(now=True)` (as a
        grading worker stops each graded kernel) and checked every 0.1 s: the
        sandbox dies within milliseconds of SIGKILL, and the worker sat idle
        0.1 s a notebook.  A graceful shutdown passes its own interval.
        """
        await super()._async_wait(pollinterval)


class SandboxKernelManager(IpcKernelManager):
    """A kernel manager whose kernels run in the sandbox, reached over ipc."""

    def __init__(self, **kwargs):
        self.limits = None  # SubmissionLimits of the running kernel
        super().__init__(**kwargs)

    @functools.cached_property
    def sandbox(self):
        return Sandbox(parent=self)

    def over_ipc(self):
        """Over ipc when sandboxed (its network namespace has no TCP to reach), once
        the sandbox's programs are known to be there."""
        if self.sandbox.enabled:
            require_sandbox_programs()
        return self.sandbox.enabled

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
        return sandbox_command(command, workdir, self._private_dir, self.sandbox)

    @property
    def limit_hit(self):
        """(message, value) of the limit that stopped the kernel (see SubmissionLimits), or None."""
        return self.limits.over if self.limits is not None else None

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        await super()._async_launch_kernel(kernel_cmd, **kw)
        process = getattr(self.provisioner, "process", None)
        if self.sandbox.enabled and process is not None:
            if self.limits is not None:
                self.limits.stop()
            self.limits = SubmissionLimits(process.pid, kw.get("cwd") or os.getcwd(), self.sandbox)

    async def _async_cleanup_resources(self, restart=False):
        if self.limits is not None and not restart:
            self.limits.stop()
        await super()._async_cleanup_resources(restart=restart)

    cleanup_resources = _async_cleanup_resources


def main(argv=None):
    """Run a command in the sandbox with a submission's limits, as grading would."""
    defaults = Sandbox()
    parser = argparse.ArgumentParser(
        description="Run a command in the grading sandbox, in the current directory, "
                    "with the limits of one submission.")
    for name in ("memory_mb", "max_processes", "disk_mb", "cpu_seconds"):
        parser.add_argument("--" + name.replace("_", "-"), type=int,
                            default=getattr(defaults, name),
                            help=f"{defaults.class_traits()[name].help} (default %(default)s)")
    parser.add_argument("--private", required=True,
                        help="a folder of the grader's, writable inside (the kernel's sockets)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    limits = Sandbox(memory_mb=args.memory_mb, max_processes=args.max_processes,
                     disk_mb=args.disk_mb, cpu_seconds=args.cpu_seconds)
    process = subprocess.Popen(sandbox_command(command, os.getcwd(), args.private, limits))
    watchdog = SubmissionLimits(process.pid, os.getcwd(), limits)
    try:
        code = process.wait()
    except KeyboardInterrupt:
        kill_tree(psutil.Process(process.pid))
        code = process.wait()
    watchdog.stop()
    if watchdog.hit:
        print(f"coursekit.sandbox: stopped: the command went past {watchdog.hit}", file=sys.stderr)
        return 137
    return code


if __name__ == "__main__":
    sys.exit(main())
