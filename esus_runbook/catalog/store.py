"""Open the catalog (SQLite, WAL) and record run folders in it.

A run folder is read completely *before* the write transaction starts, and each run is
written in one short ``BEGIN IMMEDIATE`` transaction: several batches ending at the same
time wait for each other (``busy_timeout``) instead of failing or corrupting the file.
Recording is an upsert by ``run_id`` (the id in ``run.json``, not the folder name): importing
a run again, or a moved or copied run folder, replaces that run's rows. See docs/catalogo.md.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import run_folder
from ..errors import InputError
from ..results import STAGES, now_iso
from ..run_folder import RUN_FILE, RUN_SCHEMA, SITE_FILE
from ..status import RunStatus, Status, worst
from . import validate

if TYPE_CHECKING:
    from . import history
from .evidence import stage_evidence
from .schema import migrate

CATALOG_NAME = "catalogo.sqlite"
SECRET_FINGERPRINT_PREFIX = "pbkdf2-"  # esus_runbook.secret_refs.fingerprint
BUSY_TIMEOUT_S = 120.0  # a writer waits this long for another one before giving up


def catalog_path(executions: str | Path) -> Path:
    """Where the catalog of an executions folder lives."""
    return Path(executions) / CATALOG_NAME


def connect(path: str | Path, create: bool = True) -> sqlite3.Connection:
    """A connection to the catalog at ``path``, migrated to the current schema.

    ``create=False`` refuses a catalog that does not exist yet (the reports need one)."""
    path = Path(path)
    if not create and not path.is_file():
        raise InputError("catálogo de execuções não encontrado", file=str(path),
                         remedy=f"crie-o com: esus-runbook catalogo importar {path.parent} "
                                "(ou execute um lote com --execucoes nessa pasta)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, str(path))
    except sqlite3.DatabaseError as exc:
        raise InputError(f"não é um catálogo SQLite legível ({exc})", file=str(path),
                         remedy="apague o arquivo e reconstrua-o com 'esus-runbook catalogo "
                                f"importar {path.parent}'") from None
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection):
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# ----------------------------------------------------------------------------- reading
@dataclass
class RunRecord:
    """Everything the catalog keeps about one run, read from its folder. ``skipped`` holds
    ``(file, pt-BR reason)`` for each file left out; ``refused`` the reason when the run
    itself (its ``run.json``) cannot be recorded."""

    run_id: str
    folder: str
    meta: dict[str, Any]
    sites: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    refused: str | None = None


def _refused_run(run_dir: Path, reason: str) -> RunRecord:
    return RunRecord("", str(run_dir), {}, skipped=[(str(run_folder.run_file(run_dir)), reason)],
                     refused=reason)


def read_run(run_dir: str | Path) -> RunRecord:
    """Read the run's ``run.json``, every site's snapshot and stage results
    (:mod:`esus_runbook.run_folder`), each bounded and validated (:mod:`.validate`).

    A snapshot or result that is unreadable, of another schema or breaks a rule is left
    out and named in ``skipped`` with why (one broken file does not hide the rest of the
    run); a ``run.json`` that does is the whole run refused (``refused``)."""
    run_dir = Path(run_dir)
    try:
        meta = validate.read(run_folder.run_file(run_dir), RUN_FILE)
        if not isinstance(meta, dict) or meta.get("schema") != RUN_SCHEMA:
            raise validate.Refused(f"não é o {RUN_FILE} de uma execução do esus-runbook")
        validate.check_run(meta)
    except validate.Refused as exc:
        return _refused_run(run_dir, str(exc))
    rec = RunRecord(meta["run_id"], str(run_dir.resolve()), meta)
    rollup_file = run_folder.rollup_path(run_dir, "json")
    try:
        rollup = validate.read(rollup_file, rollup_file.name) if rollup_file.is_file() else None
    except validate.Refused as exc:
        rec.skipped.append((str(rollup_file), str(exc)))
        rollup = None
    reported = rollup.get("site_status") if isinstance(rollup, dict) else None
    reported = reported if isinstance(reported, dict) else {}
    snapshots = meta.get("site_snapshots") or {}
    for site_dir in run_folder.site_dirs(run_dir):
        snapshot = run_folder.site_file(site_dir)
        try:
            site = validate.read(snapshot, SITE_FILE)
            validate.check_site(site)
        except validate.Refused as exc:
            rec.skipped.append((str(snapshot), str(exc)))
            continue
        sid = site["site_id"]
        statuses = []
        for stage in STAGES:
            path = run_folder.stage_result_path(site_dir, stage)
            if not path.is_file():
                statuses.append(Status.PENDENTE.value)  # not run: pendente, as in the roll-up
                continue
            try:
                data = validate.read(path, f"resultado da etapa {stage}")
                validate.check_result(data, sid, stage)
            except validate.Refused as exc:
                rec.skipped.append((str(path), str(exc)))
                statuses.append(Status.PENDENTE.value)
                continue
            rec.results.append(data)
            statuses.append(data["status"])
        status = reported.get(sid)
        rec.sites.append({
            "site_id": sid, "nome": site.get("nome"), "municipio_ibge":
            site.get("municipio_ibge"), "cnes": site.get("cnes"),
            "status": status if status in _STATUSES else worst(statuses).value,
            "snapshot": validate.text(snapshots.get(sid))})
    return rec


_STATUSES = {s.value for s in Status}


def run_folders(path: str | Path) -> list[Path]:
    """``path`` itself when it is a run folder, else the run folders directly inside it."""
    path = Path(path)
    if not path.is_dir():
        raise InputError("pasta não encontrada", file=str(path),
                         remedy="informe a pasta das execuções (ex.: execucoes)")
    if run_folder.is_run_dir(path):
        return [path]
    return run_folder.run_dirs(path)


# ----------------------------------------------------------------------------- writing
def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True,
                                                 default=str)


def _public_inputs(inputs: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stage's input fingerprints without the salted fingerprints of secrets (contra-chave,
    database password): the catalog keeps no trace of a secret, not even the slow hash."""
    if not inputs:
        return None
    return {k: v for k, v in inputs.items()
            if not (isinstance(v, str) and v.startswith(SECRET_FINGERPRINT_PREFIX))}


def _rows(rec: RunRecord, run_pk: int, first_result_pk: int) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {"run_sites": [], "stage_results": [], "checks": [],
                                   "evidence": [], "timings": []}
    for s in rec.sites:
        out["run_sites"].append((run_pk, s["site_id"], s["nome"], s["municipio_ibge"],
                                 s["cnes"], s["status"], s["snapshot"]))
    for result_pk, r in enumerate(rec.results, start=first_result_pk):
        out["stage_results"].append((result_pk, run_pk, r["site_id"], r["stage"], r["status"],
                                     r["started_at"], r["finished_at"], r.get("error"),
                                     _json(_public_inputs(r.get("inputs")))))
        for seq, c in enumerate(r.get("checks") or []):
            out["checks"].append((result_pk, seq, c["id"], c.get("title"), c["status"],
                                  _json(c.get("expected")), _json(c.get("observed")),
                                  c.get("remedy")))
        for kind, name, value in stage_evidence(r):
            out["evidence"].append((result_pk, kind, name, value))
    for sid, info in (rec.meta.get("sites") or {}).items():
        for nb in (info or {}).get("notebooks") or []:
            if not isinstance(nb, dict) or not isinstance(nb.get("notebook"), str):
                continue
            out["timings"].append((run_pk, sid, nb["notebook"], validate.real(nb.get("seconds")),
                                   validate.integer(nb.get("attempts")),
                                   int(bool(nb.get("skipped"))), validate.text(info.get("host"))))
    return out


_INSERT = {
    "run_sites": "INSERT INTO run_sites VALUES (?,?,?,?,?,?,?)",
    "stage_results": "INSERT INTO stage_results VALUES (?,?,?,?,?,?,?,?,?)",
    "checks": "INSERT INTO checks VALUES (?,?,?,?,?,?,?,?)",
    "evidence": "INSERT OR REPLACE INTO evidence VALUES (?,?,?,?)",
    "timings": "INSERT OR REPLACE INTO timings VALUES (?,?,?,?,?,?,?)",
}
# a run's previous rows, children first
_DELETE = (
    "DELETE FROM checks WHERE result_pk IN "
    "(SELECT result_pk FROM stage_results WHERE run_pk = ?)",
    "DELETE FROM evidence WHERE result_pk IN "
    "(SELECT result_pk FROM stage_results WHERE run_pk = ?)",
    "DELETE FROM stage_results WHERE run_pk = ?",
    "DELETE FROM run_sites WHERE run_pk = ?",
    "DELETE FROM timings WHERE run_pk = ?",
)


def _run_inputs(meta: dict[str, Any]) -> dict[str, Any]:
    """What the run was made of: inventory file hashes, site snapshots, notebooks, versions,
    options (no secret is in run.json: secrets are referenced by name only)."""
    return {k: meta.get(k) for k in ("inventory", "site_snapshots", "notebooks", "versions",
                                     "options")}


def write_run(conn: sqlite3.Connection, rec: RunRecord) -> None:
    """Upsert one run (its previous rows, if any, are replaced) in one transaction. ``rec``
    comes from :func:`read_run` (validated)."""
    # lazy: history imports pandas (0.5 s); a notebook imports the catalog (links, the
    # interactive run's record) without recording anything
    from . import history

    if rec.refused:
        raise InputError(rec.refused, file=str(run_folder.run_file(rec.folder)),
                         remedy="refaça a execução ou restaure o arquivo original")
    meta = rec.meta
    status = meta["status"]
    values = (rec.run_id, status, int(run_folder.run_status(meta) is RunStatus.INTERROMPIDO),
              meta["started_at"],
              meta.get("finished_at"), validate.real(meta.get("duration_s")), rec.folder,
              validate.text((meta.get("inventory") or {}).get("path")),
              validate.text((meta.get("versions") or {}).get("esus-runbook")),
              _json(_run_inputs(meta)), now_iso())
    site_ids = [s["site_id"] for s in rec.sites]
    with transaction(conn):
        again = conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (rec.run_id,)).fetchone()
        # the painel's summaries before this run (a run imported again: rebuilt instead)
        before = {} if again else history.load_progress(conn, site_ids)
        run_pk = conn.execute(
            "INSERT INTO runs (run_id, status, interrupted, started_at, finished_at, "
            "duration_s, folder, inventory_path, esus_runbook, inputs, ingested_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(run_id) DO UPDATE SET "
            "status=excluded.status, interrupted=excluded.interrupted, "
            "started_at=excluded.started_at, finished_at=excluded.finished_at, "
            "duration_s=excluded.duration_s, folder=excluded.folder, "
            "inventory_path=excluded.inventory_path, esus_runbook=excluded.esus_runbook, "
            "inputs=excluded.inputs, ingested_at=excluded.ingested_at RETURNING run_pk",
            values).fetchone()[0]
        for sql in _DELETE:
            conn.execute(sql, (run_pk,))
        # the write lock is held: no other writer can take these ids meanwhile
        first = conn.execute("SELECT COALESCE(MAX(result_pk), 0) + 1 FROM stage_results") \
            .fetchone()[0]
        rows = _rows(rec, run_pk, first)
        for table, table_rows in rows.items():
            conn.executemany(_INSERT[table], table_rows)
        started = meta["started_at"]
        conn.executemany(
            "INSERT INTO sites VALUES (?,?,?,?,?) ON CONFLICT(site_id) DO UPDATE SET "
            "nome=excluded.nome, municipio_ibge=excluded.municipio_ibge, cnes=excluded.cnes, "
            "last_run_started_at=excluded.last_run_started_at "
            "WHERE excluded.last_run_started_at >= COALESCE(sites.last_run_started_at, '')",
            [(s["site_id"], s["nome"], s["municipio_ibge"], s["cnes"], started)
             for s in rec.sites])
        _maintain_summaries(conn, rows["stage_results"], rec, run_pk, before, again)


def _maintain_summaries(conn: sqlite3.Connection, results: list[tuple], rec: RunRecord,
                        run_pk: int, before: dict[str, history.Progress],
                        again: object) -> None:
    """Keep the painel's summary of each site of the run (catalog/history.py, migration
    3): folded onto the stored one. A run recorded again leaves its sites (and its former
    ones) dirty, as the triggers marked them: :func:`history.refresh` rebuilds them once
    (:func:`record_run`, :func:`import_folders`, the painel)."""
    if again:
        return
    import pandas as pd  # lazy: see write_run

    from . import history  # lazy: see write_run

    new = history.with_times(pd.DataFrame(
        [(pk, run_pk, rec.run_id, rec.meta["started_at"], sid, stage, status, started,
          finished) for pk, _, sid, stage, status, started, finished, *_ in results],
        columns=["result_pk", "run_pk", "run_id", "run_started", "site_id", "stage",
                 "status", "started_at", "finished_at"]))
    history.maintain(conn, new, before, [s["site_id"] for s in rec.sites])


def record_run(run_dir: str | Path, catalog: str | Path | None = None) -> RunRecord:
    """Read a run folder and upsert it into ``catalog`` (default: the catalog of the folder
    that holds the run). Returns what was recorded."""
    run_dir = Path(run_dir)
    rec = read_run(run_dir)
    if rec.refused:  # before the catalog is opened (or created)
        raise InputError(rec.refused, file=rec.skipped[0][0],
                         remedy="refaça a execução ou restaure o arquivo original")
    from . import history  # lazy: see write_run

    conn = connect(catalog or catalog_path(run_dir.resolve().parent))
    try:
        write_run(conn, rec)
        history.refresh(conn)  # a run recorded again (a resumed batch): its sites rebuilt
    finally:
        conn.close()
    return rec


def import_folders(paths: Iterable[Path], catalog: str | Path) -> list[RunRecord]:
    """Record every run folder of ``paths`` into ``catalog`` (idempotent); a refused run
    (``rec.refused``) is returned, not recorded, and the others go on. No run to record, no
    catalog created."""
    from . import history  # lazy: see write_run

    conn = None  # opened (or created) at the first run to record
    out = []
    try:
        for run_dir in paths:
            rec = read_run(run_dir)
            if not rec.refused:
                conn = conn or connect(catalog)
                write_run(conn, rec)
            out.append(rec)
        if conn is not None:
            history.refresh(conn)  # sites of runs imported again or out of order, once
    finally:
        if conn is not None:
            conn.close()
    return out
