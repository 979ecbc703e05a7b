"""The ambiente stage's charts (their data; :mod:`esus_runbook.render.charts` draws them) and
JVM recommendation, from the result's metrics only (reports render from result JSON, never by
re-reading the probe)."""

from __future__ import annotations

from html import escape
from typing import Any

from ..render import charts as draw
from ..results import StageResult
from ..status import LABELS, Status
from .ambiente_checks import num


def measured_vs_required(rows: list[dict[str, Any]], target: str) -> str:
    """One bar per requirement: measured as % of required, coloured by the check status
    (bars that are not ok are hatched and say their status: a second cue besides colour)."""
    notes = []
    for r in rows:
        tag = "" if r["status"] == "ok" else f" — {LABELS[Status(r['status'])].lower()}"
        notes.append(f"{num(r['medido'])} de {num(r['exigido'])} {r['unidade']}{tag}")
    return draw.percent_bars([r["rotulo"] for r in rows],
                             [100 * r["medido"] / r["exigido"] for r in rows],
                             colors=[draw.STATUS_COLORS.get(r["status"], "#757575")
                                     for r in rows],
                             marked=[r["status"] != "ok" for r in rows], notes=notes,
                             title=f"Medido × exigido — {target}",
                             xlabel="% do exigido pelo perfil; a linha tracejada é 100%")


def memory_budget(plan: dict[str, Any]) -> str:
    """The machine's RAM split between OS, PostgreSQL, JVM non-heap and heap (-Xmx)."""
    b, v = plan["orcamento"], plan["valores"]
    parts = [("Sistema operacional", b["reserva_so_mb"], "#9e9e9e"),
             ("PostgreSQL", b["reserva_banco_mb"], "#5c6bc0"),
             ("JVM não heap", b["nao_heap_mb"], "#ffb74d"),
             ("Heap (-Xmx)", v["xmx_mb"], "#2e7d32")]
    used = sum(mb for _, mb, _ in parts)
    parts.append(("Livre", max(b["ram_mb"] - used, 0), "#e0e0e0"))
    return draw.budget_bar([(f"{label}: {num(mb / 1024)} GB", mb / 1024, color)
                            for label, mb, color in parts], b["ram_mb"] / 1024,
                           xlabel=f"GB (linha vermelha = RAM do servidor, "
                                  f"{num(b['ram_mb'] / 1024)} GB)")


def charts(result: StageResult) -> list[tuple[str, str]]:
    m = result.metrics
    out = []
    rows = m.get("comparativo") or []
    if rows:
        out.append(("Servidor medido × perfil exigido",
                    measured_vs_required(rows, m.get("alvo") or "servidor")))
    plan = m.get("jvm") or {}
    if plan.get("orcamento") and plan.get("valores"):
        out.append(("Memória do servidor e a JVM do PEC", memory_budget(plan)))
    return out


def jvm_html(result: StageResult) -> str:
    """The JVM recommendation (flags, drop-in, commands) as HTML for the notebook."""
    plan = result.metrics.get("jvm") or {}
    if not plan:
        return "<p>Sem recomendação de JVM (falta a sondagem ou o perfil).</p>"
    html = [f"<h4>Parâmetros da JVM — {escape(plan.get('mensagem') or '')}</h4>"]
    if plan.get("java_opts"):
        html.append(f"<p><code>{escape(plan['java_opts'])}</code> (confiança "
                    f"{escape(str(plan.get('confianca')))}; fonte: "
                    f"{escape(str(plan.get('fonte')))})</p>")
    where = plan.get("onde") or {}
    if where.get("dropin"):
        html.append(f"<p>Drop-in do systemd <code>{escape(where['dropin_path'])}</code>:</p>")
        html.append(f"<pre>{escape(where['dropin'])}</pre>")
        html.append("<p>Comandos:</p><pre>" + escape("\n".join(where["comandos"])) + "</pre>")
        html.append(f"<p>{escape(where['alternativa'])}</p>")
    elif where.get("texto"):
        html.append(f"<p>{escape(where['texto'])}</p>")
    return "\n".join(html)
