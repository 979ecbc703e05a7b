"""Work done in JupyterLab is a run: a ``run.json`` like the batch's, marked
``"interactive": true``, so ``catalogo importar``, the painel and the dossier include it.

``esus-runbook lab`` gives each site a workspace whose notebooks pass ``run_dir`` (the
interactive folder, ``execucoes/interativo`` by default) and ``interactive=True``. Each
stage evaluated there saves its result in the site folder (as a batch does, see
:mod:`.run_folder`) and then calls :func:`record_stage`, which refreshes the site's snapshot
and the folder's ``run.json``: its ``run_id`` is chosen once and kept, so importing the
folder again updates the same run in the catalog. Several kernels of one folder (a lab opened on an
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

from . import run_folder
from .catalog import record_after_batch
from .results import STAGES
from .run_folder import RUN_SCHEMA
from .sites.loading import Site
from .status import RunStatus, Status, worst
from .version import package_version

log = logging.getLogger("esus_runbook.interativo")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@contextmanager
def _locked(run_dir: Path):
    with open(run_folder.interactive_lock_path(run_dir), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _site_status(site_dir: Path) -> str:
    statuses = []
    for stage in STAGES:
        data = None
        try:
            data = json.loads(run_folder.stage_result_path(site_dir, stage)
                              .read_text(encoding="utf-8"))
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
    site_dir = run_folder.site_dir(run_dir, site.site_id)
    snapshot = run_folder.write_site_snapshot(site_dir, site.to_json())
    source = Path(site_file)
    try:
        source_hash = "sha256:" + hashlib.sha256(source.read_bytes()).hexdigest()
    except OSError:
        source_hash = None
    with _locked(run_dir):
        meta = run_folder.read_run_meta(run_dir)
        now = _now()
        if meta is None or not meta.get("interactive"):
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
            meta = {"schema": RUN_SCHEMA, "run_id": f"interativo-{stamp}-{secrets.token_hex(3)}",
                    "interactive": True, "status": RunStatus.EM_ANDAMENTO,
                    "started_at": now,
                    "finished_at": None, "inventory": {"path": str(source.resolve()),
                                                       "files": {}},
                    "site_snapshots": {}, "notebooks": {},
                    "versions": {"esus_runbook": package_version(),
                                 "python": platform.python_version()},
                    "options": {"engine": "local", "interactive": True},
                    "passes": [{"started_at": now, "status": RunStatus.EM_ANDAMENTO,
                                "host": platform.node(), "pid": os.getpid()}],
                    "sites": {}}
        meta["inventory"]["files"][str(source.resolve())] = source_hash
        meta["site_snapshots"][site.site_id] = snapshot
        meta["sites"][site.site_id] = {"status": _site_status(site_dir),
                                      "updated_at": now}
        meta["updated_at"] = now
        path = run_folder.write_run_meta(run_dir, meta)
    record_after_batch(run_dir, log)
    return path
