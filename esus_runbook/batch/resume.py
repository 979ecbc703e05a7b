"""What a resumed (or re-run) site may reuse from its run folder, and crash leftovers.

A stage is reused when all of these hold:

- its result (:func:`.run_folder.stage_result_path`) loads, has ``finished_at`` and its
  status is not ``erro`` (a crashed stage always runs again);
- its executed notebook ``NN_<stage>.ipynb`` exists under its final name (papermill writes
  under a temporary name that is renamed only when the notebook ends);
- its recorded input fingerprints equal the current ones (:func:`stages.current_inputs`: site
  keys, input files, earlier results it read, package version, ``extra_fingerprint``).

The site report is reused when no stage ran in this pass and its stamp
(:func:`.run_folder.report_stamp_path`, written after notebook 07 succeeded) still matches
the digest of the six results and the site snapshot it was built from.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from .. import run_folder, stages
from ..files.atomic import write_json_atomic
from ..results import STAGES, StageResult
from ..sites.loading import Site
from ..status import Status


def stage_reusable(stage: str, site: Site, site_dir: Path) -> bool:
    path = run_folder.stage_result_path(site_dir, stage)
    if not path.exists() or not (site_dir / stages.NOTEBOOK_FILES[stage]).exists():
        return False
    try:
        r = StageResult.load(path)
        if r.finished_at is None or r.status is Status.ERRO or not r.inputs:
            return False
        return r.inputs == stages.current_inputs(stage, site, r.inputs, site_dir)
    except Exception:  # unreadable result, secret reference that no longer resolves, …
        return False


def _report_digest(site_dir: Path) -> str:
    h = hashlib.sha256()
    for name in (run_folder.SITE_FILE, *map(run_folder.stage_result_name, STAGES)):
        p = site_dir / name
        h.update(name.encode() + b"\0")
        h.update(p.read_bytes() if p.exists() else b"-")
    return "sha256:" + h.hexdigest()


def report_current(site_dir: Path) -> bool:
    stamp = run_folder.report_stamp_path(site_dir)
    if not (stamp.exists() and run_folder.report_path(site_dir).exists()
            and (site_dir / stages.REPORT_NOTEBOOK).exists()):
        return False
    try:
        return json.loads(stamp.read_text(encoding="utf-8")).get("digest") == \
            _report_digest(site_dir)
    except (OSError, ValueError):
        return False


def remember_report(site_dir: Path) -> None:
    write_json_atomic(run_folder.report_stamp_path(site_dir),
                      {"digest": _report_digest(site_dir)})


def forget_report(site_dir: Path) -> None:
    run_folder.report_stamp_path(site_dir).unlink(missing_ok=True)


def remove_partials(site_dir: Path) -> list[str]:
    """Delete what a killed batch may have left under temporary names
    (:func:`.run_folder.is_partial`: papermill's partial notebooks and ``write_*_atomic``'s
    temporary files)."""
    removed = []
    try:
        entries = list(os.scandir(site_dir))
    except FileNotFoundError:
        return removed
    for e in entries:
        if run_folder.is_partial(e.name):
            try:
                os.unlink(e.path)
                removed.append(e.name)
            except FileNotFoundError:
                pass
    return removed


def mark_missing_as_error(site_dir: Path, site_id: str, message: str,
                          only: Iterable[str] = STAGES) -> list[str]:
    """Write an ``erro`` result for each stage without a complete result (the site's task
    itself failed), so the roll-up does not show them as merely pending."""
    marked = []
    for stage in only:
        path = run_folder.stage_result_path(site_dir, stage)
        try:
            if path.exists() and StageResult.load(path).finished_at is not None:
                continue
        except Exception:
            pass
        try:
            StageResult.crashed(site_id, stage, message).save(site_dir)
            marked.append(stage)
        except OSError:
            continue
    return marked
