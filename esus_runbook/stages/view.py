"""What a stage shows in a notebook: the pieces each stage's ``view`` is made of.

IPython is imported inside the functions that display: they only run in a kernel, where it
is already loaded, while this module is imported by every command of the CLI (importing
``IPython.display`` costs about 0.3 s, measured with ``python -X importtime``).
"""

from __future__ import annotations

import json
import os

from ..files.atomic import write_json_atomic
from ..render.env import environment, scoped_html
from ..results import StageResult
from ..run_folder import REPORT_FILE, chart_cache_path
from ..status import LABELS, Status
from .base import Charts, Stage
from .context import result_digest

# Lazy imports: IPython's display only in a notebook kernel; the batch process imports this module
# for the chart cache.


def checks_html(result: StageResult) -> str:
    """One stage's checks as an HTML table (notebooks and the site report)."""
    return environment().get_template("checks.html.j2").render(result=result)


def draws_charts(stage: Stage, result: StageResult) -> bool:
    """Whether the stage draws charts for this result."""
    return stage.charts is not None and result.status is not Status.ERRO


def chart_svgs(stage: Stage, result: StageResult,
               run_site_dir: str | os.PathLike | None = None) -> list[tuple[str, str]]:
    """The stage's charts as inline SVG ``(title, svg)``.

    With ``run_site_dir`` they are cached beside the result
    (:func:`.run_folder.chart_cache_path`),
    keyed by the result's digest: the site report reuses what the stage notebook drew
    instead of importing matplotlib again (about half a second per notebook). A cache that
    does not match the result is ignored and rewritten."""
    cache = chart_cache_path(run_site_dir, result.stage) if run_site_dir else None
    digest = result_digest(result)
    if cache is not None:
        try:
            data = json.loads(cache.read_text(encoding="utf-8"))
            if data.get("digest") == digest:
                return [(str(t), str(svg)) for t, svg in data["charts"]]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    draw: Charts | None = stage.charts if draws_charts(stage, result) else None
    out = list(draw(result)) if draw else []
    if out and cache is not None and cache.parent.is_dir():
        write_json_atomic(cache, {"digest": digest, "charts": out})
    return out


def show_html(html: str) -> None:
    """Display HTML with the report's component styles (JupyterLab keeps its own)."""
    from IPython.display import HTML, display

    display(HTML(scoped_html(html)))


def show_plain_html(html: str) -> None:
    from IPython.display import HTML, display

    display(HTML(html))


def show_markdown(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


def show_checks(stage: Stage, result: StageResult) -> None:
    """The stage's title, its status and the checks table."""
    show_html(f"<h3>{stage.title}: {LABELS[result.status]}</h3>" + checks_html(result))


def show_charts(stage: Stage, result: StageResult) -> None:
    """The stage's charts. Under papermill (a batch) only a line saying they are in the
    site report: the batch process draws them once, after the notebook, for the report — a
    kernel would pay ~0.5 s just to import matplotlib. Interactively they are drawn once:
    ``notebook.run_stage`` noted where the result was saved, and the SVGs cached there are
    what the site report embeds."""
    saved_in = getattr(result, "_saved_in", None)
    if saved_in is not None and not getattr(result, "_interactive", True) \
            and draws_charts(stage, result):
        show_plain_html("<p><i>Gráficos desta etapa: no relatório do site "
                        f"({REPORT_FILE}).</i></p>")
        return
    from IPython.display import SVG, display

    for caption, svg in chart_svgs(stage, result, saved_in):
        show_plain_html(f"<b>{caption}</b>")
        display(SVG(svg))


def standard(stage: Stage, result: StageResult) -> None:
    """The view of a stage without sections of its own: checks and charts."""
    show_checks(stage, result)
    show_charts(stage, result)
