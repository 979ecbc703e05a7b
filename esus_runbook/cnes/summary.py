"""pandas summaries of a CNES file: per establishment, per team (composition vs minimum),
per CBO family, professionals with several lotações, lotações without team, inactive teams.

All functions take the parsed :class:`~.parser.CnesFile` plus the family of each lotação
(:func:`.catalog.family_of`) and return DataFrames with pt-BR-ready columns; CPF appear
masked, names never.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import ids
from . import catalog
from .parser import CnesFile
from .rules import composition_gaps


def by_establishment(cf: CnesFile, composition: pd.DataFrame) -> pd.DataFrame:
    e = cf.establishments.drop_duplicates("cnes")[["cnes", "nome", "ds_tp_unid"]]
    lot = cf.lotacoes
    per = pd.DataFrame({"lotacoes": lot["cnes"].value_counts(sort=False),
                        "profissionais": lot.drop_duplicates(["cnes", "prof"])["cnes"]
                        .value_counts(sort=False)})
    no_team = lot.loc[lot["ine"] == "", "cnes"].value_counts(sort=False) \
        .rename("lotacoes_sem_equipe")
    teams = composition.groupby("cnes").agg(equipes=("ine", "size"), equipes_ativas=("ativa", "sum"))
    active = composition[composition["ativa"]]
    tipo = active["sigla_tipo"].where(active["sigla_tipo"] != "", "tipo " + active["tp_equipe"])
    types_txt = _joined_counts(active["cnes"], tipo).rename("equipes_por_tipo")
    out = e.join(teams, on="cnes").join(types_txt, on="cnes").join(per, on="cnes") \
        .join(no_team, on="cnes")
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


def by_team(composition: pd.DataFrame) -> pd.DataFrame:
    """One row per team: type, active, professionals per family, minimum met, missing."""
    t = composition.copy()
    gaps = composition_gaps(t).set_index("row")["faltando"]
    t["faltando"] = gaps.reindex(t.index).fillna("")
    applies = t["ativa"] & (t["composicao"] != "")
    t["atende_minimo"] = pd.Series(pd.NA, index=t.index, dtype="boolean")
    t.loc[applies, "atende_minimo"] = t.loc[applies, "faltando"] == ""
    fams = [f for f in catalog.family_labels() if f in t.columns]
    cols = ["cnes", "ine", "tp_equipe", "sigla_tipo", "ativa", "dt_desativacao",
            "profissionais", *fams, "composicao", "atende_minimo", "faltando", "line"]
    return t[cols]


def by_family(cf: CnesFile, family: pd.Series) -> pd.DataFrame:
    lot = cf.lotacoes.assign(familia=family)
    g = lot.groupby("familia").agg(profissionais=("prof", "nunique"), lotacoes=("prof", "size"),
                                   em_equipe=("ine", lambda s: int((s != "").sum())))
    labels = catalog.family_labels()
    order = {f: i for i, f in enumerate(labels)}
    g = g.reset_index()
    g["categoria"] = g["familia"].map(labels).fillna(g["familia"])
    g["_o"] = g["familia"].map(order).fillna(len(order))
    return g.sort_values("_o").drop(columns="_o")[
        ["familia", "categoria", "profissionais", "lotacoes", "em_equipe"]].reset_index(drop=True)


def multi_lotacao(cf: CnesFile) -> pd.DataFrame:
    """Professionals with more than one lotação (masked CPF, line, counts)."""
    lot = cf.lotacoes
    sizes = lot.groupby("prof").size()
    several = sizes.index[sizes > 1]
    lot = lot[lot["prof"].isin(several)]
    g = lot.groupby("prof").agg(lotacoes=("cnes", "size"), unidades=("cnes", "nunique"))
    g["equipes"] = lot[lot["ine"] != ""].groupby("prof")["ine"].nunique() \
        .reindex(g.index).fillna(0).astype("int64")
    p = cf.professionals.loc[g.index]
    out = pd.DataFrame({"cpf": ids.mask_cpf_series(p["cpf"]), "line": p["line"],
                        "lotacoes": g["lotacoes"], "unidades": g["unidades"],
                        "equipes": g["equipes"]})
    return out.sort_values(["lotacoes", "line"], ascending=[False, True]).reset_index(drop=True)


def without_team(cf: CnesFile, family: pd.Series) -> pd.DataFrame:
    """Lotações without team, per establishment and CBO family."""
    lot = cf.lotacoes.assign(familia=family)
    lot = lot[lot["ine"] == ""]
    g = lot.groupby(["cnes", "familia"]).size().rename("lotacoes").reset_index()
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


def build(cf: CnesFile, family: pd.Series, composition: pd.DataFrame) -> dict[str, pd.DataFrame]:
    teams = by_team(composition)
    return {
        "estabelecimentos": by_establishment(cf, composition),
        "equipes": teams,
        "tipos_de_equipe": team_type_composition(teams),
        "familias_cbo": by_family(cf, family),
        "varias_lotacoes": multi_lotacao(cf),
        "lotacoes_sem_equipe": without_team(cf, family),
        "equipes_inativas": inactive_teams(composition),
    }
