"""One warm kernel per site: the seven notebooks of a site run in sequence in one kernel.

Starting a kernel (a new Python process importing IPython, ipykernel, pandas and the
package) costs more than most stage notebooks; paying it once per site instead of once per
notebook is the batch's main throughput lever (see ``docs/batch-kernels.md``).

- :class:`SiteKernel`: one started kernel (IPC transport, in-memory history), warmed by
  ``esus_runbook.batch.warmup`` at start, used for the notebooks of ONE site, then killed.
  On POSIX it is not a new interpreter but a fork of the pool's kernel zygote, a
  pre-warmed kernel process (:mod:`esus_runbook.batch.zygote`: its client side launches
  the kernel through jupyter_client's provisioner, its server side forks it).
- :class:`KernelPool`: kernels started ahead, so the next site's kernel boots while the
  current site runs, and the zygote they are forked from. Per process and per run
  (``run_key``): the local executor opens it with ``--paralelos`` spares; a Dask worker's
  pool keeps none (kernels start on demand) and ends its idle zygote.
- :class:`SiteKernels`: what a site holds: its current kernel, taken from the pool on the
  first notebook that actually runs (a resumed site with nothing to run starts none), and
  replaced by a fresh one after a kernel died (crash, ``--timeout`` kill).
- ``SiteEngine`` (in :mod:`.execution`): a papermill engine that executes a notebook in
  the site's kernel. papermill still injects the parameters, records its metadata and
  writes the output, so an executed notebook is the same document as with a kernel of its own; before the first
  cell, ``warmup.fresh_start`` gives it a clean namespace and the site's working folder.

Timeouts and cancellation go through the same :data:`~.kernels.WATCHER` as the
per-notebook engine: each notebook's :class:`~.kernels.Watch` is attached to the site
kernel's process, so a deadline or a Ctrl-C kills that kernel (the stage becomes ``erro``
and the next stage gets a fresh kernel). Every pooled kernel also holds a watch without
deadline for the whole run, so cancelling the run kills idle kernels too.
"""

from __future__ import annotations

import os
import queue
import threading
import time
import uuid
from collections import deque

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from .kernels import WATCHER, kill_tree, use_ipc
from .zygote.client import ForkedProvisioner, Zygotes

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


class SiteKernel:
    """A started kernel for one site's notebooks (the client is made by the thread that
    runs the site: nbclient's asyncio sockets belong to that thread's event loop).
    With ``zygotes``, forked from the pool's zygote; else a new interpreter."""

    def __init__(self, kernel_name: str, run_key: str, cwd: str,
                 zygotes: Zygotes | None = None):
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

    def draw_charts(self, result_path) -> None:
        """Draw the stage's charts in the site kernel, if it is still there; what it could
        not draw (it died, it ran out of time) the site report draws."""
        if self.kernel is not None:
            self.kernel.run_silently(DRAW_CHARTS.format(path=str(result_path)), CHARTS_TIMEOUT)

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
