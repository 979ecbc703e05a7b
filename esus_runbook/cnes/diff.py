"""What importing a new CNES XML will change in PEC: the diff of the file imported last and
the new one, before the import.

PEC's import deactivates every unit, team and lotação of the municipality and reactivates
only what the new file holds (docs/dominio.md, "XML do CNES"): a professional missing from the new file loses
access, a CNS that changed for the same CPF collides with what PEC holds, an older layout
is refused. ``diff(old, new)`` parses both files with :func:`.parser.parse` (same hardened
reader and limits as the audit) and :func:`compare` lists every change with a pt-BR message
saying what happens in PEC. CPF appear masked (``***.456.789-**``), CNS by their last four
digits; names are never read.

Identity of what is compared (all comparisons are pandas merges/anti-joins on the parsed
tables; no per-row Python):

- unit: CNES. team: (CNES, INE); a team is active when DT_DESATIVACAO is empty.
- professional: CPF (PEC's login). Rows without CPF are not compared (the audit reports
  them); when a CPF repeats in a file its first row counts.
- lotação: (CPF, CNES, INE, CBO), compared only for professionals present in both files
  (the lotações of a removed or added professional are part of that change). A removed
  and an added lotação of the same professional are one ``LOTACAO_CHANGED``, paired 1:1 in
  file order, in three passes: same (CPF, CNES, CBO) → the team changed; same (CPF, CNES,
  INE) → the occupation (CBO) changed; same (CPF, CBO) → the unit changed (and maybe the
  team). What is left is ``LOTACAO_REMOVED`` / ``LOTACAO_ADDED``.
- files of different municipalities are not compared further (everything would differ):
  only ``MUNICIPALITY_CHANGED`` (and ``VERSION_DOWNGRADE``) are reported.

Severities: ``error`` (PEC refuses the new file), ``warning`` (someone or something loses
access: the analyst must review; the stage turns them into an ``alerta`` until confirmed with
:attr:`DiffReport.confirmation_code`), ``info`` (expected churn).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import ids
from ..render.env import environment
from ..results import now_iso
from ..status import SEVERITY_LABELS, ExitCode, Severity
from .archive import Limits
from .audit import ReportFiles, file_counts, file_info
from .charts import kind_bars
from .jsontext import dumps, nested_records, to_python
from .parser import CnesFile, normalize_version, parse

SCHEMA = "esus-runbook/xml-diff/1"
HTML_CHANGES_LIMIT = 2000


@dataclass(frozen=True)
class Kind:
    code: str
    severity: Severity
    title: str         # pt-BR, short
    consequence: str   # pt-BR: what happens in PEC after the import


KINDS: dict[str, Kind] = {k.code: k for k in (
    Kind("PROFESSIONAL_REMOVED", Severity.WARNING, "Profissional removido",
         "Perde o acesso ao PEC: a importação desativa todas as lotações dele."),
    Kind("PROFESSIONAL_ADDED", Severity.INFO, "Profissional novo",
         "A importação cria o usuário dele no PEC, com login igual ao CPF."),
    Kind("CNS_CHANGED", Severity.WARNING, "CNS diferente para o mesmo CPF",
         "Conflita com o CNS que o PEC já tem para o CPF: a importação pode falhar ou "
         "deixar o cadastro do profissional inconsistente."),
    Kind("LOTACAO_REMOVED", Severity.WARNING, "Lotação removida",
         "O profissional deixa de atuar naquela unidade/equipe/ocupação no PEC (mantém as "
         "outras lotações)."),
    Kind("LOTACAO_ADDED", Severity.INFO, "Lotação nova",
         "O profissional passa a atuar também naquela unidade/equipe/ocupação."),
    Kind("LOTACAO_CHANGED", Severity.INFO, "Lotação alterada (CBO, equipe ou unidade)",
         "O PEC desativa a lotação antiga e ativa a nova: o acesso e a produção passam a "
         "valer para a nova equipe, unidade ou ocupação."),
    Kind("TEAM_ADDED", Severity.INFO, "Equipe nova", "A importação cria a equipe no PEC."),
    Kind("TEAM_REMOVED", Severity.WARNING, "Equipe removida",
         "O PEC desativa a equipe; as lotações nela deixam de valer."),
    Kind("TEAM_DEACTIVATED", Severity.WARNING, "Equipe desativada",
         "O PEC desativa a equipe; os profissionais deixam de atuar por ela."),
    Kind("TEAM_REACTIVATED", Severity.INFO, "Equipe reativada",
         "O PEC volta a ativar a equipe com as lotações do arquivo."),
    Kind("UNIT_ADDED", Severity.INFO, "Unidade nova", "A importação cria a unidade no PEC."),
    Kind("UNIT_REMOVED", Severity.WARNING, "Unidade removida",
         "O PEC desativa a unidade, com as equipes e as lotações dela."),
    Kind("VERSION_DOWNGRADE", Severity.ERROR, "Layout mais antigo que o do último importado",
         "O PEC recusa importar um layout mais antigo que o do último XML importado."),
    Kind("MUNICIPALITY_CHANGED", Severity.ERROR, "Município diferente",
         "O PEC recusa arquivo de outro município: um dos arquivos está trocado."),
)}
_KIND_ORDER = {code: i for i, code in enumerate(KINDS)}
# what the analyst confirms (warnings): a stable code over these columns (no line numbers)
ACKNOWLEDGED_KINDS = tuple(c for c, k in KINDS.items() if k.severity is Severity.WARNING)
WHERE = ("cpf", "cns_old", "cns_new", "cnes", "cnes_new", "ine", "ine_new", "cbo", "cbo_new",
         "version_old", "version_new", "ibge_old", "ibge_new", "line_old", "line_new")
COLUMNS = ("kind", "severity", *WHERE, "message")
_ACK_COLUMNS = tuple(c for c in WHERE if not c.startswith("line"))
_DISTINCT = ("message", "cpf", "cns_old", "cns_new")   # mostly one value per row


# --------------------------------------------------------------------------- helpers
def _changes(kind: str, n: int, message, **cols) -> pd.DataFrame:
    """A changes frame for ``kind``; columns may be scalars or aligned arrays/Series."""
    if n == 0:
        return pd.DataFrame(columns=list(COLUMNS))

    def col(name):
        v = cols.get(name)
        if v is None:
            return pd.Series([None] * n, dtype="object")
        if isinstance(v, pd.Series):
            v = v.to_numpy()
        if np.isscalar(v):
            return pd.Series([v] * n, dtype="object")
        if name.startswith("line"):
            return pd.Series(pd.array(np.asarray(v, dtype=np.int64), dtype="Int64"))
        return pd.Series(np.asarray(v, dtype=object), dtype="object")

    data = {"kind": kind, "severity": KINDS[kind].severity.value}
    data.update({c: col(c) for c in WHERE})
    if isinstance(message, pd.Series):
        message = message.to_numpy(dtype=object)
    data["message"] = pd.Series([message] * n if isinstance(message, str)
                                else np.asarray(message, dtype=object), dtype="object")
    df = pd.DataFrame(data)
    for c in WHERE:
        if c.startswith("line"):
            df[c] = df[c].astype("Int64")
    return df


def _s(values) -> pd.Series:
    """Object Series without index (for vectorized string building)."""
    return pd.Series(np.asarray(values, dtype=object), dtype="object")


def _none_if_empty(values) -> np.ndarray:
    a = np.asarray(values, dtype=object)
    return np.where(a == "", None, a)


def _team_txt(ine: pd.Series) -> np.ndarray:
    """'INE 0000123456' or 'sem equipe' per row."""
    a = ine.fillna("").astype(str).to_numpy(dtype=object)
    return np.where(a == "", "sem equipe", "INE " + a).astype(object)


def _codes(old: pd.Series, new: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of the values of two columns in one shared numbering."""
    codes, _ = pd.factorize(pd.concat([old, new], ignore_index=True), use_na_sentinel=False)
    return codes[:len(old)].astype(np.int64), codes[len(old):].astype(np.int64)


def _composite(olds: list[pd.Series], news: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """One int64 key per row for several columns (shared numbering of old and new)."""
    ko = np.zeros(len(olds[0]), dtype=np.int64)
    kn = np.zeros(len(news[0]), dtype=np.int64)
    for o, n in zip(olds, news, strict=True):
        co, cn = _codes(o, n)
        width = int(max(co.max(initial=0), cn.max(initial=0))) + 1
        if max(ko.max(initial=0), kn.max(initial=0)) >= 2**62 // width:
            ko, kn = _codes(pd.Series(ko), pd.Series(kn))    # renumber: stay within int64
        ko, kn = ko * width + co, kn * width + cn
    return ko, kn


def pair_rows(removed: pd.DataFrame, added: pd.DataFrame, keys: list[str]
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Pair removed and added lotações that agree on ``keys`` (1:1 in file order); also
    pairs the XML's and the database's lotações in :mod:`esus_runbook.reconcile.compare`."""
    if removed.empty or added.empty:
        return removed.iloc[0:0], removed, added
    r = removed.assign(_n=removed.groupby(keys, sort=False).cumcount())
    a = added.assign(_n=added.groupby(keys, sort=False).cumcount())
    m = r.reset_index(names="_rid").merge(a.reset_index(names="_aid"), on=[*keys, "_n"],
                                          suffixes=("_old", "_new"))
    return m, removed.drop(index=m["_rid"]), added.drop(index=m["_aid"])


def _version_key(v: str | None) -> tuple[int, ...] | None:
    v = normalize_version(v)
    return tuple(int(x) for x in v.split(".")) if v else None


# --------------------------------------------------------------------------- comparisons
def header_changes(old: CnesFile, new: CnesFile) -> list[pd.DataFrame]:
    out = []
    io, in_ = ids.ibge6(old.ibge), ids.ibge6(new.ibge)
    lines = {"line_old": old.header_line, "line_new": new.header_line}
    lines = {k: v for k, v in lines.items() if v is not None}
    if io and in_ and io != in_:
        out.append(_changes(
            "MUNICIPALITY_CHANGED", 1,
            f"O arquivo novo é do município {new.ibge} e o anterior de {old.ibge}: o PEC recusa "
            "arquivo de outro município. Confira se os dois são do município da instalação e "
            "baixe o XML certo no e-Gestor AB.",
            ibge_old=old.ibge, ibge_new=new.ibge, **lines))
    vo, vn = _version_key(old.version), _version_key(new.version)
    if vo and vn and vn < vo:
        out.append(_changes(
            "VERSION_DOWNGRADE", 1,
            f"O layout do arquivo novo ({new.version}) é mais antigo que o do anterior "
            f"({old.version}): o PEC recusa importar um layout mais antigo que o do último "
            f"XML importado. Gere o XML de novo no e-Gestor AB (layout {old.version} ou mais "
            "recente).", version_old=old.version, version_new=new.version, **lines))
    return out


def unit_changes(old: CnesFile, new: CnesFile) -> list[pd.DataFrame]:
    cols = ["cnes", "nome", "line"]
    eo = old.establishments.drop_duplicates("cnes")[cols]
    en = new.establishments.drop_duplicates("cnes")[cols]
    m = eo.merge(en, on="cnes", how="outer", suffixes=("_old", "_new"), indicator=True)
    out = []
    gone = m[m["_merge"] == "left_only"]
    if len(gone):
        n_lot = old.lotacoes.loc[old.lotacoes["cnes"].isin(gone["cnes"]), "cnes"] \
            .value_counts().reindex(gone["cnes"]).fillna(0).astype("int64").to_numpy()
        out.append(_changes(
            "UNIT_REMOVED", len(gone),
            "A unidade " + _s(gone["cnes"]) + " (" + _s(gone["nome_old"]) +
            ") não está no arquivo novo: o PEC a desativa, com as equipes e as lotações dela (" +
            pd.Series(n_lot).astype(str) + " lotação(ões) no arquivo anterior). Se ela "
            "continua atendendo, confira o cadastro e o nível de atenção no SCNES antes de "
            "importar.", cnes=gone["cnes"], line_old=gone["line_old"]))
    new_units = m[m["_merge"] == "right_only"]
    if len(new_units):
        out.append(_changes(
            "UNIT_ADDED", len(new_units),
            "A unidade " + _s(new_units["cnes"]) + " (" + _s(new_units["nome_new"]) +
            ") é nova no arquivo: a importação a cria no PEC.",
            cnes=new_units["cnes"], line_new=new_units["line_new"]))
    return out


def team_changes(old: CnesFile, new: CnesFile) -> list[pd.DataFrame]:
    cols = ["cnes", "ine", "sigla", "tp_equipe", "ativa", "dt_desativacao", "line"]
    to = old.teams.drop_duplicates(["cnes", "ine"])[cols]
    tn = new.teams.drop_duplicates(["cnes", "ine"])[cols]
    m = to.merge(tn, on=["cnes", "ine"], how="outer", suffixes=("_old", "_new"), indicator=True)
    out = []

    def label(df: pd.DataFrame, side: str) -> pd.Series:
        sigla = df[f"sigla_{side}"].fillna("").astype(str)
        tipo = sigla.where(sigla != "", "tipo " + df[f"tp_equipe_{side}"].fillna("").astype(str))
        return _s(tipo.to_numpy())

    gone = m[m["_merge"] == "left_only"]
    if len(gone):
        elsewhere = tn.loc[tn["ine"] != "", ["ine", "cnes"]].drop_duplicates("ine") \
            .rename(columns={"cnes": "para"})
        para = gone[["ine"]].merge(elsewhere, on="ine", how="left")["para"]
        extra = np.where(para.notna(), "; o INE continua no arquivo, na unidade " +
                         para.fillna("").astype(str), "")
        was_inactive = np.where(gone["ativa_old"].eq(False).to_numpy(), " (já estava desativada)",
                                "")
        out.append(_changes(
            "TEAM_REMOVED", len(gone),
            "A equipe INE " + _s(gone["ine"]) + " (" + label(gone, "old") + ") da unidade " +
            _s(gone["cnes"]) + " não está no arquivo novo" + _s(was_inactive) +
            ": o PEC a desativa e as lotações nela deixam de valer" + _s(extra) +
            ". Se a equipe continua, confira o cadastro no SCNES antes de importar.",
            cnes=gone["cnes"], ine=_none_if_empty(gone["ine"]), line_old=gone["line_old"]))
    added = m[m["_merge"] == "right_only"]
    if len(added):
        inactive = np.where(added["ativa_new"].eq(False).to_numpy(),
                            " (já desativada em " + added["dt_desativacao_new"].fillna("")
                            .astype(str) + ")", "")
        out.append(_changes(
            "TEAM_ADDED", len(added),
            "A equipe INE " + _s(added["ine"]) + " (" + label(added, "new") + ") é nova na "
            "unidade " + _s(added["cnes"]) + _s(inactive) + ": a importação a cria no PEC.",
            cnes=added["cnes"], ine=_none_if_empty(added["ine"]), line_new=added["line_new"]))
    both = m[m["_merge"] == "both"]
    off = both[both["ativa_old"].eq(True) & both["ativa_new"].eq(False)]
    if len(off):
        out.append(_changes(
            "TEAM_DEACTIVATED", len(off),
            "A equipe INE " + _s(off["ine"]) + " (" + label(off, "new") + ") da unidade " +
            _s(off["cnes"]) + " foi desativada em " + _s(off["dt_desativacao_new"]) +
            ": o PEC a desativa e os profissionais deixam de atuar por ela. Se não era para "
            "desativar, corrija no SCNES antes de importar.",
            cnes=off["cnes"], ine=_none_if_empty(off["ine"]), line_old=off["line_old"],
            line_new=off["line_new"]))
    on = both[both["ativa_old"].eq(False) & both["ativa_new"].eq(True)]
    if len(on):
        out.append(_changes(
            "TEAM_REACTIVATED", len(on),
            "A equipe INE " + _s(on["ine"]) + " (" + label(on, "new") + ") da unidade " +
            _s(on["cnes"]) + " foi reativada: o PEC volta a ativá-la com as lotações do "
            "arquivo.", cnes=on["cnes"], ine=_none_if_empty(on["ine"]),
            line_old=on["line_old"], line_new=on["line_new"]))
    return out


@dataclass
class _People:
    """CPF of every professional row of both files as one integer numbering; the first row
    of each non-empty CPF is that CPF's row (a repeated CPF is the audit's business)."""

    code_old: np.ndarray          # per professional row of the old file
    code_new: np.ndarray
    key_old: np.ndarray           # bool: the row that represents its CPF
    key_new: np.ndarray
    in_old: np.ndarray            # per code: CPF present in the old file
    in_new: np.ndarray

    @classmethod
    def of(cls, old: CnesFile, new: CnesFile) -> _People:
        po, pn = old.professionals["cpf"], new.professionals["cpf"]
        co, cn = _codes(po, pn)
        size = int(max(co.max(initial=-1), cn.max(initial=-1))) + 1

        def key(codes: np.ndarray, cpf: pd.Series) -> np.ndarray:
            first = np.zeros(len(codes), dtype=bool)
            _, idx = np.unique(codes, return_index=True)
            first[idx] = True
            return first & (cpf.to_numpy(dtype=object) != "")

        ko, kn = key(co, po), key(cn, pn)
        in_old = np.zeros(size, dtype=bool)
        in_old[co[ko]] = True
        in_new = np.zeros(size, dtype=bool)
        in_new[cn[kn]] = True
        return cls(co, cn, ko, kn, in_old, in_new)

    @property
    def both(self) -> np.ndarray:
        return self.in_old & self.in_new


def _first_lotacao(cf: CnesFile, rows: pd.Index) -> tuple[pd.DataFrame, pd.Series]:
    """(first lotação, number of lotações) of the professionals at ``rows``."""
    lot = cf.lotacoes
    sel = lot[lot["prof"].isin(rows)]
    first = sel.drop_duplicates("prof").set_index("prof").reindex(rows)
    count = sel["prof"].value_counts().reindex(rows).fillna(0).astype("int64")
    return first, count


def professional_changes(old: CnesFile, new: CnesFile, people: _People) -> list[pd.DataFrame]:
    """Professionals removed and added (by CPF) and CNS changed for the same CPF."""
    po, pn = old.professionals, new.professionals
    out = []
    gone = po[people.key_old & ~people.in_new[people.code_old]]
    if len(gone):
        first, n_lot = _first_lotacao(old, gone.index)
        cpf = ids.mask_cpf_series(gone["cpf"])
        where_txt = np.where(first["cnes"].notna(),
                             "CBO " + first["cbo"].fillna("").astype(str) + " na unidade " +
                             first["cnes"].fillna("").astype(str), "sem lotação")
        more = np.where(n_lot > 1, " e mais " + (n_lot - 1).astype(str) + " lotação(ões)", "")
        out.append(_changes(
            "PROFESSIONAL_REMOVED", len(gone),
            "O profissional CPF " + _s(cpf) + " (" + _s(where_txt) + _s(more) + ") não está "
            "no arquivo novo: depois da importação o PEC desativa as lotações dele e ele perde "
            "o acesso. Se ele continua trabalhando no município, corrija o cadastro no SCNES "
            "e gere o XML de novo antes de importar.",
            cpf=cpf, cnes=first["cnes"].to_numpy(dtype=object),
            cbo=first["cbo"].to_numpy(dtype=object), line_old=gone["line"]))
    new_ones = pn[people.key_new & ~people.in_old[people.code_new]]
    if len(new_ones):
        first, _ = _first_lotacao(new, new_ones.index)
        cpf = ids.mask_cpf_series(new_ones["cpf"])
        where_txt = np.where(first["cnes"].notna(),
                             "CBO " + first["cbo"].fillna("").astype(str) + " na unidade " +
                             first["cnes"].fillna("").astype(str), "sem lotação")
        out.append(_changes(
            "PROFESSIONAL_ADDED", len(new_ones),
            "O profissional CPF " + _s(cpf) + " (" + _s(where_txt) + ") é novo no arquivo: a "
            "importação cria o usuário dele no PEC, com login igual ao CPF.",
            cpf=cpf, cnes=first["cnes"].to_numpy(dtype=object),
            cbo=first["cbo"].to_numpy(dtype=object), line_new=new_ones["line"]))
    # CPF in both files: compare the CNS of the rows that represent it
    row_new = np.full(len(people.in_new), -1, dtype=np.int64)
    row_new[people.code_new[people.key_new]] = np.flatnonzero(people.key_new)
    stay = np.flatnonzero(people.key_old & people.in_new[people.code_old])
    match = row_new[people.code_old[stay]]
    cns_o = po["cns"].to_numpy(dtype=object)[stay]
    cns_n = pn["cns"].to_numpy(dtype=object)[match]
    diff = cns_o != cns_n
    if diff.any():
        a, b = po.iloc[stay[diff]], pn.iloc[match[diff]]
        cpf = ids.mask_cpf_series(a["cpf"])
        m_o = ids.mask_cns_series(a["cns"]).to_numpy(dtype=object)
        m_n = ids.mask_cns_series(b["cns"]).to_numpy(dtype=object)
        out.append(_changes(
            "CNS_CHANGED", len(a),
            "O CNS do profissional CPF " + _s(cpf) + " mudou de " +
            _s(np.where(m_o == "", "vazio", m_o)) + " para " +
            _s(np.where(m_n == "", "vazio", m_n)) + ": o PEC já tem este CPF com o CNS "
            "anterior e a importação pode falhar ou deixar o cadastro inconsistente. Confirme "
            "no CADSUS qual é o CNS correto e corrija no SCNES antes de importar.",
            cpf=cpf, cns_old=_none_if_empty(m_o), cns_new=_none_if_empty(m_n),
            line_old=a["line"], line_new=b["line"]))
    return out


def lotacao_changes(old: CnesFile, new: CnesFile, people: _People) -> list[pd.DataFrame]:
    """Lotações of professionals present in both files: removed, added, changed."""
    keys = ["cpf", "cnes", "ine", "cbo"]
    both = people.both

    def keyed(cf: CnesFile, codes: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        lot = cf.lotacoes
        prof = lot["prof"].to_numpy()
        rows = both[codes[prof]]
        sel = lot.loc[rows]
        prof = prof[rows]
        obj = {"cpf": cf.professionals["cpf"].to_numpy(dtype=object)[prof],
               "cnes": sel["cnes"].to_numpy(dtype=object),
               "ine": sel["ine"].to_numpy(dtype=object), "cbo": sel["cbo"].to_numpy(dtype=object)}
        out = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in obj.items()})
        out["line"] = sel["line"].to_numpy()
        return out, codes[prof]

    (lo, cpf_o), (ln, cpf_n) = keyed(old, people.code_old), keyed(new, people.code_new)
    ko, kn = _composite([pd.Series(cpf_o)] + [lo[c] for c in keys[1:]],
                        [pd.Series(cpf_n)] + [ln[c] for c in keys[1:]])
    first_o = ~pd.Series(ko).duplicated().to_numpy()
    first_n = ~pd.Series(kn).duplicated().to_numpy()
    lo, ko = lo[first_o], ko[first_o]
    ln, kn = ln[first_n], kn[first_n]
    removed = lo[~pd.Index(ko).isin(kn)].rename(columns={"line": "line_old"})
    added = ln[~pd.Index(kn).isin(ko)].rename(columns={"line": "line_new"})
    removed = removed.reset_index(drop=True)
    added = added.reset_index(drop=True)
    out = []
    team, removed, added = pair_rows(removed, added, ["cpf", "cnes", "cbo"])
    cbo, removed, added = pair_rows(removed, added, ["cpf", "cnes", "ine"])
    unit, removed, added = pair_rows(removed, added, ["cpf", "cbo"])
    changed = []
    if len(team):
        changed.append(pd.DataFrame({
            "cpf": team["cpf"], "cnes": team["cnes"], "ine": team["ine_old"],
            "ine_new": team["ine_new"], "cbo": team["cbo"], "cnes_new": None, "cbo_new": None,
            "line_old": team["line_old"], "line_new": team["line_new"],
            "what": "de equipe (" + _team_txt(team["ine_old"]) + " → " +
                    _team_txt(team["ine_new"]) + ")"}))
    if len(cbo):
        changed.append(pd.DataFrame({
            "cpf": cbo["cpf"], "cnes": cbo["cnes"], "ine": cbo["ine"], "ine_new": None,
            "cbo": cbo["cbo_old"], "cbo_new": cbo["cbo_new"], "cnes_new": None,
            "line_old": cbo["line_old"], "line_new": cbo["line_new"],
            "what": "de ocupação (CBO " + cbo["cbo_old"].astype(str) + " → " +
                    cbo["cbo_new"].astype(str) + ")"}))
    if len(unit):
        same_team = (unit["ine_old"] == unit["ine_new"]).to_numpy()
        team_txt = np.where(same_team, "", "; equipe " + _team_txt(unit["ine_old"]) + " → " +
                            _team_txt(unit["ine_new"]))
        changed.append(pd.DataFrame({
            "cpf": unit["cpf"], "cnes": unit["cnes_old"], "cnes_new": unit["cnes_new"],
            "ine": unit["ine_old"], "ine_new": np.where(same_team, None, unit["ine_new"]),
            "cbo": unit["cbo"], "cbo_new": None, "line_old": unit["line_old"],
            "line_new": unit["line_new"],
            "what": "de unidade (" + unit["cnes_old"].astype(str) + " → " +
                    unit["cnes_new"].astype(str) + team_txt + ")"}))
    if changed:
        c = pd.concat(changed, ignore_index=True)
        cpf = ids.mask_cpf_series(c["cpf"])
        team_changed = c["ine_new"].notna().to_numpy()
        ine = np.where(team_changed, c["ine"].to_numpy(dtype=object),
                       _none_if_empty(c["ine"]))
        where = np.where(c["ine"].to_numpy(dtype=object) == "", "",
                         ", equipe INE " + c["ine"].astype(str).to_numpy(dtype=object))
        out.append(_changes(
            "LOTACAO_CHANGED", len(c),
            "A lotação do profissional CPF " + _s(cpf) + " (CBO " + _s(c["cbo"]) +
            " na unidade " + _s(c["cnes"]) + _s(where) + ") mudou " + _s(c["what"]) +
            ": o PEC desativa a lotação antiga e ativa a nova; o acesso e a produção passam "
            "a valer na nova lotação.",
            cpf=cpf, cnes=c["cnes"], cnes_new=c["cnes_new"], ine=ine, ine_new=c["ine_new"],
            cbo=c["cbo"], cbo_new=c["cbo_new"], line_old=c["line_old"],
            line_new=c["line_new"]))
    for kind, df, line, text in (
            ("LOTACAO_REMOVED", removed, "line_old",
             ") não está no arquivo novo: o PEC a desativa e o profissional deixa de atuar "
             "ali (mantém as outras lotações). Se a lotação continua, corrija no SCNES antes "
             "de importar."),
            ("LOTACAO_ADDED", added, "line_new",
             ") é nova: o profissional passa a atuar também ali no PEC.")):
        if df.empty:
            continue
        cpf = ids.mask_cpf_series(df["cpf"])
        team = np.where(df["ine"].to_numpy(dtype=object) == "", "",
                        ", equipe INE " + df["ine"].astype(str).to_numpy(dtype=object))
        out.append(_changes(
            kind, len(df),
            "A lotação do profissional CPF " + _s(cpf) + " (CBO " + _s(df["cbo"]) +
            " na unidade " + _s(df["cnes"]) + _s(team) + text,
            cpf=cpf, cnes=df["cnes"], ine=_none_if_empty(df["ine"]), cbo=df["cbo"],
            **{line: df[line]}))
    return out


def _sorted(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        df = pd.DataFrame({c: pd.Series(dtype="Int64" if c.startswith("line") else "object")
                           for c in COLUMNS})
        return df
    df = pd.concat(parts, ignore_index=True)
    df["_sev"] = df["severity"].map({s.value: s.rank for s in Severity})
    df["_kind"] = df["kind"].map(_KIND_ORDER)
    df = df.sort_values(["_sev", "_kind", "cnes", "ine", "line_old", "line_new"], kind="stable",
                        na_position="first")
    return df.drop(columns=["_sev", "_kind"]).reset_index(drop=True)


def compare(old: CnesFile, new: CnesFile) -> DiffReport:
    """Every change between two parsed files (see the module docstring)."""
    t0 = time.perf_counter()
    parts = header_changes(old, new)
    notes: list[str] = []
    compared = not any(p["kind"].iloc[0] == "MUNICIPALITY_CHANGED" for p in parts)
    if not compared:
        notes.append("Comparação detalhada não feita: os arquivos são de municípios "
                     "diferentes.")
    else:
        parts += unit_changes(old, new)
        parts += team_changes(old, new)
        people = _People.of(old, new)
        parts += professional_changes(old, new, people)
        parts += lotacao_changes(old, new, people)
    if old.source.sha256 and old.source.sha256 == new.source.sha256:
        notes.append("Os dois arquivos são idênticos (mesmo SHA-256).")
    do, dn = old.header.get("DATA", ""), new.header.get("DATA", "")
    if do and dn and dn < do:
        notes.append(f"O arquivo novo tem data ({dn}) anterior à do arquivo anterior ({do}): "
                     "confira a ordem dos arquivos (primeiro o último importado, depois o novo).")
    for side, cf in (("anterior", old), ("novo", new)):
        if normalize_version(cf.version) is None:
            notes.append(f"O layout do arquivo {side} ({cf.version or 'ausente'}) não é 2.1, "
                         "3.0 nem 3.1: a versão não foi comparada.")
    changes = _sorted(parts)
    if compared:
        gone = int((changes["kind"] == "PROFESSIONAL_REMOVED").sum())
        if gone > 100 and gone > 0.5 * len(old.professionals):
            notes.append(f"{gone} dos {len(old.professionals)} profissionais do arquivo anterior "
                         "não estão no novo: confira se os dois arquivos são mesmo do mesmo "
                         "cadastro (o último importado e o novo).")
    return DiffReport(old, new, changes, notes, compared,
                      {"compare": round(time.perf_counter() - t0, 3)})


def diff(old: str | os.PathLike, new: str | os.PathLike, *, limits: Limits | None = None,
         display_names: tuple[str | None, str | None] = (None, None)) -> DiffReport:
    """Parse both files (XML or ZIP) and compare them. Raises InputError/HostileFileError
    when a file cannot be read at all (the message names which one)."""
    t0 = time.perf_counter()
    a = parse(old, limits=limits, display_name=display_names[0])
    t1 = time.perf_counter()
    b = parse(new, limits=limits, display_name=display_names[1])
    t2 = time.perf_counter()
    report = compare(a, b)
    report.seconds = {"parse_old": round(t1 - t0, 3), "parse_new": round(t2 - t1, 3),
                      **report.seconds}
    return report


# --------------------------------------------------------------------------- report
@dataclass
class DiffReport(ReportFiles):
    old: CnesFile
    new: CnesFile
    changes: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    compared: bool = True
    seconds: dict[str, float] = field(default_factory=dict)
    shown: int = 10        # changes to review listed in the terminal text
    _code: list = field(default_factory=list, repr=False)    # cache of confirmation_code

    @property
    def counts(self) -> dict[str, int]:
        vc = self.changes["kind"].value_counts()
        return {code: int(vc.get(code, 0)) for code in KINDS}

    def severity_count(self, severity: Severity) -> int:
        return int((self.changes["severity"] == severity).sum())

    @property
    def errors(self) -> int:
        return self.severity_count(Severity.ERROR)

    @property
    def warnings(self) -> int:
        return self.severity_count(Severity.WARNING)

    @property
    def exit_code(self) -> ExitCode:
        """OK when nothing needs attention; FINDINGS when something does (errors or
        warnings: a difference to review)."""
        return ExitCode.FINDINGS if self.errors or self.warnings else ExitCode.OK

    @property
    def confirmation_code(self) -> str | None:
        """A short code for the set of changes the analyst must review (warnings, without
        line numbers): the stage accepts them once the site file records this code in
        ``xml.alteracoes_confirmadas``. None when there is nothing to confirm."""
        if not self._code:
            self._code.append(confirmation_code(self.changes))
        return self._code[0]

    def file_summary(self, cf: CnesFile) -> dict[str, Any]:
        return {**file_info(cf), "counts": file_counts(cf)}

    # -- outputs ----------------------------------------------------------------------------
    def document(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "old": self.file_summary(self.old),
                "new": self.file_summary(self.new), "counts": self.counts,
                "errors": self.errors, "warnings": self.warnings,
                "infos": self.severity_count(Severity.INFO), "compared": self.compared,
                "confirmation_code": self.confirmation_code, "notes": self.notes,
                "changes": nested_records(self.changes, ("kind", "severity"), "where", WHERE,
                                          ("message",), integers=("line_old", "line_new"),
                                          distinct=_DISTINCT),
                "seconds": self.seconds}

    def json_text(self) -> str:
        return dumps(self.document())

    def to_json(self) -> dict[str, Any]:
        return to_python(self.document())

    def records(self, frame: pd.DataFrame | None = None) -> list[dict[str, Any]]:
        frame = self.changes if frame is None else frame
        return nested_records(frame, ("kind", "severity"), "where", WHERE, ("message",),
                              integers=("line_old", "line_new"),
                              distinct=_DISTINCT).to_python()

    def examples(self, per_kind: int = 20) -> list[dict[str, Any]]:
        return self.records(self.changes.groupby("kind", sort=False).head(per_kind))

    def text(self) -> str:
        """The pt-BR summary ``esus-runbook xml comparar`` prints: both files, the count of each
        kind of change, the notes, the first :attr:`shown` changes to review and the
        verdict."""
        lines = []
        for label, cf in (("Anterior", self.old), ("Novo", self.new)):
            lines.append(f"{label}: {cf.source.name} (layout {cf.version or '?'}, município "
                         f"{cf.ibge or '?'}, data {cf.header.get('DATA') or '?'}, "
                         f"{len(cf.professionals)} profissionais)")
        counts = self.counts
        for code, kind in KINDS.items():
            if counts[code]:
                lines.append(f"  {code:<22} {kind.severity.label:<10} "
                             f"{counts[code]:>7}  {kind.title}")
        lines += [f"Nota: {note}" for note in self.notes]
        shown = self.changes[self.changes["severity"] != Severity.INFO].head(self.shown)
        lines += [f"  - {rec['message']}" for rec in self.records(shown)]
        total = self.errors + self.warnings
        if total > len(shown):
            lines.append(f"  ... e mais {total - len(shown)} (lista completa com --json ou "
                         "--html)")
        if self.exit_code:
            code = self.confirmation_code
            lines.append(f"Resultado: {self.errors} erro(s), {self.warnings} alteração(ões) "
                         "a revisar" + (f"; código de confirmação: {code}" if code else ""))
        else:
            lines.append(f"Resultado: nada exige atenção ({sum(counts.values())} "
                         "alteração(ões) esperada(s))")
        return "\n".join(lines)

    def compact(self, per_kind: int = 20) -> dict[str, Any]:
        """Bounded metrics for the stage result: counts and the first changes per kind."""
        return {"anterior": self.file_summary(self.old), "novo": self.file_summary(self.new),
                "counts": self.counts, "erros": self.errors, "alertas": self.warnings,
                "informacoes": self.severity_count(Severity.INFO), "comparado": self.compared,
                "codigo_confirmacao": self.confirmation_code, "notas": self.notes,
                "exemplos": self.examples(per_kind), "por_exemplo": per_kind}

    def to_html(self) -> str:
        svg = changes_chart(self.counts)
        charts = [("Alterações por tipo", svg)] if svg is not None else []
        return environment().get_template("xml_diff.html.j2").render(
            old=self.file_summary(self.old), new=self.file_summary(self.new),
            counts=self.counts, kinds=KINDS, errors=self.errors,
            warnings=self.warnings, infos=self.severity_count(Severity.INFO), compared=self.compared,
            code=self.confirmation_code, notes=self.notes, charts=charts,
            changes=self.records(self.changes.head(HTML_CHANGES_LIMIT)),
            changes_total=len(self.changes), changes_limit=HTML_CHANGES_LIMIT,
            generated_at=now_iso())



def confirmation_code(changes: pd.DataFrame) -> str | None:
    """sha256 (12 hex digits) of the sorted warning changes, as (kind, masked where without
    line numbers): the same review gives the same code, whatever the order or formatting of
    the files; only masked identifiers enter it (nothing a report does not already show)."""
    att = changes[changes["kind"].isin(ACKNOWLEDGED_KINDS)]
    if att.empty:
        return None
    text = att["kind"].to_numpy(dtype=object)
    for c in _ACK_COLUMNS:
        col = att[c].to_numpy(dtype=object)
        text = text + "|" + np.where(pd.isna(col), "", col).astype(str).astype(object)
    blob = "\n".join(sorted(text.tolist())).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:12]


def changes_chart(counts: dict[str, int]) -> str | None:
    """Horizontal bars (SVG): changes per kind (kinds with none are left out), coloured by
    severity; None when nothing changes."""
    return kind_bars(counts, KINDS, SEVERITY_LABELS, "O que a importação vai mudar",
                     "alterações")


EXAMPLE_GROUPS = (
    ("Profissionais que perdem o acesso", ("PROFESSIONAL_REMOVED",)),
    ("CNS diferente para o mesmo CPF", ("CNS_CHANGED",)),
    ("Lotações, equipes e unidades removidas ou desativadas",
     ("LOTACAO_REMOVED", "TEAM_REMOVED", "TEAM_DEACTIVATED", "UNIT_REMOVED")),
    ("Lotações alteradas (CBO, equipe ou unidade)", ("LOTACAO_CHANGED",)),
    ("Novidades: profissionais, lotações, equipes e unidades",
     ("PROFESSIONAL_ADDED", "LOTACAO_ADDED", "TEAM_ADDED", "TEAM_REACTIVATED", "UNIT_ADDED")),
    ("Layout e município", ("VERSION_DOWNGRADE", "MUNICIPALITY_CHANGED")),
)
EXAMPLE_HEADERS = {"cns_old": "cns (anterior)", "cns_new": "cns (novo)",
                   "cnes_new": "cnes (novo)", "ine_new": "ine (novo)", "cbo_new": "cbo (novo)",
                   "version_old": "layout (anterior)", "version_new": "layout (novo)",
                   "ibge_old": "ibge (anterior)", "ibge_new": "ibge (novo)",
                   "line_old": "linha (anterior)", "line_new": "linha (novo)"}


def example_tables(compact: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """:meth:`DiffReport.compact`'s first changes of each kind (masked identifiers) as one
    table per group of kinds (:data:`EXAMPLE_GROUPS`), with pt-BR headers; groups without
    changes are left out, and so are columns empty in a group."""
    rows = [{"tipo": e["kind"], **e["where"], "mensagem": e["message"]}
            for e in compact.get("exemplos", [])]
    df = pd.DataFrame(rows, columns=["tipo", *WHERE, "mensagem"])
    for c in ("line_old", "line_new"):
        df[c] = df[c].astype("Int64")
    out = {}
    for title, kinds in EXAMPLE_GROUPS:
        part = df[df["tipo"].isin(kinds)].dropna(axis=1, how="all")
        if len(part):
            part = part.astype(object).where(part.notna(), "")
            out[title] = part.rename(columns=EXAMPLE_HEADERS).reset_index(drop=True)
    return out
