"""One site's notebooks, executed in order with papermill: the unit of work of a batch.

``run_site`` takes a picklable :class:`SiteJob` and returns a picklable
:class:`SiteOutcome`, so the same function runs on a local thread pool or a Dask worker.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import stages
from ..ids import scrub
from ..results import STAGES, StageResult, Status, now_iso
from ..sites import load_site


@dataclass
class SiteJob:
    site_id: str
    run_dir: str
    notebooks_dir: str
    kernel_name: str
    timeout: float | None = None
    retries: int = 0
    resume: bool = False


@dataclass
class NotebookTiming:
    name: str
    seconds: float
    status: str
    skipped: bool = False
    attempts: int = 1


@dataclass
class SiteOutcome:
    site_id: str
    statuses: dict[str, str] = field(default_factory=dict)
    timings: list[NotebookTiming] = field(default_factory=list)
    report: str | None = None
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False


def _error_message(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    if ename:  # PapermillExecutionError
        text = f"{ename}: {getattr(exc, 'evalue', '')}"
    elif exc.__class__.__name__ == "CellTimeoutError":
        text = "tempo limite do notebook excedido"
    elif exc.__class__.__name__ == "DeadKernelError":
        text = "o kernel do notebook morreu durante a execução"
    else:
        text = f"{exc.__class__.__name__}: {exc}"
    return scrub(" ".join(text.split()))[:500]


def execute_notebook(job: SiteJob, notebook: str, out_path: Path) -> None:
    """Execute one notebook with papermill into ``out_path`` (written under a temporary
    name and renamed when execution ends, successful or not)."""
    import papermill as pm

    tmp = out_path.with_name(f".{out_path.stem}.partial.ipynb")
    site_dir = Path(job.run_dir) / job.site_id
    try:
        pm.execute_notebook(
            str(Path(job.notebooks_dir) / notebook), str(tmp),
            parameters={"site_file": str(site_dir / "site.json"), "site_id": job.site_id,
                        "run_dir": job.run_dir, "interactive": False},
            kernel_name=job.kernel_name, progress_bar=False, log_output=False,
            execution_timeout=job.timeout, cwd=job.notebooks_dir)
    finally:
        if tmp.exists():
            os.replace(tmp, out_path)


def _reusable(site_dir: Path, stage: str, site) -> bool:
    path = site_dir / f"{stage}.json"
    if not path.exists():
        return False
    try:
        r = StageResult.load(path)
    except Exception:
        return False
    return (r.finished_at is not None and r.status is not Status.ERRO
            and (site_dir / stages.NOTEBOOKS[stage]).exists()
            and r.inputs == stages.fingerprint(stage, site))


def run_site(job: SiteJob, notify: Callable[[str, str, NotebookTiming], None] | None = None,
             cancel: threading.Event | None = None) -> SiteOutcome:
    """Execute stages 01–06 then the report notebook 07 for one site."""
    site_dir = Path(job.run_dir) / job.site_id
    outcome = SiteOutcome(job.site_id)
    site = load_site(site_dir / "site.json") if job.resume else None
    executed_any = False
    for name in (*STAGES, "relatorio"):
        if cancel is not None and cancel.is_set():
            outcome.interrupted = True
            break
        notebook = stages.NOTEBOOKS[name]
        if name == "relatorio":
            if job.resume and not executed_any and (site_dir / "relatorio.html").exists() \
                    and (site_dir / notebook).exists():
                outcome.report = str(site_dir / "relatorio.html")
                t = NotebookTiming(notebook, 0.0, "ok", skipped=True)
                outcome.timings.append(t)
                if notify:
                    notify(job.site_id, name, t)
                continue
        elif job.resume and _reusable(site_dir, name, site):
            r = StageResult.load(site_dir / f"{name}.json")
            outcome.statuses[name] = r.status.value
            t = NotebookTiming(notebook, 0.0, r.status.value, skipped=True)
            outcome.timings.append(t)
            if notify:
                notify(job.site_id, name, t)
            continue
        executed_any = True
        t = _run_with_retries(job, name, notebook, site_dir, outcome)
        outcome.timings.append(t)
        if notify:
            notify(job.site_id, name, t)
    if (site_dir / "relatorio.html").exists():
        outcome.report = str(site_dir / "relatorio.html")
    return outcome


def _run_with_retries(job: SiteJob, name: str, notebook: str, site_dir: Path,
                      outcome: SiteOutcome) -> NotebookTiming:
    result_path = site_dir / f"{name}.json"
    attempts = 0
    t0 = time.perf_counter()
    while True:
        attempts += 1
        started = now_iso()
        if name != "relatorio" and result_path.exists():
            result_path.unlink()  # a crash must not leave the previous result standing
        error: str | None = None
        try:
            execute_notebook(job, notebook, site_dir / notebook)
        except KeyboardInterrupt:
            outcome.interrupted = True
            error = "execução interrompida pelo usuário"
        except Exception as exc:  # papermill, nbclient and kernel failures
            error = _error_message(exc)
        if name == "relatorio":
            status = "erro" if error else "ok"
        else:
            if error is None and not result_path.exists():
                error = "o notebook terminou sem gravar o resultado da etapa"
            if error is not None:
                StageResult.crashed(job.site_id, name, error, started).save(site_dir)
            status = StageResult.load(result_path).status.value
            outcome.statuses[name] = status
        if error is None or outcome.interrupted or attempts > job.retries:
            break
    if error:
        outcome.errors.append(f"{name}: {error}")
    return NotebookTiming(notebook, time.perf_counter() - t0, status, attempts=attempts)


def describe(outcome: SiteOutcome) -> dict[str, Any]:
    return {"statuses": outcome.statuses, "report": outcome.report, "errors": outcome.errors,
            "notebooks": [t.__dict__ for t in outcome.timings]}
