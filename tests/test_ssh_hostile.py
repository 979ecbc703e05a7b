"""Hostile SSH servers and hostile known_hosts files (issue 23, SSH items): one row per case.

The servers are real: the suite's OpenSSH ``sshd`` (tests/support/sshd.py) where the behaviour of a
real server matters (a killed command, a lost network), and a paramiko server written for
these tests (tests/support/hostile_ssh_server.py) for what no honest sshd does: offer only an RSA key
in front of an ed25519 one, swap its key between two connections, never answer the exec
request, flood its output, forge the probe's answer. Every refusal is one pt-BR message with no
traceback and no English from paramiko; nothing is written where a refusal happened.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import threading
import time
from pathlib import Path

import paramiko
import pytest

from esus_runbook.batch.options import SERVER_STAGES, BatchOptions
from esus_runbook.batch.site_task import SiteJob, stage_timeout
from esus_runbook.net import free_port
from esus_runbook.ssh import SshError, SshOptions, connect, parse_target
from esus_runbook.ssh.remote_probe import SKIPPED, parse_output
from esus_runbook.ssh.tunnel import Tunnel
from tests.support.hostile_ssh_server import FreezingRelay, HostileSshServer, host_key

ENGLISH = ("Traceback", "Exception", "Error reading", "Channel closed", "SSHException",
           "No existing session", "not a valid")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile-keys")
    client = folder / "cliente"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(client)],
                   check=True)
    return {"a": host_key(folder), "b": host_key(folder), "rsa": host_key(folder, "rsa"),
            "client": client}


@pytest.fixture
def hostile(keys):
    server = HostileSshServer(keys["a"])
    yield server
    server.close()


def line(name: str, key: paramiko.PKey, marker: str = "") -> str:
    return f"{marker + ' ' if marker else ''}{name} {key.get_name()} {key.get_base64()}\n"


def name_of(server) -> str:
    return f"[127.0.0.1]:{server.port}"


def opts(keys, kh: Path, **kw) -> SshOptions:
    return SshOptions(identity=str(keys["client"]), known_hosts=str(kh), **kw)


def assert_clean(text: str) -> None:
    for word in ENGLISH:
        assert word not in text, (word, text)


def run_bounded(fn, limit: float):
    """``fn()`` in a thread: (result or exception, seconds). A call still running after
    ``limit`` seconds fails the test instead of hanging the suite (the bug of item 3)."""
    box: dict = {}

    def call():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - examined by the test
            box["value"] = exc

    started = time.monotonic()
    t = threading.Thread(target=call, daemon=True)
    t.start()
    t.join(limit)
    assert not t.is_alive(), f"still waiting after {limit} s: no deadline"
    return box["value"], time.monotonic() - started


# --------------------------------------------------------------- items 1 and 2: aceitar
def test_aceitar_refuses_a_key_of_another_type_beside_a_recorded_one(hostile, keys, tmp_path,
                                                                     cli_main):
    """A man in the middle offering only RSA while the real ed25519 key is recorded."""
    kh = tmp_path / "known_hosts"
    kh.write_text(line(name_of(hostile), keys["a"]))
    before = kh.read_bytes()
    hostile.use_key(keys["rsa"])
    proc = cli_main("ssh", "aceitar", hostile.target(), "--impressao-digital", hostile.fingerprint,
                    "--hosts-conhecidos", kh)
    assert proc.returncode == 1, proc.stdout
    err = proc.stderr
    assert f"ssh-ed25519 {_fp(keys['a'])}" in err
    assert f"ssh-keygen -R '[127.0.0.1]:{hostile.port}' -f {kh}" in err
    assert "pode ser um ataque" in err
    assert_clean(err)
    assert kh.read_bytes() == before
    with pytest.raises(SshError) as exc:
        connect(parse_target(hostile.target()), opts(keys, kh))
    assert exc.value.kind == "host_alterado" and "MUDOU" in str(exc.value)
    assert _fp(keys["a"]) in str(exc.value) and hostile.fingerprint in str(exc.value)


def _fp(key) -> str:
    from esus_runbook.ssh.client import fingerprint

    return fingerprint(key)


def test_aceitar_records_only_the_fingerprint_the_analyst_confirmed(hostile, keys, tmp_path,
                                                                     cli_main):
    kh = tmp_path / "pasta com espaço" / "hosts $conhecidos"
    with pytest.raises(SshError) as exc:
        connect(parse_target(hostile.target()), opts(keys, kh))
    assert exc.value.kind == "host_desconhecido"
    command = str(exc.value).split(" e rode: ", 1)[1]
    words = shlex.split(command)  # shell-quoted: the path with a space and a $ survives
    assert words == ["esus-runbook", "ssh", "aceitar", hostile.target(), "--impressao-digital",
                     _fp(keys["a"]), "--hosts-conhecidos", str(kh)]
    hostile.use_key(keys["b"])  # swapped after the analyst confirmed the first key
    proc = cli_main(*words[1:])
    assert proc.returncode == 1
    assert "não a impressão digital confirmada" in proc.stderr and "nada foi gravado" in \
        proc.stderr
    assert _fp(keys["b"]) in proc.stderr
    assert_clean(proc.stderr)
    assert not kh.exists()
    hostile.use_key(keys["a"])
    proc = cli_main(*words[1:])
    assert proc.returncode == 0, proc.stderr
    assert _fp(keys["a"]) in proc.stdout and "Chave registrada" in proc.stdout
    assert kh.stat().st_mode & 0o777 == 0o600
    with connect(parse_target(hostile.target()), opts(keys, kh)) as session:
        assert session.fingerprint == _fp(keys["a"])


@pytest.mark.parametrize("extra,words", [
    ([], "--impressao-digital"),
    (["--impressao-digital", "SHA256:curta"], "impressão digital inválida"),
    (["--impressao-digital", "SHA256:" + "A" * 43 + "; rm -rf ~"], "impressão digital inválida"),
    (["--impressao-digital", "MD5:" + "ab:" * 15 + "ab"], "impressão digital inválida"),
], ids=["missing", "short", "shell", "md5"])
def test_aceitar_needs_a_valid_fingerprint(hostile, tmp_path, cli_main, extra, words):
    kh = tmp_path / "kh"
    proc = cli_main("ssh", "aceitar", hostile.target(), "--hosts-conhecidos", kh, *extra)
    assert proc.returncode == 2 and words in proc.stderr
    assert_clean(proc.stderr)
    assert not kh.exists() and hostile.requests == []


def test_aceitar_refused_in_a_real_process(hostile, keys, tmp_path, cli):
    kh = tmp_path / "kh"
    kh.write_text(line(name_of(hostile), keys["b"]))
    proc = cli("ssh", "aceitar", hostile.target(), "--impressao-digital", hostile.fingerprint,
               "--hosts-conhecidos", kh)
    assert proc.returncode == 1 and "ssh-keygen -R" in proc.stderr
    assert_clean(proc.stderr)


# --------------------------------------------------------------- item 8: known_hosts
def _hashed(name: str, key) -> str:
    return f"{paramiko.HostKeys.hash_host(name)} {key.get_name()} {key.get_base64()}\n"


# (case, known_hosts content built from (name, key a, key b), connect outcome: None = trusted,
# else the SshError kind and a word of its message)
KNOWN_HOSTS_ROWS = [
    ("cert_authority_beside_the_key",
     lambda n, a, b: line("*.saude.gov.br", b, "@cert-authority") + line(n, a), None),
    ("cert_authority_only_is_not_trust",
     lambda n, a, b: line("*", a, "@cert-authority"), ("host_desconhecido", "desconhecida")),
    ("revoked_key_refused_as_revoked",
     lambda n, a, b: line("*", a, "@revoked") + line(n, a), ("host_revogado", "REVOGADA")),
    ("revoked_key_only",
     lambda n, a, b: line("*", a, "@revoked"), ("host_revogado", "REVOGADA")),
    ("revoked_other_key", lambda n, a, b: line("*", b, "@revoked") + line(n, a), None),
    ("hashed_host_name", lambda n, a, b: _hashed(n, a), None),
    ("wildcard_pattern", lambda n, a, b: line("[127.0.0.?]:*", a), None),
    ("negated_pattern", lambda n, a, b: line(f"*,!{n}", a), ("host_desconhecido", "rode:")),
    ("unknown_marker_and_bad_lines",
     lambda n, a, b: "# comentário\n\n@marcador x y z\nlixo\n"
                     f"{n} ssh-ed25519 !!!nao-base64\n{n}\n" + line(n, a), None),
    ("latin1_comment", lambda n, a, b: "# caf\xe9\n" + line(n, a), None),
]


@pytest.mark.parametrize("case,content,outcome", KNOWN_HOSTS_ROWS,
                         ids=[r[0] for r in KNOWN_HOSTS_ROWS])
def test_known_hosts_markers_and_patterns(hostile, keys, tmp_path, case, content, outcome):
    kh = tmp_path / "known_hosts"
    text = content(name_of(hostile), keys["a"], keys["b"])
    kh.write_bytes(text.encode("latin-1") if case == "latin1_comment" else text.encode())
    if outcome is None:
        with connect(parse_target(hostile.target()), opts(keys, kh)) as session:
            assert session.fingerprint == _fp(keys["a"])
        return
    with pytest.raises(SshError) as exc:
        connect(parse_target(hostile.target()), opts(keys, kh))
    assert exc.value.kind == outcome[0] and outcome[1] in str(exc.value)
    assert_clean(str(exc.value))


def _binary(tmp_path: Path) -> Path:
    path = tmp_path / "known_hosts"
    path.write_bytes(bytes(range(256)) * 8)
    return path


def _folder(tmp_path: Path) -> Path:
    path = tmp_path / "known_hosts"
    path.mkdir()
    return path


def _under_a_file(tmp_path: Path) -> Path:
    (tmp_path / "arquivo").write_text("x")
    return tmp_path / "arquivo" / "known_hosts"


# (case, the --hosts-conhecidos path, a word of the message)
BAD_FILE_ROWS = [("binary_garbage", _binary, "conteúdo binário"),
                 ("a_folder", _folder, "é uma pasta"),
                 ("unreadable_path", _under_a_file, "não foi possível ler")]


@pytest.mark.parametrize("case,make,words", BAD_FILE_ROWS, ids=[r[0] for r in BAD_FILE_ROWS])
def test_unusable_known_hosts_is_a_pt_br_error(hostile, keys, tmp_path, cli_main, case, make,
                                               words):
    kh = make(tmp_path)
    with pytest.raises(SshError) as exc:
        connect(parse_target(hostile.target()), opts(keys, kh))
    assert exc.value.kind == "known_hosts" and words in str(exc.value)
    for args in (["sondar", "--ssh", hostile.target(), "--chave-ssh", keys["client"],
                  "--hosts-conhecidos", kh, "--json", tmp_path / "s.json"],
                 ["ssh", "aceitar", hostile.target(), "--impressao-digital", hostile.fingerprint,
                  "--hosts-conhecidos", kh]):
        proc = cli_main(*args)
        assert proc.returncode == 1 and words in proc.stderr, proc.stderr
        assert_clean(proc.stderr)
    assert not (tmp_path / "s.json").exists()


def test_aceitar_never_writes_through_a_symlink(hostile, tmp_path, cli_main):
    victim = tmp_path / "authorized_keys"
    victim.write_text("ssh-ed25519 AAAA original\n")
    kh = tmp_path / "known_hosts"
    kh.symlink_to(victim)
    proc = cli_main("ssh", "aceitar", hostile.target(), "--impressao-digital", hostile.fingerprint,
                    "--hosts-conhecidos", kh)
    assert proc.returncode == 1 and "link simbólico" in proc.stderr
    assert victim.read_text() == "ssh-ed25519 AAAA original\n" and kh.is_symlink()


def test_aceitar_fixes_a_group_readable_file_and_says_so(hostile, keys, tmp_path, cli_main):
    kh = tmp_path / "known_hosts"
    kh.write_text(line("outro.servidor", keys["b"]))
    kh.chmod(0o644)
    proc = cli_main("ssh", "aceitar", hostile.target(), "--impressao-digital", hostile.fingerprint,
                    "--hosts-conhecidos", kh)
    assert proc.returncode == 0, proc.stderr
    assert "corrigido para 600" in proc.stdout and "644" in proc.stdout
    assert kh.stat().st_mode & 0o777 == 0o600
    assert kh.read_text().startswith(line("outro.servidor", keys["b"]))


def test_aceitar_refuses_a_revoked_key(hostile, keys, tmp_path, cli_main):
    kh = tmp_path / "known_hosts"
    kh.write_text(line("*", keys["a"], "@revoked"))
    proc = cli_main("ssh", "aceitar", hostile.target(), "--impressao-digital", hostile.fingerprint,
                    "--hosts-conhecidos", kh)
    assert proc.returncode == 1 and "REVOGADA" in proc.stderr
    assert kh.read_text() == line("*", keys["a"], "@revoked")


def test_aceitar_into_a_location_nobody_can_write(hostile, cli_main):
    """/proc/version: a regular file the kernel refuses to write, even for root."""
    proc = cli_main("ssh", "aceitar", hostile.target(), "--impressao-digital", hostile.fingerprint,
                    "--hosts-conhecidos", "/proc/version")
    assert proc.returncode == 1 and "não foi possível gravar" in proc.stderr, proc.stderr
    assert_clean(proc.stderr)


# --------------------------------------------------------------- item 3: one deadline
def test_server_that_never_answers_the_exec_request(hostile, keys, tmp_path):
    kh = tmp_path / "kh"
    kh.write_text(line(name_of(hostile), keys["a"]))
    hostile.exec_mode = "silent"
    session = connect(parse_target(hostile.target()), opts(keys, kh))
    err, seconds = run_bounded(lambda: session.run("true", timeout=2), 30)
    assert isinstance(err, SshError), err
    assert err.kind == "tempo" and "não respondeu ao pedido de execução" in str(err)
    assert seconds < 15
    session.close()


@pytest.mark.parametrize("mode,kind,words", [
    ("silent", "tempo", "não respondeu ao pedido de execução"),
    ("refuse", "comando", "recusou executar comandos"),
    ("flood", "inundacao", "inundação de saída"),
    ("stderr", None, "sh: 1: sh: not found"),
], ids=["silent", "refuse", "flood", "stderr_kept"])
def test_probe_ssh_against_a_hostile_server(hostile, keys, tmp_path, cli_main, mode, kind,
                                            words):
    kh = tmp_path / "kh"
    kh.write_text(line(name_of(hostile), keys["a"]))
    hostile.exec_mode = mode
    out = tmp_path / "s.json"
    proc, seconds = run_bounded(lambda: cli_main(
        "sondar", "--ssh", hostile.target(), "--chave-ssh", keys["client"], "--hosts-conhecidos", kh,
        "--json", out, "--prazo-ssh", "3"), 60)
    assert proc.returncode == 1 and words in proc.stderr, proc.stderr
    assert "sem resposta" not in proc.stderr or mode == "silent"
    assert_clean(proc.stderr)
    assert not out.exists()


def test_flood_is_reported_as_a_flood(hostile, keys, tmp_path):
    kh = tmp_path / "kh"
    kh.write_text(line(name_of(hostile), keys["a"]))
    with connect(parse_target(hostile.target()), opts(keys, kh)) as session:
        with pytest.raises(SshError) as exc:
            session.run("cat /dev/urandom", timeout=2, max_bytes=64 * 1024)
    assert exc.value.kind == "inundacao" and "64 KB" in str(exc.value)


def test_network_lost_after_authentication(sshd, tmp_path):
    relay = FreezingRelay(("127.0.0.1", sshd.port))
    try:
        kh = tmp_path / "kh"
        kh.write_text(f"[127.0.0.1]:{relay.port} {sshd.host_key_line}\n")
        target = parse_target(f"root@127.0.0.1:{relay.port}")
        session = connect(target, SshOptions(identity=str(sshd.client_key), known_hosts=str(kh)))
        assert session.run("echo antes")[1] == "antes\n"
        relay.freeze()
        err, seconds = run_bounded(lambda: session.run("echo depois", timeout=2), 30)
        assert isinstance(err, SshError) and err.kind == "tempo", err
        assert "rede caiu" in str(err) and seconds < 15
        _, seconds = run_bounded(session.close, 30)
    finally:
        relay.close()


def _running(needle: bytes) -> bool:
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes() == needle:
                    return True
            except OSError:
                continue
    return False


def test_timed_out_command_is_stopped_on_the_server(sshd):
    """The real sshd delivers the TERM signal request: the remote process is gone."""
    seconds = 3000 + os.getpid() % 1000
    needle = f"sleep\0{seconds}\0".encode()
    opts_ = SshOptions(identity=str(sshd.client_key), known_hosts=str(sshd.known_hosts()))
    with connect(parse_target(sshd.target()), opts_) as session:
        with pytest.raises(SshError) as exc:
            session.run(f"sleep {seconds}", timeout=1)
        assert exc.value.kind == "tempo" and "interrompido" in str(exc.value)
        deadline = time.monotonic() + 20
        while _running(needle) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(needle), "the timed-out command still runs on the server"
        assert session.run("echo ainda")[1] == "ainda\n"


def test_batch_stages_that_talk_to_a_server_have_a_default_timeout():
    options = BatchOptions()
    assert options.timeout is None and options.server_timeout == 3600
    assert {s: options.stage_timeout(s) for s in ("cenario", "ambiente", "instalacao",
                                                  "xml")} == \
        {"cenario": None, "ambiente": 3600, "instalacao": 3600, "xml": 3600}
    assert BatchOptions(timeout=50).stage_timeout("ambiente") == 50
    job = SiteJob("s", "/tmp/x", "k", "r", server_timeout=options.server_timeout)
    assert [stage_timeout(job, s) for s in sorted(SERVER_STAGES)] == [3600] * 5
    assert stage_timeout(job, "cenario") is None
    assert options.describe()["server_timeout"] == 3600


# --------------------------------------------------------------- item 9: forged paths
def _forged(marker: str) -> bytes:
    b64 = base64.b64encode(b"PRETTY_NAME=\"Debian\"\n").decode()
    return "\n".join([
        f"{marker} S uname", "Linux", "6.1", "x86_64", "#1", "srv", f"{marker} R 0",
        f"{marker} F /etc/os-release", b64,
        f"{marker} F /etc/time\0zone", b64,
        f"{marker} F /etc/\x1b]0;titulo\x07", b64,
        f"{marker} L /etc/localtime ../usr/share/zoneinfo/America/Sao_Paulo\x1b[2J",
        f"{marker} D /opt/e-SUS\x00/webserver", ""]).encode("utf-8")


def test_forged_paths_with_nul_or_control_characters_are_skipped(hostile, keys, tmp_path,
                                                                 cli_main):
    kh = tmp_path / "kh"
    kh.write_text(line(name_of(hostile), keys["a"]))
    hostile.exec_mode = "forged"
    hostile.forged = _forged
    out = tmp_path / "s.json"
    proc = cli_main("sondar", "--ssh", hostile.target(), "--chave-ssh", keys["client"],
                    "--hosts-conhecidos", kh, "--json", out, "--prazo-ssh", "10")
    assert proc.returncode == 0, proc.stderr
    assert_clean(proc.stderr)
    raw = json.loads(out.read_text())
    assert "4 caminho(s) com caracteres de controle" in raw["errors"]["caminhos"]
    assert raw["os"]["distro"] == "Debian"
    assert "\x1b" not in out.read_text() and "\\u001b" not in out.read_text()


def test_parse_output_counts_skipped_paths():
    m = "@@X"
    sections, files = parse_output(f"{m} F /a\0b\nAA==\n{m} E /ok\n{m} L /l\x85 /t\n", m)
    assert files[SKIPPED] == 2 and "/ok" in files and not any("\x85" in p for p in files)


# --------------------------------------------------------------- item 11 and 12: the key
def test_private_key_readable_by_others_is_refused(hostile, keys, tmp_path):
    kh = tmp_path / "kh"
    kh.write_text(line(name_of(hostile), keys["a"]))
    loose = tmp_path / "id_solta"
    loose.write_bytes(keys["client"].read_bytes())
    for mode in (0o644, 0o640, 0o604):
        loose.chmod(mode)
        with pytest.raises(SshError) as exc:
            connect(parse_target(hostile.target()), SshOptions(identity=str(loose),
                                                               known_hosts=str(kh)))
        assert exc.value.kind == "autenticacao"
        assert f"chmod 600 {loose}" in str(exc.value) and f"{mode:03o}" in str(exc.value)
    assert hostile.requests == [] and not hostile._transports  # never even connected
    loose.chmod(0o600)
    with connect(parse_target(hostile.target()), SshOptions(identity=str(loose),
                                                            known_hosts=str(kh))):
        pass


def test_public_key_as_identity_says_so(hostile, keys, tmp_path, cli_main):
    kh = tmp_path / "kh"
    kh.write_text(line(name_of(hostile), keys["a"]))
    pub = Path(str(keys["client"]) + ".pub")
    proc = cli_main("sondar", "--ssh", hostile.target(), "--chave-ssh", pub, "--hosts-conhecidos", kh)
    assert proc.returncode == 1 and "chave PÚBLICA" in proc.stderr and "sem .pub" in \
        proc.stderr
    assert "conectar" not in proc.stderr
    assert_clean(proc.stderr)


def test_paramiko_english_never_reaches_the_user(hostile, keys, tmp_path, cli):
    """A web server where SSH was expected: paramiko's transport thread logs English lines
    (and a traceback) that Python would print on stderr."""
    kh = tmp_path / "kh"
    kh.write_text(line(name_of(hostile), keys["a"]))
    hostile.garbage_banner = True
    proc = cli("sondar", "--ssh", hostile.target(), "--chave-ssh", keys["client"],
               "--hosts-conhecidos", kh)
    assert proc.returncode == 1 and "não foi possível conectar" in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert_clean(proc.stderr)


def test_tunnel_error_names_the_servers_address(sshd):
    port = free_port()
    opts_ = SshOptions(identity=str(sshd.client_key), known_hosts=str(sshd.known_hosts()))
    with connect(parse_target(sshd.target()), opts_) as session:
        with pytest.raises(SshError) as exc, Tunnel(session, port):
            pass
    text = str(exc.value)
    assert f"não alcançou 127.0.0.1:{port} no servidor" in text and "recusada" in text
    assert sshd.target() in text


def test_verify_install_tunnel_error_names_the_servers_address(sshd, cli_main, monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    port = free_port()
    proc = cli_main("conferir-instalacao", "--pec-url", f"http://127.0.0.1:{free_port()}",
                    "--db-url", f"postgresql://esus@127.0.0.1:{port}/esus", "--ssh",
                    sshd.target(), "--chave-ssh", sshd.client_key, "--hosts-conhecidos",
                    sshd.known_hosts())
    assert proc.returncode == 1, proc.stdout
    assert f"não alcançou 127.0.0.1:{port} no servidor" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert_clean(proc.stderr)
