"""Kernels for batch notebooks: started over IPC, watched, and killed on time.

Every notebook of a batch gets a fresh kernel (no state leaks between stages). Two things
must be able to stop it from outside the thread that runs papermill:

- its deadline (``--timeout``): a hung notebook is killed, not waited for;
- the run being cancelled (Ctrl-C, SIGTERM, or the Dask client going away).

A :class:`Watch` is registered for each notebook in this process's :data:`WATCHER`; the kernel
manager class made by :func:`kernel_manager_class` records the kernel's process id on it as
soon as the process exists, and one watcher thread kills the process group of any kernel
whose watch expired or whose run was cancelled. nbclient then raises ``DeadKernelError`` in
the executing thread, which turns it into an ``erro`` result (timeout) or a clean stop
(cancel).

Kernels use the ``ipc`` transport (Unix sockets in the Jupyter runtime folder, mode 0700)
where available: no TCP port is picked and raced for by parallel kernels, nothing listens on
the network, and ipykernel does not print "Kernel is running over TCP without encryption" for
every notebook.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir

IPC = os.name == "posix"
# Unix socket paths are limited to 107 bytes; the longest socket is "<file>-ipc-<n>".
_SOCKET_PATH_MAX = 100


@dataclass(eq=False)
class Watch:
    """One executing notebook: its run, its deadline and (once started) its kernel pid."""

    run_key: str
    deadline: float | None = None  # time.monotonic() value
    pid: int | None = None
    reason: str | None = None  # "timeout" or "cancel" once the watcher killed it
    killed: threading.Event = field(default_factory=threading.Event)
    abandoned: Callable[[], bool] | None = None
    """Checked about once a second: True when nobody waits for this notebook any more (the
    Dask client that submitted it went away)."""


class Watcher:
    """Kills the kernels of expired or cancelled notebooks (one thread per process)."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self._lock = threading.Lock()
        self._watches: set[Watch] = set()
        self._cancelled: set[str] = set()
        self._thread: threading.Thread | None = None

    # -- registration ---------------------------------------------------------------------
    def watch(self, run_key: str, timeout: float | None,
              abandoned: Callable[[], bool] | None = None) -> Watch:
        w = Watch(run_key, time.monotonic() + timeout if timeout else None,
                  abandoned=abandoned)
        with self._lock:
            self._watches.add(w)
            if run_key in self._cancelled:
                w.reason = "cancel"
            self._ensure_thread()
        return w

    def attach(self, w: Watch, pid: int) -> None:
        """Record the kernel process of ``w``; kill it at once if ``w`` is already over."""
        with self._lock:
            w.pid = pid
            over = w.reason is not None
        if over:
            self._kill(w)

    def release(self, w: Watch) -> None:
        with self._lock:
            self._watches.discard(w)

    # -- cancellation ---------------------------------------------------------------------
    def cancel(self, run_key: str) -> int:
        """Stop every notebook of ``run_key`` now and refuse new ones; returns how many
        kernels were killed."""
        with self._lock:
            self._cancelled.add(run_key)
            hit = [w for w in self._watches if w.run_key == run_key]
            for w in hit:
                w.reason = w.reason or "cancel"
        return sum(self._kill(w) for w in hit)

    def cancelled(self, run_key: str) -> bool:
        with self._lock:
            return run_key in self._cancelled

    def forget(self, run_key: str) -> None:
        with self._lock:
            self._cancelled.discard(run_key)

    # -- the thread -----------------------------------------------------------------------
    def _ensure_thread(self) -> None:  # called with the lock held
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="esus-kernel-watcher",
                                            daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        ticks = 0
        while True:
            time.sleep(self.interval)
            ticks += 1
            now = time.monotonic()
            with self._lock:
                watches = list(self._watches)
                if not watches:  # idle: the next watch() starts a new thread
                    self._thread = None
                    return
            if ticks % 5 == 0:  # about once a second
                for w in watches:
                    if w.reason is None and w.abandoned is not None and _safe(w.abandoned):
                        w.reason = "cancel"
            with self._lock:
                due = []
                for w in self._watches:
                    if w.reason is None and w.deadline is not None and now >= w.deadline:
                        w.reason = "timeout"
                    if w.reason is not None and w.pid is not None and not w.killed.is_set():
                        due.append(w)
            for w in due:
                self._kill(w)

    @staticmethod
    def _kill(w: Watch) -> bool:
        if w.pid is None or w.killed.is_set():
            return False
        w.killed.set()
        return kill_tree(w.pid)


def _safe(check: Callable[[], bool]) -> bool:
    """``check()``, False if it raises (a probe of someone else's state)."""
    try:
        return bool(check())
    except Exception:
        return False


def kill_tree(pid: int) -> bool:
    """SIGKILL a kernel and everything it started. Kernels are launched as session leaders
    (jupyter_client ``start_new_session``), so their process group is their pid."""
    try:
        if hasattr(os, "killpg"):
            try:
                os.killpg(pid, signal.SIGKILL)
                return True
            except PermissionError:
                pass
        proc = psutil.Process(pid)
        for child in proc.children(recursive=True):
            child.kill()
        proc.kill()
        return True
    except (ProcessLookupError, OSError):
        return False
    except psutil.ZombieProcess:  # (a NoSuchProcess) exited, not reaped: not killed here
        return False
    except psutil.NoSuchProcess:  # gone between the look-up and the kill
        return True
    except Exception:  # access denied, …: not killed
        return False


WATCHER = Watcher()


def use_ipc(km) -> None:
    """Make a fresh kernel manager start its kernel over Unix sockets (see the module
    docstring) when the platform and the runtime folder's path length allow it."""
    if not IPC:
        return
    runtime = jupyter_runtime_dir()
    path = os.path.join(runtime, f"esus-{secrets.token_hex(6)}.json")
    if len(path) + 12 <= _SOCKET_PATH_MAX:
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        km.connection_file = path
        km.transport = "ipc"
        km.ip = path[:-5] + "-ipc"


def kernel_manager_class(w: Watch):
    """An ``AsyncKernelManager`` subclass bound to ``w`` (nbclient instantiates the class it
    is given, so the binding travels in the class)."""
    class RunbookKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            use_ipc(self)

        async def _async_post_start_kernel(self, **kw):
            pid = getattr(self.provisioner, "pid", None)
            if pid is not None:
                WATCHER.attach(w, pid)
            await super()._async_post_start_kernel(**kw)

    return RunbookKernelManager
