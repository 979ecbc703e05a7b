"""What ``run``/``batch`` print at the end and return (BatchSummary: a CommandReport)."""

from __future__ import annotations

import shlex
from pathlib import Path

from esus_runbook.batch.runner import BatchSummary
from esus_runbook.status import CommandReport, ExitCode


def test_summary_counts_sites_by_status():
    s = BatchSummary(Path("/x/execucoes/20261201-1"), {"a": "ok", "b": "falha", "c": "ok"},
                     seconds=12.34, notebooks_executed=14, notebooks_reused=7)
    assert isinstance(s, CommandReport)
    out, err = s.text(), s.notices()
    assert out.splitlines() == [
        "Execução: /x/execucoes/20261201-1",
        "Consolidado: /x/execucoes/20261201-1/rollup.html",
        "Locais de implantação: 3 (1 falha, 2 ok) em 12.3 s; notebooks: 14 executados, "
        "7 reaproveitados"]
    assert err == "" and s.exit_code == ExitCode.FINDINGS == 1


def test_exit_code_table_failure_over_pendente_over_ok():
    run = Path("/x/execucoes/20261201-1")
    assert BatchSummary(run, {"a": "ok", "b": "alerta"}).exit_code == ExitCode.OK
    assert BatchSummary(run, {"a": "ok", "b": "pendente"}).exit_code == ExitCode.UNDECIDED == 3
    assert BatchSummary(run, {"a": "pendente", "b": "falha"}).exit_code == ExitCode.FINDINGS
    assert BatchSummary(run, {"a": "erro"}).exit_code == ExitCode.FINDINGS
    # a crashed notebook (the report's) is a finding even when every stage is pendente
    assert BatchSummary(run, {"a": "pendente"}, notebook_errors=1).exit_code == 1
    assert BatchSummary(run, {"a": "falha"}, interrupted=True).exit_code == 130


def test_interrupted_run_shows_a_resume_command_that_a_shell_reads_back():
    inventory = "inv; rm -rf ~ $(id).yaml"
    run_dir = Path("/tmp/saída 'x'/run")
    s = BatchSummary(run_dir, {"a": "ok"}, interrupted=True, inventory=inventory)
    err = s.notices()
    prefix = "Execução interrompida: retome com: "
    assert err.startswith(prefix) and s.exit_code == 130
    assert shlex.split(err[len(prefix):]) == ["esus-runbook", "lote", inventory, "--retomar",
                                              str(run_dir)]


def _run_with(tmp_path, n: int) -> Path:
    from datetime import datetime, timedelta, timezone

    from esus_runbook.demo.rollout_history import SiteSpec, write_run_folder
    from esus_runbook.report import render_site_report
    from esus_runbook.results import STAGES

    ok = {s: [(f"{s.upper()}_A", "A", "ok")] for s in STAGES}
    bad = dict(ok, ambiente=[("AMB_LOCALE", "Locale pt_BR.UTF-8", "falha", "pt_BR.UTF-8",
                              "ausente", "Gere o locale: `sudo locale-gen pt_BR.UTF-8`.")])
    sites = [SiteSpec(f"ubs-{i:02d}", f"UBS {i}", stages=bad if i % 2 else ok)
             for i in range(n)]
    run = write_run_folder(tmp_path, "20261201-1", datetime(2026, 12, 1, 8, tzinfo=timezone(
        timedelta(hours=-3))), sites)
    for s in sites:
        render_site_report(run / s.site_id)
    return run


def test_each_site_gets_its_verdict_first_steps_and_report_path(tmp_path):
    run = _run_with(tmp_path, 2)
    s = BatchSummary(run, {"ubs-00": "ok", "ubs-01": "falha"})
    lines = s.text().splitlines()[3:]
    assert lines == [
        "ubs-01: Não pronto: há falhas a corrigir",  # the worst first
        "  1. [falha] AMB_LOCALE Preparação do ambiente: Gere o locale: "
        "sudo locale-gen pt_BR.UTF-8.",
        f"  Relatório: {run / 'ubs-01' / 'relatorio.html'}",
        "ubs-00: Pronto para produção",
        f"  Relatório: {run / 'ubs-00' / 'relatorio.html'}"]


def test_a_large_batch_prints_one_line_per_site(tmp_path):
    run = _run_with(tmp_path, 12)
    s = BatchSummary(run, {f"ubs-{i:02d}": "falha" if i % 2 else "ok" for i in range(12)})
    lines = s.text().splitlines()[3:]
    assert len(lines) == 12
    assert lines[0] == (f"ubs-01: Não pronto: há falhas a corrigir; 1º passo: AMB_LOCALE "
                        f"(Preparação do ambiente); {run / 'ubs-01' / 'relatorio.html'}")
