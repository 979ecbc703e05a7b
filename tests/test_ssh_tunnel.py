"""The database through an SSH tunnel (real sshd, real PostgreSQL on loopback) and stage 04
with the server reached over SSH."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from esus_runbook import stages
from esus_runbook.demo.pec_simulator import PecConfig
from esus_runbook.results import StageResult
from esus_runbook.sites.loading import load_sites
from esus_runbook.ssh import SshOptions, connect, parse_target
from esus_runbook.ssh.tunnel import Tunnel, needs_tunnel, through
from esus_runbook.stages import StageContext
from esus_runbook.status import Status
from tests.support.pec_server_fixture import VERSION

# `postgres` and `ssh` come from the fixtures (conftest.py).


def _refused(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) != 0


def _local_url(postgres, db: str) -> str:
    return f"postgresql://esus@localhost:{postgres.port}/{db}"


def test_tunnel_reaches_loopback_database_and_closes(sshd, postgres):
    import psycopg

    opts = SshOptions(identity=str(sshd.client_key), known_hosts=str(sshd.known_hosts()))
    with connect(parse_target(sshd.target()), opts) as session:
        with Tunnel(session, postgres.port) as tunnel:
            assert tunnel.local_port != postgres.port
            with psycopg.connect(host="127.0.0.1", port=tunnel.local_port, dbname="postgres",
                                 user="postgres", password=postgres.superuser_password,
                                 connect_timeout=10) as conn:
                assert conn.execute("SELECT 41 + 1").fetchone() == (42,)
                assert tunnel.open_connections == 1
            port = tunnel.local_port
        assert _refused(port)
        with pytest.raises(RuntimeError), Tunnel(session, postgres.port) as tunnel:
            port = tunnel.local_port
            raise RuntimeError("falha no meio")
        assert _refused(port)


def test_needs_tunnel_and_rewrite():
    assert needs_tunnel("postgresql://postgres@localhost:5433/esus")
    assert needs_tunnel("postgresql://postgres@127.0.0.1:5433/esus")
    assert not needs_tunnel("postgresql://pec@10.0.0.9:5432/esus")

    class T:
        local_port = 40001

    assert through("postgresql://postgres@localhost:5433/esus?sslmode=disable", T()) == \
        "postgresql://postgres@127.0.0.1:40001/esus?sslmode=disable"


def test_cli_verify_install_through_ssh(sshd, http_server, postgres, pec_db, tmp_path, cli):
    srv = http_server(pec=PecConfig(versao="5.5.24"))
    db = pec_db(LINKINSTALACAO=(srv.url, None))
    out = tmp_path / "v.json"
    proc = cli("conferir-instalacao", "--pec-url", srv.url, "--db-url", _local_url(postgres, db),
               "--db-password-env", "SENHA_TESTE", "--versao-pec", "5.5.24",
               "--ssh", sshd.target(), "--chave-ssh", sshd.client_key,
               "--hosts-conhecidos", sshd.known_hosts(), "--json", out,
               env={"SENHA_TESTE": postgres.esus_password})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    status = {c["id"]: c["status"] for c in data["checks"]}
    assert status["DB_CONEXAO"] == "ok" and status["DB_VERSAO_BANCO"] == "ok"
    assert data["db_url"] == _local_url(postgres, db)
    assert postgres.esus_password not in proc.stdout + proc.stderr + out.read_text()


def test_cli_verify_install_ssh_refused_is_clean(sshd, postgres, tmp_path, cli):
    proc = cli("conferir-instalacao", "--pec-url", "http://127.0.0.1:9", "--db-url",
               _local_url(postgres, "esus"), "--ssh", sshd.target(), "--chave-ssh",
               sshd.client_key, "--hosts-conhecidos", tmp_path / "vazio")
    assert proc.returncode == 1
    assert "esus-runbook ssh aceitar" in proc.stderr and "Traceback" not in proc.stderr


def _site(tmp_path: Path, servidor: dict, instalacao: dict):
    doc = {"site_id": "ubs-ssh", "nome": "UBS SSH", "municipio_ibge": "2927408",
           "instalador": {"versao": VERSION}, "instalacao": instalacao, "servidor": servidor}
    path = tmp_path / "site.yaml"
    with path.open("w", encoding="utf-8") as fh:
        YAML().dump(doc, fh)
    (s,) = load_sites(path)
    return s


@pytest.mark.parametrize("pec_sshd", ["saudavel"], indirect=True)
def test_stage_04_server_evidence_and_db_through_tunnel(pec_sshd, http_server, postgres,
                                                        pec_db, tmp_path):
    srv = http_server(pec=PecConfig(versao=VERSION))
    db = pec_db(LINKINSTALACAO=(srv.url, None))
    s = _site(tmp_path, {"ssh": pec_sshd.target(), "chave_ssh_file": str(pec_sshd.client_key),
                         "known_hosts": str(pec_sshd.known_hosts())},
              {"pec_url": srv.url, "db_url": _local_url(postgres, db),
               "db_password_env": "SENHA_TESTE"})
    run = tmp_path / "run" / s.site_id
    amb = StageResult(s.site_id, "ambiente")
    amb.add("AMB_SONDAGEM", "Sondagem", Status.OK, "sondagem", "por SSH")
    amb.finish(jvm=pec_sshd.extra["jvm_plan"],
               perfil={**pec_sshd.extra["profile"], "app_disk_gb": 1}).save(run)
    r = stages.evaluate("instalacao", s, StageContext(run, env={
        "SENHA_TESTE": postgres.esus_password}))
    status = {c.id: c.status for c in r.checks}
    for cid in ("SRV_UNIDADE_PEC", "SRV_UNIDADE_BANCO", "SRV_PEC_CONFIG", "SRV_JVM",
                "SRV_CREDENCIAIS_MODO", "SRV_LOG_MODO", "SRV_LOG_ERROS", "SRV_DISCO",
                "DB_CONEXAO", "DB_VERSAO_BANCO"):
        assert status[cid] is Status.OK, (cid, [(c.id, c.observed) for c in r.checks])
    assert "SRV_BANCO_PORTA" in status  # its verdicts: tests/test_ssh_evidence.py


def test_stage_04_unreachable_server_is_falha(tmp_path):
    from esus_runbook.net import free_port

    s = _site(tmp_path, {"ssh": f"root@127.0.0.1:{free_port()}",
                         "known_hosts": str(tmp_path / "kh")}, {})
    r = stages.evaluate("instalacao", s, StageContext(tmp_path / "run" / s.site_id, env={}))
    c = {c.id: c for c in r.checks}["SRV_CONEXAO"]
    assert c.status is Status.FALHA and "confira o endereço" in c.remedy
    assert r.status is Status.FALHA
