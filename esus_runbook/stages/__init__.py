"""The six implantation stages: their registry and what runs a stage.

Each stage is declared once in :mod:`.registry` (a :class:`~.base.Stage`: name, pt-BR
title, notebook, input keys and files, ``evaluate``, charts, the notebook view, the
report's extra HTML and the next steps); its logic lives in ``stages/<stage>.py``.

Stages read earlier stages and earlier runs only through :class:`StageContext` (their JSON
results), never their notebooks.

Input fingerprints (``result.inputs``) let a resumed batch skip a stage whose inputs did not
change. :func:`evaluate` records them *before* the stage runs (so a file changed while the
stage reads it shows up as changed):

- ``site``: sha256 of the values of the stage's ``input_keys`` (paths are absolute: moving a
  file counts);
- one entry per ``input_files`` key: for a file holding a secret (every ``*_file`` key) the
  slow salted ``secret_refs.file_fingerprint``, never a content hash; for the others
  ``sha256:<hex>`` of the content; above ``context.HASH_LIMIT``
  (64 MB) ``sample:<size>:<mtime_ns>:<sha256 of the first and last MB>``, because hashing a
  capital's CNES XML on every resume would cost more than re-running most stages (a file
  edited in the middle with size and mtime preserved is the accepted blind spot); None when
  the file is absent;
- ``resultado.<stage>`` for every earlier result of this run the stage read through
  ``ctx.previous()``, and ``execucao_anterior.<stage>`` for every result of an earlier run
  it read through ``ctx.earlier_run()``: sha256 of that result's status, checks, metrics and
  error (not its timestamps), so a stage runs again when what it read changed;
- ``esus_runbook``: the package version (an upgrade re-executes everything);
- whatever the stage's optional ``extra_fingerprint(site) -> dict`` returns, for inputs that
  are neither site keys nor files. A secret (contra-chave, password) must never appear there
  in clear nor as a fast hash: use ``secret_refs.fingerprint(value, salt)`` (PBKDF2, slow)
  with a salt that is stable for the site, so an unchanged secret gives the same entry.

A stage that depends on something that cannot be fingerprinted (a live server) is reused on
resume like any other: resuming continues a run, it does not re-probe what already finished.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from importlib import import_module
from types import ModuleType
from typing import Any

from .. import secret_refs
from ..results import StageResult
from ..sites.loading import Site
from ..version import package_version
from . import context, view
from .base import Stage
from .context import StageContext, file_fingerprint, read_inputs, result_digest
from .registry import NOTEBOOK_FILES, REPORT, REPORT_NOTEBOOK, STAGES, get, title
from .steps import Step

__all__ = ["NOTEBOOK_FILES", "REPORT", "REPORT_NOTEBOOK", "STAGES", "Stage", "StageContext",
           "Step", "chart_svgs", "context", "current_inputs", "evaluate",
           "file_fingerprint", "fingerprint", "get", "has_charts", "module",
           "report_sections", "result_digest", "title"]


def module(stage: str) -> ModuleType:
    """The module holding the stage's logic (imported now)."""
    get(stage)  # KeyError for an unknown stage
    return import_module(f"{__name__}.{stage}")


def _lookup(site: Site, dotted: str) -> Any:
    node: Any = site.data
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def fingerprint(stage: str, site: Site) -> dict[str, Any]:
    """The inputs a stage's result depends on, except the results it reads through its
    context (see the module docstring). Used to skip unchanged stages when a batch
    resumes."""
    decl = get(stage)
    keys = {k: _lookup(site, k) for k in decl.input_keys}
    blob = json.dumps(keys, sort_keys=True, default=str).encode()
    out: dict[str, Any] = {"site": "sha256:" + hashlib.sha256(blob).hexdigest(),
                           "esus_runbook": package_version()}
    for dotted in decl.input_files:
        path = _lookup(site, dotted)
        out[dotted] = (secret_refs.file_fingerprint(path, secret_refs.resume_salt(site.site_id))
                       if secret_refs.is_secret_file_key(dotted) else file_fingerprint(path))
    if decl.extra_fingerprint is not None:
        out.update(decl.extra_fingerprint(site))
    return out


def current_inputs(stage: str, site: Site, recorded: Mapping[str, Any],
                   run_site_dir: str | os.PathLike) -> dict[str, Any]:
    """What :func:`evaluate` would record for ``stage`` now, given the inputs ``recorded`` by
    its last execution (which tell the results it read through its context)."""
    out = fingerprint(stage, site)
    out.update(read_inputs(recorded, run_site_dir))
    return out


def evaluate(stage: str, site: Site, ctx: StageContext | None = None) -> StageResult:
    """Run one stage for one site and stamp its input fingerprints on the result."""
    ctx = ctx or StageContext()
    inputs = fingerprint(stage, site)  # before: a file changed meanwhile counts as changed
    result = get(stage).evaluate(site, ctx)
    inputs.update(ctx.read)
    result.inputs = inputs
    return result


def has_charts(result: StageResult) -> bool:
    """Whether the stage draws charts for this result."""
    return view.draws_charts(get(result.stage), result)


def chart_svgs(result: StageResult,
               run_site_dir: str | os.PathLike | None = None) -> list[tuple[str, str]]:
    """The stage's charts as inline SVG, cached beside the result (see
    :func:`.view.chart_svgs`)."""
    return view.chart_svgs(get(result.stage), result, run_site_dir)


def report_sections(result: StageResult) -> list[str]:
    """Extra HTML a stage adds under its checks in the site report (its declaration's
    ``report_html``), e.g. the xml stage's "Depois da importação"."""
    fn = get(result.stage).report_html
    if fn is None or result.status.value == "erro":
        return []
    html = fn(result)
    return [html] if html else []
