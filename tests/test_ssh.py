"""SSH access against a real sshd on 127.0.0.1 (tests/support/sshd.py): targets, host keys, auth."""

from __future__ import annotations

import shlex
import subprocess
import time

import pytest

from esus_runbook.errors import InputError
from esus_runbook.net import free_port
from esus_runbook.ssh import SshError, SshOptions, connect, parse_target
from tests.support.sshd import PASSWORD, PASSWORD_USER


@pytest.mark.parametrize("text,user,host,port", [
    ("suporte@10.0.0.5", "suporte", "10.0.0.5", 22),
    ("suporte@pec-ubs1.saude.local:2222", "suporte", "pec-ubs1.saude.local", 2222),
    ("_adm.x-1@[::1]:22", "_adm.x-1", "::1", 22),
    ("root@fe80::1", "root", "fe80::1", 22),
])
def test_parse_target_valid(text, user, host, port):
    t = parse_target(text)
    assert (t.user, t.host, t.port) == (user, host, port)


@pytest.mark.parametrize("text", [
    "10.0.0.5", "Suporte@host", "suporte@", "suporte@host:0", "suporte@host:65536",
    "suporte@host:22x", "suporte@-host", "suporte@host_1", "suporte@300.1.1.1",
    "sup;rm@host", "suporte@host;rm -rf", "suporte@host:²", None,
])
def test_parse_target_invalid(text):
    with pytest.raises(InputError) as exc:
        parse_target(text, file="site.yaml", key="servidor.ssh")
    assert str(exc.value).startswith("site.yaml:servidor.ssh: destino SSH inválido")


def test_connect_and_run(sshd):
    opts = SshOptions(identity=str(sshd.client_key), known_hosts=str(sshd.known_hosts()))
    with connect(parse_target(sshd.target()), opts) as s:
        assert s.fingerprint == sshd.host_fingerprint
        rc, out, err = s.run("echo ola; echo erro >&2; exit 3")
        assert (rc, out, err) == (3, "ola\n", "erro\n")
        rc, out, _ = s.run("head -c 100000 /dev/zero | tr '\\0' x", max_bytes=1000)
        assert rc == 0 and out == "x" * 1000
        with pytest.raises(SshError) as exc:
            s.run("sleep 5", timeout=0.5)
        assert exc.value.kind == "tempo"
        assert s.run("echo ainda")[1] == "ainda\n"  # the session survives a timed-out command


def test_unknown_host_refused_then_accepted(sshd, tmp_path, cli):
    kh = tmp_path / "kh"
    opts = SshOptions(identity=str(sshd.client_key), known_hosts=str(kh))
    with pytest.raises(SshError) as exc:
        connect(parse_target(sshd.target()), opts)
    text = str(exc.value)
    assert exc.value.kind == "host_desconhecido"
    assert sshd.host_fingerprint in text
    command = (f"esus-runbook ssh aceitar root@127.0.0.1:{sshd.port} --impressao-digital "
               f"{sshd.host_fingerprint} --hosts-conhecidos {kh}")
    assert text.endswith(command)  # the exact command, the confirmed fingerprint pinned
    proc = cli(*shlex.split(command)[1:])
    assert proc.returncode == 0, proc.stderr
    assert sshd.host_fingerprint in proc.stdout
    line = kh.read_text()
    assert line.startswith("|1|") and "127.0.0.1" not in line  # hashed host name
    assert kh.stat().st_mode & 0o777 == 0o600
    with connect(parse_target(sshd.target()), opts) as s:
        assert s.fingerprint == sshd.host_fingerprint
    # OpenSSH's own client accepts the recorded line
    ssh = subprocess.run(["ssh-keygen", "-F", f"[127.0.0.1]:{sshd.port}", "-f", str(kh)],
                         capture_output=True, text=True)
    assert ssh.returncode == 0 and "Host [127.0.0.1]" in ssh.stdout
    again = cli(*shlex.split(command)[1:])
    assert again.returncode == 0 and "já estava registrada" in again.stdout
    assert kh.read_text() == line


def test_changed_host_key_refused(sshd, tmp_path, cli):
    kh = tmp_path / "kh"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")],
                   check=True)
    other = " ".join((tmp_path / "k.pub").read_text().split()[:2])
    kh.write_text(f"[127.0.0.1]:{sshd.port} {other}\n")
    opts = SshOptions(identity=str(sshd.client_key), known_hosts=str(kh))
    with pytest.raises(SshError) as exc:
        connect(parse_target(sshd.target()), opts)
    assert exc.value.kind == "host_alterado"
    assert "pode ser um ataque" in str(exc.value) and sshd.host_fingerprint in str(exc.value)
    proc = cli("ssh", "aceitar", sshd.target(), "--impressao-digital", sshd.host_fingerprint,
               "--hosts-conhecidos", kh)
    assert proc.returncode == 1 and "pode ser um ataque" in proc.stderr
    assert kh.read_text() == f"[127.0.0.1]:{sshd.port} {other}\n"


def test_password_auth_from_env(sshd, monkeypatch):
    monkeypatch.setenv("SSH_SENHA_TESTE", PASSWORD)
    opts = SshOptions(known_hosts=str(sshd.known_hosts()), password_env="SSH_SENHA_TESTE")
    with connect(parse_target(sshd.target(PASSWORD_USER)), opts) as s:
        assert s.run("id -un")[1].strip() == PASSWORD_USER


def test_unreachable_port_fails_within_timeout(tmp_path):
    opts = SshOptions(known_hosts=str(tmp_path / "kh"), connect_timeout=2.0)
    started = time.monotonic()
    with pytest.raises(SshError) as exc:
        connect(parse_target(f"root@127.0.0.1:{free_port()}"), opts)
    assert exc.value.kind == "inacessivel"
    assert time.monotonic() - started < 30  # bounded by the timeout, not hanging
    assert "confira o endereço" in str(exc.value)
