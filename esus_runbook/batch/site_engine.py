"""One warm kernel per site: the seven notebooks of a site run in sequence in one kernel.

Starting a kernel (a new Python process importing IPython, ipykernel, pandas and the
package) costs more than most stage notebooks; paying it once per site instead of once per
notebook is the batch's main throughput lever (see ``docs/batch-kernels.md``).

- :class:`SiteKernel`: one started kernel (IPC transport, in-memory history), warmed by
  ``esus_runbook.batch.warmup`` at start, used for the notebooks of ONE site, then killed.
- :class:`KernelPool`: kernels started ahead, so the next site's kernel boots while the
  current site runs. Per process and per run (``run_key``): the local executor opens it with
  ``--paralelos`` spares; a Dask worker's pool keeps none (kernels start on demand).
- :class:`SiteKernels`: what a site holds: its current kernel, taken from the pool on the
  first notebook that actually runs (a resumed site with nothing to run starts none), and
  replaced by a fresh one after a kernel died (crash, ``--timeout`` kill).
- ``SiteEngine`` (in :mod:`.execution`): a papermill engine that executes a notebook in
  the site's kernel. papermill still injects the parameters, records its metadata and writes the output, so an
  executed notebook is the same document as with a kernel of its own; before the first
  cell, ``warmup.fresh_start`` gives it a clean namespace and the site's working folder.

Timeouts and cancellation go through the same :data:`~.kernels.WATCHER` as the
per-notebook engine: each notebook's :class:`~.kernels.Watch` is attached to the site
kernel's process, so a deadline or a Ctrl-C kills that kernel (the stage becomes ``erro``
and the next stage gets a fresh kernel). Every pooled kernel also holds a watch without
deadline for the whole run, so cancelling the run kills idle kernels too.
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import threading
import time
import uuid
from collections import deque

import psutil
from jupyter_client.provisioning import LocalProvisioner
from jupyter_core.utils import run_sync

from .kernels import WATCHER, kill_tree, use_ipc

# Lazy imports: jupyter_client's async manager (0.2 s) only when a kernel is started.

KERNEL_ARGS = ("--HistoryManager.hist_file=:memory:",  # as nbclient does: no sqlite file
               # warm up (a no-op in a forked kernel) and record the state fresh_start restores
               "--IPKernelApp.exec_lines=__import__('esus_runbook.batch.warmup', "
               "fromlist=['remember_start_state']).remember_start_state()")
FRESH_START = ("__import__('esus_runbook.batch.warmup', fromlist=['fresh_start'])"
               ".fresh_start({cwd!r})")
DRAW_CHARTS = ("__import__('esus_runbook.batch.warmup', fromlist=['draw_charts'])"
               ".draw_charts({path!r})")
CHARTS_TIMEOUT = 120.0
SPARE_IDLE_SECONDS = 120.0
"""A pre-started kernel nobody took for this long is shut down (Dask workers, whose pool
does not know how many sites are still coming)."""


ZYGOTE_START_TIMEOUT = 120.0
FORK_TIMEOUT = 30.0
LAUNCHER = ("-m", "ipykernel_launcher")
ZYGOTE = "esus_runbook.batch.zygote"  # run with -m, as ipykernel_launcher is (same sys.path)
ZYGOTE_READY = "pronto"


class ZygoteError(RuntimeError):
    """The zygote could not be started or did not fork a kernel."""


class ForkedProcess:
    """What jupyter_client and :class:`SiteKernel` use of a ``Popen``, for a kernel forked
    by the zygote (the zygote's child, not ours: watched through psutil)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self._proc = psutil.Process(pid)

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                gone = not self._proc.is_running() or \
                    self._proc.status() == psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                gone = True
            if gone:  # the exit status went to the zygote, which reaped it
                self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class Zygote:
    """The zygote process of one kernel pool (:mod:`.zygote`): started on the first kernel
    asked of it, with that kernel's interpreter and environment; forks the next ones."""

    def __init__(self, prefix: list[str], env: dict[str, str], cwd: str, run_key: str):
        read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [*prefix, "-m", ZYGOTE, str(write_fd), ZYGOTE_READY], stdin=subprocess.PIPE,
                pass_fds=(write_fd,), env=env, cwd=cwd, start_new_session=True)
        except OSError:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        # cancelling the run kills it too (while it loads, a site may be waiting for it)
        self.life = WATCHER.watch(run_key, None)
        WATCHER.attach(self.life, self.proc.pid)
        self._replies = os.fdopen(read_fd, "rb", buffering=0)
        self._buffer = b""
        self.kernels: list[ForkedProcess] = []
        self.lock = threading.Lock()
        try:
            line = self._line(ZYGOTE_START_TIMEOUT)
        except ZygoteError:
            self.close()
            raise
        if line != ZYGOTE_READY:
            self.close()
            raise ZygoteError(f"resposta inesperada do zigoto: {line[:200]}")

    def _line(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            poller = select.poll()  # not select.select: no limit on the descriptor number
            poller.register(self._replies, select.POLLIN)
            if left <= 0 or not poller.poll(left * 1000):
                raise ZygoteError("o zigoto não respondeu a tempo")
            chunk = self._replies.read(4096)
            if not chunk:
                raise ZygoteError("o zigoto terminou")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode("utf-8", "replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self, argv: list[str], env: dict[str, str], cwd: str) -> ForkedProcess:
        """A new kernel: ``argv`` is what follows ``-m ipykernel_launcher``."""
        request = json.dumps({"argv": argv, "env": env, "cwd": cwd}) + "\n"
        with self.lock:
            if not self.alive():
                raise ZygoteError("o zigoto terminou")
            try:
                self.proc.stdin.write(request.encode())
                self.proc.stdin.flush()
            except OSError as exc:
                raise ZygoteError(f"o zigoto não recebeu o pedido: {exc}") from None
            line = self._line(FORK_TIMEOUT)
        if not line.isdigit():
            raise ZygoteError(f"o zigoto não criou o kernel: {line[1:200]}")
        try:
            kernel = ForkedProcess(int(line))
        except psutil.NoSuchProcess:
            raise ZygoteError("o kernel criado pelo zigoto terminou ao iniciar") from None
        with self.lock:
            self.kernels = [k for k in self.kernels if k.poll() is None] + [kernel]
        return kernel

    def busy(self) -> bool:
        """Whether a kernel it forked still runs (they end when the zygote ends)."""
        with self.lock:
            return any(k.poll() is None for k in self.kernels)

    def close(self) -> None:
        """End the zygote (its kernels are killed by whoever holds them)."""
        WATCHER.release(self.life)
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        kill_tree(self.proc.pid)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._replies.close()


class Zygotes:
    """The zygote of a pool, started when first needed; after it failed to start, kernels
    are started the ordinary way (a fresh interpreter each)."""

    def __init__(self, cwd: str, run_key: str):
        self.cwd, self.run_key = cwd, run_key
        self.current: Zygote | None = None
        self.broken = False
        self._lock = threading.Lock()

    def get(self, prefix: list[str], env: dict[str, str]) -> Zygote | None:
        """The running zygote (None: start kernels the ordinary way). Raises
        :class:`ZygoteError` when the run was cancelled."""
        with self._lock:
            if self.current is not None and not self.current.alive():
                self.current.close()
                self.current = None
            if self.current is None and not self.broken:
                try:
                    self.current = Zygote(prefix, env, self.cwd, self.run_key)
                except (ZygoteError, OSError):
                    self.broken = not WATCHER.cancelled(self.run_key)
            if WATCHER.cancelled(self.run_key):
                raise ZygoteError("execução interrompida")
            return self.current

    def close(self) -> None:
        with self._lock:
            if self.current is not None:
                self.current.close()
                self.current = None

    def close_if_idle(self) -> bool:
        """End the zygote unless a kernel it forked still runs (True: nothing left)."""
        with self._lock:
            if self.current is not None and self.current.busy():
                return False
        self.close()
        return True


def split_launcher(cmd: list[str]) -> tuple[list[str], list[str]] | None:
    """``(interpreter and its flags, ipykernel's arguments)`` of an ipykernel command line
    (``[python, ..., -m, ipykernel_launcher, -f, FILE, ...]``); None for another kernel."""
    for i in range(1, len(cmd) - 1):
        if tuple(cmd[i:i + 2]) == LAUNCHER:
            return list(cmd[:i]), list(cmd[i + 2:])
    return None


class ForkedProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, launching the kernel by a fork of the pool's
    zygote instead of a new interpreter (falls back to a new interpreter for a kernel that
    is not ipykernel, or when the zygote cannot be had)."""

    zygotes: Zygotes | None = None
    forked = False

    async def launch_kernel(self, cmd: list[str], **kwargs):
        split = split_launcher(cmd)
        env = kwargs.get("env") or dict(os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        if split and self.zygotes:
            zyg = self.zygotes.get(split[0], env)  # raises if the run was cancelled
            if zyg is not None:
                try:
                    self.process = zyg.fork(split[1], env, cwd)
                except ZygoteError:
                    self.process = None
            if self.process is None and WATCHER.cancelled(self.zygotes.run_key):
                raise ZygoteError("execução interrompida")
        if self.process is None:
            return await super().launch_kernel(cmd, **kwargs)
        self.forked = True
        self.pid = self.pgid = self.process.pid  # a session leader (see zygote._child)
        self.cwd = cwd
        return self.connection_info


class SiteKernel:
    """A started kernel for one site's notebooks (the client is made by the thread that
    runs the site: nbclient's asyncio sockets belong to that thread's event loop).
    With ``zygotes``, forked from the pool's zygote; else a new interpreter."""

    def __init__(self, kernel_name: str, run_key: str, cwd: str,
                 zygotes: Zygotes | None = None):
        from jupyter_client.manager import AsyncKernelManager

        self.km = AsyncKernelManager(kernel_name=kernel_name)
        use_ipc(self.km)
        if zygotes is not None and os.name == "posix":
            self.km.kernel_id = str(uuid.uuid4())
            self.km.provisioner = ForkedProvisioner(
                kernel_id=self.km.kernel_id, kernel_spec=self.km.kernel_spec, parent=self.km)
            self.km.provisioner.zygotes = zygotes
        run_sync(self.km.start_kernel)(extra_arguments=list(KERNEL_ARGS), cwd=cwd)
        self.pid: int = self.km.provisioner.pid
        self.kc = None
        self.ready = False
        self.notebooks = 0
        self.life = WATCHER.watch(run_key, None)
        WATCHER.attach(self.life, self.pid)  # a cancelled run kills it, busy or idle

    def alive(self) -> bool:
        process = getattr(self.km.provisioner, "process", None)
        return process is not None and process.poll() is None

    def client(self, timeout: float):
        """The kernel client, started and answering (raises if the kernel does not)."""
        if self.kc is None:
            self.kc = self.km.client()
            self.kc.start_channels()
            self.kc.allow_stdin = False
        if not self.ready:
            run_sync(self.kc.wait_for_ready)(timeout=timeout)
            self.ready = True
        return self.kc

    def run_silently(self, code: str, timeout: float) -> bool:
        """Execute ``code`` without a cell (no output, no counter); True when it ran to the
        end without error within ``timeout`` seconds."""
        if self.kc is None or not self.alive():
            return False
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)

        deadline = time.monotonic() + timeout

        async def reply():
            while True:
                try:
                    msg = await self.kc.get_shell_msg(timeout=0.5)
                except queue.Empty:
                    # killed (run cancelled, Ctrl-C) or stuck: stop waiting
                    if not self.alive() or time.monotonic() > deadline:
                        raise
                    continue
                if msg["parent_header"].get("msg_id") == msg_id:
                    return msg

        try:
            return run_sync(reply)()["content"]["status"] == "ok"
        except Exception:  # no answer in time (queue.Empty), dead kernel, …
            return False

    def close(self) -> None:
        """Kill the kernel (and what it started) and remove its sockets and files."""
        WATCHER.release(self.life)
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:
                pass
            self.kc = None
        kill_tree(self.pid)
        process = getattr(self.km.provisioner, "process", None)
        try:
            if process is not None:
                process.wait(timeout=10)
            run_sync(self.km.cleanup_resources)()
        except Exception:
            pass


class KernelPool:
    """Kernels started ahead for the sites of one run in this process.

    ``spare``: how many started kernels to keep waiting; ``budget``: how many sites will
    still ask for one (None: unknown, as on a Dask worker — then idle spares are shut down
    after :data:`SPARE_IDLE_SECONDS`)."""

    def __init__(self, kernel_name: str, run_key: str, cwd: str, spare: int = 1,
                 budget: int | None = None, fork: bool = True):
        self.kernel_name, self.run_key, self.cwd = kernel_name, run_key, cwd
        self.spare = max(0, int(spare))
        self.budget = budget
        self.zygotes = Zygotes(cwd, run_key) if fork and os.name == "posix" else None
        self._idle: threading.Timer | None = None
        self._ready: deque[SiteKernel] = deque()
        self._lock = threading.Lock()
        self._refilling = threading.Lock()
        self._closed = False
        self.started = 0

    def acquire(self, first: bool = True) -> SiteKernel:
        """A kernel for a site: a pre-started one when there is one, else started now.
        ``first``: the site's first kernel (counts against the budget), not a replacement
        after a kernel died. Then start the spares the next sites will take."""
        kernel = None
        with self._lock:
            if first and self.budget is not None:
                self.budget = max(0, self.budget - 1)
            while self._ready and kernel is None:
                candidate = self._ready.popleft()
                if candidate.alive():
                    kernel = candidate
                else:
                    candidate.close()
        if kernel is None:
            kernel = self._start()
        self.refill()
        if self.budget is None and self.zygotes is not None:
            self._idle_zygote_timer()
        return kernel

    def _idle_zygote_timer(self) -> None:
        """On a Dask worker (no budget) the zygote is ended once no kernel it forked runs
        and no kernel was asked of the pool for :data:`SPARE_IDLE_SECONDS` (restarted if
        one is). Not earlier: a kernel ends with its zygote."""
        with self._lock:
            if self._idle is not None:
                self._idle.cancel()
            if self._closed:
                return
            self._idle = threading.Timer(SPARE_IDLE_SECONDS, self._zygote_idle)
            self._idle.daemon = True
            self._idle.start()

    def _zygote_idle(self) -> None:
        if not self.zygotes.close_if_idle():
            self._idle_zygote_timer()

    def refill(self) -> None:
        """Start spares until ``spare`` wait (one thread at a time: no overshoot)."""
        if not self._refilling.acquire(blocking=False):
            return  # another site's thread is starting them
        try:
            while True:
                with self._lock:
                    want = self.spare if self.budget is None else min(self.spare, self.budget)
                    if self._closed or len(self._ready) >= want or \
                            WATCHER.cancelled(self.run_key):
                        return
                kernel = self._start()
                with self._lock:
                    if self._closed:
                        kernel.close()
                        return
                    self._ready.append(kernel)
                if self.budget is None:
                    timer = threading.Timer(SPARE_IDLE_SECONDS, self._expire, (kernel,))
                    timer.daemon = True
                    timer.start()
        finally:
            self._refilling.release()

    def _start(self) -> SiteKernel:
        kernel = SiteKernel(self.kernel_name, self.run_key, self.cwd, self.zygotes)
        with self._lock:
            self.started += 1
        return kernel

    def _expire(self, kernel: SiteKernel) -> None:
        with self._lock:
            if kernel not in self._ready:
                return
            self._ready.remove(kernel)
        kernel.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            left = list(self._ready)
            self._ready.clear()
            if self._idle is not None:
                self._idle.cancel()
        for kernel in left:
            kernel.close()
        if self.zygotes is not None:
            self.zygotes.close()


_POOLS: dict[str, KernelPool] = {}
_POOLS_LOCK = threading.Lock()


def open_pool(kernel_name: str, run_key: str, cwd: str, spare: int = 1,
              budget: int | None = None) -> KernelPool:
    """The pool of ``run_key`` in this process (created with these settings if new)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(run_key)
        if pool is None:
            pool = _POOLS[run_key] = KernelPool(kernel_name, run_key, cwd, spare, budget)
        return pool


def close_pool(run_key: str) -> None:
    with _POOLS_LOCK:
        pool = _POOLS.pop(run_key, None)
    if pool is not None:
        pool.close()


class SiteKernels:
    """The kernel of one site: taken from the pool when first needed, replaced after it
    died, killed when the site ends."""

    def __init__(self, pool: KernelPool):
        self.pool = pool
        self.kernel: SiteKernel | None = None
        self.taken = 0

    def current(self) -> SiteKernel:
        if self.kernel is not None and not self.kernel.alive():
            self.discard()
        if self.kernel is None:
            self.kernel = self.pool.acquire(first=self.taken == 0)
            self.taken += 1
        return self.kernel

    def draw_charts(self, result_path) -> bool:
        """Draw the stage's charts in the site kernel (False: not done, the caller draws)."""
        if self.kernel is None:
            return False
        return self.kernel.run_silently(DRAW_CHARTS.format(path=str(result_path)),
                                        CHARTS_TIMEOUT)

    def discard(self) -> None:
        if self.kernel is not None:
            self.kernel.close()
            self.kernel = None

    close = discard


class NamespaceResetError(RuntimeError):
    """The site kernel could not give the next notebook a clean start."""


def fresh_namespace(client, cwd: str) -> None:
    """Run :func:`warmup.fresh_start` silently in the kernel (no cell, no counter)."""
    msg_id = client.kc.execute(FRESH_START.format(cwd=cwd), silent=True, store_history=False,
                               allow_stdin=False)
    reply = client.wait_for_reply(msg_id)
    content = (reply or {}).get("content", {})
    if content.get("status") != "ok":
        raise NamespaceResetError(f"o kernel do site não limpou o espaço de nomes: "
                           f"{content.get('ename', '?')}: {content.get('evalue', '')}")
