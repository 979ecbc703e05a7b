"""Charts as self-contained inline SVG (matplotlib, Agg backend, no network, no files)."""

from __future__ import annotations

import io
import re
from typing import Any

# Lazy imports: matplotlib.pyplot (0.9 s) only when a chart is drawn.

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
