"""The batch process's side of the kernel zygote (see :mod:`esus_runbook.batch.zygote` for
what the zygote is and the protocol): start the server, ask it for kernels, watch them.

- :class:`Zygote`: one server process (:mod:`.server`), started with the interpreter and
  environment of the first kernel asked of it; :meth:`Zygote.fork` writes a request on its
  stdin and reads the new kernel's pid on the reply pipe.
- :class:`ForkedProcess`: what jupyter_client uses of a ``Popen``, for a kernel that is the
  zygote's child, not ours (watched through psutil).
- :class:`Zygotes`: the zygote of one kernel pool, started when first needed; after it
  failed to start, kernels are started as new interpreters.
- :class:`ForkedProvisioner`: jupyter_client's local provisioner launching the kernel by a
  fork of the pool's zygote.

The zygote holds a watch without deadline for the run (:data:`~..kernels.WATCHER`):
cancelling the run kills it too, even while it loads.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import threading
import time

import psutil
from jupyter_client.provisioning import LocalProvisioner

from ..kernels import WATCHER, kill_tree

SERVER_MODULE = "esus_runbook.batch.zygote.server"
"""Run with ``-m``, as ``ipykernel_launcher`` is (same ``sys.path``)."""
LAUNCHER = ("-m", "ipykernel_launcher")
READY = "pronto"
START_TIMEOUT = 120.0
FORK_TIMEOUT = 30.0

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
    """The zygote process of one kernel pool (:mod:`.server`): started on the first kernel
    asked of it, with that kernel's interpreter and environment; forks the next ones."""

    def __init__(self, prefix: list[str], env: dict[str, str], cwd: str, run_key: str):
        read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [*prefix, "-m", SERVER_MODULE, str(write_fd), READY], stdin=subprocess.PIPE,
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
            line = self._line(START_TIMEOUT)
        except ZygoteError:
            self.close()
            raise
        if line != READY:
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
        self.pid = self.pgid = self.process.pid  # a session leader (see server._child)
        self.cwd = cwd
        return self.connection_info
