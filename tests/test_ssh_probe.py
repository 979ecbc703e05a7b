"""The agentless probe over SSH against a real sshd on this machine, compared with the local
probe of the same machine."""

from __future__ import annotations

import json
import secrets

import pytest

from esus_runbook.errors import RunbookError
from esus_runbook.probe import collect, normalize
from esus_runbook.ssh import SshOptions, connect, parse_target
from esus_runbook.ssh.remote_probe import (
    build_probe,
    collect_ssh,
    listening_ports,
    parse_output,
    prelude,
)


@pytest.fixture(scope="module")
def both(sshd):
    local = normalize(collect())
    opts = SshOptions(identity=str(sshd.client_key), known_hosts=str(sshd.known_hosts()))
    with connect(parse_target(sshd.target()), opts) as s:
        raw = collect_ssh(s)
    return local, raw


def test_ssh_probe_equals_local_probe(both, sshd):
    local, raw = both
    remote = normalize(raw, "ssh")
    assert remote["warnings"] == []
    assert raw["coletada_via"] == "ssh" and remote["coletada_via"] == "ssh"
    assert remote["host_key_fingerprint"] == sshd.host_fingerprint
    for key in ("model", "logical_cores", "physical_cores", "usable_cores", "max_mhz"):
        assert remote["cpu"][key] == local["cpu"][key], key
    assert remote["memory"]["total_bytes"] == local["memory"]["total_bytes"]
    assert remote["memory"]["cgroup_limit_bytes"] == local["memory"]["cgroup_limit_bytes"]
    for key in ("system", "release", "arch", "bits", "distro", "distro_id", "distro_like",
                "distro_version"):
        assert remote["os"][key] == local["os"][key], key
    assert remote["locale"] == local["locale"]
    assert remote["timezone"] == local["timezone"]
    assert remote["timezone_configured"] == local["timezone_configured"]
    assert remote["ports"] == local["ports"]
    assert remote["install_path"]["mount"] == local["install_path"]["mount"]
    assert remote["systemd"]["remove_ipc"] == local["systemd"]["remove_ipc"]
    assert remote["java"]["found"] == local["java"]["found"]
    assert remote["java"]["major"] == local["java"]["major"]
    assert remote["postgres"]["version"] == local["postgres"]["version"]
    json.dumps(raw)  # JSON-able as written by --json


def test_ssh_probe_sees_a_listening_port(sshd):
    """The ports table is the server's: the test sshd's own port is listening there."""
    marker = "@@ESUS" + secrets.token_hex(8)
    script = "\n".join([*prelude(marker), "file /proc/net/tcp", "file /proc/net/tcp6", ""])
    opts = SshOptions(identity=str(sshd.client_key), known_hosts=str(sshd.known_hosts()))
    with connect(parse_target(sshd.target()), opts) as s:
        _, out, _ = s.run("sh -s", input=script, sudo=False)
    assert "127.0.0.1" in listening_ports(parse_output(out, marker)[1])[sshd.port]


def test_missing_command_is_null_with_reason():
    marker = "@@X"
    out = (f"{marker} S uname\nLinux\n6.1\nx86_64\n#1\nsrv\n{marker} R 0\n"
           f"{marker} S locale\nsh: 1: locale: not found\n{marker} R 127\n")
    sections, files = parse_output(out, marker)
    probe = build_probe(sections, files, install_path="/opt", fingerprint="SHA256:x",
                        host_key_type="ssh-ed25519", target="a@b")
    n = normalize(probe)
    assert n["locale"]["pt_BR_utf8"] is None
    assert "locale: not found" in probe["errors"]["locale"]
    assert n["cpu"]["model"] is None and "cpuinfo" in probe["errors"]["cpu"]
    assert n["memory"]["total_bytes"] is None
    assert n["ports"] == {"80": "unknown", "443": "unknown", "5433": "unknown",
                          "8080": "unknown"}
    assert n["os"]["system"] == "Linux" and n["os"]["distro"] is None


def test_cli_probe_ssh_writes_json(sshd, tmp_path, cli):
    out = tmp_path / "sondagem.json"
    proc = cli("sondar", "--ssh", sshd.target(), "--chave-ssh", sshd.client_key,
               "--hosts-conhecidos", sshd.known_hosts(), "--json", out, "--velocidade-disco",
               "--velocidade-disco-mb", "16")
    assert proc.returncode == 0, proc.stderr
    raw = json.loads(out.read_text())
    assert raw["coletada_via"] == "ssh"
    assert raw["ssh"]["host_key_fingerprint"] == sshd.host_fingerprint
    assert raw["disk_speed"]["write_mb_s"] > 0 and raw["disk_speed"]["read_mb_s"] > 0
    from esus_runbook.probe import load_probe

    assert load_probe(out)["disk_speed"]["size_mb"] == 16


def test_cli_probe_ssh_unknown_host(sshd, tmp_path, cli):
    proc = cli("sondar", "--ssh", sshd.target(), "--chave-ssh", sshd.client_key,
               "--hosts-conhecidos", tmp_path / "vazio", "--json", tmp_path / "s.json")
    assert proc.returncode == 1
    assert "esus-runbook ssh aceitar" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "s.json").exists()


def test_windows_server_points_to_local_probe():
    class FakeWindows:  # what cmd.exe answers to `sh -s`
        target = "adm@win"
        fingerprint = host_key_type = "x"

        def run(self, *a, **k):
            return 1, "", "'sh' is not recognized as an internal or external command"

    with pytest.raises(RunbookError) as exc:
        collect_ssh(FakeWindows())
    assert "Windows" in str(exc.value) and "esus-runbook sondar --json" in str(exc.value)


def test_server_output_cannot_write_or_read_outside_the_mirror(tmp_path):
    """A hostile server's answers stay in the temporary mirror: no link into the analyst's
    files is followed, no path escapes."""
    import base64

    victim = tmp_path / "analista.txt"
    victim.write_text("segredo do analista\n")
    m = "@@X"
    b64 = base64.b64encode(b"x\n").decode()
    out = "\n".join([
        f"{m} L /etc/timezone {victim}", f"{m} L /etc/localtime {tmp_path}",
        f"{m} F /etc/localtime/escapou", b64, f"{m} F /etc/localtime/d/escapou3", b64, f"{m} F /../../escapou2", b64,
        f"{m} L /etc/sysconfig {tmp_path}", f"{m} F /etc/sysconfig/clock", b64, ""])
    sections, files = parse_output(out, m)
    probe = build_probe(sections, files, install_path="/opt", fingerprint="SHA256:x",
                        host_key_type="ssh-ed25519", target="a@b")
    assert "segredo" not in json.dumps(probe)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analista.txt"]
