"""The data of the XML audit's charts, taken from the compact summaries (JSON records), never
from the XML, and drawn by :mod:`esus_runbook.render.charts`: the stage's ``charts(result)``,
the audit HTML, the diff and the reconciliation reports all call these."""

from __future__ import annotations

from typing import Any

from ..render import charts as draw
from . import catalog


def team_composition(types: list[dict[str, Any]]) -> str | None:
    """Stacked bars: mean professionals per CBO family in the active teams of each type."""
    if not types:
        return None
    labels = catalog.family_labels()
    fams = [f for f in labels if any(f in row for row in types)]
    rows = [f"{r['tipo']} ({r['equipes']} eq., {r.get('abaixo_minimo', 0)} abaixo do mín.)"
            for r in types]
    parts = [(labels[f], [r.get(f) or 0 for r in types], draw.PALETTE[i % len(draw.PALETTE)])
             for i, f in enumerate(fams)]
    return draw.stacked_bars(rows, parts, title="Composição das equipes ativas por tipo",
                             xlabel="profissionais por equipe (média)")


def professionals_by_category(families: list[dict[str, Any]]) -> str | None:
    """Horizontal bars: distinct professionals per CBO family (category)."""
    if not families:
        return None
    return draw.ranked_bars([r["categoria"] for r in families],
                            [int(r["profissionais"]) for r in families],
                            title="Profissionais por categoria (família CBO)",
                            xlabel="profissionais")


def all_charts(compact: dict[str, Any]) -> list[tuple[str, str]]:
    """The audit's charts as ``(title, svg)`` from :meth:`AuditReport.compact`."""
    out = []
    svg = team_composition(compact.get("tipos_de_equipe") or [])
    if svg is not None:
        out.append(("Composição das equipes", svg))
    svg = professionals_by_category(compact.get("familias_cbo") or [])
    if svg is not None:
        out.append(("Profissionais por categoria", svg))
    return out


def kind_bars(counts: dict[str, int], kinds: dict[str, Any], labels: dict[str, str],
              title: str, xlabel: str) -> str | None:
    """Bars of ``counts`` per kind (``kinds[code]`` has ``title`` and ``severity``), coloured
    by severity with a legend of ``labels``; None when every count is zero."""
    rows = [(code, n) for code, n in counts.items() if n and code in kinds]
    if not rows:
        return None
    seen: list[str] = []
    for code, _ in rows:
        if kinds[code].severity not in seen:
            seen.append(kinds[code].severity)
    return draw.ranked_bars([kinds[c].title for c, _ in rows], [n for _, n in rows],
                            colors=[draw.SEVERITY_COLORS[kinds[c].severity] for c, _ in rows],
                            legend=[(labels[s], draw.SEVERITY_COLORS[s]) for s in seen],
                            title=title, xlabel=xlabel)
