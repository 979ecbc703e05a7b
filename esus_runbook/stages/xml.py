"""Stage 6 — Importação do XML do CNES: audit the site's file before PEC imports it.

Checks: the file exists and can be read safely (``XML_ARQUIVO``), its municipality is the
site's (``XML_MUNICIPIO``, compared on 6 digits), its layout version is supported
(``XML_VERSAO``), the site's CNES is in it (``XML_CNES_SITE``, decentralized sites), then one
check per audit rule that found something (``XML_<RULE>``: ``falha`` for error rules,
``alerta`` for warning rules) or a single ``XML_REGRAS`` ok when none did. Metrics hold the
bounded summaries (:meth:`AuditReport.compact`): counts by rule and the first examples, so a
capital's file does not make a huge result; the CLI's ``--json`` has every finding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..results import StageResult, Status
from ..sites import Site

TITLE = "Importação do XML do CNES"
INPUT_KEYS = ("municipio_ibge", "cnes", "xml")
INPUT_FILES = ("xml.arquivo", "xml.anterior")
EXAMPLES_PER_RULE = 5


def evaluate(site: Site, ctx=None) -> StageResult:
    from .. import ids
    from ..errors import InputError

    r = StageResult(site.site_id, "xml")
    arquivo = (site.xml or {}).get("arquivo")
    if not arquivo:
        r.add("XML_ARQUIVO", "XML do CNES informado", Status.PENDENTE, "xml.arquivo", None,
              "Baixe no e-Gestor AB o XML do município (XmlParaESUS*.zip) e informe o caminho "
              "em xml.arquivo no arquivo do site.")
        return r.finish()
    path = Path(arquivo)
    if not path.is_file():
        r.add("XML_ARQUIVO", "XML do CNES informado", Status.FALHA, "arquivo existente",
              f"não encontrado: {path.name}",
              f"O arquivo {path} não existe: confira xml.arquivo no arquivo do site "
              "(caminhos relativos valem a partir da pasta do arquivo do site).")
        return r.finish()

    from ..cnes.audit import audit

    try:
        report = audit(path, display_name=path.name)
    except InputError as exc:   # refused: malformed, hostile, wrong root, not one XML...
        r.add("XML_ARQUIVO", "XML do CNES legível e seguro", Status.FALHA,
              "XML do CNES (ou ZIP com um único XML) bem formado", ids.scrub(str(exc))[:300],
              "Baixe o XML novamente no e-Gestor AB e não o altere; o PEC também recusaria "
              "este arquivo.")
        return r.finish()

    info = report.file_info()
    r.add("XML_ARQUIVO", "XML do CNES legível e seguro", Status.OK, "XML do CNES bem formado",
          f"{info['name']} ({info['xml_bytes'] / 1024**2:.1f} MB de XML, "
          f"{info['encoding']})")
    site_ibge = site.data["municipio_ibge"]
    file_ibge = info["ibge"]
    if ids.ibge6(file_ibge) == ids.ibge6(site_ibge):
        r.add("XML_MUNICIPIO", "Município do XML é o do site", Status.OK, site_ibge, file_ibge)
    else:
        r.add("XML_MUNICIPIO", "Município do XML é o do site", Status.FALHA, site_ibge,
              file_ibge or "ausente",
              "O XML é de outro município: baixe no e-Gestor AB o arquivo do município "
              f"{site_ibge}; o PEC recusa arquivo de outro município.")
    if info["version_supported"]:
        r.add("XML_VERSAO", "Versão do layout do XML", Status.OK, "2.1, 3.0 ou 3.1",
              info["version"])
    else:
        r.add("XML_VERSAO", "Versão do layout do XML", Status.FALHA, "2.1, 3.0 ou 3.1",
              info["version"] or "ausente",
              "Gere o XML novamente no e-Gestor AB (layout 3.1); o PEC não importa layouts "
              "antigos nem mais antigos que o último importado.")
    cnes = site.data.get("cnes")
    if cnes:
        units = report.cnes.establishments
        present = bool((units["cnes"] == cnes).any())
        if present:
            row = report.summaries["estabelecimentos"]
            row = row[row["cnes"] == cnes].iloc[0]
            r.add("XML_CNES_SITE", "Unidade do site está no XML", Status.OK, cnes,
                  f"{row['nome']}: {row['equipes_ativas']} equipe(s) ativa(s), "
                  f"{row['profissionais']} profissional(is)")
        else:
            r.add("XML_CNES_SITE", "Unidade do site está no XML", Status.FALHA, cnes,
                  "ausente do arquivo",
                  f"O CNES {cnes} não está no XML: confira o CNES no arquivo do site e se a "
                  "unidade está ativa no SCNES com nível de atenção básica; gere o XML de novo.")

    site_rules = {"MUNICIPALITY_MISMATCH", "VERSION_UNSUPPORTED"}  # covered above
    counts = report.rule_counts()
    examples = report.examples(EXAMPLES_PER_RULE, 200)
    from ..cnes.rules import RULES

    shown = 0
    for code, c in counts.items():
        if code in site_rules:
            continue
        rule = RULES[code]
        first = [e for e in examples if e["rule"] == code][:3]
        where = "; ".join(_where(e["where"]) for e in first)
        r.add(f"XML_{code}", rule.title,
              Status.FALHA if rule.severity == "error" else Status.ALERTA, "0 ocorrências",
              f"{c['count']} ocorrência(s)" + (f" — ex.: {where}" if where else ""),
              rule.remedy)
        shown += 1
    if shown == 0:
        r.add("XML_REGRAS", "Regras de importação (identificadores, lotações, equipes)",
              Status.OK, "0 erros e 0 alertas",
              f"{len(RULES)} regras verificadas em {report.counts['professionals']} "
              f"profissionais e {report.counts['lotacoes']} lotações")
    compact = report.compact(per_rule=EXAMPLES_PER_RULE)
    return r.finish(**{"xml": compact, "segundos": report.seconds})


def _where(w: dict[str, Any]) -> str:
    parts = []
    for key, label in (("cnes", "CNES"), ("ine", "INE"), ("cpf", "CPF"), ("line", "linha")):
        if w.get(key) is not None:
            parts.append(f"{label} {w[key]}")
    return ", ".join(parts)


def charts(result: StageResult) -> list[tuple[str, Any]]:
    """Team composition and professionals by category, from the result's metrics."""
    compact = (result.metrics or {}).get("xml")
    if not compact:
        return []
    from ..cnes.charts import all_charts

    return all_charts(compact)
