"""`esus-runbook lab` (lab.py): workspaces, argument checks, the JupyterLab server it
starts on 127.0.0.1 and stops with everything it started. No notebook is executed here
(the browser flow is tests/test_lab_browser.py)."""

from __future__ import annotations

import json
import os
import shutil

import nbformat
import pytest

from esus_runbook import lab, resources

from .support.lab_server import lab_cli
from .support.project import EXAMPLES, NOTEBOOKS, ROOT, run_cli


def test_lab_prepares_one_workspace_per_site_and_keeps_outputs(tmp_path):
    entries = lab.discover(EXAMPLES / "inventario.yaml")
    assert [e.name for e in entries] == ["ubs-centro", "ubs-vila-nova", "sms-centralizado"]
    ws = tmp_path / "ws"
    folder = lab.prepare_workspace(entries[0], ws)
    nb = nbformat.read(folder / "02_ambiente.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert f'site_file = "{(EXAMPLES / "inventario.yaml").resolve()}"' in injected[0].source
    assert 'site_id = "ubs-centro"' in injected[0].source
    assert f'run_dir = "{ws}"' in injected[0].source and "interactive = True" in injected[0].source
    # the analyst's outputs survive a second `lab`; changed parameters are updated
    nb.cells[-1].outputs = [nbformat.v4.new_output("stream", text="nota do analista")]
    nbformat.write(nb, folder / "02_ambiente.ipynb")
    lab.prepare_workspace(lab.SiteEntry("ubs-centro", EXAMPLES / "sites" / "ubs-centro.yaml",
                                        "ubs-centro"), ws)
    nb = nbformat.read(folder / "02_ambiente.ipynb", as_version=4)
    assert nb.cells[-1].outputs[0]["text"] == "nota do analista"
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "ubs-centro.yaml" in injected[0].source
    # a new site file: named after the file, the form creates it
    assert lab.discover(tmp_path / "ubs-nova.yaml")[0].site_id is None


def test_lab_rejects_bad_arguments_in_one_line(tmp_path):
    for arg in (tmp_path / "x.txt", tmp_path):
        proc = run_cli("lab", arg, "--sem-navegador", timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


@pytest.mark.notebooks  # starts a JupyterLab server
def test_lab_command_serves_the_site_notebooks_on_localhost(tmp_path):
    shutil.copytree(EXAMPLES / "sites", tmp_path / "sites")
    site = tmp_path / "sites" / "ubs-centro.yaml"
    with lab_cli(str(site), "--out", str(tmp_path / "ws"), tmp=tmp_path) as lab:
        assert lab.url.startswith(f"http://127.0.0.1:{lab.port}/lab/tree/ubs-centro/"
                                  "01_cenario.ipynb?token=")
        assert len(lab.token) >= 32
        assert lab.api("/api/contents", token=False)[0] == 403  # the token is required
        code, body = lab.api("/api/kernelspecs")
        assert code == 200 and json.loads(body)["default"] == "esus-runbook"
        code, body = lab.api("/api/contents/ubs-centro/02_ambiente.ipynb")
        assert code == 200 and f'site_file = \\"{site}\\"' in body.decode()
        # a kernel started through JupyterLab must not outlive it
        code, body = lab.api("/api/sessions", "POST", {
            "path": "ubs-centro/01_cenario.ipynb", "type": "notebook",
            "kernel": {"name": "esus-runbook"}})
        assert code == 201, body
    out = "".join(lab.stdout)
    assert "Sites: ubs-centro" in out and lab.token in out


@pytest.mark.notebooks  # starts a JupyterLab server
def test_lab_without_argument_works_in_the_current_folder(tmp_path):
    """The notebooks are copied into ./notebooks (the shipped ones are never edited), the
    form's site folder is ./sites, results go to execucoes/interativo."""
    shipped = tmp_path / "pacote" / "notebooks"
    shutil.copytree(NOTEBOOKS, shipped)
    before = {p.name: p.read_bytes() for p in shipped.iterdir()}
    work = tmp_path / "trabalho"
    work.mkdir()
    with lab_cli(tmp=tmp_path, env={"ESUS_RUNBOOK_NOTEBOOKS": str(shipped)}, cwd=work) as lab:
        assert "/lab/tree/notebooks/01_cenario.ipynb?token=" in lab.url
        code, body = lab.api("/api/contents/notebooks")
        names = {c["name"] for c in json.loads(body)["content"]}
        assert {"01_cenario.ipynb", "07_relatorio.ipynb"} <= names
    assert not (work / "sites").exists()  # the form creates it on the first save
    nb = json.loads((work / "notebooks" / "01_cenario.ipynb").read_text(encoding="utf-8"))
    params = nb["metadata"]["papermill"]["parameters"]
    assert params["site_file"] == str(work / "sites") and params["interactive"] is True
    assert params["run_dir"] == str(work / "execucoes" / "interativo")
    assert {p.name: p.read_bytes() for p in shipped.iterdir()} == before


@pytest.mark.notebooks  # would start a JupyterLab server if it did not refuse
def test_lab_refuses_the_package_and_its_notebooks_folder():
    for where in (ROOT / "esus_runbook", resources.notebooks_dir(), ROOT):
        proc = run_cli("lab", "--sem-navegador", cwd=where, timeout=60)
        assert proc.returncode == 2, (where, proc.stderr)
        assert "esta pasta é do próprio esus-runbook" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.notebooks  # starts a JupyterLab server
def test_killed_lab_leaves_no_server_behind(tmp_path):
    """Even a SIGKILLed `esus-runbook lab` (no cleanup possible) takes JupyterLab along."""
    import signal
    import subprocess
    import sys

    import psutil

    from .support.lab_server import jupyter_env

    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    env = {**os.environ, **jupyter_env(tmp_path),
           "ESUS_RUNBOOK_NOTEBOOKS": str(tmp_path / "notebooks")}
    work = tmp_path / "trabalho"
    work.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "esus_runbook", "lab", "--sem-navegador"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env, cwd=work)
    try:
        for line in proc.stdout:
            if "Abra no navegador" in line:
                break
        servers = psutil.Process(proc.pid).children(recursive=True)
        assert servers, "JupyterLab was not started"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    _, alive = psutil.wait_procs(servers, timeout=60)
    for p in alive:
        p.kill()
    assert not alive
