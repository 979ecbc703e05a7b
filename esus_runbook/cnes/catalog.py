"""Catalogues the audit reads from ``esus_runbook/data`` (CSV, editable without code changes).

- ``cbo.csv`` (cbo, titulo, fonte): CBO codes the audit knows by name (primary care and the
  SUS-specific codes CNES uses, each with its source). The complete CBO 2002 list is not
  shipped by any package the project can install, so a code outside this file is accepted
  when it has the shape of an occupation (:data:`CBO_OCCUPATION`: six digits, CBO 2002; or
  four digits, a letter and a digit, the SUS-specific codes) and ``CBO_UNKNOWN`` is kept for
  the rest (docs/cnes-xml-audit.md, "Catálogo de CBO").
- ``cbo_familias.csv`` (prefixo, familia, rotulo, ordem): CBO family by code prefix (the
  longest matching prefix wins; 6, 4 or 3 characters). Families drive team composition and
  the "professionals by category" summary; codes with no family are ``outros``.
- ``team_types.csv`` (codigo, sigla, nome, composicao, fonte): known ``TP_EQUIPE`` codes
  (current 70-76, home care 22/23/46/47, 08 EMSI and legacy codes) and which composition
  rule applies (none for most: the audit only checks eSF, eAP and eSB).
- ``team_composition.csv`` (composicao, familias, minimo, rotulo): minimum professionals per
  family for each composition rule (eSF, eAP, eSB; PNAB 2017 / Portaria 2.539/2019).
  ``familias`` may list alternatives separated by ``|``.
- ``xml_layouts.csv`` (layout, pec_minimo): the oldest PEC that imports each layout
  (docs/dominio.md, "Layout do XML e versão do PEC").
"""

from __future__ import annotations

import re
from functools import cache

import pandas as pd

from ..data import path as data_path

OTHER_FAMILY = "outros"
# the shape of an occupation code: CBO 2002 (six digits) or SUS-specific (2241E1, 5151F1)
CBO_OCCUPATION = r"[0-9]{6}|[0-9]{4}[A-Z][0-9]"
OTHER_LABEL = "Outras ocupações"


def _read(name: str) -> pd.DataFrame:
    with data_path(name).open(encoding="utf-8", newline="") as fh:
        df = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return df.apply(lambda s: s.str.strip())


@cache
def cbo() -> pd.DataFrame:
    return _read("cbo.csv")


@cache
def cbo_codes() -> frozenset[str]:
    return frozenset(cbo()["cbo"].str.upper())


def cbo_known(codes: pd.Series) -> pd.Series:
    """True for a code in ``cbo.csv`` or with the shape of an occupation
    (:data:`CBO_OCCUPATION`); vectorized (the audit runs it on the distinct codes)."""
    shaped = codes.str.fullmatch(CBO_OCCUPATION).fillna(False).astype(bool)
    return codes.isin(cbo_codes()) | shaped


@cache
def families() -> pd.DataFrame:
    df = _read("cbo_familias.csv")
    df["ordem"] = df["ordem"].astype(int)
    return df


@cache
def family_labels() -> dict[str, str]:
    f = families().sort_values("ordem").drop_duplicates("familia")
    out = dict(zip(f["familia"], f["rotulo"], strict=True))
    out[OTHER_FAMILY] = OTHER_LABEL
    return out


@cache
def team_types() -> pd.DataFrame:
    return _read("team_types.csv")


@cache
def composition() -> pd.DataFrame:
    df = _read("team_composition.csv")
    df["minimo"] = df["minimo"].astype(int)
    return df


def family_of(cbo_codes_: pd.Series) -> pd.Series:
    """The CBO family of each code (computed once per distinct code, then mapped back)."""
    codes, uniques = pd.factorize(cbo_codes_.astype("str"), use_na_sentinel=False)
    fam = _family_of_unique(pd.Series(uniques, dtype="str"))
    return pd.Series(fam.to_numpy()[codes], index=cbo_codes_.index, dtype="str")


def _family_of_unique(codes: pd.Series) -> pd.Series:
    fam = families()
    s = codes.str.upper()
    out = pd.Series(OTHER_FAMILY, index=s.index, dtype="str")
    done = pd.Series(False, index=s.index)
    for n in sorted(fam["prefixo"].str.len().unique(), reverse=True):
        table = dict(zip(fam.loc[fam["prefixo"].str.len() == n, "prefixo"],
                         fam.loc[fam["prefixo"].str.len() == n, "familia"], strict=True))
        hit = s.str.slice(0, n).map(table)
        take = hit.notna() & ~done
        out[take] = hit[take]
        done |= take
    return out


def normalize_team_type(tp: pd.Series) -> pd.Series:
    """'1' → '01'; other values as they are."""
    digits = tp.str.fullmatch(r"[0-9]").fillna(False).astype(bool)
    out = tp.copy()
    out[digits] = tp[digits].str.zfill(2)
    return out


def team_description(tp: str) -> str:
    """``DS_EQUIPE`` as real exports fill it: the description of team type ``tp`` in the
    catalogue, upper case, without the catalogue's notes in parentheses."""
    t = team_types()
    nome = t.loc[t["codigo"] == tp, "nome"]
    return re.sub(r"\s*\(.*\)$", "", str(nome.iloc[0])).upper() if len(nome) else "EQUIPE"


def layout_min_pec(layout: str | None) -> str | None:
    """The oldest PEC version (``N.N.N``) that imports ``layout``; None when any supported
    PEC does or the layout is unknown."""
    t = _read("xml_layouts.csv")
    row = t.loc[t["layout"] == (layout or ""), "pec_minimo"]
    return str(row.iloc[0]) or None if len(row) else None
