"""Charts as self-contained inline SVG (matplotlib, Agg backend, no network, no files)."""

from __future__ import annotations

import io
import re
from typing import Any

STATUS_COLORS = {"ok": "#2e7d32", "alerta": "#f9a825", "pendente": "#757575",
                 "falha": "#c62828", "erro": "#6a1b9a"}


def pyplot():
    """matplotlib.pyplot with the non-interactive backend, imported only when a chart is
    drawn (it costs a few hundred milliseconds)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt


def to_svg(fig: Any) -> str:
    """Render a figure to an inline ``<svg>`` string and close it."""
    plt = pyplot()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.find("<svg"):]  # drop the XML prolog and DOCTYPE: inline in HTML
    return re.sub(r'\s(width|height)="[^"]*pt"', "", svg, count=2)


def status_bars(rows: list[tuple[str, dict[str, int]]], title: str) -> Any:
    """Horizontal stacked bars of check counts by status, one bar per label."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.32 * max(len(rows), 2) + 0.9))
    labels = [label for label, _ in rows]
    left = [0] * len(rows)
    for status, color in STATUS_COLORS.items():
        values = [counts.get(status, 0) for _, counts in rows]
        if any(values):
            ax.barh(labels, values, left=left, color=color, label=status)
            left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("verificações")
    ax.set_title(title, loc="left")
    ax.legend(ncol=5, fontsize=8, loc="lower right", bbox_to_anchor=(1, 1.02), frameon=False)
    return fig
