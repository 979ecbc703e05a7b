"""Audit rules of the CNES XML (codes, severities and sources: README and docs/dominio.md).

Every rule is vectorized pandas (masks, merges, ``duplicated``, ``groupby``) over the
DataFrames of :mod:`.parser`; no per-row Python. :func:`run` returns one DataFrame of
findings with the columns of :data:`FINDING_COLUMNS`: where a finding is (CNES, INE, masked
CPF, line) and a pt-BR message saying what is wrong and what to do. Full CPF/CNS never
reach a finding; professional names are never used.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .. import ids
from ..status import Severity
from . import catalog
from .parser import LINE_EXACT_MAX, CnesFile, normalize_version

FINDING_COLUMNS = ("rule", "severity", "cnes", "ine", "cpf", "line", "message")


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    title: str    # pt-BR, short
    remedy: str   # pt-BR, what to do


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("STRUCTURE_INVALID", Severity.ERROR, "Estrutura do XML fora do layout (o PEC recusa o arquivo)",
         "O PEC confere o arquivo inteiro contra o esquema (XSD) do layout antes de importar "
         "e recusa tudo se um elemento estiver fora do lugar: gere o XML novamente no "
         "e-Gestor AB e importe-o sem abrir nem editar em outro programa."),
    Rule("FILE_EMPTY", Severity.ERROR, "Arquivo sem estabelecimentos nem profissionais",
         "Gere o XML novamente no e-Gestor AB (o arquivo veio vazio); confira no SCNES se o "
         "município tem unidades de atenção básica ativas."),
    Rule("ENCODING_MISMATCH", Severity.WARNING, "Texto em UTF-8 num arquivo declarado ISO-8859-1",
         "Gere o XML novamente no e-Gestor AB e importe-o sem abrir nem salvar em outro "
         "programa; um editor que converteu o arquivo para UTF-8 deixou a declaração antiga "
         "e o PEC importaria os nomes com acentos trocados."),
    Rule("VERSION_UNSUPPORTED", Severity.ERROR, "Versão do layout do XML não suportada",
         "Gere o XML novamente no e-Gestor AB; o PEC aceita os layouts 2.1, 3.0 e 3.1."),
    Rule("MUNICIPALITY_MISMATCH", Severity.ERROR, "XML de outro município",
         "Baixe no e-Gestor AB o XML do município da instalação; o PEC recusa arquivo de "
         "outro município."),
    Rule("IBGE_INVALID", Severity.ERROR, "Código IBGE do município inválido",
         "Gere o XML novamente no e-Gestor AB; se persistir, corrija o endereço da unidade "
         "no SCNES."),
    Rule("UNIT_MUNICIPALITY_MISMATCH", Severity.ERROR, "Unidade com endereço em outro município",
         "Corrija o município do endereço da unidade no SCNES (deve ser o município do "
         "arquivo) e gere o XML novamente; o PEC recusa a unidade."),
    Rule("CNPJ_INVALID", Severity.ERROR, "CNPJ inválido",
         "Corrija o CNPJ da unidade no SCNES (em geral as unidades públicas usam o CNPJ da "
         "mantenedora, muitas vezes o do Fundo Municipal de Saúde) e gere o XML novamente."),
    Rule("CNES_FORMAT", Severity.ERROR, "CNES fora do formato (7 dígitos)",
         "Corrija o código CNES no SCNES e gere o XML novamente."),
    Rule("CNES_DV", Severity.WARNING, "CNES com dígito verificador incomum",
         "Confira o CNES no SCNES; o PEC só verifica o tamanho, mas o código pode estar "
         "digitado errado."),
    Rule("INE_FORMAT", Severity.ERROR, "INE fora do formato (10 dígitos)",
         "Corrija o INE da equipe no SCNES e gere o XML novamente."),
    Rule("INE_DV", Severity.WARNING, "INE com dígito verificador incomum",
         "Confira o INE no SCNES; o PEC só verifica o tamanho, mas o código pode estar "
         "digitado errado."),
    Rule("TEAM_DUPLICATE", Severity.ERROR, "Equipe repetida (mesmo CNES e INE)",
         "Remova a equipe duplicada no SCNES e gere o XML novamente."),
    Rule("TEAM_DEACTIVATION_DATE_INVALID", Severity.ERROR, "Data de desativação da equipe inválida",
         "Corrija a data de desativação da equipe no SCNES (formato dd/MM/aaaa) e gere o XML "
         "novamente; relatos da comunidade dizem que o PEC recusa o arquivo (não há texto "
         "oficial: docs/dominio.md)."),
    Rule("TEAM_TYPE_UNKNOWN", Severity.WARNING, "Tipo de equipe desconhecido",
         "Confira o tipo da equipe no SCNES; se o código for novo, inclua-o em "
         "data/team_types.csv."),
    Rule("CPF_INVALID", Severity.ERROR, "CPF inválido",
         "Corrija o CPF do profissional no SCNES; sem CPF válido o PEC não importa o "
         "profissional e ele não consegue entrar."),
    Rule("CNS_INVALID", Severity.ERROR, "CNS inválido",
         "Corrija o CNS do profissional no SCNES (consulte o CADSUS); o PEC exige CNS válido."),
    Rule("PROFESSIONAL_DUPLICATE_CPF", Severity.ERROR, "CPF repetido em mais de um profissional",
         "Unifique o cadastro do profissional no SCNES (uma pessoa, um registro)."),
    Rule("PROFESSIONAL_DUPLICATE_CNS", Severity.ERROR, "CNS repetido em mais de um profissional",
         "Corrija o CNS no SCNES: cada profissional tem o seu; consulte o CADSUS."),
    Rule("PROFESSIONAL_NO_LOTACAO", Severity.ERROR, "Profissional sem lotação",
         "Cadastre a lotação (unidade e CBO) do profissional no SCNES; sem lotação ele não "
         "acessa o PEC."),
    Rule("LOTACAO_UNKNOWN_CNES", Severity.ERROR, "Lotação em unidade que não está no arquivo",
         "Confira a unidade da lotação no SCNES; o PEC exige que o CNES da lotação esteja "
         "no XML."),
    Rule("LOTACAO_UNKNOWN_TEAM", Severity.ERROR, "Lotação em equipe que não está no arquivo",
         "Confira a equipe (INE) da lotação no SCNES; a equipe deve estar cadastrada na "
         "mesma unidade."),
    Rule("LOTACAO_INACTIVE_TEAM", Severity.WARNING, "Lotação em equipe desativada",
         "Mova o profissional para uma equipe ativa ou encerre a lotação no SCNES."),
    Rule("CBO_FORMAT", Severity.ERROR, "CBO fora do formato (6 caracteres)",
         "Corrija a ocupação (CBO) da lotação no SCNES e gere o XML novamente."),
    Rule("CBO_UNKNOWN", Severity.WARNING, "CBO fora do catálogo",
         "Confira a ocupação no SCNES; se o código existir (na CBO 2002 ou na tabela de CBO "
         "do SUS), inclua-o em data/cbo.csv com a fonte."),
    Rule("TEAM_COMPOSITION", Severity.WARNING, "Equipe abaixo da composição mínima",
         "O PEC importa a equipe assim mesmo; a composição é assunto do CNES e do "
         "financiamento: equipe incompleta pode ter o repasse suspenso. Complete a equipe no "
         "SCNES com os profissionais que faltam (PNAB 2017 / Portaria 2.539/2019)."),
)}
_RULE_ORDER = {code: i for i, code in enumerate(RULES)}
STRUCTURE_SHOWN = 20     # STRUCTURE_INVALID findings listed one by one; the rest are counted
_CBO = r"[0-9]{4}[0-9A-Z]{2}"


def _findings(rule: str, n: int | pd.Index, message, *, cnes=None, ine=None, cpf=None,
              line=None) -> pd.DataFrame:
    """A findings frame for ``rule``; location columns may be scalars or aligned arrays."""
    size = n if isinstance(n, int) else len(n)
    if size == 0:
        return pd.DataFrame(columns=list(FINDING_COLUMNS))

    def col(v, dtype="str"):
        if v is None:
            return pd.Series([None] * size, dtype="object")
        if isinstance(v, pd.Series):
            v = v.to_numpy()
        if np.isscalar(v):
            return pd.Series([v] * size, dtype=dtype)
        return pd.Series(np.asarray(v), dtype=dtype)

    return pd.DataFrame({"rule": rule, "severity": RULES[rule].severity.value,
                         "cnes": col(cnes), "ine": col(ine), "cpf": col(cpf),
                         "line": col(line, "Int64"), "message": col(message)})


class LotacaoCodes:
    """Integer codes of the lotações' low-cardinality columns (CNES, INE, CBO, CBO family),
    each computed on first use and shared by the rules and the summaries: on a capital's
    200 000 lotações, reading a text column is what costs; checking each distinct value once
    and counting on the codes (``bincount``, :func:`distinct`) is nearly free. Every pair is
    ``(codes, values)``: ``values[codes]`` is the column."""

    def __init__(self, lotacoes: pd.DataFrame, family: pd.Series | None = None):
        self._lot = lotacoes
        self._family = family
        self.prof = lotacoes["prof"].to_numpy(dtype=np.int64)

    @cached_property
    def cnes(self) -> tuple[np.ndarray, np.ndarray]:
        return _factorize(self._lot["cnes"])

    @cached_property
    def ine(self) -> tuple[np.ndarray, np.ndarray]:
        return _factorize(self._lot["ine"])

    @cached_property
    def cbo(self) -> tuple[np.ndarray, np.ndarray]:
        return _factorize(self._lot["cbo"])

    @cached_property
    def family(self) -> tuple[np.ndarray, np.ndarray]:
        if self._family is None:
            self._family = catalog.family_of(self._lot["cbo"])
        return _factorize(self._family)

    @cached_property
    def has_ine(self) -> np.ndarray:
        """Lotações in a team (INE not empty)."""
        codes, values = self.ine
        return (values != "")[codes]

    def on_values(self, column: str, fn) -> np.ndarray:
        """A vectorized check ``fn`` (Series of str → bool Series) run on the distinct
        values of ``column`` and mapped back to every lotação."""
        codes, values = getattr(self, column)
        return fn(pd.Series(values, dtype="str")).to_numpy(dtype=bool)[codes]


def distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct integer keys, sorted (``np.unique`` without its overhead: this numpy's
    ``unique`` takes ~50x longer on 200 000 int64 than a sort and a diff)."""
    s = np.sort(keys)
    return s[np.concatenate(([True], s[1:] != s[:-1]))] if len(s) else s


def distinct_counts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct keys sorted, how many times each occurs)."""
    s = np.sort(keys)
    if not len(s):
        return s, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    return s[starts], np.diff(np.append(starts, len(s))).astype(np.int64)


def _factorize(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=False)
    return codes.astype(np.int64, copy=False), np.asarray(uniques, dtype=object)


class MaskedCpf:
    """Masked CPF of professionals, computed only for the rows a finding needs (a clean
    capital's file needs none) and cached: ``masked[rows]`` with an index or positions."""

    def __init__(self, cpf: pd.Series):
        self._cpf = cpf
        self._done = np.zeros(len(cpf), dtype=bool)
        self._values = np.empty(len(cpf), dtype=object)

    def take(self, positions) -> np.ndarray:
        """Masked CPF at these positions (numpy object array)."""
        pos = np.asarray(positions, dtype=np.int64)
        todo = np.unique(pos[~self._done[pos]])
        if len(todo):
            self._values[todo] = ids.mask_cpf_series(self._cpf.iloc[todo]).to_numpy(object)
            self._done[todo] = True
        return self._values[pos]

    def __getitem__(self, mask_or_index) -> pd.Series:
        """Masked CPF of the professionals selected by a boolean mask or an index (the
        professionals' index is their position)."""
        idx = self._cpf.index[np.asarray(mask_or_index)] if _is_mask(mask_or_index) else \
            pd.Index(mask_or_index)
        pos = self._cpf.index.get_indexer(idx)
        return pd.Series(self.take(pos), index=idx, dtype="str")


def _is_mask(x) -> bool:
    return getattr(x, "dtype", None) is not None and x.dtype == bool


def _line_txt(lines: pd.Series) -> pd.Series:
    """'linha N'; '~N' from line 65 535 on, where libxml2's line numbers are approximate
    (see :data:`.parser.LINE_EXACT_MAX`)."""
    n = lines.astype("int64")
    prefix = np.where(n.to_numpy() > LINE_EXACT_MAX, "linha ~", "linha ")
    return pd.Series(prefix, index=lines.index, dtype=object) + n.astype(str)


# --------------------------------------------------------------------------- rules
def file_rules(cf: CnesFile) -> list[pd.DataFrame]:
    """The file as a whole: elements out of the layout's structure (STRUCTURE_INVALID, found
    while reading: ``cf.structure``), nothing in it (FILE_EMPTY), UTF-8 text under a
    single-byte declaration (ENCODING_MISMATCH, found while reading: ``source.misencoded``)."""
    out = []
    found = cf.structure
    if found:
        shown = found[:STRUCTURE_SHOWN]
        where = [f"{'linha ~' if v.line > LINE_EXACT_MAX else 'linha '}{v.line}" for v in shown]
        msg = [f"{v.message} ({w}). " + RULES["STRUCTURE_INVALID"].remedy
               for v, w in zip(shown, where, strict=True)]
        if len(found) > len(shown):
            msg[-1] = (f"{shown[-1].message} ({where[-1]}); e mais "
                       f"{len(found) - len(shown)} violação(ões) da estrutura depois desta. "
                       + RULES["STRUCTURE_INVALID"].remedy)
        out.append(_findings("STRUCTURE_INVALID", len(shown), msg,
                             line=[v.line for v in shown]))
    if cf.establishments.empty and cf.professionals.empty:
        out.append(_findings("FILE_EMPTY", 1,
                             "O arquivo não tem nenhum estabelecimento nem profissional: a "
                             "importação não traria nada ao PEC. " + RULES["FILE_EMPTY"].remedy,
                             line=cf.header_line))
    bad = cf.source.misencoded
    if bad:
        out.append(_findings("ENCODING_MISMATCH", 1,
                             f"O arquivo declara {cf.source.encoding} mas o texto está em UTF-8 "
                             f"(cerca de {bad['chars']} caractere(s) acentuado(s), o primeiro "
                             f"na linha {bad['line']}): o PEC leria 'Ã§' no lugar de 'ç'. "
                             + RULES["ENCODING_MISMATCH"].remedy, line=bad["line"]))
    return out


def header_rules(cf: CnesFile, expected_ibge: str | None) -> list[pd.DataFrame]:
    out = []
    h = cf.header
    version = h.get("VERSAO_XSD", "")
    line = cf.header_line
    if normalize_version(version) is None:
        shown = f"'{version}'" if version else "ausente"
        out.append(_findings("VERSION_UNSUPPORTED", 1,
                             f"Versão do layout {shown}; o PEC aceita 2.1, 3.0 e 3.1. "
                             + RULES["VERSION_UNSUPPORTED"].remedy, line=line))
    ibge = h.get("CO_IBGE_MUN", "")
    valid = (len(ibge) == 7 and ids.ibge_valid(ibge)) or \
        (len(ibge) == 6 and ibge.isascii() and ibge.isdigit())
    if not valid:
        shown = f"'{ibge}'" if ibge else "ausente"
        out.append(_findings("IBGE_INVALID", 1,
                             f"Município do cabeçalho (IDENTIFICACAO/CO_IBGE_MUN) {shown} "
                             "não é um código IBGE válido. Gere o XML novamente no e-Gestor AB.",
                             line=line))
    elif expected_ibge and ids.ibge6(ibge) != ids.ibge6(expected_ibge):
        out.append(_findings("MUNICIPALITY_MISMATCH", 1,
                             f"O XML é do município {ibge}, não de {expected_ibge}. "
                             + RULES["MUNICIPALITY_MISMATCH"].remedy, line=line))
    return out


def establishment_rules(cf: CnesFile) -> list[pd.DataFrame]:
    e = cf.establishments
    out = []
    where = "unidade " + e["cnes"].where(e["cnes"] != "", "(sem CNES)") + " (" + \
        _line_txt(e["line"]) + ")"
    fmt = ids.digits_format_series(e["cnes"], 7)
    bad = ~fmt
    out.append(_findings("CNES_FORMAT", e.index[bad],
                         "CNES '" + e.loc[bad, "cnes"] + "' não tem 7 dígitos (" +
                         _line_txt(e.loc[bad, "line"]) + "). " + RULES["CNES_FORMAT"].remedy,
                         cnes=e.loc[bad, "cnes"], line=e.loc[bad, "line"]))
    dv = fmt & ~ids.cnes_dv_valid_series(e["cnes"])
    out.append(_findings("CNES_DV", e.index[dv],
                         "O dígito verificador do CNES " + e.loc[dv, "cnes"] +
                         " não confere (" + _line_txt(e.loc[dv, "line"]) + "). " +
                         RULES["CNES_DV"].remedy, cnes=e.loc[dv, "cnes"], line=e.loc[dv, "line"]))
    bad = ~ids.cnpj_valid_series(e["cnpj"])
    shown = np.where(e.loc[bad, "cnpj"] == "", "vazio", "'" + e.loc[bad, "cnpj"] + "'")
    out.append(_findings("CNPJ_INVALID", e.index[bad],
                         "CNPJ " + pd.Series(shown, index=e.index[bad]) + " inválido na " +
                         where[bad] + ". " + RULES["CNPJ_INVALID"].remedy,
                         cnes=e.loc[bad, "cnes"], line=e.loc[bad, "line"]))
    has = e["ibge"] != ""
    bad = has & ~ids.ibge_valid_series(e["ibge"]) & ~(
        (e["ibge"].str.len() == 6) & ids.digits_format_series(e["ibge"], 6))
    out.append(_findings("IBGE_INVALID", e.index[bad],
                         "Município do endereço '" + e.loc[bad, "ibge"] +
                         "' não é um código IBGE válido na " + where[bad] + ". " +
                         RULES["IBGE_INVALID"].remedy,
                         cnes=e.loc[bad, "cnes"], line=e.loc[bad, "line"]))
    # every unit's address must be in the file's municipality (compared on 6 digits)
    file_ibge = cf.header.get("CO_IBGE_MUN", "")
    if len(file_ibge) in (6, 7) and file_ibge.isascii() and file_ibge.isdigit():
        other = has & ~bad & (e["ibge"].str.slice(0, 6) != file_ibge[:6])
        out.append(_findings("UNIT_MUNICIPALITY_MISMATCH", e.index[other],
                             "A " + where[other] + " tem endereço no município " +
                             e.loc[other, "ibge"] + ", mas o arquivo é do município " +
                             file_ibge + ". " + RULES["UNIT_MUNICIPALITY_MISMATCH"].remedy,
                             cnes=e.loc[other, "cnes"], line=e.loc[other, "line"]))
    return out


def team_rules(cf: CnesFile) -> list[pd.DataFrame]:
    t = cf.teams
    out = []
    fmt = ids.digits_format_series(t["ine"], 10)
    bad = ~fmt
    out.append(_findings("INE_FORMAT", t.index[bad],
                         "INE '" + t.loc[bad, "ine"] + "' da equipe na unidade " +
                         t.loc[bad, "cnes"] + " não tem 10 dígitos (" +
                         _line_txt(t.loc[bad, "line"]) + "). " + RULES["INE_FORMAT"].remedy,
                         cnes=t.loc[bad, "cnes"], ine=t.loc[bad, "ine"], line=t.loc[bad, "line"]))
    dv = fmt & ~ids.ine_dv_valid_series(t["ine"])
    out.append(_findings("INE_DV", t.index[dv],
                         "O dígito verificador do INE " + t.loc[dv, "ine"] + " não confere (" +
                         _line_txt(t.loc[dv, "line"]) + "). " + RULES["INE_DV"].remedy,
                         cnes=t.loc[dv, "cnes"], ine=t.loc[dv, "ine"], line=t.loc[dv, "line"]))
    dup = t.duplicated(["cnes", "ine"], keep="first") & (t["ine"] != "")
    if dup.any():
        first = t.groupby(["cnes", "ine"], sort=False)["line"].transform("first")
        out.append(_findings("TEAM_DUPLICATE", t.index[dup],
                             "A equipe INE " + t.loc[dup, "ine"] + " aparece de novo na unidade " +
                             t.loc[dup, "cnes"] + " (" + _line_txt(t.loc[dup, "line"]) +
                             "; primeira na " + _line_txt(first[dup]) + "). " +
                             RULES["TEAM_DUPLICATE"].remedy,
                             cnes=t.loc[dup, "cnes"], ine=t.loc[dup, "ine"],
                             line=t.loc[dup, "line"]))
    date = t["dt_desativacao"]
    filled = date != ""
    parsed = pd.to_datetime(date.where(filled & date.str.fullmatch(r"\d{2}/\d{2}/\d{4}")),
                            format="%d/%m/%Y", errors="coerce")
    bad = filled & parsed.isna()
    out.append(_findings("TEAM_DEACTIVATION_DATE_INVALID", t.index[bad],
                         "Data de desativação '" + date[bad] + "' da equipe INE " +
                         t.loc[bad, "ine"] + " na unidade " + t.loc[bad, "cnes"] +
                         " não está no formato dd/MM/aaaa (" + _line_txt(t.loc[bad, "line"]) +
                         "). " + RULES["TEAM_DEACTIVATION_DATE_INVALID"].remedy,
                         cnes=t.loc[bad, "cnes"], ine=t.loc[bad, "ine"], line=t.loc[bad, "line"]))
    tp = catalog.normalize_team_type(t["tp_equipe"])
    bad = ~tp.isin(set(catalog.team_types()["codigo"]))
    shown = tp[bad].where(tp[bad] != "", "(vazio)")
    out.append(_findings("TEAM_TYPE_UNKNOWN", t.index[bad],
                         "Tipo de equipe " + shown + " desconhecido para o INE " +
                         t.loc[bad, "ine"] + " (" + _line_txt(t.loc[bad, "line"]) + "). " +
                         RULES["TEAM_TYPE_UNKNOWN"].remedy,
                         cnes=t.loc[bad, "cnes"], ine=t.loc[bad, "ine"], line=t.loc[bad, "line"]))
    return out


def professional_rules(cf: CnesFile, cpf_masked: MaskedCpf,
                       codes: LotacaoCodes | None = None) -> list[pd.DataFrame]:
    p = cf.professionals
    out = []
    # one pass over each column of strings: check digits, blanks and duplicates
    cpf = ids.check_column(p["cpf"], "cpf")
    cns = ids.check_column(p["cns"], "cns")
    bad = ~cpf.valid
    shown = np.where(cpf.blank[bad], "vazio", cpf_masked[bad])
    out.append(_findings("CPF_INVALID", p.index[bad],
                         "CPF " + pd.Series(shown, index=p.index[bad], dtype="str") +
                         " inválido no profissional da " + _line_txt(p.loc[bad, "line"]) + ". " +
                         RULES["CPF_INVALID"].remedy,
                         cpf=cpf_masked[bad], line=p.loc[bad, "line"]))
    bad = ~cns.valid
    cns_m = ids.mask_cns_series(p.loc[bad, "cns"])
    shown = np.where(cns.blank[bad], "vazio", cns_m)
    out.append(_findings("CNS_INVALID", p.index[bad],
                         "CNS " + pd.Series(shown, index=p.index[bad], dtype="str") +
                         " inválido no profissional da " + _line_txt(p.loc[bad, "line"]) + ". " +
                         RULES["CNS_INVALID"].remedy,
                         cpf=cpf_masked[bad], line=p.loc[bad, "line"]))
    for check, col, rule, label in ((cpf, "cpf", "PROFESSIONAL_DUPLICATE_CPF", "CPF"),
                                    (cns, "cns", "PROFESSIONAL_DUPLICATE_CNS", "CNS")):
        dup = pd.Series(check.key).duplicated(keep="first").to_numpy() & ~check.blank
        if not dup.any():
            continue
        first = p["line"].groupby(check.key, sort=False).transform("first")
        shown = cpf_masked[dup] if col == "cpf" else ids.mask_cns_series(p.loc[dup, "cns"])
        out.append(_findings(rule, p.index[dup],
                             f"{label} " + shown.astype("str") + " repetido: profissional da " +
                             _line_txt(p.loc[dup, "line"]) + " tem o mesmo " + label +
                             " do profissional da " + _line_txt(first[dup]) + ". " +
                             RULES[rule].remedy, cpf=cpf_masked[dup], line=p.loc[dup, "line"]))
    prof = codes.prof if codes is not None else cf.lotacoes["prof"].to_numpy()
    without = ~p.index.isin(pd.unique(prof))
    out.append(_findings("PROFESSIONAL_NO_LOTACAO", p.index[without],
                         "Profissional CPF " + cpf_masked[without] + " (" +
                         _line_txt(p.loc[without, "line"]) + ") não tem lotação. " +
                         RULES["PROFESSIONAL_NO_LOTACAO"].remedy,
                         cpf=cpf_masked[without], line=p.loc[without, "line"]))
    return out


def lotacao_rules(cf: CnesFile, cpf_masked: MaskedCpf,
                  codes: LotacaoCodes | None = None) -> list[pd.DataFrame]:
    lot = cf.lotacoes
    codes = codes if codes is not None else LotacaoCodes(lot)
    out = []

    def emit(rule, mask, text):
        """Findings for the rows of ``mask``; ``text(rows)`` builds their messages (strings
        are only built for the rows that have the problem)."""
        if not mask.any():
            return
        rows = lot.loc[mask]
        cpf = pd.Series(cpf_masked.take(rows["prof"].to_numpy()), index=rows.index, dtype="str")
        msg = text(rows) + " (CPF " + cpf + ", " + _line_txt(rows["line"]) + "). " + \
            RULES[rule].remedy
        out.append(_findings(rule, rows.index, msg, cnes=rows["cnes"],
                             ine=rows["ine"].where(rows["ine"] != "", None), cpf=cpf,
                             line=rows["line"]))

    # every check runs once per distinct CNES / INE / CBO, then maps back by code
    cnes_fmt = codes.on_values("cnes", lambda u: ids.digits_format_series(u, 7))
    emit("CNES_FORMAT", ~cnes_fmt, lambda r: "Lotação com CNES '" + r["cnes"] + "' fora do formato")
    known = set(cf.establishments["cnes"])
    known_cnes = codes.on_values("cnes", lambda u: u.isin(known))
    emit("LOTACAO_UNKNOWN_CNES", cnes_fmt & ~known_cnes,
         lambda r: "Lotação na unidade " + r["cnes"] + ", que não está no arquivo")
    has_ine = codes.has_ine
    ine_fmt = codes.on_values("ine", lambda u: ids.digits_format_series(u, 10))
    emit("INE_FORMAT", has_ine & ~ine_fmt,
         lambda r: "Lotação com INE '" + r["ine"] + "' fora do formato")
    check = has_ine & ine_fmt & cnes_fmt & known_cnes
    if check.any():
        # each distinct (CNES, INE) of the lotações looked up once among the teams
        teams = cf.teams.groupby(["cnes", "ine"], sort=False)["ativa"].any().rename("_ativa")
        (cnes_c, cnes_v), (ine_c, ine_v) = codes.cnes, codes.ine
        pair, pairs = pd.factorize(cnes_c[check] * len(ine_v) + ine_c[check])
        keyed = pd.DataFrame({"cnes": pd.Series(cnes_v[pairs // len(ine_v)], dtype="str"),
                              "ine": pd.Series(ine_v[pairs % len(ine_v)], dtype="str")}) \
            .join(teams, on=["cnes", "ine"])["_ativa"]
        unknown = np.zeros(len(lot), dtype=bool)
        unknown[check] = keyed.isna().to_numpy()[pair]
        inactive = np.zeros(len(lot), dtype=bool)
        inactive[check] = keyed.eq(False).to_numpy()[pair]
        emit("LOTACAO_UNKNOWN_TEAM", unknown,
             lambda r: "Lotação na equipe INE " + r["ine"] +
             ", que não está cadastrada na unidade " + r["cnes"])
        emit("LOTACAO_INACTIVE_TEAM", inactive,
             lambda r: "Lotação na equipe INE " + r["ine"] + " da unidade " + r["cnes"] +
             ", que está desativada")
    known_cbo = codes.on_values("cbo", catalog.cbo_known)
    cbo_fmt = known_cbo | codes.on_values(
        "cbo", lambda u: u.str.fullmatch(_CBO).fillna(False).astype(bool))
    emit("CBO_FORMAT", ~cbo_fmt, lambda r: "Lotação com CBO '" + r["cbo"] + "' fora do formato")
    emit("CBO_UNKNOWN", cbo_fmt & ~known_cbo,
         lambda r: "CBO " + r["cbo"] + " não está no catálogo e não tem a forma de uma "
         "ocupação (6 dígitos da CBO 2002, ou 4 dígitos, letra e dígito nos códigos do SUS)")
    return out


def composition_table(cf: CnesFile, family: pd.Series,
                      codes: LotacaoCodes | None = None) -> pd.DataFrame:
    """Per team: distinct professionals per CBO family (wide), with type and status.

    Columns: cnes, ine, tp_equipe, sigla, composicao, ativa, line, <family counts...>,
    profissionais.
    """
    codes = codes if codes is not None else LotacaoCodes(cf.lotacoes, family)
    t = cf.teams.drop_duplicates(["cnes", "ine"]).copy()
    t["tp_equipe"] = catalog.normalize_team_type(t["tp_equipe"])
    types = catalog.team_types().set_index("codigo")
    t["sigla_tipo"] = t["tp_equipe"].map(types["sigla"]).fillna("")
    t["composicao"] = t["tp_equipe"].map(types["composicao"]).fillna("")
    # distinct (professional, team, family) and (professional, team) counted on integer
    # codes: the same result as groupby/drop_duplicates on the text columns, a fraction of
    # the work on a capital's 150 000 team lotações
    has = codes.has_ine
    (cn, cn_u), (ie, ie_u), (fa, fa_u) = codes.cnes, codes.ine, codes.family
    cn, ie, fa = cn[has], ie[has], fa[has]
    prof = codes.prof[has]
    tc, tu = pd.factorize(cn * max(len(ie_u), 1) + ie)
    nt, nf = len(tu), len(fa_u)
    counts = np.bincount(distinct((prof * nt + tc) * nf + fa) % (nt * nf),
                         minlength=nt * nf).reshape(nt, nf) if nt else np.zeros((0, nf))
    people = np.bincount(distinct(prof * nt + tc) % nt, minlength=nt) if nt else []
    present = np.zeros(nf, dtype=bool)       # families of the team lotações only
    present[fa] = True
    fam_cols = sorted(fa_u[present])
    wide = pd.DataFrame(counts, columns=list(fa_u))[fam_cols]
    wide.insert(0, "cnes", cn_u[tu // max(len(ie_u), 1)] if nt else [])
    wide.insert(1, "ine", ie_u[tu % max(len(ie_u), 1)] if nt else [])
    wide["profissionais"] = people
    wide = wide.astype({"cnes": t["cnes"].dtype, "ine": t["ine"].dtype})
    t = t.merge(wide, on=["cnes", "ine"], how="left")
    t[fam_cols + ["profissionais"]] = t[fam_cols + ["profissionais"]].fillna(0).astype("int64")
    return t.reset_index(drop=True)


def composition_gaps(table: pd.DataFrame) -> pd.DataFrame:
    """For active teams with a composition rule: (team row, missing roles text)."""
    comp = catalog.composition()
    active = table[table["ativa"] & (table["composicao"] != "")]
    if active.empty:
        return pd.DataFrame(columns=["row", "faltando"])
    parts = []
    for _, req in comp.iterrows():   # a handful of requirement rows, vectorized over teams
        rows = active[active["composicao"] == req["composicao"]]
        if rows.empty:
            continue
        fams = [f for f in req["familias"].split("|")]
        have = sum((rows[f] if f in rows.columns else 0) for f in fams)
        have = pd.Series(have, index=rows.index) if np.isscalar(have) else have
        short = have < req["minimo"]
        parts.append(pd.DataFrame({"row": rows.index[short],
                                   "faltando": f"{req['minimo']} {req['rotulo']}"}))
    if not parts:
        return pd.DataFrame(columns=["row", "faltando"])
    gaps = pd.concat(parts)
    return gaps.groupby("row", sort=True)["faltando"].agg(", ".join).reset_index()


def composition_rules(table: pd.DataFrame,
                      gaps: pd.DataFrame | None = None) -> list[pd.DataFrame]:
    """TEAM_COMPOSITION for the teams of :func:`composition_gaps` (``gaps``, when the
    caller already has them)."""
    gaps = composition_gaps(table) if gaps is None else gaps
    if gaps.empty:
        return []
    rows = table.loc[gaps["row"].to_numpy()]
    msg = ("Equipe " + rows["composicao"].to_numpy() + " INE " + rows["ine"].to_numpy() +
           " da unidade " + rows["cnes"].to_numpy() + " (" +
           _line_txt(rows["line"]).to_numpy() + ") sem o mínimo de: " +
           gaps["faltando"].to_numpy() + ". " + RULES["TEAM_COMPOSITION"].remedy)
    return [_findings("TEAM_COMPOSITION", len(rows), msg, cnes=rows["cnes"], ine=rows["ine"],
                      line=rows["line"])]


def run(cf: CnesFile, expected_ibge: str | None = None, *, family: pd.Series | None = None,
        composition: pd.DataFrame | None = None, codes: LotacaoCodes | None = None,
        gaps: pd.DataFrame | None = None) -> pd.DataFrame:
    """All rules → findings sorted by severity, rule order and line. ``family``,
    ``composition``, ``codes`` and ``gaps`` are computed here unless the caller (the audit,
    which shares them with the summaries) passes them."""
    cpf_masked = MaskedCpf(cf.professionals["cpf"])
    if family is None:
        family = catalog.family_of(cf.lotacoes["cbo"])
    if codes is None:
        codes = LotacaoCodes(cf.lotacoes, family)
    if composition is None:
        composition = composition_table(cf, family, codes)
    parts = (file_rules(cf) + header_rules(cf, expected_ibge) + establishment_rules(cf)
             + team_rules(cf) + professional_rules(cf, cpf_masked, codes)
             + lotacao_rules(cf, cpf_masked, codes) + composition_rules(composition, gaps))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "line" else "object")
                             for c in FINDING_COLUMNS})
    df = pd.concat(parts, ignore_index=True)
    df["_sev"] = df["severity"].map({s.value: s.rank for s in Severity})
    df["_ord"] = df["rule"].map(_RULE_ORDER)
    df = df.sort_values(["_sev", "_ord", "line"], kind="stable", na_position="first")
    return df.drop(columns=["_sev", "_ord"]).reset_index(drop=True)
