"""The run catalog: every run of every site in one SQLite file (``<execucoes>/catalogo.sqlite``),
the per-site dossier and the state dashboard built from it. See docs/catalogo.md.
"""

from __future__ import annotations

import logging
import shlex
import sqlite3
from pathlib import Path

from ..errors import RunbookError
from .store import (
    CATALOG_NAME,
    RunRecord,
    catalog_path,
    connect,
    import_folders,
    read_run,
    record_run,
    run_folders,
    write_run,
)

DOSSIERS_DIR = "dossies"
DASHBOARD_NAME = "painel.html"

__all__ = ["CATALOG_NAME", "DASHBOARD_NAME", "DOSSIERS_DIR", "RunRecord", "catalog_path",
           "connect", "dossier_path", "import_folders", "read_run", "record_after_batch",
           "record_run", "run_folders", "write_run"]


def dossier_path(executions: str | Path, site_id: str) -> Path:
    """Where ``esus-runbook dossie`` writes a site's dossier by default."""
    return Path(executions) / DOSSIERS_DIR / f"{site_id}.html"


def record_after_batch(run_dir: Path, log: logging.Logger) -> bool:
    """Record a run that just ended (or was interrupted) in its executions folder's catalog.
    Never fails the batch: a catalog that cannot be written is a warning in run.log with the
    command that rebuilds it."""
    try:
        record_run(run_dir)
        return True
    except (sqlite3.Error, OSError, RunbookError) as exc:
        log.warning("catálogo não atualizado (%s): reconstrua com esus-runbook catalogo "
                    "importar %s", " ".join(str(exc).split())[:300],
                    shlex.quote(str(run_dir.parent)))
        return False
