"""pandas summaries of a CNES file: per establishment, per team (composition vs minimum),
per CBO family, professionals with several lotações, lotações without team, inactive teams.

All functions take the parsed :class:`~.parser.CnesFile` plus the family of each lotação
(:func:`.catalog.family_of`) and return DataFrames with pt-BR-ready columns; CPF appear
masked, names never. :func:`compact_tables` gives back the bounded summaries kept in a stage
result (``AuditReport.compact``) as DataFrames.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import ids
from . import catalog
from .parser import CnesFile
from .rules import LotacaoCodes, composition_gaps, distinct, distinct_counts


def by_establishment(cf: CnesFile, composition: pd.DataFrame,
                     codes: LotacaoCodes | None = None) -> pd.DataFrame:
    codes = codes if codes is not None else LotacaoCodes(cf.lotacoes)
    e = cf.establishments.drop_duplicates("cnes")[["cnes", "nome", "ds_tp_unid"]]
    # lotações, distinct professionals and lotações without team per CNES, on codes
    c, values = codes.cnes
    n = len(values)
    per = pd.DataFrame({"lotacoes": np.bincount(c, minlength=n),
                        "profissionais": np.bincount(distinct(codes.prof * n + c) % n,
                                                     minlength=n),
                        "lotacoes_sem_equipe": np.bincount(c[~codes.has_ine], minlength=n)},
                       index=pd.Index(values, dtype=cf.lotacoes["cnes"].dtype))
    teams = composition.groupby("cnes").agg(equipes=("ine", "size"), equipes_ativas=("ativa", "sum"))
    active = composition[composition["ativa"]]
    tipo = active["sigla_tipo"].where(active["sigla_tipo"] != "", "tipo " + active["tp_equipe"])
    types_txt = _joined_counts(active["cnes"], tipo).rename("equipes_por_tipo")
    out = e.join(teams, on="cnes").join(types_txt, on="cnes").join(per, on="cnes")
    num = ["equipes", "equipes_ativas", "profissionais", "lotacoes", "lotacoes_sem_equipe"]
    out[num] = out[num].fillna(0).astype("int64")
    out["equipes_por_tipo"] = out["equipes_por_tipo"].fillna("")
    return out.sort_values(["profissionais", "cnes"], ascending=[False, True]) \
        .reset_index(drop=True)


def _joined_counts(key: pd.Series, label: pd.Series) -> pd.Series:
    """Per key, "label: n, label: n" (labels sorted) without a Python call per key: one
    column per distinct label (a handful of team types), joined column by column."""
    wide = key.groupby([key, label]).size().unstack(fill_value=0)
    out = pd.Series("", index=wide.index, dtype=object)
    for name in sorted(wide.columns):
        n = wide[name]
        part = np.where(n > 0, f"{name}: " + n.astype(str), "")
        sep = np.where((out != "") & (part != ""), ", ", "")
        out = out + sep + part
    return out.astype("str")


def by_team(composition: pd.DataFrame, gaps: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per team: type, active, professionals per family, minimum met, missing
    (``gaps``: :func:`.rules.composition_gaps` of ``composition``, when already known)."""
    t = composition.copy()
    gaps = composition_gaps(t) if gaps is None else gaps
    t["faltando"] = gaps.set_index("row")["faltando"].reindex(t.index).fillna("")
    applies = t["ativa"] & (t["composicao"] != "")
    t["atende_minimo"] = pd.Series(pd.NA, index=t.index, dtype="boolean")
    t.loc[applies, "atende_minimo"] = t.loc[applies, "faltando"] == ""
    fams = [f for f in catalog.family_labels() if f in t.columns]
    cols = ["cnes", "ine", "tp_equipe", "sigla_tipo", "ativa", "dt_desativacao",
            "profissionais", *fams, "composicao", "atende_minimo", "faltando", "line"]
    return t[cols]


def by_family(cf: CnesFile, family: pd.Series,
              codes: LotacaoCodes | None = None) -> pd.DataFrame:
    codes = codes if codes is not None else LotacaoCodes(cf.lotacoes, family)
    c, values = codes.family
    n = len(values)
    order = np.argsort(values, kind="stable")            # as groupby("familia") sorts
    g = pd.DataFrame({"familia": pd.Series(values[order], dtype=family.dtype),
                      "profissionais": np.bincount(distinct(codes.prof * n + c) % n,
                                                   minlength=n)[order],
                      "lotacoes": np.bincount(c, minlength=n)[order],
                      "em_equipe": np.bincount(c[codes.has_ine], minlength=n)[order]})
    labels = catalog.family_labels()
    order = {f: i for i, f in enumerate(labels)}
    g["categoria"] = g["familia"].map(labels).fillna(g["familia"])
    g["_o"] = g["familia"].map(order).fillna(len(order))
    return g.sort_values("_o").drop(columns="_o")[
        ["familia", "categoria", "profissionais", "lotacoes", "em_equipe"]].reset_index(drop=True)


def multi_lotacao(cf: CnesFile, codes: LotacaoCodes | None = None) -> pd.DataFrame:
    """Professionals with more than one lotação (masked CPF, line, counts)."""
    codes = codes if codes is not None else LotacaoCodes(cf.lotacoes)
    prof = codes.prof
    sizes = np.bincount(prof, minlength=len(cf.professionals))
    several = np.flatnonzero(sizes > 1)                  # sorted, as groupby("prof")
    (c, cnes), (i, ine) = codes.cnes, codes.ine
    units = np.bincount(distinct(prof * len(cnes) + c) // len(cnes), minlength=len(sizes)) \
        if len(prof) else sizes
    has = codes.has_ine
    teams = np.bincount(distinct(prof[has] * len(ine) + i[has]) // len(ine),
                        minlength=len(sizes)) if has.any() else np.zeros_like(sizes)
    p = cf.professionals.loc[several]
    out = pd.DataFrame({"cpf": ids.mask_cpf_series(p["cpf"]), "line": p["line"],
                        "lotacoes": sizes[several], "unidades": units[several],
                        "equipes": teams[several]})
    return out.sort_values(["lotacoes", "line"], ascending=[False, True]).reset_index(drop=True)


def without_team(cf: CnesFile, family: pd.Series,
                 codes: LotacaoCodes | None = None) -> pd.DataFrame:
    """Lotações without team, per establishment and CBO family."""
    codes = codes if codes is not None else LotacaoCodes(cf.lotacoes, family)
    no = ~codes.has_ine
    (c, cnes), (f, fam) = codes.cnes, codes.family
    pairs, counts = distinct_counts(c[no] * len(fam) + f[no])
    g = pd.DataFrame({"cnes": pd.Series(cnes[pairs // max(len(fam), 1)],
                                        dtype=cf.lotacoes["cnes"].dtype),
                      "familia": pd.Series(fam[pairs % max(len(fam), 1)], dtype=family.dtype),
                      "lotacoes": counts.astype("int64")})
    # the order of groupby(["cnes", "familia"]): by the texts
    g = g.sort_values(["cnes", "familia"], kind="stable").reset_index(drop=True)
    g["categoria"] = g["familia"].map(catalog.family_labels()).fillna(g["familia"])
    return g.sort_values(["cnes", "lotacoes"], ascending=[True, False]).reset_index(drop=True)


def inactive_teams(composition: pd.DataFrame) -> pd.DataFrame:
    t = composition[~composition["ativa"]]
    return t[["cnes", "ine", "tp_equipe", "sigla_tipo", "dt_desativacao", "profissionais",
              "line"]].reset_index(drop=True)


def team_type_composition(teams: pd.DataFrame) -> pd.DataFrame:
    """Active teams per type: number of teams, teams meeting the minimum, and the mean
    professionals per family (what the composition chart draws)."""
    t = teams[teams["ativa"]].copy()
    if t.empty:
        return pd.DataFrame(columns=["tipo", "equipes", "abaixo_minimo"])
    t["tipo"] = t["sigla_tipo"].where(t["sigla_tipo"] != "", "tipo " + t["tp_equipe"])
    fams = [f for f in catalog.family_labels() if f in t.columns]
    g = t.groupby("tipo")
    out = g.size().rename("equipes").to_frame()
    out["abaixo_minimo"] = g["atende_minimo"].apply(lambda s: int((s == False).sum()))  # noqa: E712
    if fams:
        out = out.join(g[fams].mean().round(2))
    return out.reset_index().sort_values("equipes", ascending=False).reset_index(drop=True)


def build(cf: CnesFile, family: pd.Series, composition: pd.DataFrame, *,
          codes: LotacaoCodes | None = None, gaps: pd.DataFrame | None = None
          ) -> dict[str, pd.DataFrame]:
    """Every summary. ``codes`` and ``gaps`` are computed here unless the caller (the
    audit, which shares them with the rules) passes them."""
    codes = codes if codes is not None else LotacaoCodes(cf.lotacoes, family)
    teams = by_team(composition, gaps)
    return {
        "estabelecimentos": by_establishment(cf, composition, codes),
        "equipes": teams,
        "tipos_de_equipe": team_type_composition(teams),
        "familias_cbo": by_family(cf, family, codes),
        "varias_lotacoes": multi_lotacao(cf, codes),
        "lotacoes_sem_equipe": without_team(cf, family, codes),
        "equipes_inativas": inactive_teams(composition),
    }


COMPACT_TABLES = ("tipos_de_equipe", "familias_cbo", "estabelecimentos",
                  "equipes_abaixo_minimo", "equipes_inativas", "exemplos")


def compact_tables(compact: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The tables of :meth:`~.audit.AuditReport.compact` (bounded summaries, CPF masked) as
    DataFrames, keyed as :data:`COMPACT_TABLES`; the first findings per rule under
    ``exemplos`` with pt-BR columns."""
    out = {key: pd.DataFrame(compact.get(key) or [])
           for key in ("tipos_de_equipe", "familias_cbo", "estabelecimentos")}
    out["equipes_abaixo_minimo"] = pd.DataFrame(compact["equipes_abaixo_minimo"]["exemplos"])
    out["equipes_inativas"] = pd.DataFrame(compact["equipes_inativas"]["exemplos"])
    out["exemplos"] = pd.DataFrame([{"regra": e["rule"], "gravidade": e["severity"],
                                     **e["where"], "mensagem": e["message"]}
                                    for e in compact.get("exemplos", [])])
    return out
