"""The ambiente stage's charts and JVM recommendation, drawn from the result's metrics only
(reports render from result JSON, never by re-reading the probe)."""

from __future__ import annotations

from html import escape
from typing import Any

from ..render.charts import STATUS_COLORS, pyplot
from ..results import StageResult
from ..status import LABELS, Status
from .ambiente_checks import num


def measured_vs_required(rows: list[dict[str, Any]], target: str) -> Any:
    """One bar per requirement: measured as % of required, coloured by the check status."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(rows), 2) + 1.0))
    labels = [r["rotulo"] for r in rows]
    pct = [100 * r["medido"] / r["exigido"] for r in rows]
    # the axis follows the data (up to twice the requirement; beyond that the bar is cut and
    # its label says the real value)
    limit = min(max(max(pct), 100) * 1.1, 200)
    shown = [min(p, limit) for p in pct]
    colors = [STATUS_COLORS.get(r["status"], "#757575") for r in rows]
    # a second cue besides colour: bars that are not ok are hatched and say their status
    hatches = ["" if r["status"] == "ok" else "//" for r in rows]
    ax.barh(labels, shown, color=colors, hatch=hatches, edgecolor="#ffffff")
    ax.axvline(100, color="#333333", linestyle="--", linewidth=1)
    for i, r in enumerate(rows):
        tag = "" if r["status"] == "ok" else f" — {LABELS[Status(r['status'])].lower()}"
        ax.text(shown[i] + limit * 0.015, i,
                f"{num(r['medido'])} de {num(r['exigido'])} {r['unidade']}{tag}",
                va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, limit * 1.6)  # room for the labels after the bars
    ax.set_xlabel("% do exigido pelo perfil; a linha tracejada é 100%")
    ax.set_title(f"Medido × exigido — {target}", loc="left")
    return fig


def memory_budget(plan: dict[str, Any]) -> Any:
    """The machine's RAM split between OS, PostgreSQL, JVM non-heap and heap (-Xmx)."""
    plt = pyplot()
    b, v = plan["orcamento"], plan["valores"]
    parts = [("Sistema operacional", b["reserva_so_mb"], "#9e9e9e"),
             ("PostgreSQL", b["reserva_banco_mb"], "#5c6bc0"),
             ("JVM não heap", b["nao_heap_mb"], "#ffb74d"),
             ("Heap (-Xmx)", v["xmx_mb"], "#2e7d32")]
    used = sum(mb for _, mb, _ in parts)
    parts.append(("Livre", max(b["ram_mb"] - used, 0), "#e0e0e0"))
    fig, ax = plt.subplots(figsize=(7, 1.6))
    left = 0
    for label, mb, color in parts:
        if mb > 0:
            ax.barh([0], [mb / 1024], left=left / 1024, color=color, label=f"{label}: "
                    f"{num(mb / 1024)} GB")
            left += mb
    ax.axvline(b["ram_mb"] / 1024, color="#c62828", linewidth=1.5)
    ax.set_yticks([])
    ax.set_xlabel(f"GB (linha vermelha = RAM do servidor, {num(b['ram_mb'] / 1024)} GB)")
    ax.legend(ncol=3, fontsize=9, loc="lower left", bbox_to_anchor=(0, 1.02), frameon=False)
    return fig


def charts(result: StageResult) -> list[tuple[str, Any]]:
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


