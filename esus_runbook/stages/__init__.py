"""The six implantation stages.

Each stage is a module ``esus_runbook.stages.<stage>`` with::

    TITLE: str                              # pt-BR name shown in reports
    INPUT_KEYS: tuple[str, ...]             # site keys/sections the result depends on
    INPUT_FILES: tuple[str, ...]            # "section.key" paths of files it reads
    def evaluate(site, ctx) -> StageResult  # never raises for bad *site data*: a missing
                                            # input is `pendente`, a bad one `falha`
    def charts(result) -> list[(title, matplotlib Figure)]   # optional

Stages read earlier stages through :class:`StageContext` (their JSON results), never their
notebooks. Modules are imported lazily so a notebook only pays for the stage it runs.
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


@dataclass
class StageContext:
    """What a stage may use besides the site: the folder of this site's results in the
    current run (to read earlier stages) and the environment (for secret references)."""

    run_site_dir: Path | None = None
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    interactive: bool = False

    def previous(self, stage: str) -> StageResult | None:
        """The latest result of ``stage`` for this site in this run, if any."""
        if self.run_site_dir is None:
            return None
        path = self.run_site_dir / f"{stage}.json"
        return StageResult.load(path) if path.exists() else None


def module(stage: str) -> ModuleType:
    if stage not in STAGES:
        raise KeyError(stage)
    return importlib.import_module(f"{__name__}.{stage}")


def file_fingerprint(path: str | os.PathLike | None) -> str | None:
    """sha256 of a file's content (size and mtime for files above HASH_LIMIT); None when the
    file does not exist."""
    if not path:
        return None
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    if not p.is_file():
        return None
    if st.st_size > HASH_LIMIT:
        return f"stat:{st.st_size}:{st.st_mtime_ns}"
    h = hashlib.sha256()
    with p.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _lookup(site: Site, dotted: str) -> Any:
    node: Any = site.data
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def fingerprint(stage: str, site: Site) -> dict[str, Any]:
    """The inputs a stage's result depends on: a hash of the site keys it reads and one
    fingerprint per file. Used to skip unchanged stages when a batch resumes."""
    mod = module(stage)
    keys = {k: _lookup(site, k) for k in getattr(mod, "INPUT_KEYS", ())}
    blob = json.dumps(keys, sort_keys=True, default=str).encode()
    out: dict[str, Any] = {"site": "sha256:" + hashlib.sha256(blob).hexdigest()}
    for dotted in getattr(mod, "INPUT_FILES", ()):
        out[dotted] = file_fingerprint(_lookup(site, dotted))
    extra = getattr(mod, "extra_fingerprint", None)
    if extra is not None:
        out.update(extra(site))
    return out


def evaluate(stage: str, site: Site, ctx: StageContext | None = None) -> StageResult:
    """Run one stage for one site and stamp its input fingerprints on the result."""
    ctx = ctx or StageContext()
    result = module(stage).evaluate(site, ctx)
    result.inputs = fingerprint(stage, site)
    return result


def charts(result: StageResult) -> list[tuple[str, Any]]:
    """The stage's charts for a result (matplotlib figures), or none."""
    fn = getattr(module(result.stage), "charts", None)
    return list(fn(result)) if fn is not None and result.status.value != "erro" else []
