"""Stage 6 — Importação do XML do CNES: audit the site's file before PEC imports it.

Checks: the file exists and can be read safely (``XML_ARQUIVO``), its municipality is the
site's (``XML_MUNICIPIO``, compared on 6 digits), its layout version is supported and
imported by the site's PEC version (``XML_VERSAO``, against ``instalador.versao``), not
older than the layout last imported (``XML_LAYOUT_IMPORTADO``, from this site's previous run
when there is no ``xml.anterior``), the
site's CNES is in it (``XML_CNES_SITE``, decentralized sites), then one check per audit
rule that found something (``XML_<RULE>``: ``falha`` for error rules, ``alerta`` for
warning rules) or a single ``XML_REGRAS`` ok when none did. Metrics hold the
bounded summaries (:meth:`AuditReport.compact`): counts by rule and the first examples, so a
capital's file does not make a huge result; the CLI's ``--json`` has every finding.

With ``xml.anterior`` (the file imported last) the stage also compares the two files
(:mod:`esus_runbook.cnes.diff`, reusing the file the audit parsed): ``XML_ANTERIOR`` (the
older file can be read), ``XML_DIFF_MUNICIPIO`` and ``XML_DIFF_VERSAO`` (``falha``: PEC
would refuse the import), and three checks for what the analyst must review —
``XML_DIFF_PROFISSIONAIS`` (professionals who lose access), ``XML_DIFF_CNS`` (CNS changed
for the same CPF) and ``XML_DIFF_REMOCOES`` (lotações, teams and units removed or teams
deactivated). Each is an ``alerta`` until the site file records the review's confirmation
code in ``xml.alteracoes_confirmadas`` (a hash of exactly those changes, with masked
identifiers and no line numbers: a new file with other removals needs a new review). The
bounded comparison goes to ``metrics["diff"]``; the full list, to ``xml_diff.html`` in the
run folder of the site.

With ``instalacao.db_url`` the stage adds "Depois da importação" (:mod:`esus_runbook.reconcile`,
reusing the parsed file): PEC's database, read only, against the file. ``XML_PEC_CONEXAO``
(pendente without the password reference, falha when the database refuses),
``XML_PEC_ESQUEMA`` (pendente: a table or column the reconciliation needs is missing),
``XML_PEC_IMPORTACAO`` (pendente: the file was not imported), then ``XML_PEC_CONFERE`` ok or
one ``XML_PEC_<KIND>`` per difference kind found (falha for error kinds, alerta for warning
kinds). Bounded results go to ``metrics["reconciliacao"]``; the full list to
``xml_reconciliacao.html`` in the site's run folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..commands import join
from ..errors import InputError, RunbookError
from ..installer.releases import version_tuple
from ..results import StageResult
from ..secret_refs import read_secret
from ..sites.loading import Site
from ..ssh import site_db_url
from ..status import Status
from .base import Stage
from .steps import Step, file_step, relative
from .view import show_charts, show_checks, show_plain_html
from .xml_view import show_after_import, show_changes, show_summaries

# Lazy imports: the kernel of notebook 06 loads this module first; the audit (pandas 0.7 s), the
# diff, the reconciliation (psycopg, pandas) and the charts (matplotlib 0.9 s) load only on the
# path that uses them (a site without `xml.anterior` never loads the diff). Figures: `python -c
# "import time, importlib; t = time.perf_counter(); importlib.import_module('pandas');
# print(time.perf_counter() - t)"`.

# ids (numpy, ~1 s), cnes.* and reconcile (pandas, lxml) are imported inside the functions
# that use them: the site report imports this module for report_html, and a site without
# xml.arquivo never needs them.
EXAMPLES_PER_RULE = 5
EXAMPLES_PER_KIND = 20
DIFF_HTML = "xml_diff.html"
RECONCILE_HTML = "xml_reconciliacao.html"


def evaluate(site: Site, ctx=None) -> StageResult:
    from .. import ids

    r = StageResult(site.site_id, "xml")
    arquivo = (site.xml or {}).get("arquivo")
    if not arquivo:
        r.add("XML_ARQUIVO", "XML do CNES informado", Status.PENDENTE, "xml.arquivo", None,
              "Baixe no e-Gestor AB o XML do município (XmlParaESUS*.zip) e informe o caminho "
              "em xml.arquivo no arquivo do site.")
        return r.finish()
    path = Path(arquivo)
    if path.is_dir():
        r.add("XML_ARQUIVO", "XML do CNES informado", Status.FALHA, "arquivo .xml ou .zip",
              f"é uma pasta: {path.name}", _folder_remedy(path, "xml.arquivo"))
        return r.finish()
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
    _layout_check(r, info, (site.instalador or {}).get("versao"))
    if not (site.xml or {}).get("anterior"):   # with xml.anterior, XML_DIFF_VERSAO says it
        _imported_layout_check(r, ctx, info)
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
              rule.severity.status, "0 ocorrências",
              f"{c['count']} ocorrência(s)" + (f" — ex.: {where}" if where else ""),
              rule.remedy)
        shown += 1
    if shown == 0:
        r.add("XML_REGRAS", "Regras de importação (identificadores, lotações, equipes)",
              Status.OK, "0 erros e 0 alertas",
              f"{len(RULES)} regras verificadas em {report.counts['professionals']} "
              f"profissionais e {report.counts['lotacoes']} lotações")
    compact = report.compact(per_rule=EXAMPLES_PER_RULE)
    metrics: dict[str, Any] = {"xml": compact, "segundos": report.seconds}
    anterior = (site.xml or {}).get("anterior")
    if anterior:
        metrics["diff"] = _compare(site, ctx, r, Path(anterior), report.cnes)
    if (site.instalacao or {}).get("db_url"):
        metrics["reconciliacao"] = _after_import(site, ctx, r, report.cnes)
    return r.finish(**metrics)


def _after_import(site: Site, ctx, r: StageResult, cnes) -> dict[str, Any]:
    """"Depois da importação": PEC's database against the file (``xml reconcile``, reusing
    the parsed file). pendente before the import (NOT_IMPORTED), with an unknown schema or a
    missing password reference; falha when the database refuses the connection or when
    something of the file is missing in PEC; alerta when PEC only holds more than the file."""
    from .. import ids
    from ..reconcile import KINDS, PENDING, reconcile

    inst = site.instalacao
    title = "Depois da importação: conexão com o banco do PEC"
    try:
        password = read_secret(inst.get("db_password_env"), inst.get("db_password_file"),
                               what="senha do banco do PEC", env=getattr(ctx, "env", None))
    except InputError as exc:
        p = exc.problems[0]
        r.add("XML_PEC_CONEXAO", title, Status.PENDENTE, "variável ou arquivo com a senha",
              p.message, p.remedy or "Defina a variável ou o arquivo da senha do banco.")
        return {"situacao": "pendente", "motivo": p.message}
    for warning in (password.warnings if password is not None else ()):
        r.add("XML_PEC_SENHA", "Arquivo da senha do banco protegido", Status.ALERTA,
              "permissão 600", warning, "chmod 600 no arquivo da senha.")
    try:
        with site_db_url(site.servidor, inst["db_url"], getattr(ctx, "env", None)) as db_url:
            rec = reconcile(None, db_url, password, cnes_file=cnes)
    except RunbookError as exc:  # refused connection, or no SSH tunnel to the server
        p = exc.problems[0]
        r.add("XML_PEC_CONEXAO", title, Status.FALHA, "conexão somente leitura",
              ids.scrub(p.message), p.remedy)
        return {"situacao": "falha", "motivo": ids.scrub(p.message)}
    finally:
        password = None
    out = rec.compact(per_kind=EXAMPLES_PER_KIND)
    if ctx is not None and getattr(ctx, "run_site_dir", None) is not None:
        rec.write_html(Path(ctx.run_site_dir) / RECONCILE_HTML)
        out["relatorio"] = RECONCILE_HTML
    if rec.status == PENDING:
        r.add("XML_PEC_ESQUEMA", "Depois da importação: esquema do banco do PEC conhecido",
              Status.PENDENTE, "tabelas e colunas de esus_runbook/data/pec_schema.csv",
              f"versão {rec.pec.get('versao') or '?'}: {rec.schema_problems()}",
              "O banco não tem a estrutura que a reconciliação conhece: confira se "
              "instalacao.db_url aponta para o banco do PEC e informe a versão e os nomes "
              "ausentes à equipe do esus-runbook; nenhum veredito é dado com esquema "
              "adivinhado.")
        return out
    if rec.not_imported:
        r.add("XML_PEC_IMPORTACAO", "Depois da importação: XML importado no PEC",
              Status.PENDENTE, "lotações do arquivo ativas no PEC",
              rec.differences["message"].iloc[0], KINDS["NOT_IMPORTED"].action)
        return out
    c = rec.pec["counts"]
    if not len(rec.differences):
        r.add("XML_PEC_CONFERE", "Depois da importação: o PEC confere com o XML", Status.OK,
              "o banco do PEC igual ao arquivo",
              f"{c['professionals']} profissionais ativos em {c['units']} unidades, "
              f"{c['lotacoes']} lotações ativas (PEC {rec.pec.get('versao') or '?'})")
        return out
    examples = out["exemplos"]
    for code, n in rec.counts.items():
        if not n:
            continue
        kind = KINDS[code]
        first = [e for e in examples if e["kind"] == code][:3]
        where = "; ".join(_where(e["where"]) for e in first)
        r.add(f"XML_PEC_{code}", f"Depois da importação: {kind.title.lower()}",
              kind.severity.status, "0 diferenças",
              f"{n} diferença(s)" + (f" — ex.: {where}" if where else ""), kind.action)
    return out


def _layout_check(r: StageResult, info: dict[str, Any], pec_version: str | None) -> None:
    """XML_VERSAO: a layout PEC knows, and one the site's PEC version imports
    (``data/xml_layouts.csv``; docs/dominio.md, "Layout do XML e versão do PEC")."""
    from ..cnes.catalog import layout_min_pec

    title, layout = "Versão do layout do XML", info["version"]
    if not info["version_supported"]:
        r.add("XML_VERSAO", title, Status.FALHA, "2.1, 3.0 ou 3.1", layout or "ausente",
              "Gere o XML novamente no e-Gestor AB, sem alterá-lo; o PEC só importa os "
              "layouts 2.1, 3.0 e 3.1 e recusa um layout mais antigo que o do último XML "
              "importado.")
        return
    needed = layout_min_pec(layout)
    if not needed:
        r.add("XML_VERSAO", title, Status.OK, "2.1, 3.0 ou 3.1", layout)
        return
    expected = f"layout {layout} com PEC {needed} ou mais novo"
    if not pec_version:
        r.add("XML_VERSAO", title, Status.OK, expected,
              f"{layout} (instalador.versao não informada: compatibilidade com o PEC não "
              "conferida)")
    elif version_tuple(pec_version) < (1, 0, 0):
        r.add("XML_VERSAO", title, Status.OK, expected,
              f"{layout} (a versão {pec_version} não é uma versão publicada do PEC: "
              "compatibilidade não conferida)")
    elif version_tuple(pec_version) < version_tuple(needed):
        r.add("XML_VERSAO", title, Status.FALHA, expected, f"{layout}; PEC {pec_version}",
              f"O PEC {pec_version} não importa o layout {layout}, que exige o PEC {needed} "
              "ou mais novo: atualize o PEC (etapas 3 e 4) antes de importar.")
    else:
        r.add("XML_VERSAO", title, Status.OK, expected, f"{layout}; PEC {pec_version}")


def _layout_key(layout: str | None) -> tuple[int, ...] | None:
    try:
        return tuple(int(x) for x in str(layout).split(".")) if layout else None
    except ValueError:
        return None


def _imported_layout_check(r: StageResult, ctx, info: dict[str, Any]) -> None:
    """XML_LAYOUT_IMPORTADO: PEC refuses a layout older than the last one imported
    (docs/dominio.md, "XML do CNES"). Without ``xml.anterior`` the last layout known is the
    file of this site's previous run: imported for sure when that run's "Depois da
    importação" found it in PEC's database (``falha`` if this one is older), otherwise only
    perhaps imported (``alerta``). No previous run, or none with a layout: no check."""
    prev = ctx.earlier_run("xml") if ctx is not None else None
    if prev is None:
        return
    old_file = (prev.metrics.get("xml") or {}).get("arquivo") or {}
    old_layout, new_layout = old_file.get("version"), info.get("version")
    old_key, new_key = _layout_key(old_layout), _layout_key(new_layout)
    if old_key is None or new_key is None:
        return
    rec = prev.metrics.get("reconciliacao") or {}
    # reconcile.report's OK and DIFFERENCES: that run found the file's lotações in PEC
    imported = rec.get("situacao") in ("ok", "diferencas") and \
        not (rec.get("counts") or {}).get("NOT_IMPORTED")
    title = "Layout não é mais antigo que o do último XML importado"
    expected = f"layout {old_layout} ou mais recente"
    name = old_file.get("name") or "?"
    when = prev.finished_at or prev.started_at or "?"
    seen = (f"execução anterior ({when}): {name}, layout {old_layout}, "
            + ("importado no PEC (conferido no banco)" if imported else
               "importação não conferida"))
    if new_key >= old_key:
        r.add("XML_LAYOUT_IMPORTADO", title, Status.OK, expected,
              f"{new_layout}; {seen}")
        return
    remedy = (f"O PEC recusa importar um layout mais antigo que o do último XML importado: "
              f"gere o XML de novo no e-Gestor AB (layout {old_layout} ou mais recente).")
    if imported:
        r.add("XML_LAYOUT_IMPORTADO", title, Status.FALHA, expected, f"{new_layout}; {seen}",
              remedy)
    else:
        r.add("XML_LAYOUT_IMPORTADO", title, Status.ALERTA, expected, f"{new_layout}; {seen}",
              f"Se o XML da execução anterior foi importado no PEC, este será recusado. "
              f"{remedy} Se não foi, informe em xml.anterior o XML importado por último "
              "para a comparação exata.")


# review checks: id, title, kinds, what "none" means, what the alerta says
_REVIEW = (
    ("XML_DIFF_PROFISSIONAIS", "Profissionais que perdem o acesso na importação",
     ("PROFESSIONAL_REMOVED",), "nenhum profissional do XML anterior some do novo",
     "profissional(is) do XML anterior não está(ão) no novo e perdem o acesso ao PEC"),
    ("XML_DIFF_CNS", "CNS alterado para o mesmo CPF", ("CNS_CHANGED",),
     "nenhum CPF com CNS diferente do XML anterior",
     "CPF com CNS diferente do XML anterior (conflita com o que o PEC já tem)"),
    ("XML_DIFF_REMOCOES", "Lotações, equipes e unidades removidas ou desativadas",
     ("LOTACAO_REMOVED", "TEAM_REMOVED", "TEAM_DEACTIVATED", "UNIT_REMOVED"),
     "nenhuma lotação, equipe ou unidade removida ou desativada",
     "lotação(ões), equipe(s) ou unidade(s) removida(s) ou desativada(s)"),
)


def _compare(site: Site, ctx, r: StageResult, path: Path, new) -> dict[str, Any] | None:
    """Compare the site's file with ``xml.anterior`` and add the XML_ANTERIOR/XML_DIFF_*
    checks; returns the bounded comparison for the metrics (None when not compared)."""
    from .. import ids
    from ..cnes.diff import KINDS, compare
    from ..cnes.parser import parse

    if path.is_dir():
        r.add("XML_ANTERIOR", "XML anterior (último importado) informado", Status.FALHA,
              "arquivo .xml ou .zip", f"é uma pasta: {path.name}",
              _folder_remedy(path, "xml.anterior"))
        return None
    if not path.is_file():
        r.add("XML_ANTERIOR", "XML anterior (último importado) informado", Status.FALHA,
              "arquivo existente", f"não encontrado: {path.name}",
              f"O arquivo {path} não existe: confira xml.anterior no arquivo do site (o XML "
              "importado por último no PEC) ou remova a chave para não comparar.")
        return None
    try:
        old = parse(path, display_name=path.name)
    except InputError as exc:
        r.add("XML_ANTERIOR", "XML anterior (último importado) legível e seguro", Status.FALHA,
              "XML do CNES (ou ZIP com um único XML) bem formado", ids.scrub(str(exc))[:300],
              "Informe em xml.anterior o XML que foi importado por último no PEC (o mesmo "
              "arquivo baixado do e-Gestor AB), ou remova a chave para não comparar.")
        return None
    diff = compare(old, new)
    r.add("XML_ANTERIOR", "XML anterior (último importado) legível e seguro", Status.OK,
          "XML do CNES bem formado",
          f"{path.name} (data {old.header.get('DATA') or '?'}, layout {old.version or '?'})")
    counts = diff.counts
    if counts["MUNICIPALITY_CHANGED"]:
        r.add("XML_DIFF_MUNICIPIO", "Mesmo município do XML anterior", Status.FALHA,
              old.ibge, new.ibge,
              "Os dois arquivos são de municípios diferentes: confira qual está trocado "
              "(xml.arquivo ou xml.anterior) e baixe no e-Gestor AB o XML do município da "
              "instalação; o PEC recusa arquivo de outro município.")
    else:
        r.add("XML_DIFF_MUNICIPIO", "Mesmo município do XML anterior", Status.OK,
              old.ibge, new.ibge)
    if counts["VERSION_DOWNGRADE"]:
        r.add("XML_DIFF_VERSAO", "Layout não é mais antigo que o do XML anterior", Status.FALHA,
              f"{old.version} ou mais recente", new.version,
              "Gere o XML de novo no e-Gestor AB com o layout mais recente: o PEC recusa um "
              "layout mais antigo que o do último XML importado.")
    else:
        r.add("XML_DIFF_VERSAO", "Layout não é mais antigo que o do XML anterior", Status.OK,
              f"{old.version or '?'} ou mais recente", new.version or "?")
    code = diff.confirmation_code
    given = (site.xml or {}).get("alteracoes_confirmadas")
    confirmed = bool(code) and given == code
    examples = diff.examples(EXAMPLES_PER_RULE)
    if diff.compared:
        for check_id, title, kinds, none_txt, some_txt in _REVIEW:
            n = sum(counts[k] for k in kinds)
            if n == 0:
                r.add(check_id, title, Status.OK, "revisão do analista", none_txt)
                continue
            first = [e for e in examples if e["kind"] in kinds][:3]
            where = "; ".join(_where(e["where"]) for e in first)
            detail = ", ".join(f"{counts[k]} {KINDS[k].title.lower()}" for k in kinds
                               if counts[k] and len(kinds) > 1)
            observed = f"{n} {some_txt}" + (f" ({detail})" if detail else "") + \
                (f" — ex.: {where}" if where else "")
            if confirmed:
                r.add(check_id, title, Status.OK, "revisão do analista",
                      f"{observed}; revisado e confirmado pelo analista (código {code})")
                continue
            stale = f" O código informado ({given}) é de outra revisão." if given else ""
            r.add(check_id, title, Status.ALERTA, "revisão do analista", observed,
                  "Revise a lista (tabelas abaixo e xml_diff.html na pasta da execução): se "
                  "algo não deveria mudar, corrija no SCNES e gere o XML de novo; se está "
                  "tudo certo, informe no arquivo do site xml.alteracoes_confirmadas: "
                  f'"{code}".' + stale)
    out = diff.compact(per_kind=EXAMPLES_PER_KIND)
    out["confirmado"] = confirmed
    if ctx is not None and getattr(ctx, "run_site_dir", None) is not None:
        diff.write_html(Path(ctx.run_site_dir) / DIFF_HTML)
        out["relatorio"] = DIFF_HTML
    return out


def _folder_remedy(path: Path, key: str) -> str:
    """What to write in ``key`` when it names a folder: the XML/ZIP files found in it."""
    try:
        found = sorted(p.name for p in path.iterdir()
                       if p.suffix.lower() in (".xml", ".zip") and p.is_file())
    except OSError:
        found = []
    what = (f"; na pasta há: {', '.join(found[:3])}" + (" ..." if len(found) > 3 else "")
            if found else "; a pasta não tem arquivos .xml nem .zip")
    return (f"{path} é uma pasta: informe em {key} o arquivo do XML do CNES (XmlParaESUS*.zip "
            f"ou .xml baixado do e-Gestor AB), não a pasta{what}.")


def _where(w: dict[str, Any]) -> str:
    parts = []
    for key, label in (("cnes", "CNES"), ("ine", "INE"), ("cpf", "CPF"), ("line", "linha"),
                       ("cnes_pec", "CNES no PEC"), ("ine_pec", "INE no PEC")):
        if w.get(key) is not None:
            parts.append(f"{label} {w[key]}")
    return ", ".join(parts)


def charts(result: StageResult) -> list[tuple[str, str]]:
    """Team composition and professionals by category (and, when the stage compared with
    xml.anterior, the changes per kind), from the result's metrics."""
    metrics = result.metrics or {}
    compact = metrics.get("xml")
    out: list[tuple[str, str]] = []
    if compact:
        from ..cnes.charts import all_charts

        out += all_charts(compact)
    diff = metrics.get("diff")
    if diff and diff.get("counts"):
        from ..cnes.diff import changes_chart

        svg = changes_chart(diff["counts"])
        if svg is not None:
            out.append(("O que a importação vai mudar (comparação com o XML anterior)", svg))
    rec = metrics.get("reconciliacao")
    if rec and rec.get("counts"):
        from ..reconcile.report import differences_chart

        svg = differences_chart(rec["counts"])
        if svg is not None:
            out.append(("Depois da importação: diferenças entre o PEC e o XML", svg))
    return out


def report_html(result: StageResult) -> str | None:
    """The site report's "Depois da importação" section (when the stage read PEC's
    database): counts, differences per kind and the first examples, from the metrics."""
    rec = (result.metrics or {}).get("reconciliacao")
    if not rec or "xml" not in rec:
        return None
    from ..reconcile.report import section_html

    return section_html(rec)


def view(stage: Stage, result: StageResult) -> None:
    """Checks and charts, the file's summaries, the comparison with xml.anterior and what
    PEC's database holds after the import (all from the result: CPF and CNS masked)."""
    show_checks(stage, result)
    show_charts(stage, result)
    show_summaries(result)
    show_plain_html("<h3>O que a importação vai mudar</h3>")
    show_changes(result)
    show_plain_html("<h3>Depois da importação</h3>")
    show_after_import(result)


def next_steps(site: Site, env: Mapping[str, str] | None = None) -> list[Step]:
    arquivo = site.xml["arquivo"]
    ibge = site.data["municipio_ibge"]
    steps = []
    if not arquivo:
        steps.append(Step("Baixe no e-Gestor AB o XML do CNES do município (ZIP "
                          f"XmlParaESUS31_{str(ibge)[:6]}.zip) e informe xml.arquivo, ex.: "
                          f"xml/XmlParaESUS31_{str(ibge)[:6]}.zip"))
        return steps
    missing = file_step(site, "xml.arquivo", "o ZIP ou XML do e-Gestor AB")
    if missing:
        return [missing]
    steps.append(Step("A mesma auditoria pela linha de comando (relatório HTML para anexar):",
                      "esus-runbook xml auditar " + join([relative(site, arquivo), "--ibge", ibge,
                                                        "--html",
                                                        f"auditoria-xml-{site.site_id}.html"])))
    if not site.xml["anterior"]:
        steps.append(Step("Opcional: informe xml.anterior (o último XML importado no PEC) "
                          "para ver quem perde acesso com o arquivo novo."))
    return steps
