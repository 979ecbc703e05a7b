"""A user who installs the wheel (not the checkout) can run the demo batch.

The wheel is built from this checkout, installed with its dependencies into a fresh virtual
environment outside the checkout, the kernel is registered the way docs/instalacao.md says, and the
demo inventory (copied outside the checkout too) runs from there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .support.project import EXAMPLES, ROOT, demo_env, require

pytestmark = pytest.mark.notebooks


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, **kw)
    assert proc.returncode == 0, (cmd, proc.stdout[-2000:], proc.stderr[-4000:])
    return proc


def test_wheel_runs_the_demo_batch_outside_the_checkout(tmp_path: Path, demo_simulator):
    # the wheel's dependencies come from the package index: without it (a private network
    # namespace, `unshare -n`, as make flaky uses) this is a missing component, not a failure
    index = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d",
                            str(tmp_path / "sonda"), "papermill>=2.6,<3"],
                           capture_output=True, text=True, timeout=600)
    require(index.returncode == 0, "the package index (pip install of the wheel's "
                                   "dependencies): "
                                   + (index.stderr.strip().splitlines() or [""])[-1][:200])
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)])
    wheel = next(wheels.glob("esus_runbook-*.whl"))

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", f"{wheel}[dask]"])
    # docs/instalacao.md's command to register the kernel for an installed (non-editable) package.
    assert ('python -m ipykernel install --sys-prefix --name esus-runbook --display-name '
            '"Python (esus-runbook)"') in (ROOT / "docs" / "instalacao.md").read_text("utf-8")
    _run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "esus-runbook",
          "--display-name", "Python (esus-runbook)"])

    where = _run([str(python), "-c", "import esus_runbook, pathlib; "
                  "print(pathlib.Path(esus_runbook.__file__).parent)"], cwd=tmp_path)
    package = Path(where.stdout.strip())
    assert ROOT not in package.parents, package
    assert sorted(p.name for p in (package / "notebooks").glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "notebooks").glob("*.ipynb"))

    work = tmp_path / "equipe"
    shutil.copytree(EXAMPLES, work / "examples")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "ESUS_RUNBOOK_NOTEBOOKS", "VIRTUAL_ENV")}
    env.update(demo_env())
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run([str(venv / "bin" / "esus-runbook"), "lote",
                           "examples/inventario.yaml", "--execucoes", "execucoes", "--paralelos", "2",
                           "--sem-progresso"], cwd=work, env=env, capture_output=True, text=True,
                          timeout=1200)
    assert proc.returncode in (0, 1, 3), proc.stderr[-4000:]
    (run,) = [p for p in (work / "execucoes").iterdir() if p.is_dir()]
    meta = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert meta["status"] == "concluido"
    assert Path(meta["options"]["notebooks_dir"]) == package / "notebooks"
    assert (run / "rollup.csv").is_file() and (run / "rollup.html").is_file()
    for site_dir in (p for p in run.iterdir() if p.is_dir() and not p.name.startswith("_")):
        assert (site_dir / "relatorio.html").is_file(), site_dir
