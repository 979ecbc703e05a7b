"""The evidence a stage result holds, as ``(kind, name, value)`` rows for the catalog.

Only values that are already in the stage JSON and are not secret: input file hashes
(``sha256:``), installer version and hash, the PEC's version, the XML's hash, header and the
confirmation code of its reviewed changes, and who generated the contra-chave and when (never
the contra-chave, its masked form or its fingerprint). See docs/catalogo.md.
"""

from __future__ import annotations

import json
from typing import Any

# (stage, kind, name, path in metrics)
_METRICS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("ambiente", "sondagem", "origem", ("origem",)),
    ("ambiente", "sondagem", "coletada_em", ("sondagem", "collected_at")),
    ("ambiente", "sondagem", "servidor", ("sondagem", "hostname")),
    ("download", "instalador", "versao", ("versao",)),
    ("download", "instalador", "plataforma", ("plataforma",)),
    ("download", "instalador", "arquivo", ("nome",)),
    ("download", "instalador", "tamanho_bytes", ("tamanho_bytes",)),
    ("download", "instalador", "sha256", ("sha256",)),
    ("instalacao", "pec", "versao", ("verificacao", "versao_pec")),
    ("instalacao", "pec", "endereco", ("pec_url",)),
    ("instalacao", "pec", "instalador", ("instalador",)),
    ("contra_chave", "contra_chave", "gerada_por", ("gerada_por",)),
    ("contra_chave", "contra_chave", "gerada_em", ("gerada_em",)),
    ("contra_chave", "contra_chave", "origem", ("contra_chave_origem",)),
    ("xml", "xml", "arquivo", ("xml", "arquivo", "name")),
    ("xml", "xml", "sha256", ("xml", "arquivo", "sha256")),
    ("xml", "xml", "layout", ("xml", "arquivo", "version")),
    ("xml", "xml", "data", ("xml", "arquivo", "date")),
    ("xml", "xml", "anterior_sha256", ("diff", "anterior", "sha256")),
    ("xml", "xml", "codigo_confirmacao", ("diff", "codigo_confirmacao")),
    ("xml", "xml", "alteracoes_confirmadas", ("diff", "confirmado")),
)
_HASH_PREFIXES = ("sha256:", "sample:")


def _get(node: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _text(value: Any) -> str:
    if isinstance(value, (dict, list, bool)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def stage_evidence(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Evidence rows of one stage result (a ``<stage>.json`` as a dict)."""
    stage = result.get("stage")
    out: list[tuple[str, str, str]] = []
    for name, value in sorted((result.get("inputs") or {}).items()):
        # input files ("section.key": sha256 of the content); secret fingerprints and
        # digests of earlier results are not file evidence
        if "." in name and not name.startswith("resultado.") and isinstance(value, str) \
                and value.startswith(_HASH_PREFIXES):
            out.append(("arquivo", name, value))
    metrics = result.get("metrics") or {}
    for st, kind, name, path in _METRICS:
        if st == stage:
            value = _get(metrics, path)
            if value is not None and value != "":
                out.append((kind, name, _text(value)))
    return out
