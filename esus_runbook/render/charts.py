"""Every chart of the project, drawn here: callers give the data (labels, values, colours,
texts) and get a self-contained inline ``<svg>`` string (matplotlib, Agg backend, no network,
no files) in the project's style. Nothing else imports matplotlib.

The shapes: :func:`ranked_bars` (horizontal bars with their values), :func:`stacked_bars`
(horizontal bars split in parts), :func:`percent_bars` (measured as % of a requirement),
:func:`budget_bar` (one whole split in parts), :func:`columns_with_limit` (vertical bars
against a limit), :func:`stacked_columns` (vertical bars split in parts) and
:func:`histogram`. Each scales its axes to the data.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Sequence
from typing import Any

from ..status import Severity
from .numbers import number

# Lazy imports: matplotlib.pyplot (0.9 s) only when a chart is drawn: this module is imported
# by the template environment (STATUS_COLORS), i.e. by every command and notebook kernel.

STATUS_COLORS = {"ok": "#2e7d32", "alerta": "#f9a825", "pendente": "#757575",
                 "falha": "#c62828", "erro": "#6a1b9a"}
SEVERITY_COLORS = {Severity.ERROR: "#c62828", Severity.WARNING: "#f9a825", Severity.INFO: "#1f77b4"}
PALETTE = ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#e377c2",
           "#bcbd22", "#7f7f7f", "#aec7e8", "#98df8a", "#c5b0d5")
BAR_COLOR = "#1f77b4"


def _pyplot():
    """matplotlib.pyplot with the non-interactive backend (lazy: a few hundred ms)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _svg(fig: Any) -> str:
    """Render a figure to an inline ``<svg>`` string and close it."""
    plt = _pyplot()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.find("<svg"):]  # drop the XML prolog and DOCTYPE: inline in HTML
    return re.sub(r'\s(width|height)="[^"]*pt"', "", svg, count=2)


def ranked_bars(labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str,
                colors: str | Sequence[str] = BAR_COLOR,
                legend: Sequence[tuple[str, str]] | None = None) -> str:
    """Horizontal bars, first on top, each with its value; ``legend`` is ``(label, colour)``
    pairs shown above the bars (when colours mean something)."""
    plt = _pyplot()
    extra = 1.0 if legend is not None else 0.9
    fig, ax = plt.subplots(figsize=(7, 0.32 * max(len(labels), 2) + extra))
    bars = ax.barh(list(labels), list(values), color=colors)
    ax.bar_label(bars, labels=[number(v) for v in values], fontsize=7, padding=2)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    if legend is not None:
        handles = [plt.Rectangle((0, 0), 1, 1, color=color) for _, color in legend]
        ax.legend(handles, [label for label, _ in legend], fontsize=7, frameon=False,
                  loc="lower right", bbox_to_anchor=(1, 1.0), ncol=len(legend))
    return _svg(fig)


def stacked_bars(labels: Sequence[str], parts: Sequence[tuple[str, Sequence[float], str]], *,
                 title: str, xlabel: str) -> str:
    """Horizontal bars, first on top, each split in ``parts`` (``(label, values, colour)``;
    a part that is zero everywhere is left out), with the parts' legend on the right."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * max(len(labels), 2) + 1.2))
    left = [0.0] * len(labels)
    for label, values, color in parts:
        values = [float(v) for v in values]
        if any(values):
            ax.barh(list(labels), values, left=left, color=color, label=label)
            left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return _svg(fig)


def percent_bars(labels: Sequence[str], percents: Sequence[float], *, colors: Sequence[str],
                 marked: Sequence[bool], notes: Sequence[str], title: str,
                 xlabel: str) -> str:
    """Horizontal bars of percentages with a dashed line at 100%. The axis follows the data
    up to 200%; a longer bar is cut and its note (written after the bar) says the real value.
    ``marked`` bars are hatched: a second cue besides colour."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(labels), 2) + 1.0))
    limit = min(max(max(percents), 100) * 1.1, 200)
    shown = [min(p, limit) for p in percents]
    ax.barh(list(labels), shown, color=list(colors), hatch=["//" if m else "" for m in marked],
            edgecolor="#ffffff")
    ax.axvline(100, color="#333333", linestyle="--", linewidth=1)
    for i, note in enumerate(notes):
        ax.text(shown[i] + limit * 0.015, i, note, va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, limit * 1.6)  # room for the notes after the bars
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    return _svg(fig)


def budget_bar(parts: Sequence[tuple[str, float, str]], total: float, *, xlabel: str) -> str:
    """One horizontal bar: ``parts`` (``(label, value, colour)``, empty ones left out) side by
    side, a red line at ``total``, the legend above."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 1.6))
    left = 0.0
    for label, value, color in parts:
        if value > 0:
            ax.barh([0], [value], left=left, color=color, label=label)
            left += value
    ax.axvline(total, color="#c62828", linewidth=1.5)
    ax.set_yticks([])
    ax.set_xlabel(xlabel)
    ax.legend(ncol=3, fontsize=9, loc="lower left", bbox_to_anchor=(0, 1.02), frameon=False)
    return _svg(fig)


def columns_with_limit(labels: Sequence[str], values: Sequence[float], *,
                       value_labels: Sequence[str], limit: float, limit_label: str,
                       under_limit_title: str, ylabel: str) -> str:
    """Vertical bars with their values and a dashed limit line with its legend. The axis
    follows the data: a limit far above every bar is not drawn (it would flatten them) and
    ``under_limit_title`` says so."""
    plt = _pyplot()
    top = max(values)
    fig, ax = plt.subplots(figsize=(6, 2.6))
    bars = ax.bar(list(labels), list(values), color="#2b6cb0")
    ax.bar_label(bars, labels=list(value_labels), fontsize=9, padding=2)
    if limit <= 1.5 * top:
        ax.axhline(limit, color="#c05621", linestyle="--", linewidth=1, label=limit_label)
        ax.legend(loc="upper right", fontsize=9, frameon=False)
        ax.set_ylim(0, max(top, limit) * 1.2)
    else:
        ax.set_ylim(0, top * 1.3)
        ax.set_title(under_limit_title, loc="left", fontsize=9, color="#52606d")
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    return _svg(fig)


def stacked_columns(ticks: Sequence[str], parts: Sequence[tuple[str, Sequence[float], str, str]],
                    *, title: str, ylabel: str) -> str:
    """Vertical bars of whole counts split in ``parts`` (``(label, values, colour, hatch)``;
    a part that is zero everywhere is left out), at most about 12 tick labels, the legend
    above."""
    import numpy as np  # lazy: with matplotlib, only when a chart is drawn

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    bottom = np.zeros(len(ticks))
    x = np.arange(len(ticks))
    for label, values, color, hatch in parts:
        values = np.asarray(values)
        if values.any():
            ax.bar(x, values, bottom=bottom, color=color, label=label, width=0.8, hatch=hatch,
                   edgecolor="#ffffff", linewidth=0.3)
            bottom += values
    step = max(1, len(ticks) // 12)
    ax.set_xticks(x[::step], list(ticks)[::step], rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.yaxis.get_major_locator().set_params(integer=True)  # whole counts
    ax.set_title(title, loc="left", pad=24)
    ax.legend(ncol=5, fontsize=9, loc="lower right", bbox_to_anchor=(1, 1.0), frameon=False)
    return _svg(fig)


def histogram(values: Sequence[float], *, color: str, marker: float, title: str, xlabel: str,
              ylabel: str) -> str:
    """Whole-number values from 0 in bins of at least one (about 30 bins at most), with a
    dashed line at ``marker`` (e.g. the median)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 2.8))
    # whole values from 0: a value of 0 is a bar at 0, not a bar around it
    top = max(1, int(max(values)))
    ax.hist(values, bins=range(0, top + 2, max(1, (top + 1) // 30 + 1)), align="left",
            color=color)
    ax.set_xlim(left=-0.5)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.axvline(marker, color="#1f2933", linestyle="--", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    return _svg(fig)


def reset() -> None:
    """No open figure and matplotlib's default settings, if pyplot was loaded at all (a
    kernel that runs the next notebook starts as a new one would)."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
        sys.modules["matplotlib"].rc_file_defaults()


def warm_up() -> None:
    """Load what drawing a chart loads (pyplot with the Agg backend, the SVG backend, the
    font list) by drawing one throw-away chart (the zygote does it once per run)."""
    ranked_bars(["x"], [1], title="x", xlabel="x")
