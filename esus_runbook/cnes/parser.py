"""Streaming, hardened reader of the CNES XML ("XML-ESUS-APS", layouts 2.1, 3.0 and 3.1).

Public API::

    from esus_runbook.cnes.parser import parse
    cnes = parse("XmlParaESUS31_292740.zip")      # a .xml or a .zip with exactly one .xml
    cnes.header            # IDENTIFICACAO attributes: DATA, ORIGEM, DESTINO, CO_IBGE_MUN, VERSAO_XSD
    cnes.establishments    # DataFrame, one row per DADOS_GERAIS_ESTABELECIMENTOS
    cnes.teams             # DataFrame, one row per DADOS_EQUIPES, keyed by (cnes, ine)
    cnes.professionals     # DataFrame, one row per DADOS_PROFISSIONAIS (index = ``prof``)
    cnes.lotacoes          # DataFrame, one row per DADOS_LOTACOES (``prof`` → professionals)
    cnes.source            # SourceInfo: file name, size, sha256, container, encoding

Columns (all ``str`` unless noted; attributes trimmed, missing = ""):

- establishments: cnes, cnpj, nome, tp_unid, ds_tp_unid, ibge, uf, complexidade, line (int)
- teams: cnes (of the enclosing establishment), ine, tp_equipe, sigla, nome, area,
  dt_desativacao, ativa (bool: DT_DESATIVACAO empty), line
- professionals: cpf, cns, conselho, uf_conselho, registro, line (+ nome with ``names=True``)
- lotacoes: prof (int, row of professionals), cnes, ine, cbo, microarea, line

``structure`` lists where the file breaks the element structure PEC's XSD checks (nesting,
order, required attributes: :mod:`.structure`), found during the same pass.

``cnes`` is zero-padded to 7 and ``ine`` to 10 when they are digits only; ``line`` is the
line of the element's start tag in the XML — exact up to :data:`LINE_EXACT_MAX`; beyond it
libxml2 (16-bit line numbers in its nodes) reports a neighbouring line, usually within a
line or two, so messages write those as ``linha ~N``.

Safety: any DOCTYPE (internal or external DTD, entities) is refused before the parser sees
it; entities are never resolved, nothing is loaded from the network, ``huge_tree`` stays off
(libxml2's limits on depth and text size apply). Elements are dropped as soon as they are
read, so memory grows with the DataFrames, not with the XML tree. Every refusal is an
:class:`~esus_runbook.errors.InputError` (``HostileFileError`` for hostile content) with a
one-line pt-BR message.
"""

from __future__ import annotations

import bisect
import os
import re
from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from lxml import etree

from ..errors import HostileFileError, InputError
from . import structure
from .archive import CountingReader, Limits, SourceInfo, Utf8Probe, open_cnes
from .structure import Violation
from .xmlerrors import describe as describe_syntax_error

ROOT = "ImportarXMLCNES"
HEADER = "IDENTIFICACAO"
SUPPORTED_VERSIONS = ("2.1", "3.0", "3.1")
ENCODINGS = {"utf-8", "utf8", "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1",
             "l1", "us-ascii", "ascii", "windows-1252", "cp1252"}
SINGLE_BYTE = {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1",
               "windows-1252", "cp1252"}
_SAFE = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
             huge_tree=False, remove_comments=True, remove_pis=True)
_DECL_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
_PURGE_EVERY = 1024
LINE_EXACT_MAX = 65534


@dataclass
class CnesFile:
    """The content of one CNES XML as DataFrames (see the module docstring for columns)."""

    header: dict[str, str]
    establishments: pd.DataFrame
    teams: pd.DataFrame
    professionals: pd.DataFrame
    lotacoes: pd.DataFrame
    source: SourceInfo
    header_line: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # where the file breaks the layout's element structure (see :mod:`.structure`), by line
    structure: list[Violation] = field(default_factory=list)

    @property
    def version(self) -> str:
        return self.header.get("VERSAO_XSD", "").strip()

    @property
    def ibge(self) -> str:
        return self.header.get("CO_IBGE_MUN", "").strip()


def normalize_version(value: str | None) -> str | None:
    """'3.1', '31', '3,1', 'v3.1' → '3.1'; None when not a supported layout."""
    digits = re.sub(r"\D", "", value or "")
    for v in SUPPORTED_VERSIONS:
        if digits == v.replace(".", ""):
            return v
    return None


# --------------------------------------------------------------------------- refusals
def _malformed(source: str, exc: Exception, reader: CountingReader | None) -> InputError:
    """The refusal for a libxml2 syntax error, in pt-BR (:mod:`.xmlerrors`)."""
    p = describe_syntax_error(exc)
    where = f" na linha {p.line}" if p.line else ""
    if p.hostile:
        return HostileFileError(f"o XML usa entidades ou DTD{where}", file=source,
                                remedy="não use este arquivo; o XML do e-Gestor não tem DTD")
    if reader is not None and reader.eof and p.name != "ERR_DOCUMENT_END":
        return InputError(f"arquivo truncado: o XML termina antes de fechar os elementos"
                          f"{where} ({p.text})", file=source,
                          remedy="baixe o XML novamente no e-Gestor AB (o download não "
                                 "terminou)")
    return InputError(f"XML malformado{where}: {p.text}", file=source,
                      remedy="baixe o XML novamente no e-Gestor AB; não edite o arquivo à mão")


def _sniff(reader: CountingReader, info: SourceInfo, limits: Limits) -> dict[str, Any]:
    """Read the head of the stream and refuse what must never reach the parser: not XML,
    unsupported encodings, any DTD. Then parse only the head to check the root element and
    read the IDENTIFICACAO header early. The head is pushed back for the real parse."""
    source = info.extra.get("display", info.name)
    head = reader.read(limits.head_bytes)
    reader.unread(head)
    if not head.strip():
        raise InputError("arquivo vazio", file=source,
                         remedy="baixe o XML novamente no e-Gestor AB")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:512]:
        raise InputError("codificação não suportada (UTF-16/32 ou binário)", file=source,
                         remedy="use o XML do e-Gestor AB (ISO-8859-1 ou UTF-8)")
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if not body.lstrip().startswith(b"<"):
        raise InputError("não é um arquivo XML", file=source,
                         remedy="informe o XML (ou o ZIP) gerado no e-Gestor AB")
    m = _DECL_ENCODING.match(body)
    encoding = m.group(1).decode("ascii") if m else "UTF-8"
    info.encoding = encoding
    if encoding.lower() not in ENCODINGS:
        raise InputError(f"codificação {encoding!r} não suportada", file=source,
                         remedy="use o XML do e-Gestor AB (ISO-8859-1 ou UTF-8)")
    if encoding.lower() in SINGLE_BYTE:   # UTF-8 text under this declaration? (Utf8Probe)
        reader.probe = Utf8Probe()
        reader.probe.feed(head)
    dtd = _DTD.search(body)
    if dtd:
        line = body[:dtd.start()].count(b"\n") + 1
        raise HostileFileError(f"o XML declara DOCTYPE/entidades (linha {line}); arquivos com "
                               "DTD são recusados por segurança", file=source,
                               remedy="não use este arquivo; o XML do e-Gestor não tem DTD")
    pull = etree.XMLPullParser(events=("start",), **_SAFE)
    root = header = None
    header_line = None
    try:
        pull.feed(head)
        for _, el in pull.read_events():
            if root is None:
                root = el
                dt = el.getroottree().docinfo
                if dt.doctype or dt.internalDTD is not None or dt.externalDTD is not None:
                    raise HostileFileError("o XML declara DOCTYPE; arquivos com DTD são "
                                           "recusados por segurança", file=source,
                                           remedy="não use este arquivo")
                continue
            if el.tag == HEADER:
                header = {k: (v or "").strip() for k, v in el.attrib.items()}
                header_line = el.sourceline
            break
    except etree.XMLSyntaxError as exc:
        raise _malformed(source, exc, None) from None
    if root is None:
        where = "no arquivo" if len(head) < limits.head_bytes else \
            f"nos primeiros {limits.head_bytes // 1024} KB"
        raise InputError(f"nenhum elemento XML {where}", file=source,
                         remedy="informe o XML do CNES gerado no e-Gestor AB")
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag != ROOT:
        hint = " (parece a exportação do SCNES, não o XML para o e-SUS)" \
            if "scnes" in tag.lower() or "cnes" in tag.lower() else ""
        raise InputError(f"elemento raiz <{tag[:60]}> em vez de <{ROOT}>{hint}", file=source,
                         remedy="no e-Gestor AB gere o 'XML para o e-SUS APS' do município")
    return {"header": header, "header_line": header_line}


# --------------------------------------------------------------------------- parse
def _purge(el, found: _Found, expected: int | None = None) -> None:
    """Drop the already-read siblings before ``el`` (they were copied to lists); any other
    element among them is a structural violation of their container, reported first. When
    the caller knows how many siblings of the same kind come before ``el`` (``expected``),
    they are only looked at if the count differs."""
    parent = el.getparent()
    if parent is not None:
        idx = parent.index(el)
        if idx:
            if idx != expected:
                tag = el.tag
                for c in parent[:idx]:
                    if c.tag != tag:
                        found.add(structure.check(parent, found.layout))
                        break
            del parent[:idx]


class _Found:
    """The structural violations of one pass, each reported once (line and message)."""

    def __init__(self, layout: str | None):
        self.layout = layout
        self.items: dict[tuple[int, str], structure.Violation] = {}

    def add(self, violations) -> None:
        for v in violations:
            self.items.setdefault((v.line, v.message), v)

    def missing(self, tag: str, name: str, line: int) -> None:
        self.add([structure.Violation(line, f"<{tag}> sem o atributo obrigatório {name}")])

    def sorted(self) -> list[structure.Violation]:
        return sorted(self.items.values(), key=lambda v: v.line)


class _Irregular(Exception):
    """A DADOS_LOTACOES outside the LOTACOES of a professional: read again, exactly."""


def parse(path: str | os.PathLike, *, names: bool = False, limits: Limits | None = None,
          display_name: str | None = None) -> CnesFile:
    """Read a CNES XML or ZIP into DataFrames (see the module docstring).

    ``names`` keeps professionals' names (off by default: reports never show them).
    ``display_name`` is how the file is named in error messages (default: the path).
    Raises InputError/HostileFileError for a file that cannot be audited at all.
    """
    limits = limits or Limits()
    try:
        return _read(path, names, limits, display_name, exact=False)
    except _Irregular:
        return _read(path, names, limits, display_name, exact=True)


def _read(path, names: bool, limits: Limits, display_name: str | None, *,
          exact: bool) -> CnesFile:
    """One streaming pass. The fast pass (``exact=False``) takes each DADOS_LOTACOES from
    its own end event and gives it to the professional that ends next; it checks, once per
    professional, that the first of those lotações sits at DADOS_PROFISSIONAIS/LOTACOES of
    that professional (then all of them do: they end after it started and before it ends).
    A file where that does not hold (not the layout) raises ``_Irregular`` and is read
    again with ``exact=True``: each professional's lotações are its DADOS_LOTACOES
    descendants, as written."""
    est: dict[str, list] = {k: [] for k in ("cnes", "cnpj", "nome", "tp_unid", "ds_tp_unid",
                                            "ibge", "uf", "complexidade")}
    est_line = array("q")
    team: dict[str, list] = {k: [] for k in ("cnes", "ine", "tp_equipe", "sigla", "nome",
                                             "area", "dt_desativacao")}
    team_line = array("q")
    # Every value is trimmed while reading, when lxml has just made the string (later passes
    # over a million scattered strings cost more in cache misses than the work itself). The
    # low-cardinality columns (council, UF, every lotação column) go through a dict from the
    # raw value to its normalized form (trimmed, CNES/INE zero-padded, CBO upper-case): one
    # lookup per value and one string object per distinct value.
    p_cpf: list[str] = []
    p_cns: list[str] = []
    p_cons: list[str] = []
    p_uf: list[str] = []
    p_reg: list[str] = []
    p_nome: list[str] = []
    p_line = array("q")
    l_prof = array("q")
    l_line = array("q")
    l_cnes: list[str] = []
    l_ine: list[str] = []
    l_cbo: list[str] = []
    l_micro: list[str] = []
    header: dict[str, str] | None = None
    header_line: int | None = None
    n_cnes: dict[str, str] = {}
    n_ine: dict[str, str] = {}
    n_cbo: dict[str, str] = {}
    n_text: dict[str, str] = {}

    def lotacao(g, prof: int, line: int) -> None:
        """Append one DADOS_LOTACOES (``g`` is its ``get``); the fast pass inlines this."""
        v = g("CNES", "")
        x = n_cnes.get(v)
        if x is None:
            x = n_cnes[v] = _code(v, 7)
        l_cnes.append(x)
        v = g("CO_INE", "")
        x = n_ine.get(v)
        if x is None:
            x = n_ine[v] = _code(v, 10)
        l_ine.append(x)
        v = g("CO_CBO", "")
        x = n_cbo.get(v)
        if x is None:
            x = n_cbo[v] = v.strip().upper()
        l_cbo.append(x)
        v = g("MICROAREA", "")
        x = n_text.get(v)
        if x is None:
            x = n_text[v] = v.strip()
        l_micro.append(x)
        l_prof.append(prof)
        l_line.append(line)

    tags = ("DADOS_PROFISSIONAIS", "DADOS_GERAIS_ESTABELECIMENTOS", HEADER)
    if not exact:
        tags = ("DADOS_LOTACOES", *tags)

    with open_cnes(path, limits) as (reader, info):
        source = display_name or str(path)
        info.extra["display"] = source
        sniffed = _sniff(reader, info, limits)
        header, header_line = sniffed["header"], sniffed["header_line"]
        # the layout decides what the structure allows; an unknown one is checked as the
        # most recent (its own finding is VERSION_UNSUPPORTED)
        found = _Found(normalize_version((header or {}).get("VERSAO_XSD")) or
                       SUPPORTED_VERSIONS[-1])
        prof_parent = est_parent = None
        bad_parents: set[int] = set()
        # (no remove_blank_text: libxml2 finds the line of an element beyond line 65535
        # from the whitespace around it; without it every such line would read 65535)
        # libxml2's error log is per thread and outlives a parse: without clearing it, a
        # kernel that audited a broken file before would describe this file's error with
        # the earlier one (xmlerrors reads the first entry)
        etree.clear_error_log()
        ctx = etree.iterparse(reader, events=("end",), tag=tags, **_SAFE)
        n_prof = 0
        first = None       # first lotação read since the last professional ended
        first_lots = None  # its parent
        odd = False        # a lotação since then is not a childless sibling of the first
        mark = 0           # lotações read before the current professional
        l_cnes_append, l_ine_append, l_cbo_append = l_cnes.append, l_ine.append, l_cbo.append
        l_micro_append, l_prof_append, l_line_append = l_micro.append, l_prof.append, \
            l_line.append
        try:
            for _, el in ctx:
                tag = el.tag
                if tag == "DADOS_LOTACOES":    # most frequent: lotacao() inlined
                    if first is None:
                        first = el
                        first_lots = el.getparent()
                    elif el.getparent() is not first_lots:
                        odd = True      # not a sibling of the first: the full check decides
                    if len(el):
                        odd = True      # a lotação holds no element
                    g = el.get
                    v = g("CNES")          # None when absent: a structural violation
                    x = n_cnes.get(v)
                    if x is None:
                        if v is None:
                            found.missing(tag, "CNES", el.sourceline or 0)
                            v = ""
                        x = n_cnes[v] = _code(v, 7)
                    l_cnes_append(x)
                    v = g("CO_INE", "")
                    x = n_ine.get(v)
                    if x is None:
                        x = n_ine[v] = _code(v, 10)
                    l_ine_append(x)
                    v = g("CO_CBO")
                    x = n_cbo.get(v)
                    if x is None:
                        if v is None:
                            found.missing(tag, "CO_CBO", el.sourceline or 0)
                            v = ""
                        x = n_cbo[v] = v.strip().upper()
                    l_cbo_append(x)
                    v = g("MICROAREA", "")
                    x = n_text.get(v)
                    if x is None:
                        x = n_text[v] = v.strip()
                    l_micro_append(x)
                    l_prof_append(n_prof)
                    l_line_append(el.sourceline or 0)
                elif tag == "DADOS_PROFISSIONAIS":
                    # Structure of the professional, without creating an element object per
                    # child where it can be avoided: the shape of every real export is
                    # ENDERECO (empty or one childless DADOS_ENDERECO) then LOTACOES, whose
                    # children are exactly the childless DADOS_LOTACOES read since the last
                    # professional (all siblings of the first, none holding an element: see
                    # ``odd``). Anything else goes to the full description.
                    plain = False
                    if first is not None:
                        lots = first_lots
                        if lots is None or lots.tag != "LOTACOES" or lots.getparent() is not el:
                            raise _Irregular
                        first = None
                        if not odd and len(el) == 2 and lots.getnext() is None \
                                and len(lots) == len(l_line) - mark:
                            addr = lots.getprevious()
                            if addr.tag == "ENDERECO":
                                k = len(addr)
                                plain = k == 0 or (k == 1 and addr[0].tag == "DADOS_ENDERECO"
                                                   and not len(addr[0]))
                        odd = False
                    mark = len(l_line)
                    if exact:    # the slow pass also places each professional
                        parent = el.getparent()
                        if parent is not prof_parent:
                            if structure.chain_ok(parent, "PROFISSIONAIS"):
                                prof_parent = parent
                            elif id(parent) not in bad_parents:
                                bad_parents.add(id(parent))
                                found.add([structure.misplaced(el)])
                    if not plain:
                        found.add(structure.check_tree(el, found.layout))
                    get = el.get
                    v = get("CPF_PROF")
                    if v is None:
                        found.missing(tag, "CPF_PROF", el.sourceline or 0)
                        v = ""
                    p_cpf.append(v.strip())
                    v = get("CO_CNS")
                    if v is None:
                        found.missing(tag, "CO_CNS", el.sourceline or 0)
                        v = ""
                    p_cns.append(v.strip())
                    v = get("CONSELHO_ID", "")
                    x = n_text.get(v)
                    if x is None:
                        x = n_text[v] = v.strip()
                    p_cons.append(x)
                    v = get("SG_UF_EMIS", "")
                    x = n_text.get(v)
                    if x is None:
                        x = n_text[v] = v.strip()
                    p_uf.append(x)
                    p_reg.append(get("NU_REGISTRO", "").strip())
                    if names:
                        p_nome.append(get("NM_PROF", "").strip())
                    p_line.append(el.sourceline or 0)
                    if exact:
                        for lot in el.iter("DADOS_LOTACOES"):
                            lotacao(lot.get, n_prof, lot.sourceline or 0)
                    n_prof += 1
                    if n_prof % _PURGE_EVERY == 0:
                        # siblings before it: the professionals since the last purge (the
                        # one kept by the last purge included)
                        _purge(el, found, _PURGE_EVERY - (n_prof == _PURGE_EVERY))
                elif tag == "DADOS_GERAIS_ESTABELECIMENTOS":
                    if first is not None:      # a lotação read before, outside professionals
                        raise _Irregular
                    parent = el.getparent()
                    if parent is not est_parent:
                        if structure.chain_ok(parent, "ESTABELECIMENTOS"):
                            est_parent = parent
                        elif id(parent) not in bad_parents:
                            bad_parents.add(id(parent))
                            found.add([structure.misplaced(el)])
                    found.add(structure.check_tree(el, found.layout))
                    get = el.get
                    cnes = get("CNES", "").strip()
                    est["cnes"].append(cnes)
                    est["cnpj"].append(get("CNPJ", "").strip())
                    est["nome"].append(get("NM_FANTA", "").strip())
                    est["tp_unid"].append(get("TP_UNID_ID", "").strip())
                    est["ds_tp_unid"].append(get("DS_TP_UNID", "").strip())
                    addr = next(el.iter("DADOS_ENDERECO"), None)
                    est["ibge"].append(addr.get("CO_IBGE_MUN", "").strip() if addr is not None else "")
                    est["uf"].append(addr.get("SG_UF", "").strip() if addr is not None else "")
                    est["complexidade"].append(",".join(
                        (c.get("SG_COMPLEXIDADE") or "").strip()
                        for c in el.iter("DADOS_COMPLEXIDADE")))
                    est_line.append(el.sourceline or 0)
                    for t in el.iter("DADOS_EQUIPES"):
                        g = t.get
                        team["cnes"].append(cnes)
                        team["ine"].append(g("CO_INE", "").strip())
                        # real exports carry the code in TP_EQUIPE (ID_TP_EQUIPE is
                        # empty, or "EMAD"/"EMAP" for home-care teams); files with the code
                        # only in ID_TP_EQUIPE are accepted too
                        team["tp_equipe"].append(g("TP_EQUIPE", "").strip()
                                                 or g("ID_TP_EQUIPE", "").strip())
                        team["sigla"].append(g("SG_EQUIPE", "").strip())
                        team["nome"].append(g("DS_EQUIPE", "").strip())
                        team["area"].append(g("CO_AREA", "").strip())
                        team["dt_desativacao"].append(g("DT_DESATIVACAO", "").strip())
                        team_line.append(t.sourceline or 0)
                    _purge(el, found)
                else:  # IDENTIFICACAO closes at the end of the file
                    header = {k: (v or "").strip() for k, v in el.attrib.items()}
                    header_line = el.sourceline
            # the levels above units and professionals (what is left of them: purged
            # children were checked when they were dropped)
            root = ctx.root
            if root is not None:
                found.add(structure.check(root, found.layout))
                for h in root:
                    if h.tag == HEADER:
                        found.add(structure.check(h, found.layout))
                        for c in h:
                            if c.tag in ("ESTABELECIMENTOS", "PROFISSIONAIS"):
                                found.add(structure.check(c, found.layout))
        except etree.XMLSyntaxError as exc:
            raise _malformed(source, exc, reader) from None
        finally:
            del ctx
        if reader.probe is not None:
            info.misencoded = reader.probe.verdict()
    if header is None:
        header = {}
    if first is not None:
        # lotações after the last professional are outside every professional: dropped,
        # as the exact pass would (only professionals' descendants are lotações)
        keep = bisect.bisect_left(l_prof, n_prof)
        del l_prof[keep:], l_line[keep:], l_cnes[keep:], l_ine[keep:], l_cbo[keep:], \
            l_micro[keep:]

    establishments = _frame(est, est_line)
    establishments["cnes"] = _pad(establishments["cnes"], 7)
    teams = _frame(team, team_line)
    teams["cnes"] = _pad(teams["cnes"], 7)
    teams["ine"] = _pad(teams["ine"], 10)
    teams.insert(7, "ativa", teams["dt_desativacao"].eq(""))
    prof_cols = {"cpf": p_cpf, "cns": p_cns, "conselho": p_cons, "uf_conselho": p_uf,
                 "registro": p_reg}
    if names:
        prof_cols["nome"] = p_nome
    professionals = _frame(prof_cols, p_line)
    professionals.index.name = "prof"
    lotacoes = _frame({"cnes": l_cnes, "ine": l_ine, "cbo": l_cbo, "microarea": l_micro},
                      l_line)
    lotacoes.insert(0, "prof", _int64(l_prof))
    return CnesFile(header, establishments, teams, professionals, lotacoes, info, header_line,
                    structure=found.sorted())


def _code(value: str, width: int) -> str:
    """Trimmed; zero-padded to ``width`` when it is 1..width-1 ASCII digits (CNES, INE)."""
    v = value.strip()
    if 0 < len(v) < width and v.isascii() and v.isdigit():
        return v.zfill(width)
    return v


def _frame(cols: dict[str, list], lines: array) -> pd.DataFrame:
    """A DataFrame of string columns (already trimmed while reading) plus ``line``."""
    data: dict[str, Any] = {k: pd.Series(v, dtype="str") if len(v) else
                            pd.Series([], dtype="str") for k, v in cols.items()}
    data["line"] = _int64(lines)
    return pd.DataFrame(data)


def _int64(values: array) -> pd.Series:
    """An ``array('q')`` as an int64 Series (read through the buffer, not item by item)."""
    return pd.Series(np.frombuffer(values, dtype=np.int64).copy() if len(values) else
                     np.zeros(0, dtype=np.int64))


def _pad(s: pd.Series, n: int) -> pd.Series:
    """Zero-pad values that are 1..n-1 ASCII digits (CNES to 7, INE to 10)."""
    short = s.str.len().between(1, n - 1)
    if not short.any():
        return s
    short[short] = s[short].str.fullmatch(r"[0-9]+").fillna(False).astype(bool)
    out = s.copy()
    out[short] = s[short].str.zfill(n)
    return out
