"""Execute one notebook with papermill: in the site's warm kernel (default) or in a fresh
kernel of its own (``--kernel-por-notebook``); watched deadline, atomic output."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import NoSuchKernel

from ..ids import scrub
from .kernels import WATCHER, kernel_manager_class
from .site_engine import SiteKernel, SiteKernels, fresh_namespace

# Lazy imports: papermill costs 2.8 s to import (measured: `python -c "import time; t =
# time.perf_counter(); import papermill; print(time.perf_counter() - t)"`), nbclient and
# nbformat 1.4 s on their own (jsonschema's rfc3987_syntax, see import_papermill); they load
# only when a notebook runs, papermill first.

SITE_ENGINE = "esus-runbook-site"
IOPUB_DEADLINE = 120  # s
"""How long, once a cell has replied, its outputs may take to be read (nbclient's
``iopub_timeout``). nbclient's default of 4 s, passed silently, dropped the rest of a cell's
outputs when they were many or the machine busy: 20,000 displays kept 17,802 (measured on
this project's 2-core machine, unloaded; loaded, reading them took over 120 s). Past this
deadline the notebook fails (``raise_on_iopub_timeout``): a report never shows a notebook
with outputs missing as if it were whole."""
_ENGINE_LOCK = threading.Lock()
_REGISTERED: list[str] = []


@dataclass
class Execution:
    """How one notebook execution ended."""

    seconds: float
    error: str | None = None  # pt-BR, one line, CPF/CNS masked; None when it ran to the end
    timed_out: bool = False
    interrupted: bool = False  # the run was cancelled: no output kept
    kernel_pid: int | None = None  # the kernel process that ran it (None: none started)


def import_papermill():
    """papermill, imported without ``rfc3987_syntax``: jsonschema (through nbformat) imports
    it when installed (jupyter-events requires it) and it compiles a grammar at import —
    over 2 s of CPU per process, for the ``iri`` format that no notebook schema uses."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import papermill

    return papermill


@dataclass
class SiteNotebook:
    """The engine arguments of one notebook run in a site kernel (``site=``), and what the
    engine leaves for :func:`execute_notebook`: papermill's execution manager, and whether the
    engine raised (then papermill wrote nothing and the notebook is written here)."""

    kernel: SiteKernel
    cwd: str
    manager: Any = None
    raised: bool = False


def register_site_engine() -> str:
    """Register the papermill engine that runs a notebook in a site's kernel (once per
    process) and return its name.

    Only papermill's engine extension point is used: a subclass of its nbclient engine,
    registered under :data:`SITE_ENGINE`, that overrides ``execute_managed_notebook`` (the
    method papermill documents for engines) to execute in the site kernel. papermill still
    parameterizes the notebook, records its metadata and writes the output."""
    import_papermill()
    with _ENGINE_LOCK:
        if _REGISTERED:
            return SITE_ENGINE
        from papermill.clientwrap import PapermillNotebookClient
        from papermill.engines import NBClientEngine, papermill_engines
        from papermill.log import logger

        class SiteEngine(NBClientEngine):
            """papermill's nbclient engine, with the kernel given as ``site``: before the
            first cell the namespace is reset (``warmup.fresh_start``); after the last, the
            kernel keeps running for the site's next notebook."""

            @classmethod
            def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                         stdout_file=None, stderr_file=None,
                                         start_timeout=60, execution_timeout=None,
                                         input_path=None, site: SiteNotebook | None = None,
                                         **kwargs):
                site.manager = nb_man
                try:
                    client = PapermillNotebookClient(
                        nb_man, km=site.kernel.km, timeout=execution_timeout,
                        startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                        log_output=log_output, stdout_file=stdout_file,
                        stderr_file=stderr_file, **kwargs)
                    client.kc = site.kernel.client(start_timeout)
                    fresh_namespace(client, site.cwd)
                    site.kernel.notebooks += 1
                    return client.execute()  # km given: nbclient neither starts nor stops it
                except BaseException:
                    site.raised = True
                    raise

        papermill_engines.register(SITE_ENGINE, SiteEngine)
        _REGISTERED.append(SITE_ENGINE)
    return SITE_ENGINE


def partial_path(out_path: Path) -> Path:
    """Where papermill writes while a notebook runs (renamed to ``out_path`` at the end)."""
    return out_path.with_name(f".{out_path.stem}.partial.ipynb")


def error_message(exc: BaseException) -> str:
    """A one-line pt-BR description of why a notebook did not run to the end."""
    # lazy: papermill and nbclient (2.8 s, see the module note) are loaded by
    # execute_notebook before any failure reaches here: a lookup
    from nbclient.exceptions import CellExecutionError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, (PapermillExecutionError, CellExecutionError)):
        text = f"{exc.ename}: {exc.evalue}"  # the notebook's own exception
    elif isinstance(exc, DeadKernelError):
        text = "o kernel do notebook morreu durante a execução"
    elif type(exc) in (TimeoutError, RuntimeError) and "kernel" in str(exc).lower():
        # jupyter_client's wait_for_ready: "Kernel didn't respond in N seconds", "Kernel
        # died before replying to kernel_info" (a subclass, such as our own errors, is not)
        text = f"o kernel não iniciou: {exc}"
    elif isinstance(exc, NoSuchKernel):
        text = f"kernel Jupyter não registrado neste computador: {exc}"
    else:
        text = f"{exc.__class__.__name__}: {exc}"
    return scrub(" ".join(text.split()))[:500]


def write_notebook(nb, path: Path) -> None:
    """Write ``nb`` as papermill writes a notebook (``nbformat.writes``, UTF-8)."""
    import nbformat  # lazy: loaded with papermill (see the module note), a lookup here

    path.write_text(nbformat.writes(nb), encoding="utf-8")


def execute_notebook(notebook: Path, out_path: Path, parameters: dict[str, Any], *,
                     kernel_name: str, timeout: float | None, run_key: str,
                     cwd: Path, abandoned: Callable[[], bool] | None = None,
                     kernels: SiteKernels | None = None) -> Execution:
    """Run ``notebook`` into ``out_path``, in the site's kernel when ``kernels`` is given,
    else in a fresh kernel of its own.

    papermill writes under a temporary name (see :func:`partial_path`) and the file is
    renamed when the notebook ends, so ``out_path`` is never half written. A notebook that
    raised or timed out keeps its executed copy (it shows where it stopped); one stopped
    because the run was cancelled leaves nothing. ``timeout`` covers the whole notebook,
    kernel start included (for a site kernel: waiting for it to answer).
    """
    pm = import_papermill()
    tmp = partial_path(out_path)
    t0 = time.perf_counter()
    watch = WATCHER.watch(run_key, timeout, abandoned)
    failure: BaseException | None = None
    pid = None
    site: SiteNotebook | None = None
    try:
        if watch.reason == "cancel":
            return Execution(0.0, interrupted=True)
        options = dict(parameters=parameters, kernel_name=kernel_name, progress_bar=False,
                       log_output=False, start_timeout=120, iopub_timeout=IOPUB_DEADLINE,
                       raise_on_iopub_timeout=True)
        if kernels is None:
            pm.execute_notebook(
                str(notebook), str(tmp), **options,
                # nbclient options: our watched kernel manager, the kernel's working folder,
                # and no graceful-shutdown wait once the last cell has answered
                kernel_manager_class=kernel_manager_class(watch),
                resources={"metadata": {"path": str(cwd)}}, shutdown_kernel="immediate")
        else:
            engine = register_site_engine()
            kernel = kernels.current()
            pid = kernel.pid
            WATCHER.attach(watch, pid)
            site = SiteNotebook(kernel, str(cwd))
            # papermill writes the notebook once, at the end (with the error marked when a
            # cell raised), instead of before and after every cell (each write serialises
            # and validates the whole notebook); when the engine raised (timeout, dead
            # kernel), it is written below with the cells that ran
            pm.execute_notebook(str(notebook), str(tmp), **options, engine_name=engine,
                                request_save_on_cell_execute=False, site=site)
    except Exception as exc:  # papermill, nbclient, jupyter_client: reported, not raised
        failure = exc
        if site is not None and site.raised and site.manager is not None and \
                watch.reason != "cancel":
            try:  # as papermill would have, once its bookkeeping closed
                write_notebook(site.manager.nb, tmp)
            except OSError as write_error:
                failure = write_error
    finally:
        WATCHER.release(watch)
        if kernels is not None and (failure is not None or watch.reason is not None):
            if kernels.kernel is not None and not kernels.kernel.alive():
                kernels.discard()  # died or killed: the next notebook gets a fresh kernel
    seconds = time.perf_counter() - t0
    pid = pid or watch.pid
    if failure is not None and watch.reason == "cancel":
        tmp.unlink(missing_ok=True)
        return Execution(seconds, interrupted=True, kernel_pid=pid)
    if tmp.exists():
        os.replace(tmp, out_path)
    if failure is None:
        return Execution(seconds, kernel_pid=pid)
    if watch.reason == "timeout":
        return Execution(seconds, f"tempo limite de {timeout:g} s excedido: o notebook foi "
                                  "interrompido e o kernel encerrado", timed_out=True,
                         kernel_pid=pid)
    return Execution(seconds, error_message(failure), kernel_pid=pid)
