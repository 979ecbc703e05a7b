"""Execute one notebook with papermill: fresh watched kernel, deadline, atomic output."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..ids import scrub
from .kernels import WATCHER, kernel_manager_class


@dataclass
class Execution:
    """How one notebook execution ended."""

    seconds: float
    error: str | None = None  # pt-BR, one line, CPF/CNS masked; None when it ran to the end
    timed_out: bool = False
    interrupted: bool = False  # the run was cancelled: no output kept


def import_papermill():
    """papermill, imported without ``rfc3987_syntax``: jsonschema (through nbformat) imports
    it when installed (jupyter-events requires it) and it compiles a grammar at import —
    over 2 s of CPU per process, for the ``iri`` format that no notebook schema uses."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import papermill

    return papermill


def partial_path(out_path: Path) -> Path:
    """Where papermill writes while a notebook runs (renamed to ``out_path`` at the end)."""
    return out_path.with_name(f".{out_path.stem}.partial.ipynb")


def error_message(exc: BaseException) -> str:
    """A one-line pt-BR description of why a notebook did not run to the end."""
    ename = getattr(exc, "ename", None)
    name = exc.__class__.__name__
    if ename:  # PapermillExecutionError: the notebook's own exception
        text = f"{ename}: {getattr(exc, 'evalue', '')}"
    elif name == "DeadKernelError":
        text = "o kernel do notebook morreu durante a execução"
    elif name in ("TimeoutError", "RuntimeError") and "kernel" in str(exc).lower():
        text = f"o kernel não iniciou: {exc}"
    elif name == "NoSuchKernel":
        text = f"kernel Jupyter não registrado neste computador: {exc}"
    else:
        text = f"{name}: {exc}"
    return scrub(" ".join(text.split()))[:500]


def execute_notebook(notebook: Path, out_path: Path, parameters: dict[str, Any], *,
                     kernel_name: str, timeout: float | None, run_key: str,
                     cwd: Path, abandoned: Callable[[], bool] | None = None) -> Execution:
    """Run ``notebook`` into ``out_path``.

    papermill writes under a temporary name (see :func:`partial_path`) and the file is
    renamed when the notebook ends, so ``out_path`` is never half written. A notebook that
    raised or timed out keeps its executed copy (it shows where it stopped); one stopped
    because the run was cancelled leaves nothing. ``timeout`` covers the whole notebook,
    kernel start included.
    """
    pm = import_papermill()
    tmp = partial_path(out_path)
    t0 = time.perf_counter()
    watch = WATCHER.watch(run_key, timeout, abandoned)
    failure: BaseException | None = None
    try:
        if watch.reason == "cancel":
            return Execution(0.0, interrupted=True)
        pm.execute_notebook(
            str(notebook), str(tmp), parameters=parameters, kernel_name=kernel_name,
            progress_bar=False, log_output=False, start_timeout=120,
            # nbclient options: our watched kernel manager, the kernel's working folder,
            # and no graceful-shutdown wait once the last cell has answered
            kernel_manager_class=kernel_manager_class(watch),
            resources={"metadata": {"path": str(cwd)}}, shutdown_kernel="immediate")
    except Exception as exc:  # papermill, nbclient, jupyter_client: reported, not raised
        failure = exc
    finally:
        WATCHER.release(watch)
    seconds = time.perf_counter() - t0
    if failure is not None and watch.reason == "cancel":
        tmp.unlink(missing_ok=True)
        return Execution(seconds, interrupted=True)
    if tmp.exists():
        os.replace(tmp, out_path)
    if failure is None:
        return Execution(seconds)
    if watch.reason == "timeout":
        return Execution(seconds, f"tempo limite de {timeout:g} s excedido: o notebook foi "
                                  "interrompido e o kernel encerrado", timed_out=True)
    return Execution(seconds, error_message(failure))
