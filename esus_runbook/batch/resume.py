"""What a resumed (or re-run) site may reuse from its run folder, and crash leftovers.

A stage is reused when all of these hold:

- ``<stage>.json`` loads, has ``finished_at`` and its status is not ``erro`` (a crashed stage
  always runs again);
- its executed notebook ``NN_<stage>.ipynb`` exists under its final name (papermill writes
  under a temporary name that is renamed only when the notebook ends);
- its recorded input fingerprints equal the current ones (:func:`stages.current_inputs`: site
  keys, input files, earlier results it read, package version, ``extra_fingerprint``).

The site report is reused when no stage ran in this pass and ``.relatorio.inputs`` (written
after notebook 07 succeeded) still matches the digest of the six results and the site
snapshot it was built from.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from .. import stages
from ..files.atomic import write_json_atomic
from ..results import STAGES, StageResult
from ..sites.loading import Site
from ..status import Status

NOTEBOOKS_DIR = "_notebooks"  # not a valid site_id (site ids are [a-z0-9-])
REPORT_STAMP = ".relatorio.inputs"


def stage_reusable(stage: str, site: Site, site_dir: Path) -> bool:
    path = site_dir / f"{stage}.json"
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
    for name in ("site.json", *(f"{s}.json" for s in STAGES)):
        p = site_dir / name
        h.update(name.encode() + b"\0")
        h.update(p.read_bytes() if p.exists() else b"-")
    return "sha256:" + h.hexdigest()


def report_current(site_dir: Path) -> bool:
    stamp = site_dir / REPORT_STAMP
    if not (stamp.exists() and (site_dir / "relatorio.html").exists()
            and (site_dir / stages.NOTEBOOK_FILES["relatorio"]).exists()):
        return False
    try:
        return json.loads(stamp.read_text(encoding="utf-8")).get("digest") == \
            _report_digest(site_dir)
    except (OSError, ValueError):
        return False


def remember_report(site_dir: Path) -> None:
    write_json_atomic(site_dir / REPORT_STAMP, {"digest": _report_digest(site_dir)})


def forget_report(site_dir: Path) -> None:
    (site_dir / REPORT_STAMP).unlink(missing_ok=True)


def remove_partials(site_dir: Path) -> list[str]:
    """Delete what a killed batch may have left under temporary names: papermill's
    ``.NN_x.partial.ipynb`` and ``write_*_atomic``'s ``.<name>.<random>.tmp``."""
    removed = []
    try:
        entries = list(os.scandir(site_dir))
    except FileNotFoundError:
        return removed
    for e in entries:
        if e.name.startswith(".") and (e.name.endswith(".partial.ipynb")
                                       or e.name.endswith(".tmp")):
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
        path = site_dir / f"{stage}.json"
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
