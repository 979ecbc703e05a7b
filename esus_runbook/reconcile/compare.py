"""The comparison of PEC's tables with the parsed CNES XML: pandas merges, no row loops.

Identity (see ``docs/reconciliacao.md``): unit = CNES; team = (CNES, INE); professional =
CPF; lotação = (CPF, CNES, INE, CBO). A lotação is active as PEC counts it: its
``tb_ator_papel`` active, its unit active and, with an INE, its team active. PEC's side is
scoped to the XML's municipality as far as the known schema allows: the units whose CNES is
in the file, plus the units of active lotações (these are ``UNIT_ONLY_IN_PEC`` when not in
the file). Professionals, teams and units without an active lotação are not differences:
PEC deactivates, it does not delete. A unit or an active team of the file that PEC holds
deactivated is a difference of its own (``UNIT_INACTIVE_IN_PEC``, ``TEAM_INACTIVE_IN_PEC``)
and its lotações are not listed once more as missing. Lotações of a team the file itself
deactivates (``DT_DESATIVACAO``) are compared on neither side.

Every kind is counted in full, but at most ``limit`` rows of each are built (messages
included): a capital-sized difference list never sits in memory or in the JSON.

A lotação of the file without an equal active lotação in PEC and an active PEC lotação not
in the file, of the same professional, are paired into one ``LOTACAO_MISMATCH`` exactly as
``xml diff`` pairs removed and added lotações (same CNES and CBO → the team differs; same
CNES and INE → the CBO differs; same CBO → the unit differs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import ids
from ..cnes.diff import pair_rows
from ..cnes.parser import CnesFile
from ..status import Severity
from .pecdb import PecTables

# below this share of the file's lotações active in PEC, the file was not imported (a
# runbook choice, not an official figure: docs/reconciliacao.md)
NOT_IMPORTED_BELOW = 0.10


@dataclass(frozen=True)
class Kind:
    code: str
    severity: Severity
    title: str    # pt-BR, short
    action: str   # pt-BR: what the analyst does


KINDS: dict[str, Kind] = {k.code: k for k in (
    Kind("NOT_IMPORTED", Severity.ERROR, "XML não importado no PEC",
         "Importe o XML no PEC (Administração > Importar CNES) e rode de novo; se já importou, "
         "confira no histórico de importações do PEC se o processo terminou (CONCLUIDO) e se "
         "o banco informado é o desta instalação."),
    Kind("PROFESSIONAL_MISSING_IN_PEC", Severity.ERROR, "Profissional do XML sem cadastro no PEC",
         "Importe o XML de novo e confira no histórico de importações do PEC se houve erro; "
         "o profissional não consegue entrar no PEC até isso."),
    Kind("PROFESSIONAL_ONLY_IN_PEC", Severity.WARNING, "Profissional ativo no PEC fora do XML",
         "Confirme que o XML é o mais recente do município (um XML mais novo pode ter sido "
         "importado depois); se for, importe-o de novo: o PEC desativa quem não está nele."),
    Kind("CNS_MISMATCH", Severity.WARNING, "CNS do PEC diferente do XML",
         "Confirme no CADSUS o CNS correto; se o XML estiver certo, importe-o de novo, senão "
         "corrija no SCNES e gere outro XML."),
    Kind("LOTACAO_MISSING_IN_PEC", Severity.ERROR, "Lotação do XML não ativa no PEC",
         "Importe o XML de novo e confira no histórico de importações do PEC se houve erro; "
         "sem a lotação o profissional não atua naquela unidade/equipe."),
    Kind("LOTACAO_ONLY_IN_PEC", Severity.WARNING, "Lotação ativa no PEC fora do XML",
         "Confirme que o XML é o mais recente; se for, importe-o de novo para o PEC desativar "
         "a lotação (ou desative-a no PEC)."),
    Kind("LOTACAO_MISMATCH", Severity.ERROR, "Lotação com CBO, unidade ou equipe diferente",
         "Importe o XML de novo; se a diferença continuar, confira o histórico de importações "
         "do PEC e se o XML é o mais recente."),
    Kind("TEAM_MISSING_IN_PEC", Severity.ERROR, "Equipe ativa do XML ausente no PEC",
         "Importe o XML de novo e confira no histórico de importações do PEC se houve erro."),
    Kind("TEAM_INACTIVE_IN_PEC", Severity.ERROR, "Equipe ativa do XML desativada no PEC",
         "Importe o XML de novo (a importação reativa as equipes do arquivo) e confira no "
         "histórico de importações do PEC se houve erro; enquanto a equipe estiver "
         "desativada, as lotações nela não valem."),
    Kind("TEAM_ONLY_IN_PEC", Severity.WARNING, "Equipe com lotações ativas no PEC fora do XML",
         "Confirme que o XML é o mais recente; se for, importe-o de novo: o PEC desativa a "
         "equipe e as lotações dela."),
    Kind("UNIT_MISSING_IN_PEC", Severity.ERROR, "Unidade do XML ausente no PEC",
         "Importe o XML de novo e confira no histórico de importações do PEC se houve erro."),
    Kind("UNIT_INACTIVE_IN_PEC", Severity.ERROR, "Unidade do XML desativada no PEC",
         "Importe o XML de novo (a importação reativa as unidades do arquivo) e confira no "
         "histórico de importações do PEC se houve erro; enquanto a unidade estiver "
         "desativada, as lotações nela não valem."),
    Kind("UNIT_ONLY_IN_PEC", Severity.WARNING, "Unidade com lotações ativas no PEC fora do XML",
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
            "severity": np.full(n, KINDS[kind].severity.value, dtype=object)}
    data.update({c: col(c) for c in WHERE})
    msg = message.to_numpy(dtype=object) if isinstance(message, pd.Series) else message
    data["message"] = np.full(n, msg, dtype=object) if isinstance(msg, str) else msg
    df = pd.DataFrame(data)
    df["line"] = pd.array(df["line"].to_numpy(dtype=object), dtype="Int64")
    return df


def _s(values) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=object), dtype="object")


def _team_txt(ine: pd.Series) -> np.ndarray:
    a = ine.fillna("").astype(str).to_numpy(dtype=object)
    return np.where(a == "", "sem equipe", "INE " + a).astype(object)


def _team_where(ine: pd.Series) -> np.ndarray:
    a = ine.fillna("").astype(str).to_numpy(dtype=object)
    return np.where(a == "", "", ", equipe INE " + a).astype(object)


# --------------------------------------------------------------------------- sides
def _shared_codes(*columns: pd.Series) -> tuple[list[np.ndarray], np.ndarray]:
    """Integer codes of several string columns in one numbering (one hash pass over all of
    them) and the distinct values."""
    codes, uniques = pd.factorize(pd.concat([c.reset_index(drop=True) for c in columns],
                                            ignore_index=True), use_na_sentinel=False)
    out, start = [], 0
    for c in columns:
        out.append(codes[start:start + len(c)].astype(np.int64))
        start += len(c)
    return out, np.asarray(uniques, dtype=object)


def _combine(a: np.ndarray, b: np.ndarray, width: int) -> np.ndarray:
    """A dense int64 code per (a, b) pair (``b`` < ``width``); renumbered at each step, so
    composite keys never overflow."""
    codes, _ = pd.factorize(a * width + b)
    return codes.astype(np.int64)


def _first(codes: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Positions (sorted) of the first row of each code among the rows where ``keep``."""
    rows = np.flatnonzero(keep)
    _, idx = np.unique(codes[rows], return_index=True)
    return np.sort(rows[idx])


def _mask(size: int, codes) -> np.ndarray:
    m = np.zeros(size, dtype=bool)
    m[np.asarray(codes, dtype=np.int64)] = True
    return m


@dataclass
class Sides:
    """Both sides; every identifier also as an integer code shared by the two sides (CPF
    ``c``, CNES ``u``, team ``t`` = (CNES, INE), lotação ``k`` = (CPF, CNES, INE, CBO))."""

    x_units: pd.DataFrame     # cnes, nome, line, u
    x_teams: pd.DataFrame     # cnes, ine, ativa, line, t
    x_prof: pd.DataFrame      # cpf, cns, line, c — first row of each non-empty CPF
    x_lot: pd.DataFrame       # cpf, cnes, ine, cbo, line, c, u, t, k — distinct k, with CPF,
    #                           outside the teams the file deactivates
    p_units: pd.DataFrame     # cnes, nome, ativo, u
    p_teams: pd.DataFrame     # ine, cnes, ativo, t
    p_prof: pd.DataFrame      # cpf, cns, c — first row of each non-empty CPF
    p_lot: pd.DataFrame       # id, cpf, cnes, ine, cbo, c, u, t, k — lotações active as PEC
    #                           counts them, outside the teams the file deactivates
    n_cpf: int
    n_cnes: int
    held_back: int = 0        # lotações with an active tb_ator_papel in an inactive unit/team
    limit: int | None = None  # rows built per kind (None: all)
    totals: dict[str, int] = field(default_factory=dict)

    def take(self, kind: str, df: pd.DataFrame) -> pd.DataFrame:
        """Count ``df`` as the differences of ``kind`` and keep the first ``limit`` rows."""
        self.totals[kind] = self.totals.get(kind, 0) + len(df)
        return df if self.limit is None else df.head(self.limit)

    @property
    def file_units(self) -> np.ndarray:
        """Per CNES code: the unit is in the file (the scope of the comparison)."""
        return _mask(self.n_cnes, self.x_units["u"])


def sides(cf: CnesFile, pec: PecTables, limit: int | None = None) -> Sides:
    prof, lot = cf.professionals, cf.lotacoes
    xu = cf.establishments.drop_duplicates("cnes")[["cnes", "nome", "line"]]
    xt = cf.teams.drop_duplicates(["cnes", "ine"])[["cnes", "ine", "ativa", "line"]]
    pl = pec.lotacoes
    # active as PEC counts it: tb_ator_papel (the query), the unit and, with an INE, the team
    counted = pl["unidade_ativa"].to_numpy(dtype=bool) & (
        (pl["ine"] == "").to_numpy() | pl["equipe_ativa"].to_numpy(dtype=bool))
    held_back = int((~counted).sum())
    pl = pl.loc[counted, ["id", "cpf", "cnes", "ine", "cbo"]]
    (c_xp, c_pp, c_pl), cpfs = _shared_codes(prof["cpf"], pec.professionals["cpf"],
                                             pl["cpf"])
    (u_xu, u_xt, u_xl, u_pu, u_pt, u_pl), cnes = _shared_codes(
        xu["cnes"], xt["cnes"], lot["cnes"], pec.units["cnes"], pec.teams["cnes"], pl["cnes"])
    (i_xt, i_xl, i_pt, i_pl), ines = _shared_codes(xt["ine"], lot["ine"], pec.teams["ine"],
                                                   pl["ine"])
    (b_xl, b_pl), cbos = _shared_codes(lot["cbo"], pl["cbo"])
    sizes = np.cumsum([len(u_xt), len(u_xl), len(u_pt)])
    t_xt, t_xl, t_pt, t_pl = np.split(
        _combine(np.concatenate([u_xt, u_xl, u_pt, u_pl]),
                 np.concatenate([i_xt, i_xl, i_pt, i_pl]), len(ines) + 1), sizes)
    c_xl = c_xp[lot["prof"].to_numpy()]
    k = _combine(np.concatenate([c_xl, c_pl]), np.concatenate([t_xl, t_pl]),
                 int(max(t_xl.max(initial=0), t_pl.max(initial=0))) + 1)
    k_xl, k_pl = np.split(_combine(k, np.concatenate([b_xl, b_pl]), len(cbos) + 1), [len(lot)])

    blank = np.flatnonzero(cpfs == "")
    no_cpf = int(blank[0]) if len(blank) else -1
    rows = _first(c_xp, c_xp != no_cpf)
    x_prof = prof.iloc[rows][["cpf", "cns", "line"]].assign(c=c_xp[rows])
    rows = _first(c_pp, c_pp != no_cpf)
    p_prof = pec.professionals.iloc[rows][["cpf", "cns"]].assign(c=c_pp[rows])
    # lotações of a team the file deactivates: compared on neither side
    gone = _mask(int(max(t_xt.max(initial=-1), t_xl.max(initial=-1), t_pt.max(initial=-1),
                         t_pl.max(initial=-1))) + 1,
                 t_xt[~xt["ativa"].to_numpy(dtype=bool)])
    keep = (c_xl != no_cpf) & ~pd.Series(k_xl).duplicated().to_numpy() & ~gone[t_xl]
    p_keep = ~gone[t_pl]
    x_lot = pd.DataFrame({
        "cpf": prof["cpf"].to_numpy(dtype=object)[lot["prof"].to_numpy()][keep],
        "cnes": lot["cnes"].to_numpy(dtype=object)[keep],
        "ine": lot["ine"].to_numpy(dtype=object)[keep],
        "cbo": lot["cbo"].to_numpy(dtype=object)[keep], "line": lot["line"].to_numpy()[keep],
        "c": c_xl[keep], "u": u_xl[keep], "t": t_xl[keep], "k": k_xl[keep]})
    return Sides(xu.assign(u=u_xu), xt.assign(t=t_xt), x_prof, x_lot,
                 pec.units.assign(u=u_pu), pec.teams.assign(t=t_pt), p_prof,
                 pl.assign(c=c_pl, u=u_pl, t=t_pl, k=k_pl)[p_keep], len(cpfs), len(cnes),
                 held_back, limit)


# --------------------------------------------------------------------------- differences
def not_imported(s: Sides) -> tuple[int, int]:
    """(lotações of the file, how many of them are active in PEC)."""
    return len(s.x_lot), int(pd.Index(s.x_lot["k"]).isin(s.p_lot["k"]).sum())


def _lot_count(codes: np.ndarray, size: int, of: np.ndarray) -> np.ndarray:
    """How many of ``codes`` fall on each of ``of`` (as text, for messages)."""
    return np.bincount(codes, minlength=size)[of].astype(str).astype(object)


def unit_state(s: Sides) -> tuple[np.ndarray, np.ndarray]:
    """Per CNES code: (the unit exists in PEC, some row of it is active)."""
    return (_mask(s.n_cnes, s.p_units["u"]),
            _mask(s.n_cnes, s.p_units.loc[s.p_units["ativo"].to_numpy(dtype=bool), "u"]))


def team_state(s: Sides) -> tuple[np.ndarray, np.ndarray]:
    """Per team code (CNES, INE): (the team exists in PEC, some row of it is active)."""
    size = int(max(s.x_teams["t"].to_numpy().max(initial=-1),
                   s.x_lot["t"].to_numpy().max(initial=-1),
                   s.p_teams["t"].to_numpy().max(initial=-1),
                   s.p_lot["t"].to_numpy().max(initial=-1))) + 1
    return (_mask(size, s.p_teams["t"]),
            _mask(size, s.p_teams.loc[s.p_teams["ativo"].to_numpy(dtype=bool), "t"]))


def file_teams(s: Sides) -> pd.DataFrame:
    """Active teams of the file whose unit is in PEC and active there (a missing or
    deactivated unit is a difference of the unit, not one more per team)."""
    exists, active = unit_state(s)
    unit_ok = s.file_units & exists & active
    xt = s.x_teams
    xt_unit = s.x_units.set_index("cnes")["u"].reindex(xt["cnes"]).to_numpy()
    has_unit = ~pd.isna(xt_unit)
    ok = np.zeros(len(xt), dtype=bool)
    ok[has_unit] = unit_ok[xt_unit[has_unit].astype(np.int64)]
    return xt[xt["ativa"].to_numpy(dtype=bool) & ok]


def unit_differences(s: Sides) -> list[pd.DataFrame]:
    out = []
    exists, active = unit_state(s)
    xu = s.x_units["u"].to_numpy()
    miss = s.take("UNIT_MISSING_IN_PEC", s.x_units[~exists[xu]])
    if len(miss):
        out.append(_frame(
            "UNIT_MISSING_IN_PEC", len(miss),
            "A unidade CNES " + _s(miss["cnes"]) + " (" + _s(miss["nome"]) + ") do arquivo não "
            "existe no PEC: a importação não a criou. Importe o XML de novo e confira no "
            "histórico de importações do PEC se houve erro.",
            cnes=miss["cnes"], line=miss["line"]))
    off = s.take("UNIT_INACTIVE_IN_PEC", s.x_units[exists[xu] & ~active[xu]])
    if len(off):
        n = _lot_count(s.x_lot["u"].to_numpy(), s.n_cnes, off["u"].to_numpy())
        out.append(_frame(
            "UNIT_INACTIVE_IN_PEC", len(off),
            "A unidade CNES " + _s(off["cnes"]) + " (" + _s(off["nome"]) + ") do arquivo está "
            "desativada no PEC: as " + _s(n) + " lotação(ões) do arquivo nela não valem (o "
            "PEC só considera ativa a lotação de uma unidade ativa). Importe o XML de novo (a "
            "importação reativa as unidades do arquivo) e confira no histórico de importações "
            "do PEC se houve erro.",
            cnes=off["cnes"], line=off["line"]))
    lot = s.p_lot
    only = lot[(lot["cnes"] != "").to_numpy() & ~s.file_units[lot["u"].to_numpy()]]
    if len(only):
        per = only.groupby("cnes").size().rename("n").reset_index()
        per = s.take("UNIT_ONLY_IN_PEC", per)
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
    xt = s.x_teams
    active = file_teams(s)
    exists, on = team_state(s)
    at = active["t"].to_numpy()
    miss = s.take("TEAM_MISSING_IN_PEC", active[~exists[at]])
    if len(miss):
        out.append(_frame(
            "TEAM_MISSING_IN_PEC", len(miss),
            "A equipe INE " + _s(miss["ine"]) + " da unidade " + _s(miss["cnes"]) + " está "
            "ativa no arquivo mas não existe no PEC: importe o XML de novo e confira no "
            "histórico de importações do PEC se houve erro.",
            cnes=miss["cnes"], ine=miss["ine"], line=miss["line"]))
    off = s.take("TEAM_INACTIVE_IN_PEC", active[exists[at] & ~on[at]])
    if len(off):
        n = _lot_count(s.x_lot["t"].to_numpy(), len(exists), off["t"].to_numpy())
        out.append(_frame(
            "TEAM_INACTIVE_IN_PEC", len(off),
            "A equipe INE " + _s(off["ine"]) + " da unidade " + _s(off["cnes"]) + " está ativa "
            "no arquivo mas desativada no PEC: as " + _s(n) + " lotação(ões) do arquivo nela "
            "não valem (o PEC só considera ativa a lotação de uma equipe ativa). Importe o XML "
            "de novo (a importação reativa as equipes do arquivo) e confira no histórico de "
            "importações do PEC se houve erro.",
            cnes=off["cnes"], ine=off["ine"], line=off["line"]))
    # teams of active PEC lotações in the file's units that the file does not list at all
    # (a team the file lists as deactivated is compared on neither side)
    lot = s.p_lot
    lot = lot[(lot["ine"] != "").to_numpy() & s.file_units[lot["u"].to_numpy()]]
    lot = lot[~pd.Index(lot["t"]).isin(xt["t"])]
    if len(lot):
        only = s.take("TEAM_ONLY_IN_PEC", lot.groupby(["cnes", "ine"]).size().rename("n")
                      .reset_index())
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
    xc, pc = s.x_prof["c"].to_numpy(), s.p_prof["c"].to_numpy()
    in_pec, in_file = _mask(s.n_cpf, pc), _mask(s.n_cpf, xc)
    miss = s.take("PROFESSIONAL_MISSING_IN_PEC", s.x_prof[~in_pec[xc]])
    if len(miss):
        n_lot = np.bincount(s.x_lot["c"].to_numpy(), minlength=s.n_cpf)[miss["c"].to_numpy()]
        cpf = ids.mask_cpf_series(miss["cpf"])
        out.append(_frame(
            "PROFESSIONAL_MISSING_IN_PEC", len(miss),
            "O profissional CPF " + _s(cpf) + " (" + n_lot.astype(str).astype(object) +
            " lotação(ões) no arquivo) não tem cadastro no PEC: ele não consegue entrar. "
            "Importe o XML de novo e confira no histórico de importações do PEC se houve erro.",
            cpf=cpf, line=miss["line"]))
    pec_row = np.full(s.n_cpf, -1, dtype=np.int64)
    pec_row[pc] = np.arange(len(pc))
    both = s.x_prof[in_pec[xc]]
    cns_pec = s.p_prof["cns"].to_numpy(dtype=object)[pec_row[both["c"].to_numpy()]]
    differ = both["cns"].to_numpy(dtype=object) != cns_pec
    if differ.any():
        diff = s.take("CNS_MISMATCH", both[differ])
        cns_pec = cns_pec[differ][:len(diff)]
        cpf = ids.mask_cpf_series(diff["cpf"])
        cx = ids.mask_cns_series(diff["cns"]).to_numpy(dtype=object)
        cp = ids.mask_cns_series(pd.Series(cns_pec, index=diff.index, dtype="str")) \
            .to_numpy(dtype=object)
        out.append(_frame(
            "CNS_MISMATCH", len(diff),
            "O profissional CPF " + _s(cpf) + " tem CNS " + _s(np.where(cp == "", "vazio", cp)) +
            " no PEC e " + _s(np.where(cx == "", "vazio", cx)) + " no arquivo: confirme no "
            "CADSUS o CNS correto; se o arquivo estiver certo, importe-o de novo, senão corrija "
            "no SCNES e gere outro XML.",
            cpf=cpf, cns_xml=cx, cns_pec=cp, line=diff["line"]))
    # active in PEC in a unit of the file, CPF not in the file
    lot = s.p_lot
    lot = lot[s.file_units[lot["u"].to_numpy()] & (lot["cpf"] != "").to_numpy()
              & ~in_file[lot["c"].to_numpy()]]
    if len(lot):
        only = s.take("PROFESSIONAL_ONLY_IN_PEC", lot.groupby("c", sort=True).agg(
            cpf=("cpf", "first"), n=("id", "size"), cnes=("cnes", "first"),
            cbo=("cbo", "first")))
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
    """Lotações of professionals present on both sides, in the units of the file (those of
    a unit or team of the file that PEC holds deactivated are that unit's or team's
    difference, not one more each)."""
    both = _mask(s.n_cpf, s.x_prof["c"]) & _mask(s.n_cpf, s.p_prof["c"])
    u_exists, u_active = unit_state(s)
    t_exists, t_active = team_state(s)
    xu, xt = s.x_lot["u"].to_numpy(), s.x_lot["t"].to_numpy()
    held = (u_exists[xu] & ~u_active[xu]) | (
        (s.x_lot["ine"] != "").to_numpy() & t_exists[xt] & ~t_active[xt])
    x = s.x_lot[both[s.x_lot["c"].to_numpy()] & ~held]
    p = s.p_lot[both[s.p_lot["c"].to_numpy()] & s.file_units[s.p_lot["u"].to_numpy()]]
    p = p[~p["k"].duplicated().to_numpy()]
    keys = ["cpf", "cnes", "ine", "cbo"]
    missing = x.loc[~pd.Index(x["k"]).isin(p["k"]), [*keys, "line"]] \
        .rename(columns={"line": "line_old"}).astype({c: object for c in keys}) \
        .reset_index(drop=True)
    extra = p.loc[~pd.Index(p["k"]).isin(x["k"]), [*keys, "id"]] \
        .rename(columns={"id": "lid_new"}).astype({c: object for c in keys}) \
        .reset_index(drop=True)
    out = []
    team, missing, extra = pair_rows(missing, extra, ["cpf", "cnes", "cbo"])
    cbo, missing, extra = pair_rows(missing, extra, ["cpf", "cnes", "ine"])
    unit, missing, extra = pair_rows(missing, extra, ["cpf", "cbo"])
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
        c = s.take("LOTACAO_MISMATCH", pd.concat(changed, ignore_index=True))
        cpf = ids.mask_cpf_series(c["cpf"])
        out.append(_frame(
            "LOTACAO_MISMATCH", len(c),
            "A lotação do profissional CPF " + _s(cpf) + " (CBO " + _s(c["cbo"]) + " na unidade "
            + _s(c["cnes"]) + _s(_team_where(c["ine"])) + ") está ativa no PEC " + _s(c["what"])
            + ": a importação não atualizou a lotação. Importe o XML de novo; se continuar, "
            "confira o histórico de importações do PEC e se o XML é o mais recente.",
            cpf=cpf, cnes=c["cnes"], ine=c["ine"], cbo=c["cbo"], cnes_pec=c["cnes_pec"],
            ine_pec=c["ine_pec"], cbo_pec=c["cbo_pec"], lotacao_pec=c["lid"], line=c["line"]))
    missing = s.take("LOTACAO_MISSING_IN_PEC", missing)
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
    extra = s.take("LOTACAO_ONLY_IN_PEC", extra)
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
    df["_sev"] = df["severity"].map({s.value: s.rank for s in Severity})
    df["_kind"] = df["kind"].map(_KIND_ORDER)
    df = df.sort_values(["_sev", "_kind", "cnes", "cnes_pec", "ine", "line"], kind="stable",
                        na_position="first")
    return df.drop(columns=["_sev", "_kind"]).reset_index(drop=True)


def compare(cf: CnesFile, pec: PecTables, limit: int | None = None
            ) -> tuple[pd.DataFrame, dict[str, int], dict[str, int]]:
    """The differences (ordered: errors first; at most ``limit`` of each kind), PEC's
    figures in the file's scope and the total of each kind."""
    s = sides(cf, pec, limit)
    n_lot, found = not_imported(s)
    lot = s.p_lot[s.file_units[s.p_lot["u"].to_numpy()]]
    with_team = lot[(lot["ine"] != "").to_numpy()]
    figures = {"professionals": int(lot.loc[(lot["cpf"] != "").to_numpy(), "c"].nunique()),
               "units": int(lot["u"].nunique()), "teams": int(with_team["t"].nunique()),
               "lotacoes": int(len(lot)), "lotacoes_ativas_total": int(len(s.p_lot)),
               "lotacoes_em_unidade_ou_equipe_desativada": s.held_back,
               "lotacoes_do_xml_no_pec": int(found), "lotacoes_do_xml": int(n_lot)}
    if n_lot and found < NOT_IMPORTED_BELOW * n_lot:
        pct = 100.0 * found / n_lot
        msg = (f"Só {found} das {n_lot} lotações do arquivo ({pct:.1f}%) estão ativas no PEC: "
               "o XML não foi importado (ou foi importado em outro banco). Importe-o no PEC "
               "(Administração > Importar CNES) e rode de novo; se já importou, confira no "
               "histórico de importações se o processo terminou (CONCLUIDO) e se o banco "
               "informado é o desta instalação.")
        return ordered([_frame("NOT_IMPORTED", 1, msg)]), figures, {"NOT_IMPORTED": 1}
    parts = unit_differences(s) + team_differences(s) + professional_differences(s) \
        + lotacao_differences(s)
    return ordered(parts), figures, {k: v for k, v in s.totals.items() if v}
