"""Stage 04's server evidence over SSH against the PEC server stand-in (tests/support/sshd.py): a real
sshd in a mount namespace with a healthy or a broken installation bound over /opt/e-SUS and
/etc/pec.config."""

from __future__ import annotations

import pytest

from esus_runbook.ssh import SshOptions, connect, parse_target
from esus_runbook.ssh.evidence import collect, mask_line
from esus_runbook.status import Status
from tests.support.pec_server_fixture import LEAKED, PEC_CONFIG_SECRET, VERSION


def _checks(server, profile=None):
    opts = SshOptions(identity=str(server.client_key), known_hosts=str(server.known_hosts()))
    port = int((server.extra["installation"] / "processes.txt").read_text().split()[-1])
    with connect(parse_target(server.target()), opts) as s:
        checks = collect(s, expected_version=VERSION, jvm_plan=server.extra["jvm_plan"],
                         profile=profile or {**server.extra["profile"], "app_disk_gb": 1},
                         db_port=port)
    return {c.id: c for c in checks}


EXPECTED_IDS = {"SRV_UNIDADE_PEC", "SRV_UNIDADE_BANCO", "SRV_PEC_CONFIG", "SRV_PEC_CONFIG_MODO",
                "SRV_JVM",
                "SRV_BANCO_PORTA", "SRV_CREDENCIAIS_MODO", "SRV_LOG_MODO", "SRV_LOG_ERROS",
                "SRV_DISCO"}


def test_server_evidence(pec_sshd):
    checks = _checks(pec_sshd)
    assert set(checks) == EXPECTED_IDS
    text = repr([c.to_dict() if hasattr(c, "to_dict") else vars(c) for c in checks.values()])
    assert LEAKED not in text
    if pec_sshd.extra["kind"] == "saudavel":
        bad = {k: (c.status, c.observed) for k, c in checks.items() if c.status is not Status.OK}
        assert bad == {}
        assert checks["SRV_PEC_CONFIG"].observed == f"success: true; versão {VERSION}"
        assert checks["SRV_BANCO_PORTA"].observed == "127.0.0.1"
        assert "-Xmx" in checks["SRV_JVM"].observed
        return
    failed = {k for k, c in checks.items() if c.status is Status.FALHA}
    assert failed == EXPECTED_IDS - {"SRV_DISCO"}
    assert checks["SRV_UNIDADE_PEC"].observed == "failed / enabled"
    assert checks["SRV_UNIDADE_BANCO"].observed == "active / disabled"
    assert "5.5.23" in checks["SRV_PEC_CONFIG"].observed
    assert "-Xmx30720M" in checks["SRV_JVM"].observed
    assert checks["SRV_BANCO_PORTA"].observed == "0.0.0.0"
    assert "aberto à rede" in checks["SRV_BANCO_PORTA"].remedy
    assert "modo 644" in checks["SRV_CREDENCIAIS_MODO"].observed
    log = checks["SRV_LOG_ERROS"].observed
    assert "3 linha(s)" in log and "Falha ao migrar" in log and "password=****" in log
    assert "senha: ****" in log


@pytest.mark.parametrize("pec_sshd", ["quebrada"], indirect=True)
def test_server_disk_against_profile(pec_sshd):
    checks = _checks(pec_sshd, {**pec_sshd.extra["profile"], "app_disk_gb": 10 ** 6})
    assert checks["SRV_DISCO"].status is Status.FALHA
    assert "Faltam" in checks["SRV_DISCO"].remedy


def test_mask_line():
    assert mask_line("ERRO password=abc123 user=x") == "ERRO password=**** user=x"
    assert mask_line("Senha: xyz; fim") == "Senha: **** fim"
    assert "52998224725" not in mask_line("cpf 529.982.247-25 senha 123")


@pytest.mark.parametrize("pec_sshd", ["quebrada"], indirect=True)
def test_root_only_reads_with_sudo(pec_sshd, monkeypatch):
    """A non-root user reads the root-only installer log only with servidor.sudo (sudo -n)."""
    from tests.support.project import require_tool
    from tests.support.sshd import PASSWORD, PASSWORD_USER

    require_tool("sudo")
    monkeypatch.setenv("SSH_SENHA_TESTE", PASSWORD)
    log = pec_sshd.extra["installation"] / "opt/e-SUS/log-instalacao.txt"
    log.chmod(0o600)  # root-only, as it should be
    found = {}
    try:
        for sudo in (False, True):
            opts = SshOptions(known_hosts=str(pec_sshd.known_hosts()),
                              password_env="SSH_SENHA_TESTE", sudo=sudo)
            with connect(parse_target(pec_sshd.target(PASSWORD_USER)), opts) as s:
                found[sudo] = {c.id: c for c in collect(
                    s, expected_version=VERSION, jvm_plan=pec_sshd.extra["jvm_plan"],
                    profile=pec_sshd.extra["profile"])}
    finally:
        log.chmod(0o664)  # the broken fixture's mode, for the other tests
    assert found[False]["SRV_LOG_ERROS"].status is Status.PENDENTE
    assert "sudo" in found[False]["SRV_LOG_ERROS"].remedy
    assert found[True]["SRV_LOG_ERROS"].status is Status.FALHA
    assert "Falha ao migrar" in found[True]["SRV_LOG_ERROS"].observed
    assert found[True]["SRV_UNIDADE_PEC"].observed == "failed / enabled"


def test_sudo_refused_is_a_clear_falha(sshd, monkeypatch):
    """On the plain test server the password user has no sudo rule: sudo -n refuses."""
    from tests.support.project import require_tool
    from tests.support.sshd import PASSWORD, PASSWORD_USER

    require_tool("sudo")
    monkeypatch.setenv("SSH_SENHA_TESTE", PASSWORD)
    opts = SshOptions(known_hosts=str(sshd.known_hosts()), password_env="SSH_SENHA_TESTE",
                      sudo=True)
    with connect(parse_target(sshd.target(PASSWORD_USER)), opts) as s:
        checks = collect(s, expected_version=VERSION, jvm_plan=None, profile=None)
    assert [c.id for c in checks] == ["SRV_COLETA"]
    assert checks[0].status is Status.FALHA and "NOPASSWD" in checks[0].remedy
    assert PASSWORD not in checks[0].observed


def test_pec_config_password_never_leaves_the_server(pec_sshd, monkeypatch):
    """/etc/pec.config of an external-database install holds the database password in clear
    text: only the keys the check reads cross the wire, and the file's mode is checked."""
    from esus_runbook.ssh import evidence

    received = []
    real_parse = evidence.parse_output

    def spy(out, marker):
        sections, files = real_parse(out, marker)
        received.append((out, sections, files))
        return sections, files

    monkeypatch.setattr(evidence, "parse_output", spy)
    checks = _checks(pec_sshd)
    assert received
    for out, sections, files in received:
        texts = [out, repr(sections)] + [v[1].decode("utf-8", "replace") for v in
                                         files.values() if isinstance(v, tuple) and v[0] == "F"]
        for text in texts:
            for word in (PEC_CONFIG_SECRET, "databasePassword", "databaseUsername"):
                assert word not in text
    mode = checks["SRV_PEC_CONFIG_MODO"]
    if pec_sshd.extra["kind"] == "saudavel":
        assert mode.status is Status.OK and mode.observed == "/etc/pec.config: modo 600, dono root"
    else:
        assert mode.status is Status.FALHA and "modo 644" in mode.observed
        assert "chmod 600 /etc/pec.config" in mode.remedy
