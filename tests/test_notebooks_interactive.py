"""The interactive notebooks executed with papermill: 01_cenario's form, a stage notebook's
guidance and status, and an input error shown without a traceback."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from esus_runbook.batch.execution import IOPUB_DEADLINE
from esus_runbook.results import StageResult
from esus_runbook.status import Status

from .support.project import EXAMPLES, NOTEBOOKS, ROOT
from .support.site_texts import COMMENTED, write

pytestmark = pytest.mark.notebooks
ARTIFACTS = ROOT / "test-artifacts"


# Deadline of one cell: the heaviest (the form, a stage) take seconds, under a minute on a
# loaded 2-core machine. Without it a reply that never comes (seen once under `make flaky`:
# 01_cenario's form cell had done its work, the kernel was idle, papermill still waited for
# the execute reply) hangs the whole suite instead of failing this test.
CELL_DEADLINE = 300  # s


def execute(nb_path: Path, out: Path, cwd: Path, **params):
    try:
        return pm.execute_notebook(str(nb_path), str(out), parameters=params,
                                   kernel_name="esus-runbook", cwd=str(cwd), progress_bar=False,
                                   execution_timeout=CELL_DEADLINE,
                                   # the form's widget messages are read to the last, never
                                   # dropped 4 s after the reply (batch.execution)
                                   iopub_timeout=IOPUB_DEADLINE, raise_on_iopub_timeout=True)
    except TimeoutError as exc:  # nbclient's CellTimeoutError
        ARTIFACTS.mkdir(exist_ok=True)
        kept = ARTIFACTS / f"{out.stem}-{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.ipynb"
        if out.exists():
            shutil.copy(out, kept)
        raise AssertionError(f"{nb_path.name}: a cell got no reply in {CELL_DEADLINE} s "
                             f"({exc}); the notebook as saved so far: {kept}") from exc


WIDGET = "application/vnd.jupyter.widget-view+json"


def outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def widget_text(nb) -> str:
    return json.dumps(nb.metadata.get("widgets", {}), ensure_ascii=False)


def assert_widget_texts(nb, out: Path, *texts: str) -> None:
    """The saved widget state (what nbclient recorded of the kernel's comm messages, once
    the last cell went idle: the notebook's final state) shows ``texts``. If not, say which
    are missing and whether the state is whole (every ``IPY_MODEL_`` reference resolves to
    a saved model: a model created but never recorded shows as a dangling reference), and
    keep the executed notebook in test-artifacts/."""
    state = widget_text(nb)
    missing = [t for t in texts if t not in state]
    if not missing:
        return
    models = nb.metadata.get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    dangling = sorted(set(re.findall(r"IPY_MODEL_([0-9a-f]+)", state)) - set(models))
    ARTIFACTS.mkdir(exist_ok=True)
    kept = ARTIFACTS / f"{out.stem}-{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.ipynb"
    shutil.copy(out, kept)
    raise AssertionError(f"the saved widget state lacks {missing}: {len(models)} models, "
                         f"{len(dangling)} referenced but not saved, last saved "
                         f"{json.dumps(list(models.values())[-1:], ensure_ascii=False)[:300]}; "
                         f"notebook kept in {kept}")


def test_01_fresh_with_default_parameters_shows_a_new_site_form(tmp_path):
    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    out = tmp_path / "01.ipynb"
    nb = execute(tmp_path / "notebooks" / "01_cenario.ipynb", out, tmp_path / "notebooks")
    assert not [o for o in outputs(nb) if o.get("output_type") == "error"]
    assert any(WIDGET in o.get("data", {}) for o in outputs(nb))
    assert_widget_texts(nb, out, "Formulário do site", "novo site", "Identificador do site",
                        "Usuários simultâneos")
    assert not (tmp_path / "sites").exists()  # nothing written before "Salvar"


def test_01_existing_site_form_cell_sends_only_the_form(tmp_path):
    """The form cell for an existing site sends one display (the form) and nothing else on
    the cell, in one bounded burst of widget messages: the cenário evaluation below the form
    is the Output widget's state. Output
    routed by the browser (``with output:``) raced with the widget's model in JupyterLab
    under load: the evaluation landed in the cell and its clear_output wiped the form (issue
    28). Checked on the kernel's own messages, so no browser timing is involved."""
    from jupyter_client.manager import start_new_kernel

    site = write(tmp_path / "sites" / "ubs-comentada.yaml", COMMENTED)
    km, kc = start_new_kernel(kernel_name="esus-runbook", cwd=str(NOTEBOOKS))
    try:
        msg_id = kc.execute(
            "from esus_runbook import notebook\n"
            f"form = notebook.site_form({str(site)!r}, None, {str(tmp_path / 'run')!r})")
        cell: list[dict] = []
        states: list[dict] = []
        while True:
            msg = kc.get_iopub_msg(timeout=CELL_DEADLINE)
            kind = msg["header"]["msg_type"]
            if kind in ("comm_open", "comm_msg"):
                states.append(msg["content"]["data"].get("state", {}))
            elif msg["parent_header"].get("msg_id") == msg_id and kind not in (
                    "status", "execute_input"):
                cell.append(msg)
            if (kind == "status" and msg["parent_header"].get("msg_id") == msg_id
                    and msg["content"]["execution_state"] == "idle"):
                break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert [m["header"]["msg_type"] for m in cell] == ["display_data"], cell
    # one burst: shared layouts and styles, CSS classes given at creation (form.widgets.Looks)
    # keep it near 450 messages; the ~1,300 of before were lost in part on a busy machine
    assert len(states) < 600, f"{len(states)} widget messages for the form"
    assert WIDGET in cell[0]["content"]["data"]
    below = [st["outputs"] for st in states if st.get("outputs")]
    assert below, "the evaluation never reached the Output widget below the form"
    text = json.dumps(below[-1], ensure_ascii=False)
    assert "O que fazer agora" in text  # the guidance, then the status widget
    assert any(WIDGET in o.get("data", {}) for o in below[-1])


def test_01_under_papermill_builds_no_widget(tmp_path):
    out = tmp_path / "01.ipynb"
    nb = execute(NOTEBOOKS / "01_cenario.ipynb", out, NOTEBOOKS,
                 site_file=str(EXAMPLES / "sites" / "ubs-centro.yaml"),
                 run_dir=str(tmp_path / "run"), interactive=False)
    assert not any(WIDGET in o.get("data", {}) for o in outputs(nb))
    assert "widgets" not in nb.metadata
    assert "esus-guia" not in json.dumps(outputs(nb))
    assert StageResult.load(tmp_path / "run" / "ubs-centro" / "cenario.json").status \
        in (Status.OK, Status.ALERTA)


def test_stage_notebook_interactive_guides_and_shows_status(tmp_path):
    site = write(tmp_path / "sites" / "ubs-comentada.yaml", COMMENTED)
    run = tmp_path / "run"
    nb = execute(NOTEBOOKS / "02_ambiente.ipynb", tmp_path / "02.ipynb", NOTEBOOKS,
                 site_file=str(site), run_dir=str(run), interactive=True)
    html = json.dumps(outputs(nb), ensure_ascii=False)
    assert "O que fazer agora" in html
    assert "esus-runbook sondar --json sondagem-ubs-comentada.json" in html
    status = StageResult.load(run / "ubs-comentada" / "ambiente.json").status.value
    assert f"data-stage='ambiente' data-status='{status}'" in widget_text(nb)
    assert any(WIDGET in o.get("data", {}) for o in outputs(nb))


def test_input_error_in_jupyterlab_is_explained_without_traceback(tmp_path):
    out = tmp_path / "02.ipynb"
    with pytest.raises(pm.PapermillExecutionError):
        execute(NOTEBOOKS / "02_ambiente.ipynb", out, NOTEBOOKS,
                site_file=str(tmp_path / "nao-existe.yaml"), run_dir=str(tmp_path / "run"),
                interactive=True)
    nb = nbformat.read(out, as_version=4)
    # the cell failed (Run All stops) but shows the pt-BR panel, not a traceback
    assert not [o for o in outputs(nb) if o.get("output_type") == "error"]
    assert "Traceback" not in json.dumps(outputs(nb))
    html = json.dumps(outputs(nb), ensure_ascii=False)
    assert "Não foi possível executar a etapa" in html and "arquivo não encontrado" in html


def test_interactive_work_is_a_run_the_catalog_imports(tmp_path, cli_main):
    """Two stage notebooks run as JupyterLab runs them (``esus-runbook lab`` passes the
    interactive folder as run_dir and interactive=True): the folder becomes a run marked
    interactive, `catalogo importar` finds it, and the dossier shows the site."""
    from esus_runbook import schemas

    site = write(tmp_path / "sites" / "ubs-comentada.yaml", COMMENTED)
    executions = tmp_path / "execucoes"
    run = executions / "interativo"
    for name in ("01_cenario.ipynb", "02_ambiente.ipynb"):
        execute(NOTEBOOKS / name, tmp_path / name, NOTEBOOKS, site_file=str(site),
                run_dir=str(run), interactive=True)
    meta = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert schemas.errors("run", meta) == []
    assert meta["interactive"] is True and meta["run_id"].startswith("interativo-")
    assert set(meta["sites"]) == {"ubs-comentada"}
    first_id = meta["run_id"]
    assert (run / "ubs-comentada" / "site.json").is_file()

    proc = cli_main("catalogo", "importar", executions)
    assert proc.returncode == 0, proc.stderr
    assert "1 execução" in proc.stdout or "1 execuç" in proc.stdout, proc.stdout
    from esus_runbook.catalog import connect

    with connect(executions / "catalogo.sqlite") as db:
        rows = db.execute("SELECT r.run_id, s.site_id FROM runs r JOIN run_sites s "
                          "ON s.run_pk = r.run_pk").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(first_id, "ubs-comentada")]
    proc = cli_main("dossie", "ubs-comentada", "--execucoes", executions)
    assert proc.returncode == 0, proc.stderr
    html = (executions / "dossies" / "ubs-comentada.html").read_text(encoding="utf-8")
    assert "UBS Comentada" in html and first_id in html

    # one more stage later: the same run (same id), updated
    execute(NOTEBOOKS / "03_download.ipynb", tmp_path / "03.ipynb", NOTEBOOKS,
            site_file=str(site), run_dir=str(run), interactive=True)
    again = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert again["run_id"] == first_id
