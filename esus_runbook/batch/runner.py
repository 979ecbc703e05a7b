"""The batch run sequence: validate the inventory, create the run folder, execute every
site's notebooks on an executor, then write the roll-up and ``run.json``."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..ids import scrub
from ..report import write_rollup
from ..report.rollup import site_statuses
from ..results import Status, now_iso, write_json_atomic
from ..sites import Site, inventory_files, load_sites
from ..stages import NOTEBOOKS
from .options import BatchOptions
from .site_task import NotebookTiming, SiteJob, SiteOutcome, describe

RUN_SCHEMA = "esus-runbook/run/1"
log = logging.getLogger("esus_runbook.batch")


@dataclass
class BatchSummary:
    run_dir: Path
    site_status: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 all stages ok/alerta/pendente; 1 a failure was found or a stage crashed;
        130 interrupted."""
        if self.interrupted:
            return 130
        bad = {Status.FALHA.value, Status.ERRO.value}
        return 1 if any(s in bad for s in self.site_status.values()) else 0

    @property
    def rollup_html(self) -> Path:
        return self.run_dir / "rollup.html"


def _versions(kernel_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {"python": platform.python_version(), "kernel": kernel_name}
    for pkg in ("esus-runbook", "papermill", "nbclient", "ipykernel", "pandas", "lxml"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def check_environment(options: BatchOptions) -> None:
    """The kernel and the notebooks must exist before any run folder is created."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(options.kernel_name)
    except NoSuchKernel:
        raise InputError(f"kernel Jupyter '{options.kernel_name}' não registrado",
                         remedy="rode 'make setup' (registra o kernel no ambiente .venv)") \
            from None
    missing = [nb for nb in NOTEBOOKS.values() if not (options.notebooks_dir / nb).exists()]
    if missing:
        raise InputError(f"notebooks ausentes: {', '.join(missing)}",
                         file=str(options.notebooks_dir),
                         remedy="defina ESUS_RUNBOOK_NOTEBOOKS com a pasta notebooks/")


def new_run_dir(out: Path) -> Path:
    """A new, never-existing ``<out>/<YYYYmmdd-HHMMSS>-<hex>`` folder."""
    out.mkdir(parents=True, exist_ok=True)
    while True:
        run_id = f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
        try:
            (out / run_id).mkdir()
            return out / run_id
        except FileExistsError:
            continue


def _open_log(run_dir: Path) -> logging.Handler:
    handler = logging.FileHandler(run_dir / "run.log", encoding="utf-8")

    class Scrubbed(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return scrub(super().format(record))

    handler.setFormatter(Scrubbed("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def run_batch(inventory: str | Path, options: BatchOptions | None = None) -> BatchSummary:
    """Run every site of ``inventory`` and return where the results are."""
    options = options or BatchOptions()
    inventory = Path(inventory)
    sites = load_sites(inventory)  # InputError (exit 2) before anything is created
    check_environment(options)
    if options.resume is not None:
        run_dir = Path(options.resume).resolve()
        if not (run_dir / "run.json").exists():
            raise InputError("não é uma pasta de execução do esus-runbook", file=str(run_dir),
                             key="--resume", remedy="informe a pasta <saida>/<run-id> a retomar")
    else:
        run_dir = new_run_dir(Path(options.out).resolve())
    handler = _open_log(run_dir)
    try:
        return _run(inventory, sites, options, run_dir)
    finally:
        log.removeHandler(handler)
        handler.close()


def _run(inventory: Path, sites: list[Site], options: BatchOptions,
         run_dir: Path) -> BatchSummary:
    t0 = time.perf_counter()
    previous = json.loads((run_dir / "run.json").read_text()) if options.resume else {}
    for site in sites:
        write_json_atomic(run_dir / site.site_id / "site.json", site.to_json())
    meta: dict[str, Any] = {
        "schema": RUN_SCHEMA, "run_id": run_dir.name, "status": "em_andamento",
        "started_at": previous.get("started_at", now_iso()), "finished_at": None,
        "resumed_at": [*previous.get("resumed_at", []), now_iso()] if options.resume else [],
        "inventory": {"path": str(inventory.resolve()),
                      "files": {str(p): _sha256(p) for p in inventory_files(inventory)}},
        "versions": _versions(options.kernel_name),
        "options": {"workers": options.workers, "engine": "dask" if options.scheduler else
                    "local", "timeout": options.timeout, "retries": options.retries},
        "sites": {},
    }
    write_json_atomic(run_dir / "run.json", meta)
    log.info("execução %s iniciada: %d sites, %d workers", run_dir.name, len(sites),
             options.workers)
    jobs = [SiteJob(s.site_id, str(run_dir), str(options.notebooks_dir), options.kernel_name,
                    options.timeout, options.retries, resume=options.resume is not None)
            for s in sites]
    from .executors import executor_for

    outcomes: dict[str, SiteOutcome] = {}
    interrupted = False
    bar = _progress(options, len(jobs) * len(NOTEBOOKS))
    lock = threading.Lock()

    def notify(site_id: str, name: str, t: NotebookTiming) -> None:
        log.info("site=%s etapa=%s situacao=%s segundos=%.2f%s", site_id, name, t.status,
                 t.seconds, " (reaproveitada)" if t.skipped else "")
        with lock:
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"{site_id}/{name}", refresh=False)

    try:
        with executor_for(options) as ex:
            for outcome in ex.run(jobs, notify):
                outcomes[outcome.site_id] = outcome
                interrupted |= outcome.interrupted
                for err in outcome.errors:
                    log.error("site=%s %s", outcome.site_id, err)
    except KeyboardInterrupt:
        interrupted = True
        log.warning("execução interrompida pelo usuário")
    finally:
        if bar is not None:
            bar.close()
    paths = write_rollup(run_dir)
    import pandas as pd

    df = pd.read_csv(paths["csv"], dtype=str)
    site_status = site_statuses(df).to_dict() if len(df) else {}
    meta.update(
        status="interrompido" if interrupted else "concluido", finished_at=now_iso(),
        duration_s=round(time.perf_counter() - t0, 3),
        sites={sid: {"status": site_status.get(sid), **describe(o)}
               for sid, o in outcomes.items()})
    write_json_atomic(run_dir / "run.json", meta)
    log.info("execução %s %s em %.1f s", run_dir.name, meta["status"], meta["duration_s"])
    return BatchSummary(run_dir, site_status, interrupted, time.perf_counter() - t0)


def _progress(options: BatchOptions, total: int):
    if not options.progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="notebook", desc="Executando", file=sys.stderr,
                dynamic_ncols=True, disable=None if not os.environ.get("CI") else True)
