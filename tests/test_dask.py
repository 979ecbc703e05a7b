"""The batch on a real Dask cluster: a scheduler and two worker processes on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
from pathlib import Path

import nbformat
import pytest

from esus_runbook.sites.loading import load_site
from esus_runbook.stages import NOTEBOOK_FILES as NOTEBOOKS

from .support.batch_inputs import notebooks_with
from .support.batch_procs import (
    dask_cluster,
    hanging_sites,
    kill_if_running,
    only_run,
    rollup_triples,
    start_batch,
)
from .support.project import EXAMPLES, demo_env, run_cli
from .support.waiting import wait_until

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with dask_cluster(tmp_path_factory.mktemp("dask")) as c:
        yield c


def test_dask_gives_the_same_rollup_as_the_local_pool(cluster, demo_run, tmp_path):
    out = tmp_path / "out"
    proc = run_cli("lote", EXAMPLES / "inventario.yaml", "--execucoes", out, "--agendador",
                   cluster.address, "--sem-progresso", timeout=900)
    assert proc.returncode in (0, 1, 3), proc.stderr + cluster.logs()
    assert "Traceback" not in proc.stderr
    run = only_run(out)
    assert rollup_triples(run) == rollup_triples(demo_run)

    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "concluido"
    assert meta["options"]["engine"] == "dask"
    assert meta["options"]["scheduler"] == cluster.address
    assert len(meta["passes"][0]["executor"]["workers"]) == 2
    # every notebook ran on a worker, and its progress came back through the scheduler
    hosts = {s["host"] for s in meta["sites"].values()}
    assert all("tcp://127.0.0.1:" in h for h in hosts), hosts
    log = (run / "run.log").read_text()
    sites = {t[0] for t in rollup_triples(run)}
    assert log.count("situacao=") == len(sites) * len(NOTEBOOKS)
    assert "motor dask" in log
    for site in sites:
        for nb in NOTEBOOKS.values():
            executed = nbformat.read(run / site / nb, as_version=4)
            assert executed.metadata.papermill.parameters["site_id"] == site
    # the probe cleaned up after itself; no partial files
    assert not list(out.glob(".sonda-*"))
    assert not list(run.rglob("*.partial.ipynb"))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_exit_2_before_any_run_folder(tmp_path):
    out = tmp_path / "out"
    proc = run_cli("lote", EXAMPLES / "inventario.yaml", "--execucoes", out, "--agendador",
                   f"tcp://127.0.0.1:{_closed_port()}", timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "não foi possível conectar ao scheduler Dask" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists() or not [p for p in out.iterdir() if p.is_dir()]


def test_bad_scheduler_address_is_exit_2(tmp_path):
    proc = run_cli("lote", EXAMPLES / "inventario.yaml", "--execucoes", tmp_path / "out",
                   "--agendador", "10.0.0.5:8786")
    assert proc.returncode == 2
    assert "--agendador" in proc.stderr and "tcp://HOST:PORTA" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("hidden", ["saida", "entradas"])
def test_worker_without_shared_storage_is_refused(tmp_path, hidden):
    """One worker sees an empty tmpfs at the output folder, or at the folder of the sites'
    input files (its own mount namespace): same path, other storage. The probe must refuse
    the run before creating anything."""
    out = tmp_path / "out"
    out.mkdir()
    inputs = tmp_path / "inv"
    shutil.copytree(EXAMPLES, inputs)
    site = load_site(inputs / "sites" / "ubs-centro.yaml")
    probe = Path(site.ambiente["probe"])
    probe.parent.mkdir(parents=True, exist_ok=True)
    if not probe.exists():
        probe.write_text('{"schema": "esus-runbook/probe/1"}')
    hide = out if hidden == "saida" else probe.parent
    with dask_cluster(tmp_path / "dask", hide=hide) as c:
        proc = run_cli("lote", inputs / "inventario.yaml", "--execucoes", out, "--agendador",
                       c.address, "--sem-progresso", timeout=300)
        assert proc.returncode == 2, proc.stderr + c.logs()
        expected = "não enxerga a pasta de saída" if hidden == "saida" else f"não lê {probe}"
        assert expected in proc.stderr
        assert "armazenamento compartilhado" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert all(line.startswith("--agendador: ") for line in proc.stderr.splitlines())
        assert list(out.iterdir()) == []  # no run folder, probe folder removed


def test_worker_without_the_kernel_is_refused(cluster, tmp_path, monkeypatch):
    """A kernel registered only where the batch starts (JUPYTER_PATH of this process)."""
    from esus_runbook.batch import BatchOptions, run_batch
    from esus_runbook.errors import InputError

    spec = tmp_path / "jupyter" / "kernels" / "so-no-cliente"
    spec.mkdir(parents=True)
    from jupyter_client.kernelspec import KernelSpecManager

    base = KernelSpecManager().get_kernel_spec("esus-runbook")
    kernel = {"argv": base.argv, "display_name": "só no cliente", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    out = tmp_path / "out"
    with pytest.raises(InputError) as err:
        run_batch(EXAMPLES / "inventario.yaml",
                  BatchOptions(out=out, scheduler=cluster.address, kernel_name="so-no-cliente",
                               progress=False))
    assert "não tem o kernel Jupyter 'so-no-cliente'" in str(err.value)
    assert not [p for p in out.iterdir() if p.is_dir()]


@pytest.mark.parametrize("how", ["kill-9", "ctrl-c"])
def test_interrupted_dask_run_stops_worker_kernels_and_resumes(cluster, demo_run, tmp_path,
                                                               how):
    """The download notebook hangs on the workers. Killing the client (kill -9) releases its
    tasks and the workers kill their kernels; Ctrl-C kills them through the client. Then
    `--retomar` on the cluster finishes the run to the local pool's roll-up."""
    nbdir = notebooks_with(tmp_path, {NOTEBOOKS["download"]: "hangs"})
    out = tmp_path / "out"
    proc = start_batch("lote", EXAMPLES / "inventario.yaml", "--execucoes", out, "--agendador",
                       cluster.address, "--sem-progresso",
                       env={"ESUS_RUNBOOK_NOTEBOOKS": str(nbdir)})
    try:
        run = wait_until(lambda: next((p for p in out.glob("2*") if p.is_dir()), None), 120,
                         "the run folder")
        wait_until(lambda: len(hanging_sites(run)) >= 2, 300,
                   "two sites inside the hanging download notebook")
        wait_until(lambda: len(cluster.kernels()) >= 2, 60, "kernels on both workers")
        if how == "kill-9":
            os.kill(proc.pid, signal.SIGKILL)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=90)
    finally:  # a failed wait must not leave the batch running
        kill_if_running(proc)
    # the cells sleep for an hour: kernels gone within the deadline were killed
    wait_until(lambda: not cluster.kernels(), 20, "the workers' kernels to stop")
    status = json.loads((run / "run.json").read_text())["status"]
    if how == "kill-9":
        assert proc.returncode == -signal.SIGKILL and status == "em_andamento"
    else:
        assert proc.returncode == 130, stderr
        assert status == "interrompido" and "Traceback" not in stderr

    proc = run_cli("lote", EXAMPLES / "inventario.yaml", "--retomar", run, "--agendador",
                   cluster.address, "--sem-progresso", env=demo_env(), timeout=900)
    assert proc.returncode in (0, 1, 3), proc.stderr
    assert rollup_triples(run) == rollup_triples(demo_run)
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "concluido" and meta["passes"][1]["notebooks_reused"] >= 2
