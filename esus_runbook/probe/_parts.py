"""Run the probe's parts so that one slow or broken part never stops the others.

Every part is a function returning a JSON-able value. A part that raises, or that has not
finished when the deadline passes, is recorded in ``errors`` and its value stays unknown
(``None``): the probe never crashes and never waits past its budget. Parts run on daemon
threads, so a subprocess or a file system that hangs cannot keep the process alive either.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any


def describe(exc: BaseException) -> str:
    """A short, one-line description of an exception for the probe's ``errors``."""
    text = " ".join(str(exc).split())
    return f"{exc.__class__.__name__}: {text}"[:300] if text else exc.__class__.__name__


def guarded(fn: Callable[[], Any], errors: dict[str, str], name: str) -> Any:
    """``fn()``, or None with the error recorded under ``name``."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - an unmeasurable part is unknown, not a crash
        errors[name] = describe(exc)
        return None


def run_parallel(parts: Mapping[str, Callable[[], Any]], deadline_s: float,
                 errors: dict[str, str]) -> dict[str, Any]:
    """Run every part on its own daemon thread and wait at most ``deadline_s`` in total."""
    results: dict[str, Any] = {}
    lock = threading.Lock()

    def work(name: str, fn: Callable[[], Any]) -> None:
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001
            with lock:
                errors[name] = describe(exc)
            return
        with lock:
            results[name] = value

    threads = {name: threading.Thread(target=work, args=(name, fn), daemon=True,
                                      name=f"probe-{name}")
               for name, fn in parts.items()}
    for t in threads.values():
        t.start()
    end = time.monotonic() + deadline_s
    for name, t in threads.items():
        t.join(max(0.0, end - time.monotonic()))
        if t.is_alive():
            with lock:
                errors[name] = f"tempo esgotado ({deadline_s:.1f} s)"
    with lock:
        return {name: results.get(name) for name in parts}


def run_command(args: list[str], timeout: float = 1.5) -> str:
    """stdout+stderr of a short command (never through a shell); raises on failure."""
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, errors="replace")
    return (proc.stdout or "") + (proc.stderr or "")
