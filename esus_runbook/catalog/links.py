"""The link from notebook 07 to the site's dossier. Dossiers (and the dashboard, which the
roll-up links to as ``../painel.html``) live in the executions folder: the parent of a run
folder (``execucoes/<run-id>``) and of the interactive folder (``execucoes/interativo``)."""

from __future__ import annotations

import shlex
from datetime import datetime
from html import escape
from pathlib import Path

from IPython.display import HTML, display

from . import DOSSIERS_DIR, dossier_path


def dossier_link_html(run_dir: str | Path, site_id: str) -> str:
    """HTML for notebook 07: where the site's dossier is (relative to the notebook, which
    sits in ``<run_dir>/<site_id>/``), when it was generated and the command that
    (re)generates it from the catalog."""
    executions = Path(run_dir).resolve().parent
    path = dossier_path(executions, site_id)
    href = f"../../{DOSSIERS_DIR}/{site_id}.html"
    cmd = " ".join(shlex.quote(p) for p in ("esus-runbook", "dossie", site_id,
                                             "--execucoes", str(executions)))
    link = f'<a href="{escape(href)}" id="link-dossie">{escape(str(path))}</a>'
    if path.exists():
        stamp = datetime.fromtimestamp(path.stat().st_mtime).strftime("%d/%m/%Y %H:%M")
        state = f"{link} (gerado em {stamp}; atualize-o com o comando abaixo)"
    else:
        state = f"{link} (ainda não gerado)"
    return (f"<p><b>Dossiê do site</b> — o histórico de todas as execuções deste site, com "
            f"as evidências e o bloco de assinaturas: {state}.</p>"
            f"<p>Gere com: <code>{escape(cmd)}</code> (acrescente "
            f"<code>--pdf dossie.pdf</code> para o PDF).</p>")


def show_dossier_link(run_dir: str | Path, report: str | Path) -> None:
    """Display :func:`dossier_link_html` for the site of ``report`` (the site report,
    :func:`esus_runbook.run_folder.report_path`)."""
    display(HTML(dossier_link_html(run_dir, Path(report).parent.name)))
