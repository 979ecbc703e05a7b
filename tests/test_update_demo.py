"""The demo's update (esus_runbook.demo.update_demo) and the simulator's version and log: the
after half follows the simulated restart; a failed migration shows in the log check."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from esus_runbook.demo.pec_simulator import PecConfig, SimServer
from esus_runbook.demo.update_demo import FROM, TO, main
from esus_runbook.results import Checks
from esus_runbook.status import Status
from esus_runbook.upkeep.record import OpsRecord
from esus_runbook.upkeep.shell import LocalShell
from esus_runbook.upkeep.update import after


def test_demo_update_is_recorded_with_both_halves(tmp_path):
    assert main(["--execucoes", str(tmp_path)]) == 0
    files = sorted((tmp_path / "operacoes" / "ubs-centro").glob("atualizacao_*.json"))
    records = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    assert [r["tipo"] for r in records] == ["atualizacao_antes", "atualizacao_depois"]
    checks = {c["id"]: c for c in records[1]["checks"]}
    assert checks["ATU_VERSAO_APP"]["status"] == "ok"
    assert checks["ATU_VERSAO_APP"]["observed"] == TO
    assert checks["ATU_LOG"]["status"] == "ok"
    assert records[1]["metrics"]["de"] == FROM
    assert (tmp_path / "catalogo.sqlite").is_file()  # recorded at once


def test_simulator_log_shows_a_failed_migration(tmp_path):
    log = tmp_path / "pec.log"
    with SimServer(0, PecConfig(versao=FROM, log_path=log)) as sim:
        since = (datetime.now() - timedelta(seconds=2)).astimezone()
        before_rec = OpsRecord("ubs-x", "atualizacao_antes", metrics={"de": FROM},
                               finished_at=since.isoformat(timespec="seconds"))
        sim.upgrade(TO, migration_fails=True)
        checks = Checks()
        after({"instalacao": {"pec_url": sim.url},
               "atualizacao": {"log_pec": str(log), "pasta_pec": str(tmp_path),
                               "ssl_properties": str(tmp_path / "ssl.properties")}},
              TO, shell=LocalShell(), before_rec=before_rec, db_password=None, checks=checks)
    by = {c.id: c for c in checks}
    assert by["ATU_LOG"].status is Status.FALHA and "Falha ao migrar" in by["ATU_LOG"].observed
    assert by["ATU_VERSAO_APP"].status is Status.FALHA
    assert by["ATU_VERSAO_APP"].observed == FROM
    assert "Iniciando e-SUS APS PEC 0.0.1" in log.read_text(encoding="utf-8")
