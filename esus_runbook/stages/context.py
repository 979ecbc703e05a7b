"""What a stage may read besides its site: earlier stages of this run, earlier runs of the
same site, the environment. Everything read here is fingerprinted (see ``stages``)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..results import StageResult
from ..run_folder import earlier_runs, stage_result_path

# Files larger than this are fingerprinted by size and mtime instead of content.
HASH_LIMIT = 64 * 1024 * 1024
SAMPLE = 1024 * 1024  # bytes hashed at each end of a file above HASH_LIMIT

PREVIOUS = "resultado"
"""Prefix of the input key recording an earlier stage of this run read through
:meth:`StageContext.previous`."""
EARLIER_RUN = "execucao_anterior"
"""Prefix of the input key recording a result of an earlier run read through
:meth:`StageContext.earlier_run`."""


@dataclass
class StageContext:
    """What a stage may use besides the site: the folder of this site's results in the
    current run (to read earlier stages and earlier runs) and the environment (for secret
    references)."""

    run_site_dir: Path | None = None
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    interactive: bool = False
    read: dict[str, str | None] = field(default_factory=dict)
    """Input key (``resultado.<stage>``, ``execucao_anterior.<stage>``) → digest of each
    result read through this context (recorded in the result's inputs)."""

    def previous(self, stage: str) -> StageResult | None:
        """The latest result of ``stage`` for this site in this run, if any."""
        if self.run_site_dir is None:
            return None
        path = stage_result_path(self.run_site_dir, stage)
        result = StageResult.load(path) if path.exists() else None
        self.read[f"{PREVIOUS}.{stage}"] = result_digest(result)
        return result

    def earlier_run(self, stage: str) -> StageResult | None:
        """This site's result of ``stage`` in the latest earlier run of the same output
        folder (runs are named so that they sort by time), if any."""
        if self.run_site_dir is None:
            return None
        path = earlier_run_result(self.run_site_dir, stage)
        result = _load_quietly(path)
        self.read[f"{EARLIER_RUN}.{stage}"] = result_digest(result)
        return result


def earlier_run_result(run_site_dir: str | os.PathLike, stage: str) -> Path | None:
    """Path of this site's result of ``stage`` in the latest earlier run
    (:func:`.run_folder.earlier_runs`; ``run_site_dir`` is ``<runs>/<this run>/<site_id>``)
    that has a readable result."""
    here = Path(run_site_dir).resolve()
    for candidate in earlier_runs(here.parent):
        path = stage_result_path(candidate / here.name, stage)
        if path.exists() and _load_quietly(path) is not None:
            return path
    return None


def _load_quietly(path: Path | None) -> StageResult | None:
    if path is None:
        return None
    try:
        return StageResult.load(path)
    except Exception:  # an unreadable older result is not this run's problem
        return None


def read_inputs(keys, run_site_dir: str | os.PathLike) -> dict[str, str | None]:
    """The current digest of every ``resultado.*``/``execucao_anterior.*`` key in ``keys``
    (what :class:`StageContext` would record now), for resuming a batch."""
    out: dict[str, str | None] = {}
    for key in keys:
        prefix, _, stage = key.partition(".")
        if prefix == PREVIOUS:
            path = stage_result_path(run_site_dir, stage)
            try:
                out[key] = result_digest(StageResult.load(path)) if path.exists() else None
            except Exception:  # an unreadable result counts as changed
                out[key] = "ilegivel"
        elif prefix == EARLIER_RUN:
            out[key] = result_digest(_load_quietly(earlier_run_result(run_site_dir, stage)))
    return out


def result_digest(result: StageResult | None) -> str | None:
    """sha256 of what a result says (status, checks, metrics, error), timestamps left out."""
    if result is None:
        return None
    d = result.to_dict()
    blob = json.dumps({k: d.get(k) for k in ("status", "checks", "metrics", "error")},
                      sort_keys=True, ensure_ascii=False, default=str).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def file_fingerprint(path: str | os.PathLike | None) -> str | None:
    """``sha256:<hex>`` of a file's content (above HASH_LIMIT: size, mtime and a hash of its
    first and last MB); None when the file does not exist."""
    if not path:
        return None
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    if not p.is_file():
        return None
    h = hashlib.sha256()
    if st.st_size > HASH_LIMIT:
        with p.open("rb") as fh:
            h.update(fh.read(SAMPLE))
            fh.seek(-SAMPLE, os.SEEK_END)
            h.update(fh.read(SAMPLE))
        return f"sample:{st.st_size}:{st.st_mtime_ns}:{h.hexdigest()}"
    with p.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()
