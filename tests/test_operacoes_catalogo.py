"""The evidence after go-live in the record: the catalog's migration 2 (an old catalog still
imports), `catalogo importar` reading <execucoes>/operacoes, the dossier's section per update
with the latest backup and certificate, and the painel's tables of the field."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import lxml.html
import pytest

from esus_runbook.catalog import catalog_path, connect
from esus_runbook.catalog.schema import MIGRATIONS, VERSION, _statements
from esus_runbook.demo.rollout_history import SiteSpec, write_run_folder
from esus_runbook.installer.releases import Registry
from esus_runbook.results import STAGES
from esus_runbook.status import Status
from esus_runbook.upkeep.backup import evidence
from esus_runbook.upkeep.record import OpsRecord, save
from esus_runbook.upkeep.shell import LocalShell

from .support.tls_server import TlsServer, make_ca, make_leaf

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=timezone.utc)


def _executions(tmp_path: Path) -> Path:
    base = tmp_path / "execucoes"
    ok = {s: [(f"{s.upper()}_BASE", f"Base de {s}", "ok")] for s in STAGES}
    write_run_folder(base, "20260901-090000-aaaa", T0,
                     [SiteSpec("ubs-centro", "UBS Centro", stages=ok),
                      SiteSpec("ubs-vila-nova", "UBS Vila Nova", stages=ok)])
    # ubs-centro: an update from 5.5.22 to 5.5.24, both halves
    before = OpsRecord("ubs-centro", "atualizacao_antes", metrics={
        "de": "5.5.22", "para": "5.5.24", "comando": "LANG=pt_BR.UTF-8 java -jar "
        "eSUS-AB-PEC-5.5.24-Linux64.jar -console -continue"})
    before.checks.add("ATU_LIQUIBASE", "Sem trava de migração (Liquibase)", Status.OK,
                      "databasechangeloglock.locked = false", "livre")
    save(before, base)
    after = OpsRecord("ubs-centro", "atualizacao_depois", metrics={
        "de": "5.5.22", "para": "5.5.24", "versao_app": "5.5.24", "versao_banco": "5.5.24"})
    after.checks.add("ATU_VERSAO_BANCO", "Versão do banco (VERSAOBANCODADOS)", Status.OK,
                     "5.5.24", "5.5.24")
    save(after, base)
    # ubs-vila-nova: a backup measured on a folder that does not exist (falha)
    rec = OpsRecord("ubs-vila-nova", "backup")
    rec.metrics.update(evidence(LocalShell(), {"backup": {"pasta": str(tmp_path / "nada"),
                                                          "janela_horas": 24}}, rec.checks))
    save(rec, base)
    return base


def test_old_catalog_migrates_and_imports_the_operations(tmp_path, cli_main):
    base = _executions(tmp_path)
    old = catalog_path(base)
    conn = sqlite3.connect(old, isolation_level=None)
    for statement in _statements(MIGRATIONS[0]):  # a catalog written before migration 2
        conn.execute(statement)
    conn.execute("INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00+00:00')")
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    proc = cli_main("catalogo", "importar", base)
    assert proc.returncode == 0, proc.stderr
    assert "3 evidências depois da implantação" in proc.stdout
    conn = connect(old)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION == 3
    assert conn.execute("SELECT count(*) FROM operations").fetchone()[0] == 3
    # migration 3: the painel's summary of every site, kept by the import (nothing dirty)
    assert conn.execute("SELECT count(*) FROM painel_sites").fetchone()[0] == \
        conn.execute("SELECT count(DISTINCT site_id) FROM stage_results").fetchone()[0] > 0
    assert conn.execute("SELECT count(*) FROM painel_dirty").fetchone()[0] == 0
    conn.close()
    cli_main("catalogo", "importar", base)  # idempotent: by path
    conn = connect(old)
    assert conn.execute("SELECT count(*) FROM operations").fetchone()[0] == 3
    conn.close()


def test_dossier_has_the_update_backup_and_certificate(tmp_path, cli_main):
    base = _executions(tmp_path)
    ca = make_ca(tmp_path)
    cert, key = make_leaf(tmp_path, ["pec.centro.ba.gov.br"], ca=ca, days=12)
    site = tmp_path / "centro.yaml"
    with TlsServer(cert, key) as server:
        site.write_text(f"""site_id: ubs-centro
nome: UBS Centro
municipio_ibge: "2927408"
instalacao:
  https_dominio: pec.centro.ba.gov.br
  https_porta: {server.port}
certificado:
  endereco: 127.0.0.1
  ca_arquivo: {ca.path}
""", encoding="utf-8")
        proc = cli_main("certificado", site, "--execucoes", base)  # recorded in the catalog at once
    assert proc.returncode == 0, proc.stderr
    cli_main("catalogo", "importar", base)
    proc = cli_main("dossie", "ubs-centro", "--execucoes", base)
    assert proc.returncode == 0, proc.stderr
    doc = lxml.html.parse(str(base / "dossies" / "ubs-centro.html")).getroot()
    update = doc.get_element_by_id("operacoes").find_class("atualizacao")
    assert len(update) == 1 and update[0].get("data-para") == "5.5.24"
    assert "De 5.5.22 para 5.5.24" in update[0].text_content()
    assert doc.get_element_by_id("atualizacao-1-antes") is not None
    assert doc.get_element_by_id("atualizacao-1-depois") is not None
    cert_table = doc.get_element_by_id("certificado")
    assert "CRT_VALIDADE" in cert_table.text_content()
    assert doc.get_element_by_id("sem-backup") is not None  # none measured for this site

    proc = cli_main("painel", "--execucoes", base)
    assert proc.returncode == 0, proc.stderr
    panel = lxml.html.parse(str(base / "painel.html")).getroot()
    versions = {tr.get("data-versao"): tr.find_class("num")[0].text_content()
                for tr in panel.get_element_by_id("tabela-versoes").iter("tr")
                if tr.get("data-versao")}
    assert versions == {"5.5.24": "1", "desconhecida": "1"}
    latest = Registry(None).known_versions("linux")[-1]
    assert panel.get_element_by_id("ultima-registrada").text_content() == latest
    backups = {tr.get("data-site"): tr.text_content()
               for tr in panel.get_element_by_id("tabela-backups").iter("tr")
               if tr.get("data-site")}
    assert "BKP_PASTA" in backups["ubs-vila-nova"]
    assert "sem evidência" in backups["ubs-centro"]
    certs = [tr.get("data-site") for tr in panel.get_element_by_id("tabela-certificados")
             .iter("tr") if tr.get("data-site")]
    assert certs == ["ubs-centro"]
    xml = {tr.get("data-site"): tr.text_content()
           for tr in panel.get_element_by_id("tabela-xml").iter("tr") if tr.get("data-site")}
    assert set(xml) == {"ubs-centro", "ubs-vila-nova"}
    expected_days = (datetime.now(timezone.utc) - (T0 + timedelta(minutes=6))).days
    assert str(expected_days) in xml["ubs-centro"]



@pytest.mark.parametrize("name,content", [
    ("fora-da-regra", '{"schema": "esus-runbook/operacao/1", "site_id": "../../x", '
                      '"tipo": "backup", "status": "ok", "checks": [], "metrics": {}, '
                      '"started_at": "2026-09-01T09:00:00+00:00"}'),
    ("aninhado", "[" * 100_000 + "]" * 100_000),
    ("numero-gigante", '{"schema": "esus-runbook/operacao/1", "x": ' + "9" * 5000 + "}"),
    ("utf8-invalido", b'{"schema": "\xff"}'),
    ("tipo-errado", '{"schema": "esus-runbook/operacao/1", "site_id": "ubs-centro", '
                    '"tipo": "backup", "status": "ok", "checks": "nada", "metrics": [], '
                    '"started_at": 5}'),
])
def test_forged_operation_files_are_skipped_by_name(tmp_path, cli_main, name, content):
    """catalogo importar distrusts operacoes/ as it distrusts the run folders: a forged file
    is skipped with its name, the good records are still imported."""
    base = _executions(tmp_path)
    forged = base / "operacoes" / "ubs-centro" / f"{name}.json"
    if isinstance(content, bytes):
        forged.write_bytes(content)
    else:
        forged.write_text(content, encoding="utf-8")
    proc = cli_main("catalogo", "importar", base)
    assert proc.returncode == 0, proc.stderr
    assert "3 evidências depois da implantação" in proc.stdout
    assert f"{name}.json: evidência ilegível" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x").exists()
