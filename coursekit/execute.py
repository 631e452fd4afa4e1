"""nbgrader's Execute for grading: sandboxed, time-limited, and resilient.

`ExecuteWithReference` replaces nbgrader's Execute in the autograde pipeline
(nbgrader_config.py).  It

- starts the student's kernel in the sandbox (coursekit.sandbox);
- just before a test cell runs, leaves the reference's answers for the graded
  functions its checks name in `uses=` (coursekit.checks), and removes them
  afterwards;
- stops running cells once the notebook's time limit is up;
- restarts a kernel that died and runs the cells above again, so a cell that
  exits Python costs only its own marks;
- removes links the kernel left in its folder before nbgrader writes there;
- with `prestart_kernel` (coursekit.grade's workers turn it on), starts the
  next notebook's kernel while this one runs, so a worker never waits for a
  kernel to boot.  That kernel has its own sandbox and an empty working
  folder of its own; the notebook's folder is copied into it before any cell
  runs, and it is deleted afterwards.
"""

import copy
import multiprocessing.util
import os
import shutil
import stat
import tempfile
import time
from queue import Empty

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_hook, run_sync
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer

from coursekit import i18n
from coursekit.checks import STUBS_FILE
from coursekit.i18n import N_
from coursekit.sandbox import KERNEL_DIRS, Sandbox, SandboxKernelManager
from coursekit.verdict import ReferenceMixin, notebook_language, test_cell_id

MAX_RESTARTS = 3
NOTEBOOK_TIMEOUT = N_("the notebook's time limit was reached before this cell could run")
KERNEL_DIED = N_("the kernel stopped while running this cell (the code exited Python, "
                 "crashed or ran out of memory); it was restarted to grade the rest")
LIMIT_HIT = N_("the submission was stopped in this cell: it went past {limit}")
NOT_RUN_AFTER_LIMIT = N_("not run: the submission was stopped earlier, past {limit}")


# The kernel started ahead for the next notebook this process grades:
# (what it was started with, kernel manager, connected client, working folder).
_spare = None


class ExecuteWithReference(ReferenceMixin, Execute):
    """nbgrader's Execute in the sandbox, serving the reference's answers to `uses=`."""

    prestart_kernel = Bool(False, help="Start the next notebook's kernel while this one "
                                       "runs (for a process that grades many).").tag(config=True)
    # nbclient waits 4 s for a cell's last output after its reply: a worker on
    # a busy machine (every core grading, a submission filling memory) can
    # take longer, and the whole notebook would then fail to grade
    iopub_timeout = Integer(30, help="Seconds to wait for a cell's outputs after "
                                     "it finished.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources, km=None):
        self._stub_answers = self._expected(resources, served=True)
        self._stub_dir = resources.get("metadata", {}).get("path") or "."
        self._own_workdir = self._ready_client = None
        self._tests_run = set()
        self._deaths = 0
        self._limit_hit = None
        self._cell_timeout = self.timeout
        self._deadline = time.monotonic() + Sandbox(parent=self).notebook_timeout
        try:
            return super().preprocess(nb, resources, km=km)
        finally:
            if self._own_workdir:
                shutil.rmtree(self._own_workdir, ignore_errors=True)
            else:
                remove_links(self._stub_dir)

    async def async_start_new_kernel(self, **kwargs):
        """Take the kernel started ahead if it was started as this one would be."""
        global _spare
        spare, _spare = _spare, None
        if spare is not None:
            started_as, km, kc, workdir = spare
            if started_as == self._start_as() and await km.is_alive():
                await self.km.cleanup_resources()  # the unused manager made for this notebook
                self.km, self._ready_client = km, kc
                shutil.copytree(self._stub_dir, workdir, symlinks=True, dirs_exist_ok=True)
                self._stub_dir = self._own_workdir = workdir
                self.log.info("Running in the kernel started ahead, in a copy of the folder")
                return
            await _stop(km, workdir, kc)
        await super().async_start_new_kernel(**kwargs)

    async def async_start_new_kernel_client(self):
        if self._ready_client is None:
            client = await super().async_start_new_kernel_client()
        else:  # nbclient's steps, with the client connected when the kernel was started
            client = self.kc = self._ready_client
            try:
                await _ready(client, self.startup_timeout)
            except Exception:
                await self._async_cleanup_kernel()
                raise
            client.allow_stdin = False
            await run_hook(self.on_notebook_start, notebook=self.nb)
        if self.prestart_kernel and _spare is None:
            await self._start_spare()
        return client

    # nbclient's synchronous names are bound to its own coroutines: rebind them
    start_new_kernel = run_sync(async_start_new_kernel)
    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _start_as(self):
        """What a kernel started for this notebook is started with (nbclient adds the
        history file to the arguments as it starts one), its sandbox's limits
        included: a Dask worker may grade another course next."""
        arguments = tuple(a for a in self.extra_arguments
                          if not a.startswith("--HistoryManager.hist_file"))
        limits = Sandbox(parent=self)
        return (self.kernel_name, arguments, self.ipython_hist_file,
                os.environ.get("NBGRADER_EXECUTION"),
                tuple(getattr(limits, name) for name in sorted(limits.class_trait_names(config=True))))

    async def _start_spare(self):
        global _spare
        workdir = tempfile.mkdtemp(prefix="ck-work-", dir=os.environ.get(KERNEL_DIRS))
        km = self.kernel_manager_class(kernel_name=self.kernel_name, config=self.config)
        arguments = list(self.extra_arguments)
        if km.ipykernel and self.ipython_hist_file and not any(
                a.startswith("--HistoryManager.hist_file") for a in arguments):
            # as nbclient starts one: IPython keeps its history in memory, not
            # in a SQLite file written at every cell
            arguments.append(f"--HistoryManager.hist_file={self.ipython_hist_file}")
        try:
            await km.start_kernel(extra_arguments=arguments, cwd=workdir)
        except Exception as error:  # this notebook goes on; the next starts its own kernel
            self.log.warning("Could not start a kernel ahead: %s", error)
            await _stop(km, workdir)
            return
        kc = km.client()
        kc.start_channels()  # subscribed now, so that the kernel is ready when it is needed
        _spare = (self._start_as(), km, kc, workdir)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and self._limit_hit:
            cell.outputs = [self._error("SubmissionLimit", NOT_RUN_AFTER_LIMIT, limit=self._limit_hit)]
            return cell, resources
        left = self._deadline - time.monotonic()
        if cell.cell_type == "code" and left <= 0:
            cell.outputs = [self._error("NotebookTimeout", NOTEBOOK_TIMEOUT)]
            return cell, resources
        self.timeout = max(1, min(self._cell_timeout, int(left)))
        if self.timeout < self._cell_timeout:
            # this cell may run only until the notebook's limit: if it uses
            # all of that time, nothing after it runs
            started = time.monotonic()
            try:
                return self._run_cell(cell, resources, index)
            finally:
                if time.monotonic() - started >= self.timeout:
                    self._deadline = 0
        return self._run_cell(cell, resources, index)

    def _run_cell(self, cell, resources, index):
        grade_id = test_cell_id(cell)
        answers = None
        # The reference's answers are shown only after every earlier test has
        # run: moving a test cell later cannot turn them into its answers.
        order = list(self._stub_answers)
        earlier = order[:order.index(grade_id)] if grade_id in order else []
        if self._tests_run.issuperset(earlier):
            answers = self._stub_answers.get(grade_id)
        self._tests_run.add(grade_id)
        stubs = os.path.join(self._stub_dir, STUBS_FILE)
        if answers:
            _remove(stubs)
            try:  # "x": never through a link the kernel may have left there
                with open(stubs, "x", encoding="utf-8") as file:
                    file.write(answers)
            except FileExistsError:
                pass
        try:
            return super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, CellTimeoutError) as error:
            # a kernel killed past a limit shows as dead, or, on a busy
            # machine, as output that never came
            limit = self._limit_after(error)
            if not limit and isinstance(error, CellTimeoutError):
                raise
            if limit:  # the whole tree was killed: what ran before keeps its results
                self._limit_hit = limit
                self.log.warning("Stopped past %s", limit[0].format(value=limit[1]))
                cell.outputs.append(self._error("SubmissionLimit", LIMIT_HIT, limit=limit))
                return cell, resources
            self._revive(index)
            cell.outputs.append(self._error("KernelDied", KERNEL_DIED))
            return cell, resources
        finally:
            if answers:
                _remove(stubs)

    def _limit_after(self, error):
        """The limit that stopped the kernel, if one did: a kernel that timed out
        may be in the middle of being killed, so its watchdog gets a moment."""
        watching = getattr(self.km, "limits", None)  # unsandboxed: no watchdog
        if watching is None:
            return None
        if isinstance(error, CellTimeoutError):
            deadline = time.monotonic() + 10 * watching.interval
            while watching.over is None and time.monotonic() < deadline:
                time.sleep(watching.interval / 2)
        return watching.over

    def _error(self, ename, message, limit=None):
        """An error output: `message` in English in its evalue (which the grade
        report and coursekit.grade read), in the notebook's language where the
        student reads it; `limit` is the (message, value) of a limit (sandbox.LIMITS)."""
        english = message.format(limit=limit and limit[0].format(value=limit[1]))
        with i18n.language(notebook_language(self.nb)):
            shown = i18n._(message).format(
                limit=limit and i18n._(limit[0]).format(value=limit[1]))
        return nbformat.v4.new_output("error", ename=ename, evalue=english,
                                      traceback=[f"{ename}: {shown}"])

    def _revive(self, index):
        """Restart a kernel that died in cell `index` and run the cells above again.

        So a cell that exits Python or crashes costs only its own marks.  The
        replayed cells' outputs are thrown away: the first run's stand.
        """
        self._deaths += 1
        if self._deaths > MAX_RESTARTS:
            raise DeadKernelError(f"the kernel died {self._deaths} times")
        self.log.warning("The kernel died in cell %d; restarting it", index)
        run_sync(self.km.restart_kernel)(now=True)
        run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
        for i, earlier in enumerate(self.nb.cells[:index]):
            if earlier.cell_type == "code":
                self.execute_cell(copy.deepcopy(earlier), i, store_history=False)


async def _ready(client, timeout):
    """Wait until the kernel answers kernel_info on its shell channel and IOPub
    carries a message about that request, as jupyter_client's wait_for_ready
    does, without its last step: waiting 0.2 s more for IOPub to fall silent.

    IOPub drops what is published before the subscription is connected, so
    without a message about this request the request is sent again.
    """
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"the kernel did not answer within {timeout} s")
        request = client.kernel_info()
        reply = await _reply_to(request, client.shell_channel, min(1.0, left))
        if reply is not None and await _reply_to(request, client.iopub_channel, min(0.5, left)):
            client._handle_kernel_info_reply(reply)
            return


async def _reply_to(request, channel, wait):
    """The first message on `channel` about `request` within `wait` seconds, or None."""
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = await channel.get_msg(timeout=left)
        except Empty:
            return None
        if message["parent_header"].get("msg_id") == request:
            return message
    return None


async def _stop(km, workdir, kc=None):
    try:
        if kc is not None:
            kc.stop_channels()
        if km.has_kernel:
            await km.shutdown_kernel(now=True)
    finally:
        await km.cleanup_resources()
        shutil.rmtree(workdir, ignore_errors=True)


def _stop_spare():
    """Stop the kernel started ahead when this process exits (see multiprocessing.util)."""
    global _spare
    if _spare is not None:
        _, km, kc, workdir = _spare
        _spare = None
        run_sync(_stop)(km, workdir, kc)


multiprocessing.util.Finalize(None, _stop_spare, exitpriority=10)


def remove_links(folder):
    """Delete symbolic links and special files the kernel left in its folder.

    nbgrader writes the graded notebook back into this folder after the kernel
    has stopped: a link left in its place would redirect that write.
    """
    for parent, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(parent, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                _remove(path)


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
