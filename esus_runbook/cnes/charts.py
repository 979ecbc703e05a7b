"""Charts of the XML audit, drawn from the compact summaries (JSON records), never from the
XML: the stage's ``charts(result)`` and the audit HTML both call these."""

from __future__ import annotations

from typing import Any

from ..render.charts import pyplot
from ..render.numbers import number
from ..status import Severity
from . import catalog

PALETTE = ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#e377c2",
           "#bcbd22", "#7f7f7f", "#aec7e8", "#98df8a", "#c5b0d5")


def team_composition(types: list[dict[str, Any]]) -> Any | None:
    """Stacked bars: mean professionals per CBO family in the active teams of each type."""
    if not types:
        return None
    plt = pyplot()
    labels = catalog.family_labels()
    fams = [f for f in labels if any(f in row for row in types)]
    rows = [f"{r['tipo']} ({r['equipes']} eq., {r.get('abaixo_minimo', 0)} abaixo do mín.)"
            for r in types]
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * max(len(rows), 2) + 1.2))
    left = [0.0] * len(rows)
    for i, f in enumerate(fams):
        values = [float(r.get(f) or 0) for r in types]
        if any(values):
            ax.barh(rows, values, left=left, color=PALETTE[i % len(PALETTE)], label=labels[f])
            left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("profissionais por equipe (média)")
    ax.set_title("Composição das equipes ativas por tipo", loc="left")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return fig


def professionals_by_category(families: list[dict[str, Any]]) -> Any | None:
    """Horizontal bars: distinct professionals per CBO family (category)."""
    if not families:
        return None
    plt = pyplot()
    cats = [r["categoria"] for r in families]
    values = [int(r["profissionais"]) for r in families]
    fig, ax = plt.subplots(figsize=(7, 0.32 * max(len(cats), 2) + 0.9))
    bars = ax.barh(cats, values, color="#1f77b4")
    ax.bar_label(bars, labels=[number(v) for v in values], fontsize=7,
                 padding=2)
    ax.invert_yaxis()
    ax.set_xlabel("profissionais")
    ax.set_title("Profissionais por categoria (família CBO)", loc="left")
    return fig


def all_charts(compact: dict[str, Any]) -> list[tuple[str, Any]]:
    out = []
    fig = team_composition(compact.get("tipos_de_equipe") or [])
    if fig is not None:
        out.append(("Composição das equipes", fig))
    fig = professionals_by_category(compact.get("familias_cbo") or [])
    if fig is not None:
        out.append(("Profissionais por categoria", fig))
    return out


DIFF_COLORS = {Severity.ERROR: "#c62828", Severity.WARNING: "#f9a825",
               Severity.INFO: "#1f77b4"}


def kind_bars(counts: dict[str, int], kinds: dict[str, Any], labels: dict[str, str],
              title: str, xlabel: str) -> Any | None:
    """Bars of ``counts`` per kind (``kinds[code]`` has ``title`` and ``severity``), coloured
    by severity with a legend of ``labels``; None when every count is zero."""
    rows = [(code, n) for code, n in counts.items() if n and code in kinds]
    if not rows:
        return None
    plt = pyplot()
    names = [f"{kinds[c].title}" for c, _ in rows]
    values = [n for _, n in rows]
    colors = [DIFF_COLORS[kinds[c].severity] for c, _ in rows]
    fig, ax = plt.subplots(figsize=(7, 0.32 * max(len(rows), 2) + 1.0))
    bars = ax.barh(names, values, color=colors)
    ax.bar_label(bars, labels=[number(v) for v in values], fontsize=7,
                 padding=2)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    seen = []
    for code, _ in rows:
        sev = kinds[code].severity
        if sev not in seen:
            seen.append(sev)
    handles = [plt.Rectangle((0, 0), 1, 1, color=DIFF_COLORS[s]) for s in seen]
    ax.legend(handles, [labels[s] for s in seen], fontsize=7, frameon=False,
              loc="lower right", bbox_to_anchor=(1, 1.0), ncol=len(seen))
    return fig
