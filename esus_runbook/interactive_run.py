"""Work done in JupyterLab is a run: ``<run_dir>/run.json`` like the batch's, marked
``"interactive": true``, so ``catalogo importar``, the painel and the dossier include it.

``esus-runbook lab`` gives each site a workspace whose notebooks pass ``run_dir`` (the
interactive folder, ``execucoes/interativo`` by default) and ``interactive=True``. Each
stage evaluated there saves ``<run_dir>/<site_id>/<stage>.json`` (as a batch does) and then
calls :func:`record_stage`, which refreshes the site's snapshot (``site.json``) and the
folder's ``run.json``: its ``run_id`` is chosen once and kept, so importing the folder again
updates the same run in the catalog. Several kernels of one folder (a lab opened on an
inventory) update ``run.json`` under a file lock. The catalog of the executions folder (the
interactive folder's parent) is refreshed too, as after a batch; a catalog that cannot be
written never fails the notebook (the warning names the command that rebuilds it).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import platform
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .catalog import record_after_batch
from .files.atomic import write_bytes_atomic, write_json_atomic
from .results import RUN_SCHEMA, STAGES
from .sites.loading import Site
from .status import Status, worst
from .version import package_version

log = logging.getLogger("esus_runbook.interativo")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@contextmanager
def _locked(run_dir: Path):
    with open(run_dir / ".run.json.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == RUN_SCHEMA else None


def _site_status(site_dir: Path) -> str:
    statuses = []
    for stage in STAGES:
        data = None
        try:
            data = json.loads((site_dir / f"{stage}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        try:
            statuses.append(Status(data.get("status")) if isinstance(data, dict)
                            else Status.PENDENTE)
        except ValueError:
            statuses.append(Status.PENDENTE)
    return worst(statuses).value


def record_stage(run_dir: str | Path, site: Site, site_file: str | Path) -> Path:
    """Write the site's snapshot and (create or update) the interactive ``run.json``;
    return its path. Called after each stage saved its result in JupyterLab."""
    run_dir = Path(run_dir)
    data = json.dumps(site.to_json(), ensure_ascii=False, indent=2).encode() + b"\n"
    write_bytes_atomic(run_dir / site.site_id / "site.json", data)
    snapshot = "sha256:" + hashlib.sha256(data).hexdigest()
    source = Path(site_file)
    try:
        source_hash = "sha256:" + hashlib.sha256(source.read_bytes()).hexdigest()
    except OSError:
        source_hash = None
    with _locked(run_dir):
        meta = _read(run_dir / "run.json")
        now = _now()
        if meta is None or not meta.get("interactive"):
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
            meta = {"schema": RUN_SCHEMA, "run_id": f"interativo-{stamp}-{secrets.token_hex(3)}",
                    "interactive": True, "status": "em_andamento", "started_at": now,
                    "finished_at": None, "inventory": {"path": str(source.resolve()),
                                                       "files": {}},
                    "site_snapshots": {}, "notebooks": {},
                    "versions": {"esus_runbook": package_version(),
                                 "python": platform.python_version()},
                    "options": {"engine": "local", "interactive": True},
                    "passes": [{"started_at": now, "status": "em_andamento",
                                "host": platform.node(), "pid": os.getpid()}],
                    "sites": {}}
        meta["inventory"]["files"][str(source.resolve())] = source_hash
        meta["site_snapshots"][site.site_id] = snapshot
        meta["sites"][site.site_id] = {"status": _site_status(run_dir / site.site_id),
                                      "updated_at": now}
        meta["updated_at"] = now
        write_json_atomic(run_dir / "run.json", meta)
    record_after_batch(run_dir, log)
    return run_dir / "run.json"
