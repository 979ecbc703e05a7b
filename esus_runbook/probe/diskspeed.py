"""Sequential disk write and read speed on a bounded temporary file.

Write: ``size_mb`` of incompressible data in 1 MiB blocks, then ``fsync``; the time includes
the fsync, so the figure is what reached the disk, not the page cache.

Read: the written pages are dropped from the page cache first (``posix_fadvise(DONTNEED)``
after the fsync, Linux), then the file is read with ``O_DIRECT`` (bypasses the cache) when the
file system accepts it, else with ordinary reads of the now uncached file. Where neither is
available (Windows) the read may come from the cache: ``read_method`` says so and the stage
does not take that figure as evidence.

The temporary file (``.esus-runbook-velocidade-*``) is removed in every case: normal end,
error, Ctrl-C (SIGINT), SIGTERM and SIGHUP (a dropped SSH session). Only SIGKILL can leave it
behind, and its name says what it is.
"""

from __future__ import annotations

import mmap
import os
import secrets
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from typing import Any

BLOCK = 1 << 20  # 1 MiB, a multiple of every O_DIRECT alignment
PREFIX = ".esus-runbook-velocidade-"
MARGIN = 1 << 30  # never leave less than 1 GiB free on the measured disk
DEFAULT_MB = 256
MAX_MB = 16384


class Interrupted(KeyboardInterrupt):
    """SIGTERM/SIGHUP during the measurement (handled like Ctrl-C)."""


@contextmanager
def _interruptible():
    """Turn SIGTERM and SIGHUP into an exception while measuring, so ``finally`` runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted(f"sinal {signum}")

    old = {}
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            try:
                old[sig] = signal.signal(sig, handler)
            except (OSError, ValueError):
                pass
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def _drop_cache(fd: int) -> bool:
    fadvise = getattr(os, "posix_fadvise", None)
    if fadvise is None:
        return False
    try:
        fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return True
    except OSError:
        return False


def _read_direct(path: str, size: int) -> int | None:
    """Bytes read with O_DIRECT, or None when the file system refuses it."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | flag)
    except OSError:
        return None
    buf = mmap.mmap(-1, BLOCK)  # page-aligned, as O_DIRECT requires
    total = 0
    try:
        while total < size:
            n = os.readv(fd, [buf])
            if n <= 0:
                break
            total += n
    except OSError:
        return None if total == 0 else total
    finally:
        os.close(fd)
        buf.close()
    return total


def _read_plain(path: str) -> int:
    total = 0
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(BLOCK)
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            total += n
    return total


def measure(directory: str, size_mb: int = DEFAULT_MB) -> dict[str, Any]:
    """Measure sequential write (with fsync) and read speed in ``directory``.

    Returns ``{"path", "size_mb", "write_mb_s", "read_mb_s", "read_method", "seconds"}``;
    raises OSError when the folder is not writable or lacks space (the caller records the
    part as not measured).
    """
    size_mb = max(16, min(int(size_mb), MAX_MB))
    size = size_mb * BLOCK
    free = shutil.disk_usage(directory).free
    if free < size + MARGIN:
        raise OSError(f"espaço livre insuficiente em {directory} para medir "
                      f"({free // BLOCK} MB livres; precisa de {size_mb} MB + 1 GB de margem)")
    block = os.urandom(BLOCK)  # incompressible: compressing file systems cannot cheat
    started = time.perf_counter()
    path = None
    with _interruptible():
        try:
            # name first, then create: an interrupt at any point leaves a known path to remove
            path = os.path.join(directory, f"{PREFIX}{secrets.token_hex(8)}.tmp")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o600)
            try:
                t0 = time.perf_counter()
                written = 0
                while written < size:
                    written += os.write(fd, block)
                os.fsync(fd)
                write_s = time.perf_counter() - t0
                dropped = _drop_cache(fd)
            finally:
                os.close(fd)
            t0 = time.perf_counter()
            got = _read_direct(path, size)
            if got is not None and got >= size:
                method = "O_DIRECT"
            else:
                got = _read_plain(path)
                method = "posix_fadvise(DONTNEED)" if dropped else "cache"
            read_s = time.perf_counter() - t0
        finally:
            if path is not None:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
    return {"path": directory, "size_mb": size_mb,
            "write_mb_s": round(size / BLOCK / max(write_s, 1e-6), 1),
            "read_mb_s": round(got / BLOCK / max(read_s, 1e-6), 1),
            "read_method": method, "seconds": round(time.perf_counter() - started, 2)}
