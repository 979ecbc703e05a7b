"""Charts as self-contained inline SVG (matplotlib, Agg backend, no network, no files)."""

from __future__ import annotations

import io
import re
from html import escape
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


def status_bars_svg(rows: list[tuple[str, dict[str, int]]], title: str) -> str:
    """Horizontal stacked bars of check counts by status, one bar per label, written
    directly as inline SVG: the site report draws it for every site, and importing
    matplotlib for one bar chart would cost more than the rest of the report notebook."""
    label_w, bar_w, row_h, top = 190, 440, 22, 44
    width, height = label_w + bar_w + 40, top + row_h * max(len(rows), 1) + 34
    total = max((sum(c.get(s, 0) for s in STATUS_COLORS) for _, c in rows), default=0) or 1
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9)
                if total / s <= 8)
    scale = bar_w / (-(-total // step) * step)
    used = [s for s in STATUS_COLORS if any(c.get(s, 0) for _, c in rows)]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
           f'<text x="0" y="14" font-size="12" font-weight="bold">{escape(title)}</text>']
    x = label_w
    for status in used:  # legend, top right
        out.append(f'<rect x="{x}" y="22" width="10" height="10" '
                   f'fill="{STATUS_COLORS[status]}"/><text x="{x + 14}" y="31">{status}</text>')
        x += 14 + 7 * len(status) + 14
    axis_y = top + row_h * max(len(rows), 1)
    for tick in range(0, total + step, step):
        tx = label_w + tick * scale
        out.append(f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{axis_y}" '
                   f'stroke="#e0e0e0"/><text x="{tx:.1f}" y="{axis_y + 13}" '
                   f'text-anchor="middle" fill="#555">{tick}</text>')
    for i, (label, counts) in enumerate(rows):
        y = top + i * row_h
        out.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">'
                   f'{escape(label)}</text>')
        left = 0.0
        for status in STATUS_COLORS:
            n = counts.get(status, 0)
            if n:
                out.append(f'<rect x="{label_w + left * scale:.1f}" y="{y + 3}" '
                           f'width="{n * scale:.1f}" height="{row_h - 6}" '
                           f'fill="{STATUS_COLORS[status]}"><title>{escape(label)}: {n} '
                           f'{status}</title></rect>')
                left += n
    out.append(f'<text x="{label_w + bar_w / 2:.0f}" y="{axis_y + 28}" text-anchor="middle" '
               f'fill="#555">verificações</text></svg>')
    return "".join(out)
