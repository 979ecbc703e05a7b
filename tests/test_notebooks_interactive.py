"""The interactive notebooks executed with papermill: 01_cenario's form, a stage notebook's
guidance and status, and an input error shown without a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from esus_runbook.results import StageResult, Status

from .conftest import EXAMPLES, NOTEBOOKS
from .site_texts import COMMENTED, write

pytestmark = pytest.mark.notebooks


def execute(nb_path: Path, out: Path, cwd: Path, **params):
    import papermill as pm

    return pm.execute_notebook(str(nb_path), str(out), parameters=params,
                               kernel_name="esus-runbook", cwd=str(cwd), progress_bar=False)


WIDGET = "application/vnd.jupyter.widget-view+json"


def outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def widget_text(nb) -> str:
    return json.dumps(nb.metadata.get("widgets", {}), ensure_ascii=False)


def test_01_fresh_with_default_parameters_shows_a_new_site_form(tmp_path):
    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    out = tmp_path / "01.ipynb"
    nb = execute(tmp_path / "notebooks" / "01_cenario.ipynb", out, tmp_path / "notebooks")
    assert not [o for o in outputs(nb) if o.get("output_type") == "error"]
    assert any(WIDGET in o.get("data", {}) for o in outputs(nb))
    state = widget_text(nb)
    assert "Formulário do site" in state and "novo site" in state
    assert "Identificador do site" in state and "Usuários simultâneos" in state
    assert not (tmp_path / "sites").exists()  # nothing written before "Salvar"


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
    import papermill as pm

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
