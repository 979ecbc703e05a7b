"""--timeout kills a hung notebook (stage `erro` with the reason); --retries runs a crashed
stage again, but not one that timed out."""

from __future__ import annotations

import json

import pytest

from esus_runbook.stages import NOTEBOOK_FILES as NOTEBOOKS

from .support.batch_inputs import notebooks_with, one_site
from .support.batch_procs import KernelSampler, only_run, start_batch


def _run(tmp_path, replace: dict[str, str], *options: str, timeout: float = 600):
    nbdir = notebooks_with(tmp_path, replace)
    out = tmp_path / "out"
    proc = start_batch("executar", one_site(tmp_path), "--execucoes", out, "--sem-progresso",
                       *options,
                       env={"ESUS_RUNBOOK_NOTEBOOKS": str(nbdir)})
    with KernelSampler(proc.pid) as sampler:
        stdout, stderr = proc.communicate(timeout=timeout)
    run = only_run(out)
    meta = json.loads((run / "run.json").read_text())
    timings = {t["stage"]: t for t in meta["sites"]["sms-centralizado"]["notebooks"]}
    return proc.returncode, stderr, run, timings, sampler


@pytest.mark.notebooks
def test_hung_notebook_is_killed_at_the_timeout(tmp_path):
    rc, stderr, run, timings, sampler = _run(
        tmp_path, {NOTEBOOKS["instalacao"]: "hangs"}, "--timeout", "6", "--retries", "2")
    assert rc == 1, stderr
    site = run / "sms-centralizado"
    result = json.loads((site / "instalacao.json").read_text())
    assert result["status"] == "erro"
    assert "tempo limite de 6 s excedido" in result["error"]
    assert result["checks"][0]["id"] == "ETAPA_ERRO"
    # a timeout is not retried; the notebook was stopped near the deadline, not after the hour
    # (the whole run's wall time is not asserted: it is the machine's load, not the timeout)
    assert timings["instalacao"]["attempts"] == 1
    assert 5.5 <= timings["instalacao"]["seconds"] < 20
    # the executed notebook is kept (it shows where it stopped) and the run went on
    assert (site / NOTEBOOKS["instalacao"]).exists()
    assert json.loads((site / "xml.json").read_text())["status"] != "erro"
    assert (site / "relatorio.html").exists()
    assert "tempo limite de 6 s excedido" in (run / "run.log").read_text()
    assert not list(site.glob(".*.partial.ipynb"))
    # the hung kernel and every other kernel are gone
    assert len(sampler.seen) >= 1
    assert sampler.alive() == []


@pytest.mark.notebooks
def test_crashed_stage_is_retried(tmp_path):
    rc, stderr, run, timings, _ = _run(
        tmp_path, {NOTEBOOKS["download"]: "flaky"}, "--retries", "1")
    assert rc in (0, 1, 3), stderr
    result = json.loads((run / "sms-centralizado" / "download.json").read_text())
    assert result["status"] != "erro", result
    assert timings["download"]["attempts"] == 2
    log = (run / "run.log").read_text()
    assert "etapa=download tentativa 1 com erro" in log and "falha passageira" in log


@pytest.mark.notebooks
def test_without_retries_a_crash_stays_erro(tmp_path):
    rc, stderr, run, timings, _ = _run(tmp_path, {NOTEBOOKS["download"]: "flaky"})
    assert rc == 1, stderr
    result = json.loads((run / "sms-centralizado" / "download.json").read_text())
    assert result["status"] == "erro" and "falha passageira" in result["error"]
    assert timings["download"]["attempts"] == 1


def test_timeout_and_retries_are_validated(cli, tmp_path):
    for args, where in ((["--timeout", "0"], "--timeout"), (["--timeout", "x"], "--timeout"),
                        (["--retries", "-1"], "--retries")):
        proc = cli("executar", one_site(tmp_path), "--execucoes", tmp_path / "out", *args)
        assert proc.returncode == 2, args
        assert where in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
