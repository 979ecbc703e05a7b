"""The stage registry: one declaration per stage, and notebooks that only call it."""

from __future__ import annotations

import json

import pytest

from esus_runbook import guide, stages
from esus_runbook.results import STAGES, StageResult
from esus_runbook.sites.loading import validate_site
from esus_runbook.status import Status

from .support.project import NOTEBOOKS


def test_one_declaration_per_stage_in_the_order_of_the_results():
    assert tuple(stages.STAGES) == STAGES
    assert list(stages.NOTEBOOK_FILES) == [*STAGES, stages.REPORT]
    for name, decl in stages.STAGES.items():
        assert decl.name == name and decl.title and decl.notebook.endswith(".ipynb")
        assert (NOTEBOOKS / decl.notebook).is_file()
        assert stages.module(name).__name__ == f"esus_runbook.stages.{name}"
        assert not hasattr(stages.module(name), "TITLE")
    assert (NOTEBOOKS / stages.REPORT_NOTEBOOK).is_file()
    assert stages.title("xml") == "Importação do XML do CNES"
    with pytest.raises(KeyError):
        stages.get("relatorio")


@pytest.mark.parametrize("name", sorted(stages.NOTEBOOK_FILES))
def test_notebooks_are_explanation_parameters_and_one_call(name):
    nb = json.loads((NOTEBOOKS / stages.NOTEBOOK_FILES[name]).read_text("utf-8"))
    kinds = [c["cell_type"] for c in nb["cells"]]
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert kinds[0] == "markdown" and kinds[-1] == "code"
    assert len(code) == 2 and "parameters" in code[0]["metadata"]["tags"]
    assert kinds.index("code") == len(kinds) - 2  # explanation first, then the two cells
    source = "".join(code[1]["source"])
    if name == stages.REPORT:
        assert "notebook.render_report(" in source and "notebook.show_report(" in source
    elif name == "cenario":  # the site form in JupyterLab, the stage itself under papermill
        assert 'notebook.run_stage("cenario"' in source and "notebook.site_form(" in source
    else:
        assert source.splitlines()[-2:] == [
            f'result = notebook.run_stage("{name}", site_file, site_id, run_dir, interactive)',
            "notebook.show(result)"]


def test_guidance_reads_titles_notebooks_and_next_steps_from_the_registry(tmp_path):
    site = validate_site({"site_id": "ubs-x", "nome": "X", "municipio_ibge": "2927408"},
                         source=tmp_path / "s.yaml")
    for i, name in enumerate(STAGES):
        r = StageResult(site.site_id, name)
        r.add("X_OK", "x", Status.OK, "x", "x")
        r.finish()
        g = guide.guidance(r, site, env={})
        expected = stages.get(name).next_steps(site, {})
        assert [s.text for s in g.steps][:len(expected)] == [s.text for s in expected]
        last = g.steps[-1].text
        if i + 1 < len(STAGES):
            nxt = stages.get(STAGES[i + 1])
            assert last == f"Próxima etapa: abra {nxt.notebook} ({nxt.title})."
        else:
            assert stages.REPORT_NOTEBOOK in last
