"""Guidance for the analyst in JupyterLab: what is missing for a stage, what to do next, and
the status of the site's six stages.

:func:`guidance` combines two sources:

* the result's non-``ok`` checks, each with its remedy (so a new check of any stage is
  explained without touching this module);
* stage-specific next steps computed from the site's inputs — the exact command to run on
  the server (``esus-runbook probe --json ...``), where to put its output and which key of
  the site file to fill (:data:`NEXT_STEPS`).

:class:`StatusWidget` shows the six stages with the status of their latest result in
``<run_dir>/<site_id>/``. Only the widget imports ipywidgets; the rest is plain HTML so that
batch runs (papermill, ``interactive=False``) never pay for it.
"""

from __future__ import annotations

import html
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from .commands import join, option, sh
from .errors import InputError, RunbookError
from .inputfiles import resolved
from .results import LABELS, STAGES, StageResult, Status
from .sites import Site

NOT_RUN = "nao-executada"
"""Pseudo-status of a stage without a result in the run folder."""


@dataclass
class Step:
    """One thing to do, in pt-BR, optionally with the exact command to run."""

    text: str
    command: str | None = None


@dataclass
class Guidance:
    stage: str
    status: Status
    missing: list[tuple[str, str, str]] = field(default_factory=list)  # (id, title, remedy)
    steps: list[Step] = field(default_factory=list)


def _title(stage: str) -> str:
    from .stages import TITLES

    return TITLES.get(stage, stage)


def _notebook(stage: str) -> str:
    from .stages import NOTEBOOKS

    return NOTEBOOKS.get(stage, stage)


def _site_folder(site: Site) -> Path:
    src = Path(site.source)
    return src.parent if src.suffix else src


def _relative(site: Site, path: str) -> str:
    """``path`` as the site file would write it (relative to its folder when inside)."""
    try:
        return str(PurePosixPath(resolved(path).relative_to(resolved(_site_folder(site)))))
    except ValueError:
        return path


def _installer_name(site: Site) -> str:
    versao = site.instalador["versao"] or "<versão>"
    suffix = "Win64" if site.instalador["plataforma"] == "windows" else "Linux64"
    return f"eSUS-AB-PEC-{versao}-{suffix}.jar"


def _file_step(site: Site, key: str, what: str) -> Step | None:
    """A step when the file named by ``section.key`` is set but does not exist."""
    section, name = key.split(".")
    path = site.data[section][name]
    if path and not Path(path).is_file():
        return Step(f"O arquivo de {key} não existe em {path}: copie {what} para lá ou "
                    f"corrija o caminho no arquivo do site.")
    return None


# --------------------------------------------------------------------------- per stage
def _steps_cenario(site: Site) -> list[Step]:
    from .sites import SCHEMA

    c = site.cenario
    unanswered = [f.label for f in SCHEMA["cenario"]
                  if f.kind == "bool" and c.get(f.key) is None]
    steps = []
    if c["usuarios_simultaneos"] is None or unanswered:
        what = ([] if c["usuarios_simultaneos"] is not None else ["Usuários simultâneos"]) \
            + unanswered
        steps.append(Step("No formulário do 01_cenario (seção Cenário), responda: "
                          + ", ".join(what) + "; depois clique em Salvar."))
    return steps


def _steps_ambiente(site: Site) -> list[Step]:
    probe = site.ambiente["probe"]
    windows = site.instalador["plataforma"] == "windows"
    install = "C:\\Program Files" if windows else "/opt"
    steps = []
    if not probe:
        name = f"sondagem-{site.site_id}.json"
        steps.append(Step("No servidor onde o PEC vai rodar (não precisa de root), instale o "
                          "esus-runbook e faça a sondagem:",
                          "esus-runbook probe " + join(["--json", name, "--install-path",
                                                        install], windows) + " --disk-speed"))
        steps.append(Step(f"Copie o {name} para a pasta do site "
                          f"({_site_folder(site)}/probes/) e informe no arquivo do site "
                          f"ambiente.probe: probes/{name}"))
    else:
        missing = _file_step(site, "ambiente.probe", "o JSON gerado pela sondagem")
        if missing:
            steps.append(missing)
    if site.ambiente["passmark"] is None:
        steps.append(Step("Opcional: informe ambiente.passmark (pontuação PassMark da CPU "
                          "do servidor, em cpubenchmark.net) para conferir o processador."))
    return steps


def _steps_download(site: Site) -> list[Step]:
    inst = site.instalador
    versao = inst["versao"]
    steps = []
    if not versao:
        steps.append(Step("Informe instalador.versao: a versão publicada no portal SISAPS "
                          "(sisaps.saude.gov.br/esus → Download), ex.: 5.5.24."))
    if not inst["arquivo"]:
        steps.append(Step("Baixe o instalador (o download continua de onde parou e confere o "
                          "SHA-256):",
                          "esus-runbook download "
                          + option("--url", inst["url"], '"<link copiado do portal SISAPS>"')
                          + " " + option("--version", versao, "<versão>") + " "
                          + option("--dest", f"{_site_folder(site)}/instaladores")))
        steps.append(Step(f"Informe instalador.arquivo: instaladores/{_installer_name(site)}"))
    else:
        missing = _file_step(site, "instalador.arquivo", "o instalador baixado")
        if missing:
            steps.append(missing)
    return steps


def _steps_instalacao(site: Site) -> list[Step]:
    inst = site.instalacao
    steps = []
    if not inst["pec_url"]:
        if inst["atualizacao"]:
            steps.append(Step("É uma atualização: faça e teste um backup do banco antes "
                              "(com o PEC parado):",
                              "pg_dump -Fc -p 5433 -U postgres esus > esus-antes.backup && "
                              "pg_restore -l esus-antes.backup > /dev/null"))
        from .stages.instalacao import installer_command

        try:  # the stage's own command, every value quoted
            lines = installer_command(site, _installer_name(site))["linhas"]
        except InputError:
            lines = []
        where = ("No servidor Windows, num PowerShell de administrador:"
                 if site.instalador["plataforma"] == "windows" else
                 "No servidor Linux, como root:")
        if lines:
            steps.append(Step(where, "\n".join(x for x in lines if not x.startswith("#"))))
        steps.append(Step("Quando o PEC responder no navegador, informe instalacao.pec_url "
                          "(ex.: http://IP-DO-SERVIDOR:8080) e execute esta etapa de novo."))
    else:
        from .pec import command

        steps.append(Step("Confira a instalação também a partir do servidor:",
                          command(inst["pec_url"], inst["db_url"], inst["db_password_env"],
                                  inst["db_password_file"])))
    if inst["db_url"] and not (inst["db_password_env"] or inst["db_password_file"]):
        steps.append(Step("Informe instalacao.db_password_env (NOME da variável com a senha "
                          "do banco) ou db_password_file; nunca a senha na URL."))
    return steps


def _env_defined(name: str | None, env: Any) -> bool:
    return bool(name) and bool((env.get(name) or "").strip())


def _steps_contra_chave(site: Site, env: Any = None) -> list[Step]:
    env = os.environ if env is None else env
    cc = site.contra_chave
    steps = []
    if not cc["chave"]:
        steps.append(Step("Copie a chave de 32 dígitos da tela de ativação do PEC para "
                          "contra_chave.chave (ela não é secreta)."))
    var = cc["contra_chave_env"]
    if not var and not cc["contra_chave_file"]:
        steps.append(Step("Gere a contra-chave no e-Gestor AB e guarde-a numa variável de "
                          "ambiente antes de abrir o JupyterLab (a contra-chave nunca vai no "
                          "arquivo do site nem no notebook):",
                          "read -s PEC_CONTRA_CHAVE && export PEC_CONTRA_CHAVE && "
                          "esus-runbook lab <arquivo do site>"))
        steps.append(Step("Informe contra_chave.contra_chave_env: PEC_CONTRA_CHAVE"))
    elif var and not _env_defined(var, env) and not cc["contra_chave_file"]:
        steps.append(Step(f"A variável {var} não está definida neste JupyterLab: feche-o, "
                          "defina a variável no terminal e abra de novo:",
                          f"read -s {sh(var)} && export {sh(var)} && esus-runbook lab "
                          "<arquivo do site>"))
    missing = _file_step(site, "contra_chave.contra_chave_file",
                         "o arquivo protegido (chmod 600) com a contra-chave")
    if missing:
        steps.append(missing)
    return steps


def _steps_xml(site: Site) -> list[Step]:
    arquivo = site.xml["arquivo"]
    ibge = site.data["municipio_ibge"]
    steps = []
    if not arquivo:
        steps.append(Step("Baixe no e-Gestor AB o XML do CNES do município (ZIP "
                          f"XmlParaESUS31_{str(ibge)[:6]}.zip) e informe xml.arquivo, ex.: "
                          f"xml/XmlParaESUS31_{str(ibge)[:6]}.zip"))
        return steps
    missing = _file_step(site, "xml.arquivo", "o ZIP ou XML do e-Gestor AB")
    if missing:
        return [missing]
    steps.append(Step("A mesma auditoria pela linha de comando (relatório HTML para anexar):",
                      "esus-runbook xml audit " + join([_relative(site, arquivo), "--ibge", ibge,
                                                        "--html",
                                                        f"auditoria-xml-{site.site_id}.html"])))
    if not site.xml["anterior"]:
        steps.append(Step("Opcional: informe xml.anterior (o último XML importado no PEC) "
                          "para ver quem perde acesso com o arquivo novo."))
    return steps


NEXT_STEPS: dict[str, Callable[[Site], list[Step]]] = {
    "cenario": _steps_cenario,
    "ambiente": _steps_ambiente,
    "download": _steps_download,
    "instalacao": _steps_instalacao,
    "contra_chave": _steps_contra_chave,
    "xml": _steps_xml,
}
"""Stage → function of the site giving the concrete next steps for its inputs."""


def guidance(result: StageResult, site: Site) -> Guidance:
    """What is missing for ``result.stage`` and what to do next."""
    g = Guidance(result.stage, result.status)
    g.missing = [(c.id, c.title, c.remedy or "") for c in result.checks
                 if c.status is not Status.OK]
    fn = NEXT_STEPS.get(result.stage)
    g.steps = list(fn(site)) if fn else []
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
            g.steps.append(Step(f"Próxima etapa: abra {_notebook(nxt)} ({_title(nxt)})."))
        else:
            g.steps.append(Step("Todas as etapas avaliadas: abra 07_relatorio.ipynb para o "
                                "relatório do site."))
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
    folder = Path(run_dir) / site_id if run_dir and site_id else None
    for stage in STAGES:
        path = folder / f"{stage}.json" if folder else None
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
    from .render.charts import STATUS_COLORS

    cells = []
    for n, (stage, (status, finished)) in enumerate(stage_statuses(run_dir, site_id).items(),
                                                    1):
        color = STATUS_COLORS.get(status, "#bcccdc")
        label = LABELS[Status(status)] if status != NOT_RUN else "não executada"
        cells.append(
            f"<td class='esus-etapa' data-stage='{stage}' data-status='{status}' "
            f"style='border:1px solid #d9e2ec;padding:4px 8px;vertical-align:top;"
            f"border-top:5px solid {color};min-width:110px'>"
            f"<div style='font-size:12px'>{n}. {_e(_title(stage))}</div>"
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
