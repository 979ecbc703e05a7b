"""What the stage notebooks call: load the site, evaluate the stage, save and show it.

A notebook's code is three lines::

    from esus_runbook import notebook
    result = notebook.run_stage("cenario", site_file, site_id, run_dir)
    notebook.show(result)

``show`` displays what the stage's declaration in ``stages.registry`` says (its ``view``:
checks, charts and the stage's own sections). Notebook 07 calls ``render_report`` and
``show_report``.

Everything here also works from plain Python, which is how the tests exercise it.

In JupyterLab (``interactive=True``) ``show`` also displays what is missing for the stage,
what to do next and the six stages' status (see ``guide.py``), input errors appear as pt-BR
problems instead of a traceback, and notebook 01 calls ``site_form`` (see ``form/``).
Under papermill none of that runs.
"""

from __future__ import annotations

from pathlib import Path

from . import interactive_run, run_folder, stages
from .catalog.links import show_dossier_link
from .errors import RunbookError, StageError
from .render.env import scoped_html
from .report.site import render_site_report, summary_html
from .results import StageResult
from .secret_refs import redact, site_secret_values
from .sites.loading import Site, load_site

# Lazy imports: the batch process and the CLI import this module for `run_stage`; IPython's
# display (0.15 s), the guide and the form (ipywidgets 0.2 s) load only in a notebook kernel that
# shows something.

# Imported where they are used, because this module is the first thing every batch notebook
# imports and plain Python uses it too (measured with python -X importtime): ids (numpy,
# ~1 s; only for an error message), guide and form (the interactive layer: ipywidgets,
# ruamel.yaml; never loaded under papermill, see tests/test_form.py) and IPython.display
# (~0.3 s outside a kernel).


def site_dir(site: Site, run_dir: str | Path | None) -> Path | None:
    return run_folder.site_dir(run_dir, site.site_id) if run_dir else None


def run_stage(stage: str, site_file: str | Path, site_id: str | None = None,
              run_dir: str | Path | None = None, interactive: bool = False) -> StageResult:
    """Evaluate ``stage`` for the site and save its result in the site's folder of
    ``run_dir`` (:func:`.run_folder.stage_result_path`)."""
    if interactive:
        _install_error_display()
    site = load_site(site_file, site_id)
    out = site_dir(site, run_dir)
    try:
        result = stages.evaluate(stage, site, stages.StageContext(out, interactive=interactive))
    except Exception as exc:  # the message goes to the notebook, the result and the log
        raise StageError(safe_message(exc, site)) from None
    if out is not None:
        result.save(out)
        result._saved_in = out  # type: ignore[attr-defined]  # for show(): chart cache
    result._interactive = interactive  # type: ignore[attr-defined]
    if interactive and out is not None:  # JupyterLab work is a run (catalog, painel, dossier)
        interactive_run.record_stage(run_dir, site, site_file)
    if interactive:
        _remember_interactive(result, site, run_dir)
    return result


def safe_message(exc: BaseException, site: Site) -> str:
    """``Type: message`` with CPF/CNS masked and the site's secret values redacted."""
    from .ids import scrub

    text = f"{exc.__class__.__name__}: {exc}"
    return scrub(redact(" ".join(text.split()), site_secret_values(site)))[:1000]


def show(result: StageResult) -> None:
    """Display a stage result in the notebook: the stage's view (status, checks table,
    charts, its own sections) and, in JupyterLab, what to do next."""
    stages.get(result.stage).show(result)
    context = _interactive_context(result)
    if context is not None:
        show_guidance(result, *context)


# --------------------------------------------------------------------------- interactive
# Only when a notebook runs in JupyterLab (``interactive=True``); under papermill nothing
# below is called and no widget is built.
_LAST_INTERACTIVE: dict = {}


def _remember_interactive(result: StageResult, site: Site, run_dir) -> None:
    """Keep what ``show(result)`` needs to guide the analyst (the notebooks call
    ``show(result)`` right after ``run_stage``) and refresh live status widgets."""
    from . import guide

    _LAST_INTERACTIVE.clear()
    _LAST_INTERACTIVE.update(result=result, site=site, run_dir=run_dir)
    guide.refresh(run_dir, site.site_id)


def _interactive_context(result: StageResult):
    if _LAST_INTERACTIVE.get("result") is result:
        return _LAST_INTERACTIVE["site"], _LAST_INTERACTIVE["run_dir"]
    return None


def show_guidance(result: StageResult, site: Site, run_dir: str | Path | None) -> None:
    """What is missing for the stage, what to do next, and the six stages' status."""
    from IPython.display import HTML, display

    from . import guide

    # JupyterLab right-aligns cells of rendered HTML tables; the checks read better left
    lab_fix = ("<style>.jp-RenderedHTMLCommon .esus td,.jp-RenderedHTMLCommon .esus th"
               "{text-align:left}.jp-RenderedHTMLCommon .esus td.status{text-align:center}"
               "</style>")
    display(HTML(_wrap(lab_fix + guide.guidance_html(guide.guidance(result, site)))))
    display(guide.StatusWidget(run_dir, site.site_id))


def _show_error(exc: RunbookError) -> None:
    """Display a runbook error as its pt-BR problems and what to do (no traceback)."""
    from IPython.display import HTML, display

    from . import guide

    display(HTML(_wrap(guide.error_html(exc))))


def _install_error_display() -> None:
    """In JupyterLab, show an input error as its pt-BR problems and what to do instead of
    a traceback (the cell still stops, so "Run All" stops there)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or getattr(shell, "_esus_runbook_errors", False):
        return

    def handler(self, etype, value, tb, tb_offset=None):
        _show_error(value)
        # IPython sends nothing else for a custom exception: the cell ends as failed
        # (Run All stops here) showing only the panel above
        return [f"{etype.__name__}: {value}"]

    shell.set_custom_exc((RunbookError,), handler)
    shell._esus_runbook_errors = True


def site_form(site_file: str | Path, site_id: str | None = None,
              run_dir: str | Path | None = None):
    """Display the site form (notebook 01, interactive only). Each save validates, writes
    the site file and evaluates the cenário stage again below the form."""
    from IPython.display import display

    from .form import SiteForm

    _install_error_display()
    form = SiteForm(site_file, site_id)

    def evaluate(outcome) -> None:
        source = form.doc.target.inventory or outcome.path

        def draw() -> None:
            try:
                show(run_stage("cenario", source, outcome.site_id, run_dir, interactive=True))
            except RunbookError as exc:  # as a cell shows it (_install_error_display)
                _show_error(exc)

        form.show_below(draw)

    form.on_save = evaluate
    display(form.widget)
    if not form.doc.is_new:
        form.check()  # an existing site: its problems next to the fields, or its cenário
    return form


def render_report(run_dir: str | Path, site_file: str | Path,
                  site_id: str | None = None) -> Path:
    """Write the site's report for this run (:func:`.run_folder.report_path`) and return its
    path."""
    site = load_site(site_file, site_id)
    out = site_dir(site, run_dir)
    if out is None:
        raise ValueError("run_dir is required to render a report")
    if Path(site_file).resolve() != run_folder.site_file(out).resolve():
        # interactive: the report must describe the site file as it is now (a batch passes
        # the run's own snapshot, which is already current)
        run_folder.write_site_snapshot(out, site.to_json())
    return render_site_report(out)


def show_report(path: str | Path, run_dir: str | Path | None = None) -> None:
    """Display the verdict and stage table of a rendered report, where the file is and,
    with ``run_dir``, the link to the site's dossier."""
    from IPython.display import HTML, display

    path = Path(path)
    display(HTML(_wrap(summary_html(path.parent)
                       + f"<p>Relatório completo: <code>{path}</code></p>")))
    if run_dir is not None:
        show_dossier_link(run_dir, path)


def _wrap(html: str) -> str:
    """Scope the report's component styles to this output (JupyterLab keeps its own)."""
    return scoped_html(html)

