"""What notebook 06 shows below the xml stage's checks and charts, from the result's metrics
only (CPF and CNS masked): the file's summaries (``metrics["xml"]``), the comparison with
``xml.anterior`` (``metrics["diff"]``) and PEC's database after the import
(``metrics["reconciliacao"]``). The tables come from the domain (:mod:`esus_runbook.cnes`,
:mod:`esus_runbook.reconcile`); this module only knows the metric keys and shows them.
"""

from __future__ import annotations

from html import escape

from ..results import StageResult
from .view import show_html, show_plain_html

# Lazy imports: the xml stage imports this module with its own, and the site report imports
# that one for every site: cnes.summary, cnes.diff and reconcile.report (pandas 0.7 s, lxml)
# load only when a notebook shows something from them.

SUMMARY_TITLES = {
    "tipos_de_equipe": "Equipes ativas por tipo (média de profissionais por família CBO)",
    "familias_cbo": "Profissionais por categoria (família CBO)",
    "estabelecimentos": "Estabelecimentos (os 50 com mais profissionais)",
    "equipes_abaixo_minimo": "Equipes abaixo da composição mínima",
    "equipes_inativas": "Equipes desativadas",
    "exemplos": "Primeiras ocorrências por regra",
}


def show_summaries(result: StageResult) -> None:
    """The file's counts and summary tables (nothing but a line when it was not audited)."""
    compact = (result.metrics or {}).get("xml")
    if not compact:
        show_plain_html("<p>Sem resumo: o XML não foi auditado nesta execução.</p>")
        return
    from ..cnes.summary import compact_tables  # lazy: pandas

    c = compact["counts"]
    show_plain_html(
        f"<p><b>{c['establishments']}</b> estabelecimentos, <b>{c['teams']}</b> equipes "
        f"({c['active_teams']} ativas), <b>{c['professionals']}</b> profissionais, "
        f"<b>{c['lotacoes']}</b> lotações. Profissionais com mais de uma lotação: "
        f"{compact['varias_lotacoes']['profissionais']}; lotações sem equipe: "
        f"{compact['lotacoes_sem_equipe']['total']}; equipes desativadas: "
        f"{compact['equipes_inativas']['total']}; equipes abaixo da composição mínima: "
        f"{compact['equipes_abaixo_minimo']['total']}.</p>")
    for key, df in compact_tables(compact).items():
        if len(df):
            show_plain_html(f"<h4>{escape(SUMMARY_TITLES[key])}</h4>" + df.to_html(index=False))


def show_changes(result: StageResult) -> None:
    """The comparison with the previous XML (a line saying why when it was not made)."""
    metrics = result.metrics or {}
    diff = metrics.get("diff")
    if not diff:
        show_plain_html("<p>Sem comparação: o XML anterior não pôde ser lido (veja a "
                        "verificação <code>XML_ANTERIOR</code>).</p>" if "diff" in metrics else
                        "<p>Sem comparação: informe em <code>xml.anterior</code> o XML "
                        "importado por último para ver o que a importação vai mudar.</p>")
        return
    from ..cnes.diff import KINDS, SEVERITY_LABELS, example_tables  # lazy: pandas

    counts = diff["counts"]
    a, n = diff["anterior"], diff["novo"]
    items = "".join(f"<li><code>{code}</code> ({SEVERITY_LABELS[k.severity]}): "
                    f"<b>{counts[code]}</b> — {escape(k.title)}</li>"
                    for code, k in KINDS.items() if counts.get(code))
    code = diff.get("codigo_confirmacao")
    ack = ""
    if code:
        ack = (f"<p>Revisão confirmada (código <code>{code}</code>).</p>" if diff.get("confirmado")
               else f"<p>Depois de revisar as alterações em alerta, informe no arquivo do site "
                    f"<code>xml.alteracoes_confirmadas: \"{code}\"</code>.</p>")
    report = diff.get("relatorio")
    show_plain_html(
        f"<p>Comparação de <b>{escape(a['name'])}</b> ({escape(a.get('date') or '?')}) com "
        f"<b>{escape(n['name'])}</b> ({escape(n.get('date') or '?')}):</p>"
        f"<ul>{items or '<li>nenhuma alteração</li>'}</ul>" + ack
        + "".join(f"<p><i>{escape(x)}</i></p>" for x in diff.get("notas", []))
        + (f"<p>Lista completa: <code>{escape(report)}</code> na pasta da execução do "
           "site.</p>" if report else ""))
    per = diff.get("por_exemplo")
    shown = f" (até {per} por tipo)" if per else ""
    for title, df in example_tables(diff).items():
        show_plain_html(f"<h4>{escape(title)}{shown}</h4>" + df.to_html(index=False))


def show_after_import(result: StageResult) -> None:
    """PEC's database against the file (never read again here: the stage already did), or a
    line saying how to enable it when the site has no ``instalacao.db_url``."""
    rec = (result.metrics or {}).get("reconciliacao")
    if not rec:
        show_plain_html("<p>Sem conferência depois da importação: informe "
                        "<code>instalacao.db_url</code> (e <code>db_password_env</code>) para a "
                        "etapa ler o banco do PEC, só para leitura, e conferir o que foi "
                        "importado.</p>")
    elif "xml" not in rec:      # no connection: the check says why and what to do
        show_plain_html("<p>Sem conferência depois da importação: veja a verificação "
                        "<code>XML_PEC_CONEXAO</code>.</p>")
    else:
        from ..reconcile.report import section_html  # lazy: pandas, psycopg

        show_html(section_html(rec))
