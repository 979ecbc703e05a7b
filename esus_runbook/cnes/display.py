"""Notebook display of the XML stage's summaries (from the result's metrics only).

The xml stage imports this module with its own, and the site report imports that one for
every site: pandas (and ``diff``, which needs it) are imported by the functions that build
tables, IPython by those that display (they run only in a notebook kernel)."""

from __future__ import annotations

from html import escape
from typing import Any

from ..results import StageResult

# Lazy imports: pandas (0.7 s) and IPython's display only in the kernel that shows the XML
# summaries.

_TABLES = (
    ("tipos_de_equipe", "Equipes ativas por tipo (média de profissionais por família CBO)"),
    ("familias_cbo", "Profissionais por categoria (família CBO)"),
    ("estabelecimentos", "Estabelecimentos (os 50 com mais profissionais)"),
)


def summary_frames(result: StageResult) -> dict[str, Any]:
    """The stage's compact summaries as DataFrames (empty dict when the audit did not run)."""
    import pandas as pd

    compact = (result.metrics or {}).get("xml")
    if not compact:
        return {}
    out = {key: pd.DataFrame(compact.get(key) or []) for key, _ in _TABLES}
    out["equipes_abaixo_minimo"] = pd.DataFrame(compact["equipes_abaixo_minimo"]["exemplos"])
    out["equipes_inativas"] = pd.DataFrame(compact["equipes_inativas"]["exemplos"])
    out["exemplos"] = pd.DataFrame([{"regra": e["rule"], "gravidade": e["severity"],
                                     **e["where"], "mensagem": e["message"]}
                                    for e in compact.get("exemplos", [])])
    return out


def show(result: StageResult) -> None:
    """Display the summary tables under the stage's checks and charts."""
    from IPython.display import HTML, display

    frames = summary_frames(result)
    if not frames:
        display(HTML("<p>Sem resumo: o XML não foi auditado nesta execução.</p>"))
        return
    compact = result.metrics["xml"]
    c = compact["counts"]
    display(HTML(
        f"<p><b>{c['establishments']}</b> estabelecimentos, <b>{c['teams']}</b> equipes "
        f"({c['active_teams']} ativas), <b>{c['professionals']}</b> profissionais, "
        f"<b>{c['lotacoes']}</b> lotações. Profissionais com mais de uma lotação: "
        f"{compact['varias_lotacoes']['profissionais']}; lotações sem equipe: "
        f"{compact['lotacoes_sem_equipe']['total']}; equipes desativadas: "
        f"{compact['equipes_inativas']['total']}; equipes abaixo da composição mínima: "
        f"{compact['equipes_abaixo_minimo']['total']}.</p>"))
    titles = dict(_TABLES) | {"equipes_abaixo_minimo": "Equipes abaixo da composição mínima",
                              "equipes_inativas": "Equipes desativadas",
                              "exemplos": "Primeiras ocorrências por regra"}
    for key, df in frames.items():
        if len(df):
            display(HTML(f"<h4>{escape(titles[key])}</h4>" + df.to_html(index=False)))


_DIFF_GROUPS = (
    ("Profissionais que perdem o acesso", ("PROFESSIONAL_REMOVED",)),
    ("CNS diferente para o mesmo CPF", ("CNS_CHANGED",)),
    ("Lotações, equipes e unidades removidas ou desativadas",
     ("LOTACAO_REMOVED", "TEAM_REMOVED", "TEAM_DEACTIVATED", "UNIT_REMOVED")),
    ("Lotações alteradas (CBO, equipe ou unidade)", ("LOTACAO_CHANGED",)),
    ("Novidades: profissionais, lotações, equipes e unidades",
     ("PROFESSIONAL_ADDED", "LOTACAO_ADDED", "TEAM_ADDED", "TEAM_REACTIVATED", "UNIT_ADDED")),
    ("Layout e município", ("VERSION_DOWNGRADE", "MUNICIPALITY_CHANGED")),
)


def diff_frames(result: StageResult) -> dict[str, Any]:
    """The comparison with xml.anterior as tables per group of change kinds (from the
    stage's metrics: first examples of each kind, masked identifiers)."""
    import pandas as pd

    diff = (result.metrics or {}).get("diff")
    if not diff:
        return {}
    from .diff import WHERE

    rows = [{"tipo": e["kind"], **e["where"], "mensagem": e["message"]}
            for e in diff.get("exemplos", [])]
    df = pd.DataFrame(rows, columns=["tipo", *WHERE, "mensagem"])
    for c in ("line_old", "line_new"):
        df[c] = df[c].astype("Int64")
    out = {}
    for title, kinds in _DIFF_GROUPS:
        part = df[df["tipo"].isin(kinds)].dropna(axis=1, how="all")
        if len(part):
            part = part.astype(object).where(part.notna(), "")
            out[title] = part.rename(columns=_DIFF_HEADERS).reset_index(drop=True)
    return out


_DIFF_HEADERS = {"cns_old": "cns (anterior)", "cns_new": "cns (novo)",
                 "cnes_new": "cnes (novo)", "ine_new": "ine (novo)", "cbo_new": "cbo (novo)",
                 "version_old": "layout (anterior)", "version_new": "layout (novo)",
                 "ibge_old": "ibge (anterior)", "ibge_new": "ibge (novo)",
                 "line_old": "linha (anterior)", "line_new": "linha (novo)"}


def show_diff(result: StageResult) -> None:
    """Display the comparison with the previous XML (nothing when it was not made)."""
    from IPython.display import HTML, display

    from .diff import KINDS, SEVERITY_LABELS

    metrics = result.metrics or {}
    diff = metrics.get("diff")
    if not diff:
        display(HTML("<p>Sem comparação: o XML anterior não pôde ser lido (veja a verificação "
                     "<code>XML_ANTERIOR</code>).</p>" if "diff" in metrics else
                     "<p>Sem comparação: informe em <code>xml.anterior</code> o XML importado "
                     "por último para ver o que a importação vai mudar.</p>"))
        return
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
    display(HTML(
        f"<p>Comparação de <b>{escape(a['name'])}</b> ({escape(a.get('date') or '?')}) com "
        f"<b>{escape(n['name'])}</b> ({escape(n.get('date') or '?')}):</p>"
        f"<ul>{items or '<li>nenhuma alteração</li>'}</ul>" + ack
        + "".join(f"<p><i>{escape(x)}</i></p>" for x in diff.get("notas", []))
        + (f"<p>Lista completa: <code>{escape(report)}</code> na pasta da execução do "
           "site.</p>" if report else "")))
    per = diff.get("por_exemplo")
    for title, df in diff_frames(result).items():
        shown = f" (até {per} por tipo)" if per else ""
        display(HTML(f"<h4>{escape(title)}{shown}</h4>" + df.to_html(index=False)))

