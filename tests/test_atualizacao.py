"""The update runbook (esus_runbook.upkeep.update): the before half and the after half on the
real test PostgreSQL (PEC-like tb_config_sistema and Liquibase's lock table), the demo's PEC
simulator answering a version, a PEC log and this machine's shell; the `atualizacao` command
end to end with its records."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from esus_runbook import schemas
from esus_runbook.demo.pec_simulator import PecConfig
from esus_runbook.installer.releases import Registry
from esus_runbook.results import Checks
from esus_runbook.secret_refs import Secret
from esus_runbook.ssh.client import SshOptions, connect
from esus_runbook.ssh_target import parse_target
from esus_runbook.status import Status
from esus_runbook.upkeep.record import OpsRecord
from esus_runbook.upkeep.shell import LocalShell, RemoteShell
from esus_runbook.upkeep.update import _services, after, before, read_server

from .support.upkeep import TARGET, backup_folder, update_site


def _before(site, installer, postgres):
    checks = Checks()
    metrics = before(site, TARGET, shell=LocalShell(), registry=installer[1],
                     installer=str(installer[0]), db_password=Secret(postgres.esus_password,
                                                                     "teste"), checks=checks)
    return {c.id: c for c in checks}, metrics


def test_before_half_with_everything_in_place(tmp_path, postgres, pec, installer, dumps,
                                              http_server):
    backup_folder(tmp_path, dumps, "good")
    sim = http_server(PecConfig(versao="5.5.24"))
    checks, metrics = _before(update_site(tmp_path, postgres, pec[0], sim.url), installer, postgres)
    not_ok = {k: (c.status, c.observed) for k, c in checks.items() if c.status is not Status.OK}
    assert set(not_ok) <= {"ATU_SERVICOS"}, not_ok  # no systemd on the test machine
    assert checks["ATU_SERVICOS"].status is Status.PENDENTE
    assert metrics["de"] == "5.5.24" and metrics["link_instalacao"] == \
        "https://pec.municipio.ba.gov.br"
    assert metrics["comando"].endswith(f"eSUS-AB-PEC-{TARGET}-Linux64.jar -console -continue "
                                       "-backup")
    assert metrics["comando"].startswith("LANG=pt_BR.UTF-8 java -jar ")
    assert metrics["tamanho_banco"] > 0 and len(metrics["ssl_sha256"]) == 64
    assert "layouts do XML" in metrics["notas"]
    assert "segredo-do-keystore" not in json.dumps(metrics)


def test_before_half_refuses_lock_removeipc_and_missing_backup(tmp_path, postgres, pec,
                                                                installer, http_server):
    with pec[1]() as c:
        c.execute("UPDATE databasechangeloglock SET locked = true, lockgranted = now(), "
                  "lockedby = 'pec-servidor (10.0.0.5)'")
    sim = http_server(PecConfig(versao="5.5.24"))
    site = update_site(tmp_path, postgres, pec[0], sim.url, removeipc=None, backup=False)
    checks, _ = _before(site, installer, postgres)
    assert checks["ATU_LIQUIBASE"].status is Status.FALHA
    assert "pec-servidor" in checks["ATU_LIQUIBASE"].observed
    assert checks["ATU_REMOVEIPC"].status is Status.FALHA  # systemd's default is yes
    assert checks["ATU_BACKUP"].status is Status.PENDENTE


def test_before_half_refuses_a_downgrade_and_an_unknown_installer(tmp_path, postgres, pec,
                                                                  installer, http_server):
    sim = http_server(PecConfig(versao="5.6.0"))
    site = update_site(tmp_path, postgres, pec[0], sim.url)
    checks = Checks()
    before(site, TARGET, shell=LocalShell(), registry=Registry(None), installer=None,
           db_password=Secret(postgres.esus_password, "teste"), checks=checks)
    by = {c.id: c for c in checks}
    assert by["ATU_VERSAO_ATUAL"].status is Status.FALHA
    assert by["ATU_REGISTRO"].status is Status.FALHA
    assert by["ATU_INSTALADOR"].status is Status.PENDENTE


def _log(path: Path, lines: list[tuple[datetime, str]]) -> None:
    path.write_text("".join(f"{t:%Y-%m-%d %H:%M:%S}.000 INFO {m}\n" for t, m in lines))


def _after(site, postgres, before_rec):
    checks = Checks()
    metrics = after(site, TARGET, shell=LocalShell(), before_rec=before_rec,
                    db_password=Secret(postgres.esus_password, "teste"), checks=checks)
    return {c.id: c for c in checks}, metrics


def test_after_half_good_and_bad(tmp_path, postgres, pec, installer, dumps, http_server):
    backup_folder(tmp_path, dumps, "good")
    old = http_server(PecConfig(versao="5.5.24"))
    site = update_site(tmp_path, postgres, pec[0], old.url)
    _, metrics = _before(site, installer, postgres)
    done = datetime.now().astimezone()
    assert metrics["hora_servidor"]  # the server's clock, read by the before half
    metrics["hora_servidor"] = (done - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S")
    rec = OpsRecord("ubs-x", "atualizacao_antes", metrics=metrics,
                    finished_at=(done - timedelta(minutes=10)).isoformat(timespec="seconds"))
    log = Path(site["atualizacao"]["log_pec"])
    naive = done.replace(tzinfo=None)
    # an old failure, before the update, is not this update's
    _log(log, [(naive - timedelta(days=3), "Falha ao migrar o Banco de Dados"),
               (naive - timedelta(minutes=2), "Iniciando e-SUS APS PEC"),
               (naive - timedelta(minutes=1), "Migração concluída")])
    new = http_server(PecConfig(versao=TARGET))
    site["instalacao"]["pec_url"] = new.url
    with pec[1]() as c:
        c.execute("UPDATE tb_config_sistema SET ds_texto = %s WHERE co_config_sistema = "
                  "'VERSAOBANCODADOS'", (TARGET,))
    checks, _ = _after(site, postgres, rec)
    not_ok = {k: (c.status, c.observed) for k, c in checks.items() if c.status is not Status.OK}
    assert set(not_ok) == {"ATU_SERVICOS"}, not_ok

    # the migration failed: database behind, a failure logged since, HTTPS config changed
    with pec[1]() as c:
        c.execute("UPDATE tb_config_sistema SET ds_texto = '5.5.24' WHERE co_config_sistema = "
                  "'VERSAOBANCODADOS'")
        c.execute("UPDATE tb_config_sistema SET ds_texto = 'http://10.0.0.5:8080' WHERE "
                  "co_config_sistema = 'LINKINSTALACAO'")
    _log(log, [(naive - timedelta(minutes=1), "ERRO Falha ao migrar o Banco de Dados: senha="
                "abc123 cpf 123.456.789-09")])
    Path(site["atualizacao"]["ssl_properties"]).write_text("server.ssl.enabled=false\n")
    checks, _ = _after(site, postgres, rec)
    for cid in ("ATU_VERSAO_BANCO", "ATU_LOG", "ATU_LINK", "ATU_HTTPS"):
        assert checks[cid].status is Status.FALHA, cid
    assert "abc123" not in checks["ATU_LOG"].observed
    assert "123.456.789-09" not in checks["ATU_LOG"].observed
    assert checks["ATU_VERSAO_APP"].status is Status.OK


def test_atualizacao_command_records_both_halves(tmp_path, postgres, pec, installer, dumps,
                                                 http_server, cli_main):
    backup_folder(tmp_path, dumps, "good")
    sim = http_server(PecConfig(versao="5.5.24"))
    data = update_site(tmp_path, postgres, pec[0], sim.url)
    site = tmp_path / "site.yaml"
    at = data["atualizacao"]
    site.write_text(f"""site_id: ubs-atu
nome: UBS Atualização
municipio_ibge: "2927408"
instalador:
  versao: {TARGET}
  arquivo: {installer[0]}
instalacao:
  pec_url: {sim.url}
  db_url: {pec[0]}
  db_password_env: PEC_DB_SENHA_TESTE
backup:
  pasta: {data['backup']['pasta']}
  padrao: "esus-*.backup"
  janela_horas: 26
  pg_restore: {data['backup']['pg_restore']}
atualizacao:
  pasta_pec: {at['pasta_pec']}
  ssl_properties: {at['ssl_properties']}
  log_pec: {at['log_pec']}
""", encoding="utf-8")
    inventory = tmp_path / "inventario.yaml"
    inventory.write_text(f"registro_instaladores: {installer[1].team_file}\nsites:\n"
                         f"  - {site}\n", encoding="utf-8")
    out = tmp_path / "execucoes"
    env = {"PEC_DB_SENHA_TESTE": postgres.esus_password}
    proc = cli_main("atualizacao", inventory, "--site-id", "ubs-atu", "--para", TARGET,
                    "--execucoes", out, env=env)
    assert "ATU_INSTALADOR" in proc.stdout and "Comando da atualização" in proc.stdout
    assert postgres.esus_password not in proc.stdout + proc.stderr
    proc = cli_main("atualizacao", inventory, "--site-id", "ubs-atu", "--para", TARGET,
                    "--fase", "depois", "--execucoes", out, env=env)
    assert proc.returncode == 1  # still 5.5.24: the after half fails
    assert "ATU_VERSAO_APP" in proc.stdout
    files = sorted((out / "operacoes" / "ubs-atu").glob("atualizacao_*.json"))
    assert [f.name.split("-")[0] for f in files] == ["atualizacao_antes", "atualizacao_depois"]
    for f in files:
        record = json.loads(f.read_text(encoding="utf-8"))
        assert schemas.errors("operacao", record) == []
        assert postgres.esus_password not in f.read_text(encoding="utf-8")
    after_rec = json.loads(files[1].read_text(encoding="utf-8"))
    assert after_rec["metrics"]["de"] == "5.5.24" and after_rec["metrics"]["para"] == TARGET


def test_atualizacao_refuses_a_bad_version(tmp_path, cli):
    site = tmp_path / "site.yaml"
    site.write_text('site_id: ubs-x\nnome: X\nmunicipio_ibge: "2927408"\n', encoding="utf-8")
    proc = cli("atualizacao", str(site), "--para", "5.5;rm -rf /", "--execucoes", str(tmp_path / "e"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--para" in proc.stderr and not (tmp_path / "e").exists()


def test_services_and_server_facts_over_ssh(pec_sshd):
    """The server reads of both halves over the real sshd standing in for a PEC server (its
    systemctl answers from the fixture: healthy = both active, broken = PEC failed)."""
    session = connect(parse_target(pec_sshd.target()),
                      SshOptions(identity=str(pec_sshd.client_key),
                                 known_hosts=str(pec_sshd.known_hosts())))
    shell = RemoteShell(session)
    try:
        facts = read_server(shell, {"pasta_pec": "/opt/e-SUS"})
    finally:
        shell.close()
    assert facts["disco_livre"] > 0 and facts["hora_servidor"]
    assert facts["ssl_sha256"] is None  # the fixture installation has no ssl.properties
    checks = Checks()
    _services(checks, facts["servicos"], after=True)
    healthy = pec_sshd.extra["kind"] == "saudavel"
    assert facts["servicos"]["e-SUS-PEC.service"] == ("active" if healthy else "failed")
    assert checks[0].status is (Status.OK if healthy else Status.FALHA)
