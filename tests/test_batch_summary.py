"""What ``run``/``batch`` print at the end (BatchSummary.render)."""

from __future__ import annotations

import shlex
from pathlib import Path

from esus_runbook.batch.runner import BatchSummary


def test_summary_counts_sites_by_status():
    s = BatchSummary(Path("/x/execucoes/20261201-1"), {"a": "ok", "b": "falha", "c": "ok"},
                     seconds=12.34, notebooks_executed=14, notebooks_reused=7)
    out, err = s.render("inv.yaml")
    assert out.splitlines() == [
        "Execução: /x/execucoes/20261201-1",
        "Consolidado: /x/execucoes/20261201-1/rollup.html",
        "Sites: 3 (1 falha, 2 ok) em 12.3 s; notebooks: 14 executados, 7 reaproveitados"]
    assert err == "" and s.exit_code == 1


def test_interrupted_run_shows_a_resume_command_that_a_shell_reads_back():
    inventory = "inv; rm -rf ~ $(id).yaml"
    run_dir = Path("/tmp/saída 'x'/run")
    s = BatchSummary(run_dir, {"a": "ok"}, interrupted=True)
    _, err = s.render(inventory)
    prefix = "Execução interrompida: retome com: "
    assert err.startswith(prefix) and s.exit_code == 130
    assert shlex.split(err[len(prefix):]) == ["esus-runbook", "lote", inventory, "--retomar",
                                              str(run_dir)]
