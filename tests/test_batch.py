"""The batch runs the real notebooks with papermill and the registered kernel."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from esus_runbook.results import STAGES
from esus_runbook.stages import NOTEBOOK_FILES as NOTEBOOKS

from .support.batch_inputs import notebooks_with, one_site
from .support.project import NOTEBOOKS as NB_DIR
from .support.project import ROOT, run_folders

FIXTURES = Path(__file__).parent / "notebooks"


def tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.mark.notebooks
def test_demo_run_folder_layout(demo_run: Path):
    rollup = pd.read_csv(demo_run / "rollup.csv", dtype=str)
    assert {"site_id", "stage", "status"} <= set(rollup.columns)
    assert rollup["site_id"].nunique() >= 3
    assert "erro" not in set(rollup["status"])
    for site_id in rollup["site_id"].unique():
        site_dir = demo_run / site_id
        for nb in NOTEBOOKS.values():
            executed = nbformat.read(site_dir / nb, as_version=4)
            outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
            assert not [o for o in outputs if o.output_type == "error"], (site_id, nb)
            assert executed.metadata.papermill.parameters["site_id"] == site_id
        for stage in STAGES:
            data = json.loads((site_dir / f"{stage}.json").read_text())
            assert data["schema"] == "esus-runbook/stage-result/1"
            assert data["checks"], (site_id, stage)
        assert (site_dir / "relatorio.html").stat().st_size > 1000
    assert not list(demo_run.rglob("*.partial*")) and not list(demo_run.rglob(".*.tmp"))
    meta = json.loads((demo_run / "run.json").read_text())
    assert meta["status"] == "concluido"
    assert all(v for v in meta["inventory"]["files"].values())
    assert meta["versions"]["papermill"]
    timings = [n for s in meta["sites"].values() for n in s["notebooks"]]
    assert len(timings) == 7 * rollup["site_id"].nunique()
    assert (demo_run / "rollup.json").exists() and (demo_run / "rollup.html").exists()
    log = (demo_run / "run.log").read_text()
    assert "etapa=cenario" in log


@pytest.mark.notebooks
def test_demo_outcomes_differ(demo_run: Path):
    status = json.loads((demo_run / "rollup.json").read_text())["site_status"]
    assert len(set(status.values())) >= 2, status


@pytest.mark.notebooks
def test_broken_notebook_marks_stage_erro_and_goes_on(tmp_path, cli):
    nbdir = notebooks_with(tmp_path, {NOTEBOOKS["download"]: "broken",
                                       NOTEBOOKS["contra_chave"]: "forgets_result"})
    out = tmp_path / "out"
    proc = cli("executar", one_site(tmp_path), "--execucoes", out, "--sem-progresso",
               env={"ESUS_RUNBOOK_NOTEBOOKS": str(nbdir)})
    assert proc.returncode == 1, proc.stderr
    (run,) = run_folders(out)
    site_dir = run / "sms-centralizado"
    dl = json.loads((site_dir / "download.json").read_text())
    assert dl["status"] == "erro"
    assert "falha proposital" in dl["error"]
    cc = json.loads((site_dir / "contra_chave.json").read_text())
    assert cc["status"] == "erro" and "sem gravar" in cc["error"]
    # the other stages and the report still ran
    assert json.loads((site_dir / "xml.json").read_text())["status"] != "erro"
    assert (site_dir / "relatorio.html").exists()
    assert "falha proposital" in (run / "run.log").read_text()


@pytest.mark.notebooks
def test_new_run_never_touches_older_runs(tmp_path, cli):
    out = tmp_path / "out"
    site = one_site(tmp_path)
    assert cli("executar", site, "--execucoes", out, "--sem-progresso").returncode in (0, 1, 3)
    (first,) = run_folders(out)
    before = tree_digest(first)
    assert cli("executar", site, "--execucoes", out, "--sem-progresso").returncode in (0, 1, 3)
    assert len(run_folders(out)) == 2
    assert tree_digest(first) == before


@pytest.mark.notebooks
@pytest.mark.parametrize("nb_name", sorted(NOTEBOOKS.values()))
def test_every_notebook_declares_its_parameters(nb_name):
    import papermill as pm

    params = pm.inspect_notebook(str(NB_DIR / nb_name))
    assert set(params) == {"site_file", "site_id", "run_dir", "interactive"}, nb_name
    assert all("#" not in p["default"] for p in params.values()), params  # parsed cleanly


def test_inspect_lists_parameters(cli):
    proc = cli("inspecionar", ROOT / "notebooks" / "01_cenario.ipynb")
    assert proc.returncode == 0 and "Unable to parse" not in proc.stderr
    for name in ("site_file", "site_id", "run_dir", "interactive"):
        assert name in proc.stdout
    proc = cli("inspecionar", FIXTURES / "no_parameters.ipynb")
    assert proc.returncode == 0 and "não tem célula 'parameters'" in proc.stdout
    proc = cli("inspecionar", "nao-existe.ipynb")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_notebooks_are_committed_clean():
    for nb_name in NOTEBOOKS.values():
        nb = nbformat.read(NB_DIR / nb_name, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.kernelspec.name == "esus-runbook"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), nb_name
        params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1, nb_name
        assert nb.cells[0].cell_type == "markdown"
