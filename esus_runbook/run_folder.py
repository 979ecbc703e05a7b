"""The layout of a run folder: every name in ``<execucoes>/<run>/<site>/``, declared once.

Every module that reads or writes a run folder builds its paths here::

    <execucoes>/                    the executions folder (catalog, painel, dossiers beside runs)
      <run>/                        a run: a batch's <YYYYmmdd-HHMMSS>-<hex>, or interativo/
                                    (JupyterLab work: its run.json says "interactive": true)
        run.json                    the run (schema esus-runbook/run/1); "status": RunStatus
        run.log  .lock              the batch's log and its lock (.run.json.lock: interactive)
        rollup.csv/.json/.html      the roll-up of every site (report.rollup)
        _notebooks/                 the run's copy of the notebooks (never a site id)
        <site_id>/                  a site folder: the one that holds a regular site.json
          site.json                 the site's snapshot (the site file as the run read it)
          <stage>.json              each stage's result (schema esus-runbook/stage-result/1)
          NN_<stage>.ipynb          the executed notebooks
          relatorio.html            the site report (notebook 07)
          .<stage>.graficos.json    the stage's charts as SVG, drawn once (stages.view)
          .relatorio.inputs         what the report was built from (resuming a batch)

Files are written atomically (:mod:`.files.atomic`): a killed writer leaves at most a hidden
``.<name>.<random>.tmp`` — and papermill a hidden ``.NN_<stage>.partial.ipynb`` — that
:func:`is_partial` recognises and the resume deletes.

The run's status is a :class:`~.status.RunStatus`. This module knows names and folders only:
the JSON formats belong to their modules (``results`` for stage results, ``report.rollup``
for the roll-up) and the bounded, validated reading of a run to the catalog.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .files.atomic import json_text, write_bytes_atomic, write_json_atomic
from .status import RunStatus

# ----------------------------------------------------------------------------- the runs
INTERACTIVE_DIR = "interativo"
"""The run that JupyterLab work records into (``esus-runbook lab``), in the executions
folder."""

# ----------------------------------------------------------------------------- a run
RUN_FILE = "run.json"
RUN_SCHEMA = "esus-runbook/run/1"
RUN_LOG = "run.log"
RUN_LOCK = ".lock"
"""The batch's exclusive lock on the run folder (held while a batch writes it)."""
INTERACTIVE_LOCK = ".run.json.lock"
"""The lock under which JupyterLab kernels update the interactive ``run.json``."""
NOTEBOOKS_DIR = "_notebooks"
"""The run's own copy of the notebooks; ``_`` is never in a site id, so it is no site."""
ROLLUP_STEM = "rollup"
ROLLUP_FORMATS = ("csv", "json", "html")
ROLLUP_SCHEMA = "esus-runbook/rollup/1"

# ----------------------------------------------------------------------------- a site
SITE_FILE = "site.json"
REPORT_FILE = "relatorio.html"
REPORT_STAMP = ".relatorio.inputs"
CHART_CACHE_SUFFIX = ".graficos.json"
RESULT_SUFFIX = ".json"

# ----------------------------------------------------------------------------- leftovers
PARTIAL_NOTEBOOK_SUFFIX = ".partial.ipynb"  # papermill's output before it is complete
TEMPORARY_SUFFIX = ".tmp"                   # files.atomic's file before its rename


# ----------------------------------------------------------------------------- paths
def interactive_dir(execucoes: str | os.PathLike) -> Path:
    """``<execucoes>/interativo``: where JupyterLab work is recorded."""
    return Path(execucoes) / INTERACTIVE_DIR


def run_file(run_dir: str | os.PathLike) -> Path:
    """``<run>/run.json``."""
    return Path(run_dir) / RUN_FILE


def log_path(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / RUN_LOG


def lock_path(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / RUN_LOCK


def interactive_lock_path(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / INTERACTIVE_LOCK


def notebooks_dir(run_dir: str | os.PathLike) -> Path:
    """``<run>/_notebooks``: the notebooks a batch executes."""
    return Path(run_dir) / NOTEBOOKS_DIR


def rollup_name(fmt: str) -> str:
    """``rollup.<fmt>`` for ``fmt`` in :data:`ROLLUP_FORMATS`."""
    if fmt not in ROLLUP_FORMATS:
        raise ValueError(f"unknown roll-up format {fmt!r}")
    return f"{ROLLUP_STEM}.{fmt}"


def rollup_path(run_dir: str | os.PathLike, fmt: str) -> Path:
    """``<run>/rollup.<fmt>`` for ``fmt`` in :data:`ROLLUP_FORMATS`."""
    return Path(run_dir) / rollup_name(fmt)


def rollup_paths(run_dir: str | os.PathLike) -> dict[str, Path]:
    """``{"csv": <run>/rollup.csv, "json": ..., "html": ...}``."""
    return {fmt: rollup_path(run_dir, fmt) for fmt in ROLLUP_FORMATS}


def site_dir(run_dir: str | os.PathLike, site_id: str) -> Path:
    """``<run>/<site_id>``."""
    return Path(run_dir) / site_id


def site_file(site_dir: str | os.PathLike) -> Path:
    """``<site>/site.json``: the site's snapshot."""
    return Path(site_dir) / SITE_FILE


def stage_result_name(stage: str) -> str:
    """``<stage>.json``: the file name of a stage's result."""
    return f"{stage}{RESULT_SUFFIX}"


def stage_result_path(site_dir: str | os.PathLike, stage: str) -> Path:
    """``<site>/<stage>.json``."""
    return Path(site_dir) / stage_result_name(stage)


def report_path(site_dir: str | os.PathLike) -> Path:
    """``<site>/relatorio.html``: the site report."""
    return Path(site_dir) / REPORT_FILE


def report_stamp_path(site_dir: str | os.PathLike) -> Path:
    """``<site>/.relatorio.inputs``: the digest the report was built from."""
    return Path(site_dir) / REPORT_STAMP


def chart_cache_path(site_dir: str | os.PathLike, stage: str) -> Path:
    """``<site>/.<stage>.graficos.json``: the stage's charts, drawn once."""
    return Path(site_dir) / f".{stage}{CHART_CACHE_SUFFIX}"


def is_partial(name: str) -> bool:
    """Whether a file name is what a killed writer leaves: a hidden ``.<name>.<random>.tmp``
    (:mod:`.files.atomic`) or ``.NN_<stage>.partial.ipynb`` (papermill)."""
    return name.startswith(".") and (name.endswith(PARTIAL_NOTEBOOK_SUFFIX)
                                     or name.endswith(TEMPORARY_SUFFIX))


# ----------------------------------------------------------------------------- what is what
def is_site_dir(path: str | os.PathLike) -> bool:
    """The one rule for a site folder: a folder whose name is not hidden (``.``) nor
    reserved (``_notebooks``) holding a regular ``site.json`` (a snapshot still under its
    temporary name does not count)."""
    path = Path(path)
    if path.name.startswith((".", "_")):
        return False
    try:
        return site_file(path).is_file()
    except OSError:
        return False


def site_dirs(run_dir: str | os.PathLike) -> list[Path]:
    """The site folders of a run (:func:`is_site_dir`), sorted by site id."""
    return sorted(p for p in Path(run_dir).iterdir() if is_site_dir(p))


def site_ids(run_dir: str | os.PathLike) -> list[str]:
    """The ids of the sites a run folder holds."""
    return [p.name for p in site_dirs(run_dir)]


def is_run_dir(path: str | os.PathLike) -> bool:
    """Whether ``path`` holds a regular ``run.json`` (whether it is a valid one, its reader
    says)."""
    try:
        return run_file(path).is_file()
    except OSError:
        return False


def run_dirs(execucoes: str | os.PathLike) -> list[Path]:
    """The run folders directly inside an executions folder, sorted by name (batch runs are
    named so that this is their order in time)."""
    return sorted(p for p in Path(execucoes).iterdir() if p.is_dir() and is_run_dir(p))


def earlier_runs(run_dir: str | os.PathLike) -> list[Path]:
    """The folders beside ``run_dir`` whose names sort before (or as) its own, latest first:
    where a stage looks for this site's earlier results. Empty when the executions folder
    cannot be listed."""
    run = Path(run_dir)
    try:
        found = [p for p in run.parent.iterdir()
                 if p.is_dir() and p != run and p.name <= run.name]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.name, reverse=True)


# ----------------------------------------------------------------------------- run.json
def read_run_meta(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """``run.json`` when it is one of this tool's (its ``schema``); None when it is
    missing, unreadable or something else."""
    try:
        meta = json.loads(run_file(run_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("schema") == RUN_SCHEMA else None


def write_run_meta(run_dir: str | os.PathLike, meta: dict[str, Any]) -> Path:
    """Write ``run.json`` atomically (its ``status`` values are :class:`RunStatus`) and
    return its path."""
    path = run_file(run_dir)
    write_json_atomic(path, meta)
    return path


RUN_STATUS_LABELS = {RunStatus.CONCLUIDO: "concluída", RunStatus.INTERROMPIDO: "interrompida",
                     RunStatus.EM_ANDAMENTO: "sem fim registrado"}
"""How a page words whether a run ended (the dossier's runs table)."""


def run_status(meta: dict[str, Any] | None) -> RunStatus | None:
    """The status ``run.json`` records; None when it has none this tool knows."""
    try:
        return RunStatus((meta or {}).get("status"))
    except ValueError:
        return None


def finished_status(interrupted: bool) -> RunStatus:
    """The status of a run (or pass) that ended: ``interrompido`` or ``concluido``."""
    return RunStatus.INTERROMPIDO if interrupted else RunStatus.CONCLUIDO


# ----------------------------------------------------------------------------- site.json
def write_site_snapshot(site_dir: str | os.PathLike, data: dict[str, Any]) -> str:
    """Write the site's snapshot atomically and return its ``sha256:<hex>`` (what
    ``run.json`` records in ``site_snapshots``)."""
    blob = json_text(data).encode("utf-8")
    write_bytes_atomic(site_file(site_dir), blob)
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def read_site_snapshot(site_dir: str | os.PathLike) -> dict[str, Any]:
    """The site's snapshot as written (OSError when it is missing, ValueError when it is
    not JSON)."""
    return json.loads(site_file(site_dir).read_text(encoding="utf-8"))
