"""Guidance for the analyst in JupyterLab: what is missing for a stage, what to do next, and
the status of the site's six stages.

:func:`guidance` combines two sources:

* the result's non-``ok`` checks, each with its remedy (so a new check of any stage is
  explained without touching this module);
* stage-specific next steps computed from the site's inputs — the exact command to run on
  the server (``esus-runbook sondar --json ...``), where to put its output and which key of
  the site file to fill (each stage's ``next_steps`` in ``stages.registry``).

:class:`StatusWidget` shows the six stages with the status of their latest result in
``<run_dir>/<site_id>/``. Only the widget imports ipywidgets; the rest is plain HTML so that
batch runs (papermill, ``interactive=False``) never pay for it.
"""

from __future__ import annotations

import html
import os
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import run_folder, stages
from .errors import InputError, RunbookError
from .render.charts import STATUS_COLORS
from .results import STAGES, StageResult
from .sites.loading import Site
from .stages import Step
from .status import LABELS, Status

# Lazy imports: ipywidgets (0.2 s) and IPython's display only in an interactive notebook.

NOT_RUN = "nao-executada"
"""Pseudo-status of a stage without a result in the run folder."""


@dataclass
class Guidance:
    stage: str
    status: Status
    missing: list[tuple[str, str, str]] = field(default_factory=list)  # (id, title, remedy)
    steps: list[Step] = field(default_factory=list)


def guidance(result: StageResult, site: Site,
             env: Mapping[str, str] | None = None) -> Guidance:
    """What is missing for ``result.stage`` and what to do next."""
    g = Guidance(result.stage, result.status)
    g.missing = [(c.id, c.title, c.remedy or "") for c in result.checks
                 if c.status is not Status.OK]
    decl = stages.STAGES.get(result.stage)
    g.steps = list(decl.next_steps(site, os.environ if env is None else env)) if decl else []
    if result.status is Status.ERRO:
        g.steps.append(Step("A etapa não pôde ser executada: leia a mensagem acima, corrija "
                            "a entrada e execute a célula de novo."))
    elif result.status in (Status.FALHA, Status.PENDENTE):
        g.steps.append(Step("Depois de corrigir, salve o arquivo do site (ou o formulário do "
                            "01_cenario) e execute esta célula de novo (Shift+Enter)."))
    if result.status in (Status.OK, Status.ALERTA) and result.stage in STAGES:
        i = STAGES.index(result.stage)
        if i + 1 < len(STAGES):
            nxt = STAGES[i + 1]
            g.steps.append(Step(f"Próxima etapa: abra {stages.get(nxt).notebook} "
                                f"({stages.get(nxt).title})."))
        else:
            g.steps.append(Step(f"Todas as etapas avaliadas: abra {stages.REPORT_NOTEBOOK} "
                                "para o relatório do site."))
    return g


# --------------------------------------------------------------------------- HTML
def _e(text: Any) -> str:
    return html.escape(str(text))


def guidance_html(g: Guidance) -> str:
    parts = [f"<div class='esus-guia' data-stage='{_e(g.stage)}' "
             f"data-status='{_e(g.status.value)}'>"]
    if g.missing:
        parts.append("<h4>O que falta</h4><ul class='esus-falta'>")
        for cid, title, remedy in g.missing:
            parts.append(f"<li><code>{_e(cid)}</code> <b>{_e(title)}</b>: {_e(remedy)}</li>")
        parts.append("</ul>")
    else:
        parts.append("<h4>Nada falta nesta etapa</h4>")
    if g.steps:
        parts.append("<h4>O que fazer agora</h4><ol class='esus-passos'>")
        for s in g.steps:
            cmd = f"<pre><code>{_e(s.command)}</code></pre>" if s.command else ""
            parts.append(f"<li>{_e(s.text)}{cmd}</li>")
        parts.append("</ol>")
    parts.append("</div>")
    return "".join(parts)


def error_html(exc: RunbookError) -> str:
    """An input error as the analyst sees it in a notebook: each problem and what to do."""
    items = "".join(f"<li>{_e(p)}</li>" for p in exc.problems)
    return ("<div class='esus-guia esus-erro-entrada' data-status='erro' "
            "style='border-left:5px solid #c62828;padding:4px 12px'>"
            "<h4>Não foi possível executar a etapa</h4>"
            f"<ul>{items}</ul><h4>O que fazer agora</h4><ol>"
            "<li>Corrija o que está indicado (no formulário do 01_cenario ou no arquivo do "
            "site) e execute esta célula de novo (Shift+Enter).</li>"
            "<li>Se o arquivo do site ainda não existe, crie-o no formulário do "
            "01_cenario.</li></ol></div>")


def stage_statuses(run_dir: str | Path | None, site_id: str | None
                   ) -> dict[str, tuple[str, str | None]]:
    """stage → (status or ``nao-executada``, finished_at) from ``<run_dir>/<site_id>/``."""
    out: dict[str, tuple[str, str | None]] = {}
    folder = run_folder.site_dir(run_dir, site_id) if run_dir and site_id else None
    for stage in STAGES:
        path = run_folder.stage_result_path(folder, stage) if folder else None
        if path is None or not path.exists():
            out[stage] = (NOT_RUN, None)
            continue
        try:
            r = StageResult.load(path)
            out[stage] = (r.status.value, r.finished_at)
        except InputError:
            out[stage] = (Status.ERRO.value, None)
    return out


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).strftime("%d/%m %H:%M")
    except ValueError:
        return ""


def status_html(run_dir: str | Path | None, site_id: str | None) -> str:
    cells = []
    for n, (stage, (status, finished)) in enumerate(stage_statuses(run_dir, site_id).items(),
                                                    1):
        color = STATUS_COLORS.get(status, "#bcccdc")
        label = LABELS[Status(status)] if status != NOT_RUN else "não executada"
        cells.append(
            f"<td class='esus-etapa' data-stage='{stage}' data-status='{status}' "
            f"style='border:1px solid #d9e2ec;padding:4px 8px;vertical-align:top;"
            f"border-top:5px solid {color};min-width:110px'>"
            f"<div style='font-size:12px'>{n}. {_e(stages.title(stage))}</div>"
            f"<div><b style='color:{color}'>{_e(label)}</b></div>"
            f"<div style='font-size:11px;color:#52606d'>{_e(_when(finished))}</div></td>")
    where = f"{run_dir}/{site_id}" if run_dir and site_id else "sem pasta de execução"
    return ("<div class='esus-status-etapas'>"
            f"<div style='font-size:12px;color:#52606d'>Situação das etapas do site "
            f"<b>{_e(site_id or '?')}</b> (resultados em <code>{_e(where)}</code>)</div>"
            f"<table style='border-collapse:collapse;margin:4px 0'><tr>{''.join(cells)}"
            "</tr></table></div>")


_LIVE: weakref.WeakSet = weakref.WeakSet()


class StatusWidget:
    """The six stages of a site with the status of their latest result; refreshed by its
    button, and by :func:`refresh` whenever this kernel saves a result of the site."""

    def __init__(self, run_dir: str | Path | None, site_id: str | None):
        import ipywidgets as w

        self.run_dir, self.site_id = run_dir, site_id
        self.html = w.HTML()
        button = w.Button(description="Atualizar situação", icon="refresh",
                          layout=w.Layout(width="auto"))
        button.on_click(lambda _: self.refresh())
        self.widget = w.VBox([self.html, button])
        self.widget.add_class("esus-status")
        self.refresh()
        _LIVE.add(self)

    def refresh(self) -> None:
        self.html.value = status_html(self.run_dir, self.site_id)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def refresh(run_dir: str | Path | None, site_id: str) -> None:
    """Refresh every live status widget of this site in this kernel."""
    for sw in list(_LIVE):
        if sw.site_id == site_id and str(sw.run_dir) == str(run_dir):
            sw.refresh()
