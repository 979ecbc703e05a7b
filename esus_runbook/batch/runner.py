"""The batch run sequence: validate the inventory and the options, check the engine, create
(or reopen) the run folder, execute every site's notebooks on an executor, then write the
roll-up and ``run.json``.

Interruption: Ctrl-C (SIGINT) and SIGTERM stop the run cleanly — running kernels are killed,
queued sites never start, the roll-up is written from what finished, ``run.json`` says
``interrompido`` and the exit code is 130; ``--retomar`` finishes the run later. A ``kill -9``
leaves ``run.json`` saying ``em_andamento`` and, at most, files under temporary names that the
resume deletes: every result, notebook and report appears under its final name only when it
is complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import secrets
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .. import run_folder
from ..commands import sh
from ..errors import InputError
from ..files.atomic import write_bytes_atomic
from ..files.reading import file_sha256
from ..ids import scrub
from ..report.site import terminal_lines
from ..results import now_iso
from ..run_folder import RUN_FILE, RUN_SCHEMA
from ..sites.loading import Site, inventory_files, load_sites
from ..stages import NOTEBOOK_FILES as NOTEBOOKS
from ..status import SEVERITY, ExitCode, RunStatus, Status, worst
from ..terminal import say
from . import preflight
from .options import BatchOptions
from .site_task import SiteJob, SiteOutcome

try:
    import fcntl
except ImportError:  # Windows: no advisory lock; a concurrent resume is on the user
    fcntl = None

# Lazy imports: the executors (Dask 0.9 s), the roll-up (pandas 0.7 s) and the catalog (2 s:
# pandas, numpy, matplotlib for the painel) load when the run reaches them, so a refused
# inventory answers in a fraction of a second.

DRAIN_SECONDS = 30.0  # how long an interrupted run waits for its running sites to stop
log = logging.getLogger("esus_runbook.batch")


# more sites than this: one line each in the terminal (the report has the rest)
COMPACT_ABOVE = 10


@dataclass
class BatchSummary:
    """What ``executar``/``lote`` did: a :class:`esus_runbook.status.CommandReport`."""

    run_dir: Path
    site_status: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    seconds: float = 0.0
    notebooks_executed: int = 0
    notebooks_reused: int = 0
    notebook_errors: int = 0
    inventory: str | os.PathLike = ""   # as the user gave it: the resume command names it

    @property
    def exit_code(self) -> ExitCode:
        """INTERRUPTED; else FINDINGS when a stage failed or a notebook crashed (a stage, or
        the report); else UNDECIDED when a stage is pendente; else OK (alerts allowed)."""
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.notebook_errors:
            return ExitCode.FINDINGS
        status = worst(self.site_status.values())
        return ExitCode.OK if status is None else ExitCode.for_status(status)

    @property
    def rollup_html(self) -> Path:
        return run_folder.rollup_path(self.run_dir, "html")

    def text(self) -> str:
        """The pt-BR lines ``executar``/``lote`` print on standard output."""
        counts: dict[str, int] = {}
        for status in self.site_status.values():
            counts[status] = counts.get(status, 0) + 1
        resumo = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        out = (f"Execução: {self.run_dir}\n"
               f"Consolidado: {self.rollup_html}\n"
               f"Locais de implantação: {len(self.site_status)} ({resumo}) em "
               f"{self.seconds:.1f} s; "
               f"notebooks: {self.notebooks_executed} executados, "
               f"{self.notebooks_reused} reaproveitados")
        return out + "\n" + "\n".join(self.site_lines())

    def notices(self) -> str:
        """Standard error: the command that resumes an interrupted run (every value
        shell-quoted), else nothing."""
        if not self.interrupted:
            return ""
        return (f"Execução interrompida: retome com: esus-runbook lote {sh(self.inventory)} "
                f"--retomar {sh(self.run_dir)}")

    def site_lines(self, full_up_to: int = COMPACT_ABOVE) -> list[str]:
        """Per site, worst first: the verdict, the first next steps and the report's path;
        one line per site when the batch has more than ``full_up_to`` sites."""
        compact = len(self.site_status) > full_up_to
        order = sorted(self.site_status, key=lambda s: (
            -SEVERITY.get(Status(self.site_status[s]), 0), s))
        lines: list[str] = []
        for sid in order:
            if run_folder.is_site_dir(run_folder.site_dir(self.run_dir, sid)):
                lines += terminal_lines(run_folder.site_dir(self.run_dir, sid), compact=compact)
        return lines


# ----------------------------------------------------------------------------- helpers
def _versions(kernel_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {"python": platform.python_version(), "kernel": kernel_name}
    for pkg in ("esus-runbook", "papermill", "nbclient", "ipykernel", "jupyter_client",
                "pandas", "lxml", "dask", "distributed"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _sha256(path: Path) -> str | None:
    """``sha256:<hex>`` of an inventory file for run.json, None if it cannot be read."""
    try:
        return "sha256:" + file_sha256(path)
    except OSError:
        return None


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


class RunLock:
    """An exclusive lock on a run folder, so two batches never write the same run (a second
    ``--retomar`` of a running batch is refused). Released by the OS if the process dies."""

    def __init__(self, run_dir: Path):
        self.path = run_folder.lock_path(run_dir)
        self.fh = None

    def acquire(self) -> RunLock:
        self.fh = open(self.path, "a+")  # noqa: SIM115 - held for the whole run
        try:
            if fcntl is not None:
                fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.fh.close()
            raise InputError("esta execução está em andamento em outro processo",
                             file=str(self.path.parent), key="--retomar",
                             remedy="espere ela terminar ou interrompa-a (Ctrl-C) antes de "
                                    "retomar") from None
        return self

    def release(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def _open_log(run_dir: Path) -> logging.Handler:
    handler = logging.FileHandler(run_folder.log_path(run_dir), encoding="utf-8")

    class Scrubbed(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return scrub(super().format(record))

    handler.setFormatter(Scrubbed("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return handler


@contextmanager
def _signals():
    """SIGTERM behaves like Ctrl-C (KeyboardInterrupt in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextmanager
def _stopping():
    """While an interrupted run winds down, more Ctrl-C / SIGTERM only print a notice."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def notice(signum, frame):
        say("encerrando os kernels, aguarde…", file=sys.stderr, flush=True)

    old = {s: signal.signal(s, notice) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _quiet_libraries() -> None:
    """papermill/nbclient log every dead kernel and unknown parameter on stderr; the batch
    reports those itself (run.log, run.json, the stage result)."""
    for name in ("papermill", "traitlets", "distributed.client"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


# ----------------------------------------------------------------------------- the run
def run_batch(inventory: str | Path, options: BatchOptions | None = None) -> BatchSummary:
    """Run every site of ``inventory`` and return where the results are."""
    options = options or BatchOptions()
    options.validate()
    inventory = Path(inventory)
    sites = load_sites(inventory)  # InputError (exit 2) before anything is created
    if options.one_site and len(sites) != 1:
        raise InputError(f"o inventário tem {len(sites)} sites e 'run' executa um só",
                         file=str(inventory),
                         remedy=f"para todos os sites use: esus-runbook lote {sh(inventory)}")
    inv_files = inventory_files(inventory)
    preflight.check_local(options)
    lock: RunLock | None = None
    previous: dict[str, Any] = {}
    _quiet_libraries()
    try:
        with _signals():
            if options.resume is not None:
                run_dir = Path(options.resume).expanduser().resolve()
                previous = _previous_meta(run_dir)
                lock = RunLock(run_dir).acquire()
                _check_resume_sites(run_dir, sites)
                base = run_dir
            else:
                base = Path(options.out).expanduser().resolve()
                try:
                    base.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise InputError(f"não foi possível criar a pasta de saída "
                                     f"({exc.__class__.__name__})", file=str(base),
                                     key="--execucoes",
                                     remedy="escolha uma pasta em que você possa gravar") \
                        from None
            from .executors import executor_for

            files = preflight.input_files(sites, inv_files) if options.scheduler else {}
            with executor_for(options, files, base) as executor:
                # after every refusal (inputs, resume folder, scheduler): a refused input
                # stays one line; what the preflight finds, the run goes on with
                quick = preflight.quick_report(sites)
                if quick:
                    say(quick, file=sys.stderr, flush=True)
                if options.resume is None:
                    run_dir = new_run_dir(base)
                    lock = RunLock(run_dir).acquire()
                handler = _open_log(run_dir)
                try:
                    summary = _run(inventory, inv_files, sites, options, run_dir, previous,
                                   executor)
                    summary.inventory = inventory  # for the resume command it prints
                    return summary
                finally:
                    log.removeHandler(handler)
                    handler.close()
    finally:
        if lock is not None:
            lock.release()


def _previous_meta(run_dir: Path) -> dict[str, Any]:
    meta = run_folder.read_run_meta(run_dir)
    if meta is None:
        raise InputError("não é uma pasta de execução do esus-runbook", file=str(run_dir),
                         key="--retomar", remedy="informe a pasta <saida>/<run-id> a retomar "
                                                f"(a que contém {RUN_FILE})")
    return meta


def _check_resume_sites(run_dir: Path, sites: list[Site]) -> None:
    """A resumed run keeps its sites: the inventory may change their data (changed stages
    run again) or add sites, not drop sites the run already has."""
    known = set(run_folder.site_ids(run_dir))
    dropped = sorted(known - {s.site_id for s in sites})
    if dropped:
        raise InputError(f"o inventário não tem os sites {', '.join(dropped[:5])} desta "
                         "execução", file=str(run_dir), key="--retomar",
                         remedy="retome com o mesmo inventário da execução (veja "
                                f"inventory.path em {RUN_FILE}) ou inicie uma nova execução")


def _copy_notebooks(options: BatchOptions, run_dir: Path) -> dict[str, str]:
    """The run's own copy of the notebooks (workers read it; it documents the run)."""
    hashes = {}
    for name in NOTEBOOKS.values():
        data = (Path(options.notebooks_dir) / name).read_bytes()
        write_bytes_atomic(run_folder.notebooks_dir(run_dir) / name, data)
        hashes[name] = "sha256:" + hashlib.sha256(data).hexdigest()
    return hashes


def _run(inventory: Path, inv_files: list[Path], sites: list[Site], options: BatchOptions,
         run_dir: Path, previous: dict[str, Any], executor) -> BatchSummary:
    t0 = time.perf_counter()
    run_key = f"{run_dir.name}-{secrets.token_hex(4)}"
    snapshots = {}
    for site in sites:
        snapshots[site.site_id] = run_folder.write_site_snapshot(
            run_folder.site_dir(run_dir, site.site_id), site.to_json())
    this_pass: dict[str, Any] = {
        "started_at": now_iso(), "finished_at": None, "status": RunStatus.EM_ANDAMENTO,
        "resumed": bool(previous), "options": options.describe(),
        "executor": executor.describe(), "host": platform.node(), "pid": os.getpid()}
    meta: dict[str, Any] = {
        "schema": RUN_SCHEMA, "run_id": run_dir.name, "status": RunStatus.EM_ANDAMENTO,
        "started_at": previous.get("started_at", this_pass["started_at"]),
        "finished_at": None,
        "inventory": {"path": str(inventory.resolve()),
                      "files": {str(p): _sha256(p) for p in inv_files}},
        "site_snapshots": snapshots,
        "notebooks": _copy_notebooks(options, run_dir),
        "versions": _versions(options.kernel_name),
        "options": options.describe(),
        "passes": [*previous.get("passes", []), this_pass],
        "sites": previous.get("sites", {}),
    }
    run_folder.write_run_meta(run_dir, meta)
    log.info("execução %s %s: %d sites, motor %s %s, timeout=%s, retries=%d", run_dir.name,
             "retomada" if previous else "iniciada", len(sites), executor.engine,
             json.dumps(executor.describe(), ensure_ascii=False), options.timeout,
             options.retries)
    jobs = [SiteJob(s.site_id, str(run_dir), options.kernel_name, run_key, options.timeout,
                    options.retries, options.kernel_per_notebook,
                    server_timeout=options.server_timeout) for s in sites]

    bar = _progress(options, len(jobs) * len(NOTEBOOKS))
    lock = threading.Lock()
    counts = {"events": 0}

    def notify(ev: dict[str, Any]) -> None:
        kind = ev.get("kind")
        where = f"site={ev.get('site_id')} etapa={ev.get('stage')}"
        if kind == "inicio":
            log.info("%s início (%s)", where, ev.get("host"))
        elif kind == "nova_tentativa":
            log.warning("%s tentativa %s com erro: %s — nova tentativa", where,
                        ev.get("attempt"), ev.get("error"))
        elif kind == "erro_site":
            log.error("site=%s não pôde ser processado: %s", ev.get("site_id"),
                      ev.get("error"))
        elif kind == "fim":
            reused = bool(ev.get("skipped"))
            if reused:
                log.info("%s situacao=%s reaproveitada (entradas inalteradas)", where,
                         ev.get("status"))
            else:
                log.info("%s situacao=%s segundos=%.2f tentativas=%s%s", where,
                         ev.get("status"), ev.get("seconds") or 0.0, ev.get("attempts"),
                         f" erro: {ev['error']}" if ev.get("error") else "")
            with lock:
                counts["events"] += 1
                if bar is not None and not counts.get("closed"):
                    bar.update(1)
                    bar.set_postfix_str(f"{ev.get('site_id')}/{ev.get('stage')}",
                                        refresh=False)

    outcomes: dict[str, SiteOutcome] = {}
    interrupted = False

    def collect(outcome: SiteOutcome) -> None:
        nonlocal interrupted
        outcomes[outcome.site_id] = outcome
        interrupted |= outcome.interrupted
        for err in outcome.errors:
            log.error("site=%s %s", outcome.site_id, err)

    try:
        executor.start(jobs, notify)
        try:
            for outcome in executor.results():
                collect(outcome)
        except KeyboardInterrupt:
            interrupted = True
            log.warning("execução interrompida (Ctrl-C ou SIGTERM): encerrando os kernels")
            with _stopping():
                executor.cancel()
                for outcome in executor.results(timeout=DRAIN_SECONDS):
                    collect(outcome)
    finally:
        # Dask delivers progress events through the scheduler, possibly after the results:
        # give the last ones a moment so run.log lists every notebook
        expected = sum(len(o.notebooks) for o in outcomes.values())
        deadline = time.monotonic() + 5.0
        while counts["events"] < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        with lock:
            counts["closed"] = True
            if bar is not None:
                bar.close()
    with _stopping() if interrupted else _noop():
        return _finish(run_dir, meta, this_pass, outcomes, interrupted, t0)


@contextmanager
def _noop():
    yield


def _finish(run_dir: Path, meta: dict[str, Any], this_pass: dict[str, Any],
            outcomes: dict[str, SiteOutcome], interrupted: bool, t0: float) -> BatchSummary:
    from ..report.rollup import write_rollup_with_statuses

    _, site_status = write_rollup_with_statuses(run_dir)
    status = run_folder.finished_status(interrupted)
    seconds = time.perf_counter() - t0
    notebooks = [t for o in outcomes.values() for t in o.notebooks]
    counts = {"executed": sum(not t.skipped for t in notebooks),
              "reused": sum(t.skipped for t in notebooks)}
    this_pass.update(status=status, finished_at=now_iso(), duration_s=round(seconds, 3),
                     notebooks_executed=counts["executed"], notebooks_reused=counts["reused"])
    sites = dict(meta.get("sites", {}))
    for sid, o in outcomes.items():
        sites[sid] = o.describe()
    for sid in site_status:
        sites.setdefault(sid, {})["status"] = site_status[sid]
    meta.update(status=status, finished_at=now_iso(), duration_s=round(seconds, 3),
                sites=sites)
    run_folder.write_run_meta(run_dir, meta)
    log.info("execução %s %s em %.1f s (%d notebooks executados, %d reaproveitados)",
             run_dir.name, status, seconds, counts["executed"], counts["reused"])
    from ..catalog import record_after_batch

    record_after_batch(run_dir, log)  # also when interrupted (run.json says so)
    return BatchSummary(run_dir, site_status, interrupted, seconds, counts["executed"],
                        counts["reused"], sum(t.error is not None for t in notebooks))


def _progress(options: BatchOptions, total: int):
    if not options.progress:
        return None
    return tqdm(total=total, unit="notebook", desc="Executando", file=sys.stderr,
                dynamic_ncols=True, disable=None if not os.environ.get("CI") else True)
