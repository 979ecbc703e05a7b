"""The interactive flow in a real browser: `esus-runbook lab` serves JupyterLab on 127.0.0.1,
headless Debian chromium (Playwright) runs 01_cenario, fills the site form, saves, and the
site file on disk is checked; then 02_ambiente runs and its status widget shows the new
status. Screenshots go to test-artifacts/ (git-ignored); with ESUS_UPDATE_SCREENSHOTS=1 the
form's screenshot also refreshes docs/img/formulario.png for the README."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from esus_runbook.results import STAGES, StageResult
from esus_runbook.sites.loading import load_site, load_sites

from .support.browser import ARTIFACTS, PlaywrightTimeoutError, dump_page, expect
from .support.lab_server import lab_cli
from .support.project import NOTEBOOKS, ROOT
from .support.site_texts import COMMENTED, comment_lines
from .support.waiting import wait_equal, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.notebooks]
LONG = 240_000  # ms: kernels start slowly on a busy 2-core machine

# the notebook in front, with its kernel connected and idle
IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session
            && w.sessionContext.session.kernel;
  return !!(k && k.status === 'idle' && k.connectionStatus === 'connected'
            && w.content && w.content.widgets && w.content.widgets.length > 0
            && w.context && w.context.isReady);
}"""




@pytest.fixture
def page(browser):
    p = browser.new_page(viewport={"width": 1300, "height": 1300})
    p.set_default_timeout(60_000)
    console: list[str] = []  # the browser's console, for a failure's diagnostics
    p.on("console", lambda m: console.append(f"{m.type}: {m.text}"[:2000]))
    p.esus_console = console
    yield p
    p.close()


def current(page):
    """Locator of the notebook panel in front (other open notebooks stay in the DOM)."""
    wid = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    return page.locator(f"[id='{wid}']")


def open_notebook(page, lab, path: str, first: bool = False):
    if first:
        page.goto(lab.url_for(path))
    else:
        page.evaluate("(p) => { window.jupyterapp.commands.execute('docmanager:open', "
                      "{path: p}); }", path)
        page.wait_for_function("(p) => { const w = window.jupyterapp.shell.currentWidget;"
                               " return w && w.context && w.context.path === p; }", arg=path,
                               timeout=LONG)
    page.wait_for_function(IDLE, timeout=LONG)
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    return current(page)


# Run All. The command's promise (NotebookActions.runAll) is kept only to report how it
# ended; the test waits for the final state of the notebook itself (RUN_STATE): every code
# cell has its execution count and is idle, i.e. the kernel replied to it and its outputs are
# in. A run that cannot finish is reported at once: a dialog on screen (select kernel,
# kernel restarting...), the promise rejected or resolved false, an error output.
RUN_ALL = """() => {
  window.__esusRunAll = null;
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    (ok) => { window.__esusRunAll = {ok: ok === true}; },
    (err) => { window.__esusRunAll = {ok: false, error: String(err)}; });
}"""
# the run's state in the panel in front, read in one step
RUN_STATE = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const ctx = w && w.sessionContext;
  const k = ctx && ctx.session && ctx.session.kernel;
  const code = w && w.content && w.content.widgets
    ? w.content.widgets.filter((c) => c.model.type === 'code') : [];
  const cells = code.map((c) => ({
    count: c.model.executionCount, state: c.model.executionState,
    outputs: c.model.outputs.length,
    errors: c.model.outputs.toJSON().filter((o) => o.output_type === 'error')
      .map((o) => o.ename + ': ' + o.evalue)}));
  return {
    path: w && w.context ? w.context.path : null,
    kernel: k ? {status: k.status, connection: k.connectionStatus,
                 display: ctx.kernelDisplayStatus} : null,
    cells,
    dialogs: [...document.querySelectorAll('.jp-Dialog')].map((d) => d.innerText.trim()),
    // progress of a long run: widget views on the page so far (the form has ~1,000 models)
    widget_views: w ? w.node.querySelectorAll('.jupyter-widgets').length : 0,
    promise: window.__esusRunAll,
    finished: cells.length > 0
      && cells.every((c) => c.count !== null && c.state !== 'running'),
  };
}"""
# wait_for_function's condition: the state once the run finished or cannot finish, else null
RUN_SETTLED = "() => { const s = (" + RUN_STATE + """)();
  const failed = s.promise && !s.promise.ok;
  const errors = s.cells.some((c) => c.errors.length > 0);
  return (s.finished || failed || errors || s.dialogs.length > 0) ? s : null; }"""


def run_all(page, lab, panel, wait_for: str):
    """Run every cell, wait until each code cell ran without error, then for ``wait_for``.

    On a dialog, an error or the deadline, the page (screenshot, text), the notebook's state
    and the server's log go to a folder of test-artifacts/ named in the failure."""
    before = page.evaluate(RUN_STATE)
    # the notebooks are saved without execution counts: a count means this run executed it
    assert before["cells"] and all(c["count"] is None for c in before["cells"]), before
    page.evaluate(RUN_ALL)
    try:
        state = page.wait_for_function(RUN_SETTLED, timeout=LONG, polling=250).json_value()
        problem = None if state["finished"] and not state["dialogs"] and not any(
            c["errors"] for c in state["cells"]) else "the run cannot finish"
    except PlaywrightTimeoutError:
        state = page.evaluate(RUN_STATE)
        problem = f"Run All did not finish in {LONG / 1000:g}s"
    if problem is not None:
        where = dump_page(page, f"run-all-{state['path']}", diagnostics(page, lab, state))
        raise AssertionError(f"{problem} ({state['path']}): kernel {state['kernel']}, "
                             f"cells {state['cells']}, dialogs {state['dialogs']}, "
                             f"{state['widget_views']} widget views, command promise "
                             f"{state['promise']}; page, state and server log in {where}")
    page.wait_for_function(IDLE, timeout=LONG)
    try:
        expect(panel.locator(wait_for).first).to_be_visible(timeout=LONG)
    except AssertionError as exc:
        state = page.evaluate(RUN_STATE)
        where = dump_page(page, f"run-all-{state['path']}", diagnostics(page, lab, state))
        raise AssertionError(f"{wait_for} not shown after the run ({state['path']}): outputs "
                             f"per cell {[c['outputs'] for c in state['cells']]}, "
                             f"{state['widget_views']} widget views; page, state, browser "
                             f"console and server log in {where}") from exc


def diagnostics(page, lab, state: dict) -> dict[str, object]:
    """What a failed run leaves for the reader: the notebook's state (with each code cell's
    outputs), the browser's console and the server's log."""
    outputs = page.evaluate("""() => { const w = window.jupyterapp.shell.currentWidget;
      return w && w.content ? w.content.widgets.filter((c) => c.model.type === 'code')
        .map((c) => c.model.outputs.toJSON()) : []; }""")
    return {"estado.json": {**state, "outputs": outputs},
            "console.txt": "\n".join(getattr(page, "esus_console", [])),
            "lab.log": lab.log_tail()}


def field(panel, name: str, tag: str = "input"):
    return panel.locator(f".esus-f-{name.replace('.', '-').replace('_', '-')} {tag}")


# The status strips of a panel, each read in one step ({stage: status}); a strip marked
# stale (see save) was on screen before the last save and is left out.
STRIPS = """(els) => els.filter((e) => !e.__esusStale).map((e) => Object.fromEntries(
  [...e.querySelectorAll('td.esus-etapa')].map((td) => [td.dataset.stage,
                                                         td.dataset.status])))"""


def save(panel, expect_ok: bool):
    """Click "Salvar" and wait for its message. Strips already on screen are marked stale
    first: a valid save clears the form's output and shows a new strip."""
    panel.locator(".esus-status").evaluate_all("(els) => els.forEach((e) => "
                                               "{ e.__esusStale = true; })")
    panel.locator(".esus-salvar").click()
    expect(panel.locator(f".esus-form-msg [data-ok='{1 if expect_ok else 0}']")).to_be_visible(
        timeout=LONG)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    assert path.stat().st_size > 20_000
    return path


def wait_for_strip(panel, scope: str, run_site: Path) -> dict[str, str]:
    """Wait until the panel shows one (fresh) status strip under ``scope`` equal to the
    results on disk, and return them. The strip is rendered after the result is written,
    but by its widget view, asynchronously: read it whole, again, until it matches."""
    disk = on_disk(run_site)
    strips = panel.locator(f"{scope} .esus-status".strip())
    wait_equal(lambda: strips.evaluate_all(STRIPS), [disk],
               LONG / 1000, f"the status strip under {scope!r} to show the results on disk")
    return disk


def mtime(path: Path) -> int | None:
    return path.stat().st_mtime_ns if path.exists() else None


def on_disk(run_site: Path) -> dict[str, str]:
    return {s: (StageResult.load(run_site / f"{s}.json").status.value
                if (run_site / f"{s}.json").exists() else "nao-executada") for s in STAGES}


def test_new_site_from_the_form_with_default_parameters(page, tmp_path):
    """`esus-runbook lab` without argument, 01_cenario with its default parameters: the form
    for a new site; a wrong value is shown next to its field and nothing is written; fixed,
    the site file is written and the cenário is evaluated below the form."""
    project = tmp_path / "projeto"  # the analyst's working folder (lab copies the notebooks)
    project.mkdir()
    shutil.copytree(NOTEBOOKS, tmp_path / "pacote" / "notebooks")
    env = {"ESUS_RUNBOOK_NOTEBOOKS": str(tmp_path / "pacote" / "notebooks")}
    with lab_cli(tmp=tmp_path, env=env, cwd=project) as lab:
        panel = open_notebook(page, lab, "notebooks/01_cenario.ipynb", first=True)
        run_all(page, lab, panel, ".esus-form")
        expect(panel.locator(".esus-form-arquivo")).to_contain_text("novo site")
        expect(panel.locator(".esus-campo").nth(29)).to_be_attached()  # at least 30 fields
        field(panel, "site_id").fill("ubs-nova-esperanca")
        field(panel, "nome").fill("UBS Nova Esperança")
        field(panel, "municipio_ibge").fill("2927409")  # wrong check digit
        field(panel, "cnes").fill("2386224")
        field(panel, "cenario.usuarios_simultaneos").fill("35")
        for key, answer in (("internet_estavel", "Sim"), ("energia_estavel", "Sim"),
                            ("equipe_ti", "Sim"), ("backup_automatizado", "Não"),
                            ("politica_seguranca", "Sim")):
            field(panel, f"cenario.{key}", "select").select_option(label=answer)
        field(panel, "cenario.banda_mbps").fill("20")
        field(panel, "contra_chave.contra_chave_env").fill("PEC_CONTRA_CHAVE")
        save(panel, expect_ok=False)
        expect(panel.locator(".esus-f-municipio-ibge-erro")).to_contain_text("dígito verificador")
        expect(panel.locator(".esus-erro .widget-html-content > div").first).to_be_visible()
        assert not (project / "sites").exists()
        page.evaluate("() => document.querySelector('.esus-form')"
                      ".scrollIntoView({block: 'start'})")
        form_png = shot(page, "formulario.png")
        if os.environ.get("ESUS_UPDATE_SCREENSHOTS") == "1":
            (ROOT / "docs" / "img").mkdir(parents=True, exist_ok=True)
            shutil.copy(form_png, ROOT / "docs" / "img" / "formulario.png")

        field(panel, "municipio_ibge").fill("2927408")
        save(panel, expect_ok=True)
        site_file = project / "sites" / "ubs-nova-esperanca.yaml"
        assert site_file.is_file()
        site = load_sites(project / "sites")[0]
        assert (site.site_id, site.nome, site.data["municipio_ibge"], site.data["cnes"]) == \
            ("ubs-nova-esperanca", "UBS Nova Esperança", "2927408", "2386224")
        assert site.cenario["usuarios_simultaneos"] == 35
        assert site.cenario["backup_automatizado"] is False
        assert site.contra_chave["contra_chave_env"] == "PEC_CONTRA_CHAVE"
        expect(panel.locator(".esus-erro .widget-html-content > div")).to_have_count(0)
        # the cenário stage was evaluated below the form, with guidance and status
        run_site = project / "execucoes" / "interativo" / "ubs-nova-esperanca"
        wait_until(lambda: (run_site / "cenario.json").is_file(), LONG / 1000,
                   "the cenário result of the saved site")
        assert wait_for_strip(panel, ".esus-form-saida", run_site)["cenario"] != "nao-executada"
        expect(panel.locator(".esus-form-saida .esus-guia")).to_be_visible()
        page.evaluate("() => document.querySelector('.esus-form-saida')"
                      ".scrollIntoView({block: 'start'})")
        shot(page, "formulario-salvo.png")


def test_existing_site_keeps_comments_and_status_follows_the_stages(page, tmp_path):
    """`esus-runbook lab SITE`: the notebooks already point to the site; the form edits the
    commented file without losing its comments; 02_ambiente then shows the new status."""
    site_file = tmp_path / "sites" / "ubs-comentada.yaml"
    site_file.parent.mkdir(parents=True)
    site_file.write_text(COMMENTED, encoding="utf-8")
    ws = tmp_path / "interativo"
    with lab_cli(str(site_file), "--out", str(ws), tmp=tmp_path) as lab:
        assert "/lab/tree/ubs-comentada/01_cenario.ipynb" in lab.url
        panel = open_notebook(page, lab, "ubs-comentada/01_cenario.ipynb", first=True)
        run_all(page, lab, panel, ".esus-form")
        expect(field(panel, "site_id")).to_have_value("ubs-comentada")
        expect(field(panel, "cenario.usuarios_simultaneos")).to_have_value("30")
        # opening an existing valid site evaluates it right away
        run_site = ws / "ubs-comentada"
        opened = wait_for_strip(panel, ".esus-form-saida", run_site)
        assert opened["cenario"] != "nao-executada"
        evaluated = mtime(run_site / "cenario.json")
        field(panel, "cenario.usuarios_simultaneos").fill("45")
        field(panel, "cenario.backup_automatizado", "select").select_option(label="Sim")
        field(panel, "instalacao.pec_url").fill("http://10.0.0.5:8080")
        save(panel, expect_ok=True)
        text = site_file.read_text(encoding="utf-8")
        assert comment_lines(text) == comment_lines(COMMENTED)
        assert "  usuarios_simultaneos: 45   # pico de segunda de manhã" in text.splitlines()
        site = load_site(site_file)
        assert site.cenario["usuarios_simultaneos"] == 45
        assert site.cenario["backup_automatizado"] is True
        assert site.instalacao["pec_url"] == "http://10.0.0.5:8080"
        # the save evaluated the cenário again (a new result on disk), then showed a new strip
        wait_until(lambda: mtime(run_site / "cenario.json") != evaluated, LONG / 1000,
                   "the cenário to be evaluated again after the save")
        assert wait_for_strip(panel, ".esus-form-saida", run_site)["ambiente"] == \
            "nao-executada"

        panel2 = open_notebook(page, lab, "ubs-comentada/02_ambiente.ipynb")
        run_all(page, lab, panel2, ".esus-status")
        disk = wait_for_strip(panel2, "", run_site)  # cenário from the form, ambiente now
        assert disk["ambiente"] != "nao-executada"
        expect(panel2.locator(".esus-guia")).to_contain_text(
            "esus-runbook sondar --json sondagem-ubs-comentada.json")
        shot(page, "ambiente-status.png")

        # back in 01, the status widget catches up with its button
        panel = open_notebook(page, lab, "ubs-comentada/01_cenario.ipynb")
        panel.locator(".esus-form-saida .esus-status button").click()
        assert wait_for_strip(panel, ".esus-form-saida", run_site) == disk
