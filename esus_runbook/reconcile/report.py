"""``reconcile(xml, db_url, password)``: what PEC's database holds against the CNES XML, after
the import, as a :class:`ReconcileReport` (JSON ``esus-runbook/xml-reconcile/1`` and HTML).

Order of work: the inputs are checked (IBGE code, database URL), the XML is parsed with the
audit's parser (or the stage passes the file the audit already parsed), then PEC's database
is opened read-only, its schema checked (:mod:`.schema`) and only then read
(:mod:`.pecdb`) and compared (:mod:`.compare`). An unknown schema gives ``status`` pendente
with the missing names and no differences.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import ids
from ..cnes.audit import ReportFiles, check_ibge_arg, file_counts, file_info
from ..cnes.charts import kind_bars
from ..cnes.jsontext import dumps, nested_records, to_python
from ..cnes.parser import CnesFile, parse
from ..errors import InputError
from ..pec import ReadDeadline, check_db_url, db_target
from ..render.env import environment
from ..results import now_iso
from ..secret_refs import Secret
from ..status import SEVERITY_LABELS, ExitCode, Severity
from . import compare as cmp
from . import pecdb, schema

SCHEMA = "esus-runbook/xml-reconcile/1"
LIMIT_PER_KIND = 1000    # rows listed per kind in the JSON (the counts stay complete)
OK, DIFFERENCES, PENDING = "ok", "diferencas", "pendente"
HTML_LIMIT = 2000
_DISTINCT = ("message", "cpf", "cns_xml", "cns_pec")


@dataclass
class ReconcileReport(ReportFiles):
    cnes: CnesFile
    status: str
    pec: dict[str, Any]
    differences: pd.DataFrame = field(default_factory=cmp.empty)
    seconds: dict[str, float] = field(default_factory=dict)
    totals: dict[str, int] | None = None     # every difference per kind (None: the frame's)
    limit: int | None = None                 # rows listed per kind (None: all)
    shown: int = 10                          # differences listed in the terminal text

    # -- figures ------------------------------------------------------------------------
    @property
    def counts(self) -> dict[str, int]:
        """Differences per kind, in full (the list may hold fewer: :attr:`omitted`)."""
        if self.totals is not None:
            return {code: int(self.totals.get(code, 0)) for code in cmp.KINDS}
        vc = self.differences["kind"].value_counts()
        return {code: int(vc.get(code, 0)) for code in cmp.KINDS}

    @property
    def omitted(self) -> dict[str, int]:
        """Per kind, the differences counted but not listed (the cap)."""
        vc = self.differences["kind"].value_counts()
        return {code: n - int(vc.get(code, 0)) for code, n in self.counts.items()
                if n > int(vc.get(code, 0))}

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def _by_severity(self, severity: Severity) -> int:
        return sum(n for code, n in self.counts.items() if cmp.KINDS[code].severity is severity)

    @property
    def errors(self) -> int:
        return self._by_severity(Severity.ERROR)

    @property
    def warnings(self) -> int:
        return self._by_severity(Severity.WARNING)

    @property
    def missing(self) -> list[str]:
        return list(self.pec.get("faltando") or [])

    @property
    def not_imported(self) -> bool:
        return bool(self.counts["NOT_IMPORTED"])

    @property
    def exit_code(self) -> ExitCode:
        """OK: PEC agrees with the file; FINDINGS: differences; UNDECIDED: an unknown schema
        or a file not imported yet (pendente, as in stage 6)."""
        if self.status == PENDING or self.not_imported:
            return ExitCode.UNDECIDED
        return ExitCode.FINDINGS if self.total else ExitCode.OK

    def xml_summary(self) -> dict[str, Any]:
        return {**file_info(self.cnes), "counts": file_counts(self.cnes)}

    @property
    def wrong_types(self) -> list[str]:
        return list(self.pec.get("tipos_incompativeis") or [])

    def schema_problems(self) -> str:
        """``faltam ...; tipo incompatível: ...`` (pt-BR) for an unknown schema."""
        what = []
        if self.missing:
            what.append(f"faltam {', '.join(self.missing)}")
        if self.wrong_types:
            what.append(f"tipo incompatível: {', '.join(self.wrong_types)}")
        return "; ".join(what)

    def pending_text(self) -> str:
        """One pt-BR line for an unknown schema (the missing names, the columns of an
        incompatible type with the type found, and PEC's version)."""
        return (f"esquema do banco do PEC desconhecido (versão {self.pec.get('versao') or '?'}): "
                f"{self.schema_problems()} — a reconciliação não dá veredito com um "
                "esquema adivinhado; informe a versão do PEC e os nomes acima à equipe do "
                "esus-runbook (esus_runbook/data/pec_schema.csv) ou confira se a URL aponta "
                "para o banco do PEC")

    def notices(self) -> str:
        """The line for the error stream: the unknown schema ("" otherwise)."""
        return f"--db-url: {self.pending_text()}" if self.status == PENDING else ""

    def text(self) -> str:
        """What ``esus-runbook xml reconciliar`` prints, in pt-BR: the summary (file, PEC,
        counts, the first :attr:`shown` differences, verdict)."""
        f, pec = self.xml_summary(), self.pec
        lines = [f"Arquivo: {f['name']} (município {f['ibge'] or '?'}, data {f['date'] or '?'}, "
                 f"{f['counts']['professionals']} profissionais, {f['counts']['lotacoes']} "
                 "lotações)",
                 f"PEC: {pec['alvo']} (versão {pec.get('versao') or '?'}; esquema "
                 f"{(pec.get('schema_fingerprint') or '?')[:23]})"]
        if self.status == PENDING:
            return "\n".join(lines)
        c = pec["counts"]
        lines.append(f"No PEC, nas unidades do arquivo: {c['professionals']} profissionais "
                     f"ativos em {c['units']} unidades, {c['lotacoes']} lotações ativas "
                     f"({c['lotacoes_do_xml_no_pec']} das {c['lotacoes_do_xml']} do arquivo)")
        counts = self.counts
        for code, kind in cmp.KINDS.items():
            if counts[code]:
                lines.append(f"  {code:<28} {kind.severity.label:<7} "
                             f"{counts[code]:>7}  {kind.title}")
        shown = self.differences.head(self.shown)
        lines += [f"  - {rec['message']}" for rec in self.records(shown).to_python()]
        if self.total > len(shown):
            more = ("lista com --json ou --html" if not self.omitted else
                    f"até {self.limit} por tipo com --json ou --html")
            lines.append(f"  ... e mais {self.total - len(shown)} ({more})")
        if self.not_imported:
            lines.append("Resultado: pendente — o XML ainda não foi importado no PEC")
        elif self.total:
            lines.append(f"Resultado: {self.errors} erro(s), {self.warnings} alerta(s) — o "
                         "PEC não confere com o arquivo")
        else:
            lines.append("Resultado: o PEC confere com o arquivo")
        return "\n".join(lines)

    # -- outputs ------------------------------------------------------------------------
    def records(self, frame: pd.DataFrame | None = None):
        frame = self.differences if frame is None else frame
        return nested_records(frame, ("kind", "severity"), "where", cmp.WHERE, ("message",),
                              integers=("line",), distinct=_DISTINCT)

    def document(self) -> dict[str, Any]:
        """The JSON: ``counts`` hold every difference per kind; ``differences`` lists at most
        ``limite_por_tipo`` of each kind and ``omitidas`` says how many were left out."""
        return {"schema": SCHEMA, "status": self.status, "xml": self.xml_summary(),
                "pec": self.pec, "counts": self.counts, "errors": self.errors,
                "warnings": self.warnings, "differences": self.records(),
                "limite_por_tipo": self.limit, "omitidas": self.omitted,
                "seconds": self.seconds}

    def json_text(self) -> str:
        return dumps(self.document())

    def to_json(self) -> dict[str, Any]:
        return to_python(self.document())

    def examples(self, per_kind: int = 20) -> list[dict[str, Any]]:
        return self.records(self.differences.groupby("kind", sort=False).head(per_kind)) \
            .to_python()

    def compact(self, per_kind: int = 20) -> dict[str, Any]:
        """Bounded metrics for the stage result."""
        return {"situacao": self.status, "xml": self.xml_summary(), "pec": self.pec,
                "counts": self.counts, "erros": self.errors, "alertas": self.warnings,
                "pendencia": self.pending_text() if self.status == PENDING else None,
                "exemplos": self.examples(per_kind), "por_exemplo": per_kind,
                "total": self.total}

    def to_html(self) -> str:
        svg = differences_chart(self.counts)
        charts = [("Diferenças por tipo", svg)] if svg is not None else []
        doc = {**self.compact(0), "exemplos":
               self.records(self.differences.head(HTML_LIMIT)).to_python()}
        return environment().get_template("xml_reconcile.html.j2").render(
            **section_context(doc, charts, HTML_LIMIT), generated_at=now_iso())


def differences_chart(counts: dict[str, int]) -> str | None:
    """Horizontal bars (SVG): differences per kind, coloured by severity (None when none)."""
    return kind_bars(counts, cmp.KINDS, SEVERITY_LABELS,
                     "Depois da importação: o PEC × o XML", "diferenças")


def section_context(compact: dict[str, Any], charts: list[tuple[str, str]] = (),
                    limit: int | None = None) -> dict[str, Any]:
    """What ``xml_reconcile_section.html.j2`` needs, from :meth:`ReconcileReport.compact`
    (what a stage result keeps) — the CLI's HTML and the xml stage's views share it."""
    counts = compact.get("counts") or {}
    return {"xml": compact["xml"], "pec": compact["pec"], "status": compact["situacao"],
            "counts": counts, "kinds": cmp.KINDS,
            "errors": compact.get("erros", 0), "warnings": compact.get("alertas", 0),
            "missing": compact["pec"].get("faltando") or [], "pending": compact.get("pendencia"),
            "charts": list(charts), "differences": compact.get("exemplos") or [],
            "total": compact.get("total", 0),
            "limit": limit if limit is not None else len(compact.get("exemplos") or []),
            "per_kind": None if limit is not None else compact.get("por_exemplo")}


def section_html(compact: dict[str, Any], charts: list[tuple[str, str]] = ()) -> str:
    """The "Depois da importação" section for a bounded :meth:`ReconcileReport.compact`
    (first differences of each kind): the site report and the xml stage's notebook view."""
    return environment().get_template("xml_reconcile_section.html.j2").render(
        **section_context(compact, charts))


def reconcile(xml: str | os.PathLike | None, db_url: str, password: Secret | None, *,
              ibge: str | None = None, cnes_file: CnesFile | None = None,
              display_name: str | None = None, timeout: float = pecdb.CONNECT_TIMEOUT_S,
              limit: int | None = LIMIT_PER_KIND, deadline: float = pecdb.READ_DEADLINE_S
              ) -> ReconcileReport:
    """Compare PEC's database at ``db_url`` with the CNES XML ``xml`` (or the already parsed
    ``cnes_file``), listing at most ``limit`` differences of each kind (every one is
    counted). Raises InputError for a refused input: a bad file, a bad URL, a database
    that refuses the connection or the password, a file of another municipality than
    ``ibge``, a read that does not end within ``deadline`` seconds."""
    import psycopg  # lazy: the optional "postgres" extra: only when a database is read

    expected = check_ibge_arg(ibge)
    info = check_db_url(db_url)
    t0 = time.perf_counter()
    cf = cnes_file if cnes_file is not None else parse(xml, display_name=display_name)
    t1 = time.perf_counter()
    if expected and ids.ibge6(cf.ibge) != ids.ibge6(expected):
        raise InputError(f"o XML é do município {cf.ibge or '(ausente)'}, não de {expected}",
                         file=display_name or str(xml), key="CO_IBGE_MUN",
                         remedy="informe o XML do município da instalação (ou corrija --ibge)")
    pec: dict[str, Any] = {"alvo": db_target(info), "versao": None, "schema_fingerprint": None,
                           "senha_de": password.source if password is not None else None}
    conn = pecdb.open_readonly(db_url, password, timeout=timeout)
    try:
        with ReadDeadline(conn, deadline, info), conn:
            found = schema.inspect(conn)
            if found.unreadable:
                raise InputError(f"o usuário {info.get('user') or '(padrão)'} não tem permissão "
                                 f"de leitura em {', '.join(found.unreadable)}", file="--db-url",
                                 remedy="use o usuário do banco do PEC (o do instalador) ou "
                                        "conceda SELECT nessas tabelas a este usuário")
            pec.update(versao=found.version, schema_fingerprint=found.fingerprint,
                       layout=found.layout, colunas=found.variants(), faltando=found.missing,
                       tipos_incompativeis=found.wrong_types)
            if not found.complete:
                return ReconcileReport(cf, PENDING, pec,
                                       seconds={"parse": round(t1 - t0, 3),
                                                "schema": round(time.perf_counter() - t1, 3)})
            t2 = time.perf_counter()
            cpfs = cf.professionals["cpf"]
            tables = pecdb.read_tables(conn, found, cpfs[cpfs != ""].unique())
    except psycopg.Error as exc:      # a timeout, a lost connection, a refused read
        raise pecdb.read_error(exc, info) from None
    t3 = time.perf_counter()
    differences, figures, totals = cmp.compare(cf, tables, limit)
    del tables
    t4 = time.perf_counter()
    pec["counts"] = figures
    status = DIFFERENCES if totals else OK
    return ReconcileReport(cf, status, pec, differences,
                           {"parse": round(t1 - t0, 3), "schema": round(t2 - t1, 3),
                            "read": round(t3 - t2, 3), "compare": round(t4 - t3, 3)},
                           totals, limit)
