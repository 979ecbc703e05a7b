"""One site's notebooks, executed in order: the unit of work of a batch.

:func:`run_site` takes a picklable :class:`SiteJob` and returns a picklable
:class:`SiteOutcome`, so the same function runs on the local pool and on a Dask worker. It is
idempotent: a stage whose complete result is already in the run folder with unchanged input
fingerprints is reused (see :mod:`esus_runbook.batch.resume`), so resuming a run, or Dask
running a site again after losing a worker, only executes what is missing.

Progress goes through ``notify(event)``, one dict per notebook started and finished (plain
values only: on Dask the events travel through the scheduler).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import run_folder, stages
from ..ids import scrub
from ..results import STAGES, StageResult, now_iso
from ..sites.loading import load_site
from ..stages import REPORT
from ..status import Status
from . import resume
from .execution import execute_notebook
from .kernels import WATCHER, _safe
from .options import SERVER_STAGES
from .site_engine import SiteKernels, open_pool

Notify = Callable[[dict[str, Any]], None]


@dataclass
class SiteJob:
    """Everything a worker needs to run one site (paths must be visible to the worker)."""

    site_id: str
    run_dir: str
    kernel_name: str
    run_key: str
    """Identifies this pass of the run: cancelling it stops its notebooks on every worker."""
    timeout: float | None = None
    retries: int = 0
    kernel_per_notebook: bool = False
    """True: each notebook in a fresh kernel of its own (``--kernel-por-notebook``); False:
    the site's notebooks share one warm kernel (see :mod:`.site_engine`)."""
    server_timeout: float | None = None
    """Without ``timeout``: the limit of a stage that talks to a server
    (``options.SERVER_STAGES``)."""

    @property
    def site_dir(self) -> Path:
        return run_folder.site_dir(self.run_dir, self.site_id)

    @property
    def notebooks_dir(self) -> Path:
        """The run's own copy of the notebooks (:func:`.run_folder.notebooks_dir`)."""
        return run_folder.notebooks_dir(self.run_dir)


@dataclass
class NotebookTiming:
    stage: str
    notebook: str
    status: str
    seconds: float = 0.0
    skipped: bool = False
    attempts: int = 0
    error: str | None = None
    kernel_pid: int | None = None
    """The kernel process of the last attempt (the same for a site's notebooks, unless
    one killed its kernel; a new one per notebook with ``--kernel-por-notebook``)."""


@dataclass
class SiteOutcome:
    site_id: str
    host: str = field(default_factory=socket.gethostname)
    statuses: dict[str, str] = field(default_factory=dict)
    notebooks: list[NotebookTiming] = field(default_factory=list)
    report: str | None = None
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0

    def describe(self) -> dict[str, Any]:
        """What run.json keeps about this site."""
        return {"host": self.host, "statuses": self.statuses, "report": self.report,
                "errors": self.errors, "interrupted": self.interrupted,
                "seconds": round(self.seconds, 3),
                "notebooks": [{k: (round(v, 3) if isinstance(v, float) else v)
                               for k, v in asdict(t).items()} for t in self.notebooks]}


def run_site(job: SiteJob, notify: Notify | None = None,
             abandoned: Callable[[], bool] | None = None,
             host: str | None = None) -> SiteOutcome:
    """Execute stages 01–06 then the report notebook 07 for one site.

    Never raises for a notebook's failure (the stage becomes ``erro``); stops between
    notebooks when the run is cancelled or ``abandoned()`` says nobody waits for it.
    ``host`` names where it ran (default: this machine's name)."""
    t0 = time.perf_counter()
    outcome = SiteOutcome(job.site_id, host=host or socket.gethostname())
    site_dir = job.site_dir

    def emit(kind: str, **data: Any) -> None:
        if notify is not None:
            try:
                notify({"kind": kind, "site_id": job.site_id, "host": outcome.host, **data})
            except Exception:  # progress is best effort; it never fails a site
                pass

    def stopped() -> bool:
        if WATCHER.cancelled(job.run_key) or (abandoned is not None and _safe(abandoned)):
            outcome.interrupted = True
        return outcome.interrupted

    # the local executor opened this run's pool with spares; elsewhere (a Dask worker) the
    # site's kernel starts when needed and no spare is kept: a spare would outlive a client
    # that died without cancelling the run
    kernels = None if job.kernel_per_notebook else \
        SiteKernels(open_pool(job.kernel_name, job.run_key, job.run_dir, spare=0))
    try:
        resume.remove_partials(site_dir)
        site = load_site(run_folder.site_file(site_dir))
        executed_any = False
        for stage in (*STAGES, REPORT):
            if stopped():
                break
            notebook = stages.NOTEBOOK_FILES[stage]
            if stage == REPORT:
                reusable = not executed_any and resume.report_current(site_dir)
            else:
                reusable = resume.stage_reusable(stage, site, site_dir)
            if reusable:
                status = "ok" if stage == REPORT else \
                    StageResult.load(run_folder.stage_result_path(site_dir, stage)).status.value
                timing = NotebookTiming(stage, notebook, status, skipped=True)
            else:
                executed_any = True
                emit("inicio", stage=stage, notebook=notebook)
                timing = _execute(job, stage, notebook, emit, stopped, abandoned, kernels)
                if timing is None:  # cancelled while it ran: nothing recorded
                    outcome.interrupted = True
                    break
            if stage != REPORT:
                outcome.statuses[stage] = timing.status
            if timing.error:
                outcome.errors.append(f"{stage}: {timing.error}")
            outcome.notebooks.append(timing)
            emit("fim", **asdict(timing))
    except Exception as exc:  # the site itself could not be processed (unreadable snapshot…)
        message = scrub(" ".join(f"{exc.__class__.__name__}: {exc}".split()))[:500]
        outcome.errors.append(message)
        for stage in resume.mark_missing_as_error(site_dir, job.site_id, message):
            outcome.statuses[stage] = Status.ERRO.value
        emit("erro_site", error=message)
    finally:
        if kernels is not None:
            kernels.close()
    if run_folder.report_path(site_dir).exists():
        outcome.report = str(run_folder.report_path(site_dir))
    outcome.seconds = time.perf_counter() - t0
    return outcome


_CHARTS_LOCK = threading.Lock()  # pyplot keeps global state: one drawing at a time


def draw_charts(result_path: Path) -> None:
    """Draw a stage's charts here, once, into the cache the site report reads, when each
    notebook has a kernel of its own (``--kernel-por-notebook``): batch stage notebooks do
    not draw, each would import matplotlib; this process does it once. With one kernel per
    site the site kernel draws them (``SiteKernels.draw_charts``). Best effort: if it fails,
    the report notebook draws them."""
    try:
        result = StageResult.load(result_path)
        if stages.has_charts(result):
            with _CHARTS_LOCK:
                stages.chart_svgs(result, result_path.parent)
    except Exception:
        pass


def stage_timeout(job: SiteJob, stage: str) -> float | None:
    """``job.timeout``, else ``job.server_timeout`` for a stage that talks to a server."""
    if job.timeout is not None:
        return job.timeout
    return job.server_timeout if stage in SERVER_STAGES else None


def _execute(job: SiteJob, stage: str, notebook: str, emit: Callable[..., None],
             stopped: Callable[[], bool], abandoned: Callable[[], bool] | None = None,
             kernels: SiteKernels | None = None) -> NotebookTiming | None:
    """Run one notebook, again up to ``job.retries`` times while it crashes (not after a
    timeout: a notebook that hung for the whole timeout would most likely hang again)."""
    site_dir = job.site_dir
    result_path = run_folder.stage_result_path(site_dir, stage)
    params = {"site_file": str(run_folder.site_file(site_dir)), "site_id": job.site_id,
              "run_dir": job.run_dir, "interactive": False}
    attempts, seconds = 0, 0.0
    while True:
        attempts += 1
        started = now_iso()
        if stage != REPORT:
            result_path.unlink(missing_ok=True)  # a crash must not leave an older result
        else:
            resume.forget_report(site_dir)
        ex = execute_notebook(job.notebooks_dir / notebook, site_dir / notebook, params,
                              kernel_name=job.kernel_name, timeout=stage_timeout(job, stage),
                              run_key=job.run_key, cwd=site_dir, abandoned=abandoned,
                              kernels=kernels)
        seconds += ex.seconds
        if ex.interrupted:
            if stage != REPORT:
                result_path.unlink(missing_ok=True)
            return None
        error = ex.error
        if error is None and stage != REPORT:
            # drawn once, in the site's kernel (a kernel per notebook: here); what that
            # kernel could not draw (it died, it ran out of time) the site report draws
            if kernels is not None:
                kernels.draw_charts(result_path)
            else:
                draw_charts(result_path)
        if stage == REPORT:
            if error is None and not run_folder.report_path(site_dir).exists():
                error = f"o notebook terminou sem gravar {run_folder.REPORT_FILE}"
            status = Status.ERRO.value if error else Status.OK.value
            if error is None:
                resume.remember_report(site_dir)
        else:
            if error is None and not result_path.exists():
                error = "o notebook terminou sem gravar o resultado da etapa"
            if error is not None:
                StageResult.crashed(job.site_id, stage, error, started).save(site_dir)
            status = StageResult.load(result_path).status.value
        if error is None or ex.timed_out or attempts > job.retries or stopped():
            return NotebookTiming(stage, notebook, status, seconds, attempts=attempts,
                                  error=error, kernel_pid=ex.kernel_pid)
        emit("nova_tentativa", stage=stage, notebook=notebook, attempt=attempts, error=error)
