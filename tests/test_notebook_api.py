"""The notebook API (notebook.py): a stage run interactively again after the input was
fixed in the form, and the batch path that never loads the interactive layer."""

from __future__ import annotations

from esus_runbook import guide, notebook
from esus_runbook.form import SiteForm
from esus_runbook.status import Status

from .support.project import EXAMPLES, ROOT
from .support.site_texts import COMMENTED, write


def test_run_stage_again_after_fixing_the_input(tmp_path):
    path = write(tmp_path / "ubs.yaml", COMMENTED.replace("  usuarios_simultaneos: 30   "
                                                          "# pico de segunda de manhã\n", ""))
    run = tmp_path / "run"
    def perfil(r):
        return next(c.status for c in r.checks if c.id == "CEN_PERFIL")

    first = notebook.run_stage("cenario", path, None, run, interactive=True)
    assert perfil(first) is Status.PENDENTE
    assert notebook._interactive_context(first) is not None
    f = SiteForm(path)
    f.set_value("cenario.usuarios_simultaneos", 20)
    assert f.save().ok
    second = notebook.run_stage("cenario", path, None, run, interactive=True)
    assert perfil(second) is Status.OK
    assert guide.stage_statuses(run, "ubs-comentada")["cenario"][0] == second.status.value
    assert notebook._interactive_context(first) is None  # show(first) no longer guides
    batch = notebook.run_stage("cenario", path, None, run, interactive=False)
    assert notebook._interactive_context(batch) is None


def test_batch_path_never_imports_the_interactive_layer(tmp_path):
    """Under papermill (interactive=False) no widget library or guidance code is loaded."""
    import subprocess
    import sys

    code = ("import sys; from esus_runbook import notebook; "
            f"notebook.run_stage('cenario', {str(EXAMPLES / 'sites' / 'ubs-centro.yaml')!r}, "
            f"None, {str(tmp_path)!r}, False); "
            "print(sorted(m for m in sys.modules if m.startswith(('ipywidgets', "
            "'esus_runbook.guide', 'esus_runbook.form', 'esus_runbook.lab'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
