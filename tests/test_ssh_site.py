"""The site file's ``servidor:`` section and stage 02 probing over SSH (real test sshd)."""

from __future__ import annotations

import hashlib
import json

import pytest

from esus_runbook.errors import InputError
from esus_runbook.net import free_port
from esus_runbook.sites.loading import validate_site
from esus_runbook.stages import StageContext, evaluate
from esus_runbook.status import Status


def site_raw(servidor: dict | None, **sections) -> dict:
    raw = {"site_id": "s", "nome": "S", "municipio_ibge": "2927408",
           "cenario": {"usuarios_simultaneos": 30}, **sections}
    if servidor is not None:
        raw["servidor"] = servidor
    return raw


def test_servidor_section_is_validated(tmp_path):
    site = validate_site(site_raw({"ssh": "suporte@10.0.0.5:2222", "chave_ssh_file": "k",
                                   "senha_env": "SSH_SENHA_UBS1", "sudo": True}),
                         source=tmp_path / "s.yaml")
    assert site.servidor["ssh"] == "suporte@10.0.0.5:2222"
    assert site.servidor["chave_ssh_file"] == str(tmp_path / "k")
    assert site.servidor["sudo"] is True and site.servidor["known_hosts"] is None
    default = validate_site(site_raw(None), source=tmp_path / "s.yaml")
    assert default.servidor == {"ssh": None, "chave_ssh_file": None, "known_hosts": None,
                                "senha_env": None, "sudo": False}


@pytest.mark.parametrize("servidor,key,words", [
    ({"ssh": "10.0.0.5"}, "servidor.ssh", "usuario@"),
    ({"ssh": "suporte@10.0.0.5:99999"}, "servidor.ssh", "porta"),
    ({"ssh": "suporte:Segredo1@10.0.0.5"}, "servidor.ssh", "usuário"),
    ({"senha_env": "minha senha!"}, "servidor.senha_env", "NOME da variável"),
    ({"senha": "Segredo1"}, "servidor.senha", "segredos não vão no arquivo"),
    ({"chave_ssh_file": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn"}, "servidor.chave_ssh_file",
     "caminho"),
    ({"sudo": "talvez"}, "servidor.sudo", "sim ou não"),
])
def test_servidor_section_rejects(tmp_path, servidor, key, words):
    with pytest.raises(InputError) as exc:
        validate_site(site_raw(servidor), source=tmp_path / "s.yaml")
    text = str(exc.value)
    assert f"s.yaml:{key}:" in text and words in text
    assert "Segredo1" not in text and "b3Blbn" not in text


def test_stage_02_probes_over_ssh(sshd, tmp_path):
    site = validate_site(site_raw({"ssh": sshd.target(), "chave_ssh_file": str(sshd.client_key),
                                   "known_hosts": str(sshd.known_hosts())}),
                         source=tmp_path / "s.yaml")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    r = evaluate("ambiente", site, StageContext(run_site_dir=run_dir))
    checks = {c.id: c for c in r.checks}
    assert checks["AMB_SONDAGEM"].status is Status.OK
    evidence = r.metrics["sondagem_ssh"]
    path = run_dir / "sondagem-ssh.json"
    assert evidence["arquivo"] == str(path)
    assert evidence["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert evidence["host_key_fingerprint"] == sshd.host_fingerprint
    assert json.loads(path.read_text())["coletada_via"] == "ssh"
    assert "AMB_RAM" in checks and r.metrics["sondagem"]["coletada_via"] == "ssh"


@pytest.mark.parametrize("case", ["inacessivel", "desconhecido"])
def test_stage_02_ssh_unreachable_or_unknown_is_falha(sshd, tmp_path, case):
    target = f"root@127.0.0.1:{free_port()}" if case == "inacessivel" else sshd.target()
    site = validate_site(site_raw({"ssh": target, "chave_ssh_file": str(sshd.client_key),
                                   "known_hosts": str(tmp_path / "kh")}),
                         source=tmp_path / "s.yaml")
    r = evaluate("ambiente", site, StageContext(run_site_dir=tmp_path))
    c = {c.id: c for c in r.checks}["AMB_SONDAGEM"]
    assert c.status is Status.FALHA and r.status is Status.FALHA
    assert ("ssh aceitar" in c.remedy) if case == "desconhecido" else \
        ("confira o endereço" in c.remedy)
    assert not (tmp_path / "sondagem-ssh.json").exists()
