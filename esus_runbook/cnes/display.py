"""Notebook display of the XML stage's summaries (from the result's metrics only)."""

from __future__ import annotations

from typing import Any

from ..results import StageResult

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
    from html import escape

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
