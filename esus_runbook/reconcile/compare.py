"""The comparison of PEC's tables with the parsed CNES XML: pandas merges, no row loops.

Identity (see ``docs/reconciliacao.md``): unit = CNES; team = (CNES, INE); professional =
CPF; lotação = (CPF, CNES, INE, CBO). PEC's side is scoped to the XML's municipality as far
as the known schema allows: the units whose CNES is in the file, plus the units of active
lotações (these are ``UNIT_ONLY_IN_PEC`` when not in the file). Professionals, teams and units
without an active lotação are not differences: PEC deactivates, it does not delete.

A lotação of the file without an equal active lotação in PEC and an active PEC lotação not
in the file, of the same professional, are paired into one ``LOTACAO_MISMATCH`` exactly as
``xml diff`` pairs removed and added lotações (same CNES and CBO → the team differs; same
CNES and INE → the CBO differs; same CBO → the unit differs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import ids
from ..cnes.diff import _pair
from ..cnes.parser import CnesFile
from .pecdb import PecTables

ERROR, WARNING = "error", "warning"
SEVERITY_LABELS = {ERROR: "erro", WARNING: "alerta"}
# below this share of the file's lotações active in PEC, the file was not imported (a
# runbook choice, not an official figure: docs/reconciliacao.md)
NOT_IMPORTED_BELOW = 0.10


@dataclass(frozen=True)
class Kind:
    code: str
    severity: str
    title: str    # pt-BR, short
    action: str   # pt-BR: what the analyst does


KINDS: dict[str, Kind] = {k.code: k for k in (
    Kind("NOT_IMPORTED", ERROR, "XML não importado no PEC",
         "Importe o XML no PEC (Administração > Importar CNES) e rode de novo; se já importou, "
         "confira no histórico de importações do PEC se o processo terminou (CONCLUIDO) e se "
         "o banco informado é o desta instalação."),
    Kind("PROFESSIONAL_MISSING_IN_PEC", ERROR, "Profissional do XML sem cadastro no PEC",
         "Importe o XML de novo e confira no histórico de importações do PEC se houve erro; "
         "o profissional não consegue entrar no PEC até isso."),
    Kind("PROFESSIONAL_ONLY_IN_PEC", WARNING, "Profissional ativo no PEC fora do XML",
         "Confirme que o XML é o mais recente do município (um XML mais novo pode ter sido "
         "importado depois); se for, importe-o de novo: o PEC desativa quem não está nele."),
    Kind("CNS_MISMATCH", WARNING, "CNS do PEC diferente do XML",
         "Confirme no CADSUS o CNS correto; se o XML estiver certo, importe-o de novo, senão "
         "corrija no SCNES e gere outro XML."),
    Kind("LOTACAO_MISSING_IN_PEC", ERROR, "Lotação do XML não ativa no PEC",
         "Importe o XML de novo e confira no histórico de importações do PEC se houve erro; "
         "sem a lotação o profissional não atua naquela unidade/equipe."),
    Kind("LOTACAO_ONLY_IN_PEC", WARNING, "Lotação ativa no PEC fora do XML",
         "Confirme que o XML é o mais recente; se for, importe-o de novo para o PEC desativar "
         "a lotação (ou desative-a no PEC)."),
    Kind("LOTACAO_MISMATCH", ERROR, "Lotação com CBO, unidade ou equipe diferente",
         "Importe o XML de novo; se a diferença continuar, confira o histórico de importações "
         "do PEC e se o XML é o mais recente."),
    Kind("TEAM_MISSING_IN_PEC", ERROR, "Equipe ativa do XML ausente no PEC",
         "Importe o XML de novo e confira no histórico de importações do PEC se houve erro."),
    Kind("TEAM_ONLY_IN_PEC", WARNING, "Equipe com lotações ativas no PEC fora do XML",
         "Confirme que o XML é o mais recente; se for, importe-o de novo: o PEC desativa a "
         "equipe e as lotações dela."),
    Kind("UNIT_MISSING_IN_PEC", ERROR, "Unidade do XML ausente no PEC",
         "Importe o XML de novo e confira no histórico de importações do PEC se houve erro."),
    Kind("UNIT_ONLY_IN_PEC", WARNING, "Unidade com lotações ativas no PEC fora do XML",
         "Confirme que o XML é o mais recente do município; numa instalação que atende mais de "
         "um município a unidade pode ser de outro; senão importe o XML de novo."),
)}
_KIND_ORDER = {code: i for i, code in enumerate(KINDS)}
WHERE = ("cpf", "cns_xml", "cns_pec", "cnes", "ine", "cbo", "cnes_pec", "ine_pec", "cbo_pec",
         "lotacao_pec", "line")
COLUMNS = ("kind", "severity", *WHERE, "message")


# --------------------------------------------------------------------------- helpers
def _frame(kind: str, n: int, message, **cols) -> pd.DataFrame:
    """Differences of ``kind``: ``cols`` are aligned arrays/Series (or scalars)."""
    def col(name):
        v = cols.get(name)
        if v is None:
            return np.full(n, None, dtype=object)
        if isinstance(v, pd.Series):
            v = v.to_numpy(dtype=object)
        if np.isscalar(v):
            return np.full(n, v, dtype=object)
        a = np.asarray(v, dtype=object)
        return np.where(a == "", None, a)

    data = {"kind": np.full(n, kind, dtype=object),
            "severity": np.full(n, KINDS[kind].severity, dtype=object)}
    data.update({c: col(c) for c in WHERE})
    msg = message.to_numpy(dtype=object) if isinstance(message, pd.Series) else message
    data["message"] = np.full(n, msg, dtype=object) if isinstance(msg, str) else msg
    df = pd.DataFrame(data)
    df["line"] = pd.array(df["line"].to_numpy(dtype=object), dtype="Int64")
    return df


def _s(values) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=object), dtype="object")


def _digits(s: pd.Series, width: int) -> pd.Series:
    """Trimmed; zero-padded to ``width`` when 1..width-1 digits (a number column in PEC)."""
    s = s.astype("str").str.strip()
    short = s.str.fullmatch(f"[0-9]{{1,{width - 1}}}").fillna(False).astype(bool)
    if short.any():
        s = s.copy()
        s[short] = s[short].str.zfill(width)
    return s


def _team_txt(ine: pd.Series) -> np.ndarray:
    a = ine.fillna("").astype(str).to_numpy(dtype=object)
    return np.where(a == "", "sem equipe", "INE " + a).astype(object)


def _team_where(ine: pd.Series) -> np.ndarray:
    a = ine.fillna("").astype(str).to_numpy(dtype=object)
    return np.where(a == "", "", ", equipe INE " + a).astype(object)


# --------------------------------------------------------------------------- sides
@dataclass
class Sides:
    """Both sides normalized to the same keys."""

    x_units: pd.DataFrame     # cnes, nome, line
    x_teams: pd.DataFrame     # cnes, ine, ativa, line
    x_prof: pd.DataFrame      # cpf, cns, line (first row of each non-empty CPF)
    x_lot: pd.DataFrame       # cpf, cnes, ine, cbo, line (distinct keys)
    p_units: pd.DataFrame     # uid, cnes, nome
    p_teams: pd.DataFrame     # tid, cnes, ine
    p_prof: pd.DataFrame      # pid, cpf, cns
    p_lot: pd.DataFrame       # lid, pid, cpf, cnes, ine, cbo (active lotações)


def sides(cf: CnesFile, pec: PecTables) -> Sides:
    x_units = cf.establishments.drop_duplicates("cnes")[["cnes", "nome", "line"]]
    x_teams = cf.teams.drop_duplicates(["cnes", "ine"])[["cnes", "ine", "ativa", "line"]]
    prof = cf.professionals
    x_prof = prof.loc[prof["cpf"] != "", ["cpf", "cns", "line"]].drop_duplicates("cpf")
    lot = cf.lotacoes
    cpf_of = prof["cpf"].to_numpy(dtype=object)[lot["prof"].to_numpy()]
    x_lot = pd.DataFrame({"cpf": cpf_of, "cnes": lot["cnes"].to_numpy(dtype=object),
                          "ine": lot["ine"].to_numpy(dtype=object),
                          "cbo": lot["cbo"].to_numpy(dtype=object),
                          "line": lot["line"].to_numpy()})
    x_lot = x_lot[x_lot["cpf"] != ""].drop_duplicates(["cpf", "cnes", "ine", "cbo"])

    p_units = pd.DataFrame({"uid": pec.units["id"], "cnes": _digits(pec.units["cnes"], 7),
                            "nome": pec.units["nome"].str.strip()})
    ucnes = p_units.drop_duplicates("uid").set_index("uid")["cnes"]
    p_teams = pd.DataFrame({"tid": pec.teams["id"],
                            "cnes": pec.teams["unidade"].map(ucnes).fillna(""),
                            "ine": _digits(pec.teams["ine"], 10)})
    p_prof = pd.DataFrame({"pid": pec.professionals["id"],
                           "cpf": _digits(pec.professionals["cpf"], 11),
                           "cns": _digits(pec.professionals["cns"], 15)})
    lot = pec.lotacoes
    tine = p_teams.drop_duplicates("tid").set_index("tid")["ine"]
    code = pec.cbos.drop_duplicates("id").set_index("id")["codigo"].str.strip().str.upper()
    pcpf = p_prof.drop_duplicates("pid").set_index("pid")["cpf"]
    p_lot = pd.DataFrame({"lid": lot["id"], "pid": lot["prof"],
                          "cpf": lot["prof"].map(pcpf).fillna(""),
                          "cnes": lot["unidade"].map(ucnes).fillna(""),
                          "ine": lot["equipe"].map(tine).fillna(""),
                          "cbo": lot["cbo"].map(code).fillna("")})
    return Sides(x_units, x_teams, x_prof, x_lot, p_units, p_teams, p_prof, p_lot)


# --------------------------------------------------------------------------- differences
def not_imported(s: Sides) -> tuple[int, int]:
    """(lotações of the file, how many of them are active in PEC)."""
    keys = ["cpf", "cnes", "ine", "cbo"]
    found = s.x_lot[keys].merge(s.p_lot[keys].drop_duplicates(), on=keys, how="inner")
    return len(s.x_lot), len(found)


def unit_differences(s: Sides) -> list[pd.DataFrame]:
    out = []
    miss = s.x_units[~s.x_units["cnes"].isin(s.p_units["cnes"])]
    if len(miss):
        out.append(_frame(
            "UNIT_MISSING_IN_PEC", len(miss),
            "A unidade CNES " + _s(miss["cnes"]) + " (" + _s(miss["nome"]) + ") do arquivo não "
            "existe no PEC: a importação não a criou. Importe o XML de novo e confira no "
            "histórico de importações do PEC se houve erro.",
            cnes=miss["cnes"], line=miss["line"]))
    active = s.p_lot[s.p_lot["cnes"] != ""]
    only = active[~active["cnes"].isin(s.x_units["cnes"])]
    if len(only):
        per = only.groupby("cnes").size().rename("n").reset_index()
        names = s.p_units.drop_duplicates("cnes")[["cnes", "nome"]]
        per = per.merge(names, on="cnes", how="left")
        out.append(_frame(
            "UNIT_ONLY_IN_PEC", len(per),
            "A unidade CNES " + _s(per["cnes"]) + " (" + _s(per["nome"].fillna("")) + ") tem " +
            per["n"].astype(str).to_numpy(dtype=object) + " lotação(ões) ativa(s) no PEC mas "
            "não está no arquivo: confirme que o XML é o mais recente do município (numa "
            "instalação que atende mais de um município, a unidade pode ser de outro); senão "
            "importe o XML de novo para o PEC desativá-la.",
            cnes_pec=per["cnes"]))
    return out


def team_differences(s: Sides) -> list[pd.DataFrame]:
    out = []
    keys = ["cnes", "ine"]
    active = s.x_teams[s.x_teams["ativa"] & s.x_teams["cnes"].isin(s.p_units["cnes"])]
    m = active.merge(s.p_teams[keys].drop_duplicates(), on=keys, how="left", indicator=True)
    miss = m[m["_merge"] == "left_only"]
    if len(miss):
        out.append(_frame(
            "TEAM_MISSING_IN_PEC", len(miss),
            "A equipe INE " + _s(miss["ine"]) + " da unidade " + _s(miss["cnes"]) + " está "
            "ativa no arquivo mas não existe no PEC: importe o XML de novo e confira no "
            "histórico de importações do PEC se houve erro.",
            cnes=miss["cnes"], ine=miss["ine"], line=miss["line"]))
    # teams of active PEC lotações in the file's units that the file does not list at all
    # (a team the file lists as deactivated but still holds lotações of is compared through
    # those lotações)
    lot = s.p_lot[(s.p_lot["ine"] != "") & s.p_lot["cnes"].isin(s.x_units["cnes"])]
    used = lot.groupby(keys).size().rename("n").reset_index()
    m = used.merge(s.x_teams[keys], on=keys, how="left", indicator=True)
    only = m[m["_merge"] == "left_only"]
    if len(only):
        out.append(_frame(
            "TEAM_ONLY_IN_PEC", len(only),
            "A equipe INE " + _s(only["ine"]) + " da unidade " + _s(only["cnes"]) + " tem " +
            only["n"].astype(str).to_numpy(dtype=object) + " lotação(ões) ativa(s) no PEC mas "
            "não está no arquivo: confirme que o XML é o mais recente; se for, importe-o de "
            "novo para o PEC desativar a equipe.",
            cnes_pec=only["cnes"], ine_pec=only["ine"]))
    return out


def professional_differences(s: Sides) -> list[pd.DataFrame]:
    out = []
    p_first = s.p_prof[s.p_prof["cpf"] != ""].drop_duplicates("cpf")
    m = s.x_prof.merge(p_first, on="cpf", how="left", suffixes=("", "_pec"), indicator=True)
    miss = m[m["_merge"] == "left_only"]
    if len(miss):
        n_lot = s.x_lot["cpf"].value_counts().reindex(miss["cpf"]).fillna(0).astype("int64")
        cpf = ids.mask_cpf_series(miss["cpf"])
        out.append(_frame(
            "PROFESSIONAL_MISSING_IN_PEC", len(miss),
            "O profissional CPF " + _s(cpf) + " (" + n_lot.astype(str).to_numpy(dtype=object) +
            " lotação(ões) no arquivo) não tem cadastro no PEC: ele não consegue entrar. "
            "Importe o XML de novo e confira no histórico de importações do PEC se houve erro.",
            cpf=cpf, line=miss["line"]))
    both = m[m["_merge"] == "both"]
    diff = both[both["cns"] != both["cns_pec"]]
    if len(diff):
        cpf = ids.mask_cpf_series(diff["cpf"])
        cx = ids.mask_cns_series(diff["cns"]).to_numpy(dtype=object)
        cp = ids.mask_cns_series(diff["cns_pec"]).to_numpy(dtype=object)
        out.append(_frame(
            "CNS_MISMATCH", len(diff),
            "O profissional CPF " + _s(cpf) + " tem CNS " + _s(np.where(cp == "", "vazio", cp)) +
            " no PEC e " + _s(np.where(cx == "", "vazio", cx)) + " no arquivo: confirme no "
            "CADSUS o CNS correto; se o arquivo estiver certo, importe-o de novo, senão corrija "
            "no SCNES e gere outro XML.",
            cpf=cpf, cns_xml=cx, cns_pec=cp, line=diff["line"]))
    # active in PEC in a unit of the file, CPF not in the file
    lot = s.p_lot[s.p_lot["cnes"].isin(s.x_units["cnes"])]
    per = lot.groupby("cpf").agg(n=("lid", "size"), cnes=("cnes", "first"),
                                 cbo=("cbo", "first")).reset_index()
    only = per[~per["cpf"].isin(s.x_prof["cpf"])]
    if len(only):
        cpf = ids.mask_cpf_series(only["cpf"])
        out.append(_frame(
            "PROFESSIONAL_ONLY_IN_PEC", len(only),
            "O profissional CPF " + _s(cpf) + " tem " + only["n"].astype(str).to_numpy(
                dtype=object) + " lotação(ões) ativa(s) no PEC (CBO " + _s(only["cbo"]) +
            " na unidade " + _s(only["cnes"]) + ") mas não está no arquivo: ele continua com "
            "acesso. Confirme que o XML é o mais recente; se for, importe-o de novo para o PEC "
            "desativar as lotações dele.",
            cpf=cpf, cnes_pec=only["cnes"], cbo_pec=only["cbo"]))
    return out


def lotacao_differences(s: Sides) -> list[pd.DataFrame]:
    """Lotações of professionals present on both sides, in the units of the file."""
    keys = ["cpf", "cnes", "ine", "cbo"]
    both = s.x_prof["cpf"][s.x_prof["cpf"].isin(s.p_prof["cpf"])]
    x = s.x_lot[s.x_lot["cpf"].isin(both)]
    p = s.p_lot[s.p_lot["cpf"].isin(both) & s.p_lot["cnes"].isin(s.x_units["cnes"])]
    p = p.drop_duplicates(keys)
    m = x.merge(p[[*keys, "lid"]], on=keys, how="outer", indicator=True)
    missing = m.loc[m["_merge"] == "left_only", [*keys, "line"]].rename(
        columns={"line": "line_old"}).reset_index(drop=True)
    extra = m.loc[m["_merge"] == "right_only", [*keys, "lid"]].rename(
        columns={"lid": "lid_new"}).reset_index(drop=True)
    out = []
    team, missing, extra = _pair(missing, extra, ["cpf", "cnes", "cbo"])
    cbo, missing, extra = _pair(missing, extra, ["cpf", "cnes", "ine"])
    unit, missing, extra = _pair(missing, extra, ["cpf", "cbo"])
    changed = []
    if len(team):
        changed.append(pd.DataFrame({
            "cpf": team["cpf"], "cnes": team["cnes"], "ine": team["ine_old"], "cbo": team["cbo"],
            "cnes_pec": None, "ine_pec": team["ine_new"], "cbo_pec": None,
            "lid": team["lid_new"], "line": team["line_old"],
            "what": "na equipe " + _s(_team_txt(team["ine_new"])).to_numpy(dtype=object)}))
    if len(cbo):
        changed.append(pd.DataFrame({
            "cpf": cbo["cpf"], "cnes": cbo["cnes"], "ine": cbo["ine"], "cbo": cbo["cbo_old"],
            "cnes_pec": None, "ine_pec": None, "cbo_pec": cbo["cbo_new"],
            "lid": cbo["lid_new"], "line": cbo["line_old"],
            "what": "com o CBO " + cbo["cbo_new"].astype(str)}))
    if len(unit):
        changed.append(pd.DataFrame({
            "cpf": unit["cpf"], "cnes": unit["cnes_old"], "ine": unit["ine_old"],
            "cbo": unit["cbo"], "cnes_pec": unit["cnes_new"], "ine_pec": unit["ine_new"],
            "cbo_pec": None, "lid": unit["lid_new"], "line": unit["line_old"],
            "what": "na unidade " + unit["cnes_new"].astype(str) + " (" +
                    _s(_team_txt(unit["ine_new"])).to_numpy(dtype=object) + ")"}))
    if changed:
        c = pd.concat(changed, ignore_index=True)
        cpf = ids.mask_cpf_series(c["cpf"])
        out.append(_frame(
            "LOTACAO_MISMATCH", len(c),
            "A lotação do profissional CPF " + _s(cpf) + " (CBO " + _s(c["cbo"]) + " na unidade "
            + _s(c["cnes"]) + _s(_team_where(c["ine"])) + ") está ativa no PEC " + _s(c["what"])
            + ": a importação não atualizou a lotação. Importe o XML de novo; se continuar, "
            "confira o histórico de importações do PEC e se o XML é o mais recente.",
            cpf=cpf, cnes=c["cnes"], ine=c["ine"], cbo=c["cbo"], cnes_pec=c["cnes_pec"],
            ine_pec=c["ine_pec"], cbo_pec=c["cbo_pec"], lotacao_pec=c["lid"], line=c["line"]))
    if len(missing):
        cpf = ids.mask_cpf_series(missing["cpf"])
        out.append(_frame(
            "LOTACAO_MISSING_IN_PEC", len(missing),
            "A lotação do profissional CPF " + _s(cpf) + " (CBO " + _s(missing["cbo"]) +
            " na unidade " + _s(missing["cnes"]) + _s(_team_where(missing["ine"])) + ") do "
            "arquivo não está ativa no PEC: o profissional não atua ali. Importe o XML de novo "
            "e confira no histórico de importações do PEC se houve erro.",
            cpf=cpf, cnes=missing["cnes"], ine=missing["ine"], cbo=missing["cbo"],
            line=missing["line_old"]))
    if len(extra):
        cpf = ids.mask_cpf_series(extra["cpf"])
        out.append(_frame(
            "LOTACAO_ONLY_IN_PEC", len(extra),
            "A lotação do profissional CPF " + _s(cpf) + " (CBO " + _s(extra["cbo"]) +
            " na unidade " + _s(extra["cnes"]) + _s(_team_where(extra["ine"])) + ") está ativa "
            "no PEC mas não está no arquivo: confirme que o XML é o mais recente; se for, "
            "importe-o de novo para o PEC desativá-la.",
            cpf=cpf, cnes_pec=extra["cnes"], ine_pec=extra["ine"], cbo_pec=extra["cbo"],
            lotacao_pec=extra["lid_new"]))
    return out


def empty() -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    df["line"] = df["line"].astype("Int64")
    return df


def ordered(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty()
    df = pd.concat(parts, ignore_index=True)
    df["_sev"] = df["severity"].map({ERROR: 0, WARNING: 1})
    df["_kind"] = df["kind"].map(_KIND_ORDER)
    df = df.sort_values(["_sev", "_kind", "cnes", "cnes_pec", "ine", "line"], kind="stable",
                        na_position="first")
    return df.drop(columns=["_sev", "_kind"]).reset_index(drop=True)


def compare(cf: CnesFile, pec: PecTables) -> tuple[pd.DataFrame, dict[str, int]]:
    """Every difference (ordered: errors first) and PEC's figures in the file's scope."""
    s = sides(cf, pec)
    n_lot, found = not_imported(s)
    in_file = s.p_lot[s.p_lot["cnes"].isin(s.x_units["cnes"])]
    figures = {"professionals": int(in_file["cpf"].nunique()),
               "units": int(in_file["cnes"].nunique()),
               "teams": int(in_file.loc[in_file["ine"] != "", ["cnes", "ine"]]
                            .drop_duplicates().shape[0]),
               "lotacoes": int(len(in_file)), "lotacoes_ativas_total": int(len(s.p_lot)),
               "lotacoes_do_xml_no_pec": int(found), "lotacoes_do_xml": int(n_lot)}
    if n_lot and found < NOT_IMPORTED_BELOW * n_lot:
        pct = 100.0 * found / n_lot
        msg = (f"Só {found} das {n_lot} lotações do arquivo ({pct:.1f}%) estão ativas no PEC: "
               "o XML não foi importado (ou foi importado em outro banco). Importe-o no PEC "
               "(Administração > Importar CNES) e rode de novo; se já importou, confira no "
               "histórico de importações se o processo terminou (CONCLUIDO) e se o banco "
               "informado é o desta instalação.")
        return ordered([_frame("NOT_IMPORTED", 1, msg)]), figures
    parts = unit_differences(s) + team_differences(s) + professional_differences(s) \
        + lotacao_differences(s)
    return ordered(parts), figures
