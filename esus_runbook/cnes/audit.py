"""The XML audit: parse → rules → summaries → :class:`AuditReport`.

``audit(path, ibge=None)`` is what the CLI (``xml audit``), the stage ``xml`` and the
benchmark call. The report serializes to JSON (schema ``esus-runbook/xml-audit/1``, every
finding) and to a self-contained HTML page; :meth:`AuditReport.compact` is the bounded
version a stage result stores (counts by rule, first examples, small summaries).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import ids
from ..errors import InputError
from ..files.outputs import write_report
from ..results import now_iso
from ..status import ExitCode, Severity
from . import catalog, rules, summary
from .archive import Limits
from .charts import all_charts
from .jsontext import dumps, flat_records, nested_records, to_python
from .parser import CnesFile, normalize_version, parse

SCHEMA = "esus-runbook/xml-audit/1"
HTML_FINDINGS_LIMIT = 2000
HTML_TABLE_LIMIT = 500


def check_ibge_arg(value: str | None) -> str | None:
    """``--ibge``: 6 or 7 digits (a 7-digit code must have a valid check digit)."""
    if value is None:
        return None
    v = str(value).strip()
    if not (v.isascii() and v.isdigit() and len(v) in (6, 7)):
        raise InputError(f"código IBGE '{v}' inválido", file="--ibge",
                         remedy="informe o código do município com 6 ou 7 dígitos, ex.: 2927408")
    if len(v) == 7 and not ids.ibge_valid(v):
        raise InputError(f"dígito verificador do código IBGE '{v}' inválido", file="--ibge",
                         remedy="confira o código de 7 dígitos no IBGE (ou use os 6 primeiros)")
    return v


def _records(df: pd.DataFrame, limit: int | None = None) -> list[dict[str, Any]]:
    if limit is not None:
        df = df.head(limit)
    return json.loads(df.to_json(orient="records", force_ascii=False)) if len(df) else []


def file_info(cf: CnesFile) -> dict[str, Any]:
    """What was read (name, size, hash, encoding) and the IDENTIFICACAO header."""
    s = cf.source
    return {"name": s.name, "size_bytes": s.size_bytes, "container": s.container,
            "member": s.member, "sha256": s.sha256, "xml_bytes": s.xml_bytes,
            "encoding": s.encoding, "encoding_mismatch": s.misencoded, "version": cf.version,
            "version_supported": normalize_version(cf.version) is not None,
            "ibge": cf.ibge, "date": cf.header.get("DATA", ""),
            "origin": cf.header.get("ORIGEM", ""), "destination": cf.header.get("DESTINO", "")}


def file_counts(cf: CnesFile) -> dict[str, int]:
    """Units, teams (distinct CNES+INE), active teams, professionals, lotações."""
    teams = cf.teams.drop_duplicates(["cnes", "ine"])
    return {"establishments": int(len(cf.establishments)), "teams": int(len(teams)),
            "active_teams": int(teams["ativa"].sum()),
            "professionals": int(len(cf.professionals)), "lotacoes": int(len(cf.lotacoes))}


class ReportFiles:
    """``write_json``/``write_html`` for a report that renders ``json_text()`` and
    ``to_html()`` (audit, diff, reconcile): atomic writes, nothing under the final name on
    failure. With ``text()`` and ``exit_code`` the report is a
    :class:`esus_runbook.status.HtmlReport`."""

    def notices(self) -> str:
        """Nothing for the error stream unless the report says otherwise."""
        return ""

    def write_json(self, path: str | os.PathLike) -> Path:
        return write_report(path, self.json_text())

    def write_html(self, path: str | os.PathLike) -> Path:
        return write_report(path, self.to_html())


@dataclass
class AuditReport(ReportFiles):
    cnes: CnesFile
    findings: pd.DataFrame
    summaries: dict[str, pd.DataFrame]
    expected_ibge: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    # -- figures ----------------------------------------------------------------------------
    @property
    def counts(self) -> dict[str, int]:
        return file_counts(self.cnes)

    @property
    def errors(self) -> int:
        return int((self.findings["severity"] == Severity.ERROR).sum())

    @property
    def warnings(self) -> int:
        return int((self.findings["severity"] == Severity.WARNING).sum())

    def rule_counts(self) -> dict[str, dict[str, Any]]:
        vc = self.findings["rule"].value_counts()
        return {code: {"severity": r.severity.value, "count": int(vc[code]), "title": r.title}
                for code, r in rules.RULES.items() if code in vc.index}

    def file_info(self) -> dict[str, Any]:
        return file_info(self.cnes)

    @property
    def exit_code(self) -> ExitCode:
        """OK when the file can be imported (warnings allowed); FINDINGS when it has errors."""
        return ExitCode.FINDINGS if self.errors else ExitCode.OK

    def text(self) -> str:
        """The pt-BR summary ``esus-runbook xml auditar`` prints: the file, its counts, one
        line per rule found and the verdict."""
        c, f = self.counts, self.file_info()
        lines = [f"Arquivo: {f['name']} (layout {f['version'] or '?'}, município "
                 f"{f['ibge'] or '?'})",
                 f"Estabelecimentos: {c['establishments']}  Equipes: {c['teams']} "
                 f"({c['active_teams']} ativas)  Profissionais: {c['professionals']}  "
                 f"Lotações: {c['lotacoes']}"]
        for code, r in self.rule_counts().items():
            sev = Severity(r["severity"]).label
            lines.append(f"  {code:<28} {sev:<6} {r['count']:>7}  {r['title']}")
        verdict = "" if self.errors else " — pode ser importado no PEC" + (
            "; revise antes os alertas" if self.warnings else "")
        lines.append(f"Resultado: {self.errors} erro(s), {self.warnings} alerta(s){verdict}")
        return "\n".join(lines)

    # -- outputs ----------------------------------------------------------------------------
    def findings_records(self, limit: int | None = None) -> list[dict[str, Any]]:
        out = []
        for r in _records(self.findings, limit):
            where = {k: r[k] for k in ("cnes", "ine", "cpf", "line") if r.get(k) is not None}
            out.append({"rule": r["rule"], "severity": r["severity"], "where": where,
                        "message": r["message"]})
        return out

    def examples(self, per_rule: int = 10, total: int = 200) -> list[dict[str, Any]]:
        head = self.findings.groupby("rule", sort=False).head(per_rule).head(total)
        out = []
        for r in _records(head):
            where = {k: r[k] for k in ("cnes", "ine", "cpf", "line") if r.get(k) is not None}
            out.append({"rule": r["rule"], "severity": r["severity"], "where": where,
                        "message": r["message"]})
        return out

    def document(self) -> dict[str, Any]:
        """The full report (every finding and every summary row) with the tables as
        :class:`~.jsontext.Records` (see :meth:`json_text` and :meth:`to_json`)."""
        return {"schema": SCHEMA, "file": self.file_info(), "expected_ibge": self.expected_ibge,
                "counts": self.counts, "errors": self.errors, "warnings": self.warnings,
                "rules": self.rule_counts(),
                "findings": nested_records(self.findings, ("rule", "severity"), "where",
                                           ("cnes", "ine", "cpf", "line"), ("message",),
                                           integers=("line",), distinct=("message",)),
                "summaries": {k: flat_records(v) for k, v in self.summaries.items()},
                "seconds": self.seconds}

    def json_text(self) -> str:
        """The JSON file's text: indented, one finding or summary row per line."""
        return dumps(self.document())

    def to_json(self) -> dict[str, Any]:
        """The full report as Python objects (what :meth:`write_json` writes)."""
        return to_python(self.document())

    def compact(self, per_rule: int = 10, total: int = 200) -> dict[str, Any]:
        """Bounded metrics for a stage result: a capital's file stays a few hundred KB."""
        s = self.summaries
        multi = s["varias_lotacoes"]
        no_team = s["lotacoes_sem_equipe"]
        inactive = s["equipes_inativas"]
        teams = s["equipes"]
        below = teams[teams["atende_minimo"].eq(False).fillna(False).astype(bool)]
        return {
            "arquivo": self.file_info(), "counts": self.counts, "erros": self.errors,
            "alertas": self.warnings, "regras": self.rule_counts(),
            "exemplos": self.examples(per_rule, total),
            "tipos_de_equipe": _records(s["tipos_de_equipe"]),
            "familias_cbo": _records(s["familias_cbo"]),
            "estabelecimentos": _records(s["estabelecimentos"], 50),
            "estabelecimentos_total": int(len(s["estabelecimentos"])),
            "equipes_abaixo_minimo": {"total": int(len(below)),
                                      "exemplos": _records(below[["cnes", "ine", "sigla_tipo",
                                                                  "faltando", "line"]], 20)},
            "varias_lotacoes": {"profissionais": int(len(multi)),
                                "distribuicao": {str(k): int(v) for k, v in
                                                 multi["lotacoes"].value_counts().sort_index()
                                                 .items()}},
            "lotacoes_sem_equipe": {"total": int(no_team["lotacoes"].sum()) if len(no_team) else 0,
                                    "por_categoria": {str(k): int(v) for k, v in no_team
                                                      .groupby("categoria")["lotacoes"].sum()
                                                      .items()}},
            "equipes_inativas": {"total": int(len(inactive)),
                                 "exemplos": _records(inactive, 20)},
        }

    def to_html(self) -> str:
        # HTML only (lazy, measured): jinja2 and the template environment ≈ 0.18 s of import,
        # for the many audits that write only JSON or a stage result
        from ..render.env import environment

        compact = self.compact()
        charts = all_charts(compact)
        s = self.summaries
        return environment().get_template("xml_audit.html.j2").render(
            file=self.file_info(), counts=self.counts, errors=self.errors,
            warnings=self.warnings, expected_ibge=self.expected_ibge,
            rules=self.rule_counts(), all_rules=rules.RULES,
            findings=self.findings_records(HTML_FINDINGS_LIMIT),
            findings_total=len(self.findings), findings_limit=HTML_FINDINGS_LIMIT,
            charts=charts, compact=compact, generated_at=now_iso(),
            establishments=_records(s["estabelecimentos"], HTML_TABLE_LIMIT),
            establishments_total=len(s["estabelecimentos"]),
            types=_records(s["tipos_de_equipe"]), families=_records(s["familias_cbo"]),
            family_labels=catalog.family_labels(), table_limit=HTML_TABLE_LIMIT,
            below=compact["equipes_abaixo_minimo"], inactive=_records(s["equipes_inativas"],
                                                                       HTML_TABLE_LIMIT),
            multi=_records(s["varias_lotacoes"], HTML_TABLE_LIMIT),
            multi_total=len(s["varias_lotacoes"]))



def audit(path: str | os.PathLike, ibge: str | None = None, *, limits: Limits | None = None,
          display_name: str | None = None) -> AuditReport:
    """Audit one CNES XML/ZIP. ``ibge`` (6 or 7 digits) is the expected municipality.
    Raises InputError/HostileFileError when the file cannot be audited at all."""
    expected = check_ibge_arg(ibge)
    t0 = time.perf_counter()
    cf = parse(path, limits=limits, display_name=display_name)
    t1 = time.perf_counter()
    # computed once, shared by the rules and the summaries
    family = catalog.family_of(cf.lotacoes["cbo"])
    codes = rules.LotacaoCodes(cf.lotacoes, family)
    composition = rules.composition_table(cf, family, codes)
    gaps = rules.composition_gaps(composition)
    findings = rules.run(cf, expected, family=family, composition=composition, codes=codes,
                         gaps=gaps)
    t2 = time.perf_counter()
    summaries = summary.build(cf, family, composition, codes=codes, gaps=gaps)
    t3 = time.perf_counter()
    return AuditReport(cf, findings, summaries, expected,
                       {"parse": round(t1 - t0, 3), "rules": round(t2 - t1, 3),
                        "summaries": round(t3 - t2, 3)})
