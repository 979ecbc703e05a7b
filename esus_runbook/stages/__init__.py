"""The six implantation stages.

Each stage is a module ``esus_runbook.stages.<stage>`` with::

    TITLE: str                              # pt-BR name shown in reports
    INPUT_KEYS: tuple[str, ...]             # site keys/sections the result depends on
    INPUT_FILES: tuple[str, ...]            # "section.key" paths of files it reads
    def evaluate(site, ctx) -> StageResult  # never raises for bad *site data*: a missing
                                            # input is `pendente`, a bad one `falha`
    def charts(result) -> list[(title, matplotlib Figure)]   # optional

Stages read earlier stages through :class:`StageContext` (their JSON results), never their
notebooks. Modules are imported lazily so a notebook only pays for the stage it runs: keep
pandas, lxml, matplotlib, requests and psycopg imports inside functions.

Input fingerprints (``result.inputs``) let a resumed batch skip a stage whose inputs did not
change. :func:`evaluate` records them *before* the stage runs (so a file changed while the
stage reads it shows up as changed):

- ``site``: sha256 of the values of ``INPUT_KEYS`` (paths are absolute: moving a file counts);
- one entry per ``INPUT_FILES`` key: for a file holding a secret (every ``*_file`` key) the
  slow salted ``secrets.file_fingerprint``, never a content hash; for the others
  ``sha256:<hex>`` of the content; above ``HASH_LIMIT``
  (64 MB) ``sample:<size>:<mtime_ns>:<sha256 of the first and last MB>``, because hashing a
  capital's CNES XML on every resume would cost more than re-running most stages (a file
  edited in the middle with size and mtime preserved is the accepted blind spot); None when
  the file is absent;
- ``resultado.<stage>`` for every earlier result the stage read through ``ctx.previous()``:
  sha256 of that result's status, checks, metrics and error (not its timestamps), so a stage
  runs again when a stage it depends on changed its outcome;
- ``esus_runbook``: the package version (an upgrade re-executes everything);
- whatever the stage's optional ``extra_fingerprint(site) -> dict`` returns, for inputs that
  are neither site keys nor files. A secret (contra-chave, password) must never appear there
  in clear nor as a fast hash: use ``secrets.fingerprint(value, salt)`` (PBKDF2, slow) with a
  salt that is stable for the site, so an unchanged secret gives the same entry.

A stage that depends on something that cannot be fingerprinted (a live server) is reused on
resume like any other: resuming continues a run, it does not re-probe what already finished.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .. import secrets
from ..results import STAGES, StageResult
from ..sites import Site

NOTEBOOKS = {
    "cenario": "01_cenario.ipynb",
    "ambiente": "02_ambiente.ipynb",
    "download": "03_download.ipynb",
    "instalacao": "04_instalacao.ipynb",
    "contra_chave": "05_contra_chave.ipynb",
    "xml": "06_xml.ipynb",
    "relatorio": "07_relatorio.ipynb",
}
TITLES = {
    "cenario": "Definição do cenário",
    "ambiente": "Preparação do ambiente",
    "download": "Download do instalador",
    "instalacao": "Instalação e configuração",
    "contra_chave": "Contra-chave",
    "xml": "Importação do XML do CNES",
}
# Files larger than this are fingerprinted by size and mtime instead of content.
HASH_LIMIT = 64 * 1024 * 1024
SAMPLE = 1024 * 1024  # bytes hashed at each end of a file above HASH_LIMIT


@dataclass
class StageContext:
    """What a stage may use besides the site: the folder of this site's results in the
    current run (to read earlier stages) and the environment (for secret references)."""

    run_site_dir: Path | None = None
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    interactive: bool = False
    read: dict[str, str | None] = field(default_factory=dict)
    """Digest of each earlier result read through :meth:`previous` (recorded in inputs)."""

    def previous(self, stage: str) -> StageResult | None:
        """The latest result of ``stage`` for this site in this run, if any."""
        if self.run_site_dir is None:
            return None
        path = Path(self.run_site_dir) / f"{stage}.json"
        result = StageResult.load(path) if path.exists() else None
        self.read[stage] = result_digest(result)
        return result


def result_digest(result: StageResult | None) -> str | None:
    """sha256 of what a result says (status, checks, metrics, error), timestamps left out."""
    if result is None:
        return None
    d = result.to_dict()
    blob = json.dumps({k: d.get(k) for k in ("status", "checks", "metrics", "error")},
                      sort_keys=True, ensure_ascii=False, default=str).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def module(stage: str) -> ModuleType:
    if stage not in STAGES:
        raise KeyError(stage)
    return importlib.import_module(f"{__name__}.{stage}")


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


def _lookup(site: Site, dotted: str) -> Any:
    node: Any = site.data
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("esus-runbook")
    except PackageNotFoundError:
        return None


def fingerprint(stage: str, site: Site) -> dict[str, Any]:
    """The inputs a stage's result depends on, except the earlier results it reads (see the
    module docstring). Used to skip unchanged stages when a batch resumes."""
    mod = module(stage)
    keys = {k: _lookup(site, k) for k in getattr(mod, "INPUT_KEYS", ())}
    blob = json.dumps(keys, sort_keys=True, default=str).encode()
    out: dict[str, Any] = {"site": "sha256:" + hashlib.sha256(blob).hexdigest(),
                           "esus_runbook": _version()}
    for dotted in getattr(mod, "INPUT_FILES", ()):
        path = _lookup(site, dotted)
        out[dotted] = (secrets.file_fingerprint(path, secrets.resume_salt(site.site_id))
                       if secrets.is_secret_file_key(dotted) else file_fingerprint(path))
    extra = getattr(mod, "extra_fingerprint", None)
    if extra is not None:
        out.update(extra(site))
    return out


def current_inputs(stage: str, site: Site, recorded: Mapping[str, Any],
                   run_site_dir: str | os.PathLike) -> dict[str, Any]:
    """What :func:`evaluate` would record for ``stage`` now, given the inputs ``recorded`` by
    its last execution (which tell the earlier results it read)."""
    out = fingerprint(stage, site)
    for key in recorded:
        if key.startswith("resultado."):
            path = Path(run_site_dir) / f"{key.split('.', 1)[1]}.json"
            try:
                out[key] = result_digest(StageResult.load(path)) if path.exists() else None
            except Exception:  # an unreadable result counts as changed
                out[key] = "ilegivel"
    return out


def evaluate(stage: str, site: Site, ctx: StageContext | None = None) -> StageResult:
    """Run one stage for one site and stamp its input fingerprints on the result."""
    ctx = ctx or StageContext()
    inputs = fingerprint(stage, site)  # before: a file changed meanwhile counts as changed
    result = module(stage).evaluate(site, ctx)
    inputs.update({f"resultado.{name}": digest for name, digest in ctx.read.items()})
    result.inputs = inputs
    return result


def charts(result: StageResult) -> list[tuple[str, Any]]:
    """The stage's charts for a result (matplotlib figures), or none."""
    fn = getattr(module(result.stage), "charts", None)
    return list(fn(result)) if fn is not None and result.status.value != "erro" else []


def report_sections(result: StageResult) -> list[str]:
    """Extra HTML a stage adds under its checks in the site report (the stage module's
    optional ``report_html(result) -> str | None``), e.g. the xml stage's "Depois da
    importação"."""
    fn = getattr(module(result.stage), "report_html", None)
    if fn is None or result.status.value == "erro":
        return []
    html = fn(result)
    return [html] if html else []


def has_charts(result: StageResult) -> bool:
    """Whether the stage draws charts for this result."""
    return getattr(module(result.stage), "charts", None) is not None and \
        result.status.value != "erro"


def chart_svgs(result: StageResult,
               run_site_dir: str | os.PathLike | None = None) -> list[tuple[str, str]]:
    """The stage's charts as inline SVG ``(title, svg)``.

    With ``run_site_dir`` they are cached in ``.<stage>.graficos.json`` beside the result,
    keyed by the result's digest: the site report reuses what the stage notebook drew
    instead of importing matplotlib again (about half a second per notebook). A cache that
    does not match the result is ignored and rewritten."""
    cache = Path(run_site_dir) / f".{result.stage}.graficos.json" if run_site_dir else None
    digest = result_digest(result)
    if cache is not None:
        try:
            data = json.loads(cache.read_text(encoding="utf-8"))
            if data.get("digest") == digest:
                return [(str(t), str(svg)) for t, svg in data["charts"]]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    figures = charts(result)
    if figures:
        from ..render.charts import to_svg

        out = [(title, to_svg(fig)) for title, fig in figures]
    else:
        out = []
    if out and cache is not None and cache.parent.is_dir():
        from ..results import write_json_atomic

        write_json_atomic(cache, {"digest": digest, "charts": out})
    return out
