"""Resuming a batch: after kill -9, Ctrl-C or SIGTERM, `--retomar` finishes the run to the
same roll-up as an uninterrupted one; complete stages with unchanged inputs are reused, and
nothing is ever left half written under a final name."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

import nbformat
import pytest

from esus_runbook import stages
from esus_runbook.results import STAGES, StageResult
from esus_runbook.sites.loading import load_site
from esus_runbook.stages import NOTEBOOK_FILES as NOTEBOOKS
from esus_runbook.status import Status

from .support.batch_inputs import notebooks_with
from .support.batch_procs import (
    KernelSampler,
    hanging_sites,
    kill_if_running,
    only_run,
    rollup_triples,
    start_batch,
)
from .support.project import EXAMPLES, demo_env, run_cli
from .support.waiting import wait_until

# `notebooks` from the demo_run fixture or marked below; the fingerprint tests run no kernel.


def _results(run: Path) -> list[Path]:
    return [p for p in run.glob("*/*.json")
            if p.name != "site.json" and not p.name.startswith(".")]


def _assert_nothing_half_written(run: Path) -> None:
    """Every file under a final name is complete: results load, notebooks parse."""
    for p in _results(run):
        r = StageResult.load(p)
        assert r.finished_at is not None, p
    for p in run.glob("*/[0-9][0-9]_*.ipynb"):
        nbformat.read(p, as_version=4)
    for p in ("run.json",):
        json.loads((run / p).read_text())


def _pass_timings(run: Path) -> dict[tuple[str, str], dict]:
    meta = json.loads((run / "run.json").read_text())
    return {(sid, t["stage"]): t for sid, s in meta["sites"].items()
            for t in s.get("notebooks", [])}


def test_kill_9_mid_run_then_resume_gives_the_same_rollup(tmp_path, demo_run):
    out = tmp_path / "out"
    proc = start_batch("lote", EXAMPLES / "inventario.yaml", "--execucoes", out, "--paralelos", "2",
                       "--sem-progresso")
    with KernelSampler(proc.pid) as sampler:
        try:
            run = wait_until(lambda: next((p for p in out.glob("2*") if p.is_dir()), None), 120,
                             "the run folder")
            wait_until(lambda: len(_results(run)) >= 5 and sampler.sample(), 300,
                       "five stage results and a running kernel")
            os.kill(proc.pid, signal.SIGKILL)  # kill -9: no cleanup at all
            proc.wait(timeout=30)
        finally:  # a failed wait must not leave the batch running
            kill_if_running(proc)
    assert proc.returncode == -signal.SIGKILL
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "em_andamento"
    _assert_nothing_half_written(run)
    # orphaned kernels notice their parent died and exit (ipykernel's parent poller)
    wait_until(lambda: not sampler.alive(), 15, "orphaned kernels to exit")
    done_before = {p: p.stat().st_mtime_ns for p in _results(run)}

    proc = run_cli("lote", EXAMPLES / "inventario.yaml", "--retomar", run, "--sem-progresso",
                   env=demo_env())
    assert proc.returncode in (0, 1, 3), proc.stderr
    assert [p for p in out.iterdir() if p.is_dir()] == [run]  # no new run folder
    assert rollup_triples(run) == rollup_triples(demo_run)
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "concluido"
    assert [p["resumed"] for p in meta["passes"]] == [False, True]
    assert meta["passes"][1]["notebooks_reused"] >= 1
    # complete stages from before the kill were reused, not rewritten
    reused = [p for p, t in done_before.items()
              if _pass_timings(run)[(p.parent.name, p.stem)]["skipped"]]
    assert reused and all(p.stat().st_mtime_ns == done_before[p] for p in reused)
    assert not list(run.rglob(".*.partial.ipynb")) and not list(run.rglob(".*.tmp"))
    for site in {t[0] for t in rollup_triples(run)}:
        assert (run / site / "relatorio.html").exists()
        for nb in NOTEBOOKS.values():
            nbformat.read(run / site / nb, as_version=4)
    assert "retomada" in (run / "run.log").read_text()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_stops_cleanly_and_resume_finishes(tmp_path, demo_run, signum):
    """A stage hangs; the signal reaches the batch's process group (Ctrl-C in a terminal)
    or the batch alone (SIGTERM from a service manager)."""
    nbdir = notebooks_with(tmp_path, {NOTEBOOKS["download"]: "hangs"})
    out = tmp_path / "out"
    proc = start_batch("lote", EXAMPLES / "inventario.yaml", "--execucoes", out, "--paralelos", "2",
                       "--sem-progresso", env={"ESUS_RUNBOOK_NOTEBOOKS": str(nbdir)})
    with KernelSampler(proc.pid) as sampler:
        try:
            run = wait_until(lambda: next((p for p in out.glob("2*") if p.is_dir()), None), 120,
                             "the run folder")
            wait_until(lambda: len(hanging_sites(run)) >= 2, 300,
                       "both sites inside the hanging download notebook")
            wait_until(lambda: len(sampler.sample()) >= 2, 60, "two running kernels")
            if signum == signal.SIGINT:
                os.killpg(proc.pid, signal.SIGINT)
            else:
                proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=60)
        finally:  # a failed wait must not leave the batch running
            kill_if_running(proc)
        kernels = dict(sampler.seen)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "--retomar" in stderr and str(run) in stderr
    assert len(kernels) >= 2
    assert sampler.alive() == []  # no orphan kernel, right when the batch returned
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "interrompido"
    assert _catalog_runs(out) == [(run.name, "interrompido", 1)]  # recorded, marked so
    _assert_nothing_half_written(run)
    # the interrupted stage left nothing: no result, no notebook, no temporary file
    for site in ("ubs-centro", "ubs-vila-nova"):
        assert not (run / site / "download.json").exists()
        assert not (run / site / NOTEBOOKS["download"]).exists()
    assert not list(run.rglob(".*.partial.ipynb"))
    assert "interrompida" in (run / "run.log").read_text()

    proc = run_cli("lote", EXAMPLES / "inventario.yaml", "--retomar", run, "--sem-progresso",
                   env=demo_env())
    assert proc.returncode in (0, 1, 3), proc.stderr
    assert rollup_triples(run) == rollup_triples(demo_run)
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "concluido" and len(meta["passes"]) == 2
    assert _catalog_runs(out) == [(run.name, "concluido", 0)]  # the same run, updated
    timings = _pass_timings(run)
    assert timings[("ubs-centro", "cenario")]["skipped"]
    assert not timings[("ubs-centro", "download")]["skipped"]


def _catalog_runs(executions: Path) -> list[tuple]:
    from esus_runbook.catalog import catalog_path, connect

    conn = connect(catalog_path(executions))
    try:
        return conn.execute("SELECT run_id, status, interrupted FROM runs").fetchall()
    finally:
        conn.close()


def _copy_site(tmp_path: Path, name: str = "ubs-centro.yaml") -> Path:
    folder = tmp_path / "inv"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("inventario.yaml"))
    return folder / "sites" / name


@pytest.mark.notebooks
def test_resume_reuses_unchanged_stages_and_reruns_changed_ones(tmp_path):
    site_file = _copy_site(tmp_path)
    out = tmp_path / "out"
    assert run_cli("executar", site_file, "--execucoes", out, "--sem-progresso",
                   env={"ESUS_CC_UBS_CENTRO": "DEMO-7Kq2-Zt9w-Lp4x-Rm8v"}).returncode in (0, 1, 3)
    run = only_run(out)
    before = {p.name: p.stat().st_mtime_ns for p in (run / "ubs-centro").iterdir()}

    # nothing changed: every notebook is reused, nothing is rewritten
    proc = run_cli("lote", site_file, "--retomar", run, "--sem-progresso",
                   env={"ESUS_CC_UBS_CENTRO": "DEMO-7Kq2-Zt9w-Lp4x-Rm8v"})
    assert proc.returncode in (0, 1, 3), proc.stderr
    assert all(t["skipped"] for t in _pass_timings(run).values())
    assert "7 reaproveitados" in proc.stdout
    for name in [*(f"{s}.json" for s in STAGES), *NOTEBOOKS.values(), "relatorio.html"]:
        assert (run / "ubs-centro" / name).stat().st_mtime_ns == before[name], name

    # the probe file (an input file of ambiente) and the secret (contra_chave) change
    probe = Path(load_site(site_file).ambiente["probe"])
    probe.parent.mkdir(parents=True, exist_ok=True)
    probe.write_text(json.dumps({"schema": "esus-runbook/probe/1", "alterada": time.time()}))
    proc = run_cli("lote", site_file, "--retomar", run, "--sem-progresso",
                   env={"ESUS_CC_UBS_CENTRO": "DEMO-outra-contra-chave-1234"})
    assert proc.returncode in (0, 1, 3), proc.stderr
    timings = _pass_timings(run)
    ran = {stage for (_, stage), t in timings.items() if not t["skipped"]}
    # the two changed stages, every stage that read one of their results (recorded as
    # resultado.<stage> in its inputs), and the report
    expected = {"ambiente", "contra_chave"}
    for stage in STAGES:
        inputs = json.loads((run / "ubs-centro" / f"{stage}.json").read_text())["inputs"]
        if any(f"resultado.{dep}" in inputs for dep in expected):
            expected.add(stage)
    assert ran == expected | {"relatorio"}, ran
    assert "cenario" not in ran and "xml" not in ran
    assert (run / "ubs-centro" / "cenario.json").stat().st_mtime_ns == before["cenario.json"]


@pytest.mark.notebooks
def test_resume_refusals(tmp_path, cli):
    site_file = _copy_site(tmp_path)
    out = tmp_path / "out"
    # not a run folder
    proc = cli("lote", site_file, "--retomar", tmp_path)
    assert proc.returncode == 2 and "não é uma pasta de execução" in proc.stderr
    assert cli("executar", site_file, "--execucoes", out, "--sem-progresso").returncode in (0, 1, 3)
    run = only_run(out)
    # an inventory without a site the run has
    other = _copy_site(tmp_path / "b", "ubs-vila-nova.yaml")
    proc = cli("lote", other, "--retomar", run)
    assert proc.returncode == 2 and "ubs-centro" in proc.stderr
    assert "Traceback" not in proc.stderr
    # a run that another process is executing (holds the lock)
    from esus_runbook.batch.runner import RunLock

    lock = RunLock(run).acquire()
    try:
        proc = cli("lote", site_file, "--retomar", run)
        assert proc.returncode == 2 and "em andamento em outro processo" in proc.stderr
    finally:
        lock.release()


# ----------------------------------------------------------------- fingerprints (no kernels)
def test_stage_records_the_earlier_results_it_read(tmp_path):
    site = load_site(EXAMPLES / "sites" / "ubs-centro.yaml")
    site_dir = tmp_path / site.site_id
    cen = stages.evaluate("cenario", site, stages.StageContext(site_dir))
    cen.save(site_dir)
    ctx = stages.StageContext(site_dir)
    assert ctx.previous("cenario") is not None
    r = stages.evaluate("ambiente", site, ctx)
    assert r.inputs["resultado.cenario"] == stages.result_digest(cen)
    assert stages.current_inputs("ambiente", site, r.inputs, site_dir) == r.inputs
    # the same outcome written again later (new timestamps) is not a change…
    again = StageResult.from_dict({**cen.to_dict(), "finished_at": "2030-01-01T00:00:00"})
    again.save(site_dir)
    assert stages.current_inputs("ambiente", site, r.inputs, site_dir) == r.inputs
    # …another outcome is
    cen.status = Status.FALHA
    cen.save(site_dir)
    assert stages.current_inputs("ambiente", site, r.inputs, site_dir) != r.inputs


def test_large_files_are_fingerprinted_by_size_mtime_and_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(stages.context, "HASH_LIMIT", 1024)
    monkeypatch.setattr(stages.context, "SAMPLE", 100)
    f = tmp_path / "grande.zip"
    f.write_bytes(b"a" * 5000)
    first = stages.file_fingerprint(f)
    assert first.startswith("sample:5000:")
    assert stages.file_fingerprint(f) == first
    f.write_bytes(b"a" * 4999 + b"b")  # same size, last byte changed
    assert stages.file_fingerprint(f) != first
    small = tmp_path / "pequeno.json"
    small.write_text("{}")
    assert stages.file_fingerprint(small).startswith("sha256:")
    assert stages.file_fingerprint(tmp_path / "nao-existe") is None
