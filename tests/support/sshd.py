"""A real OpenSSH server on 127.0.0.1 for the SSH tests (pytest plugin: fixtures ``sshd`` and
``pec_sshd``).

Each server runs ``/usr/sbin/sshd -D -e -f <cfg>`` with its own host key, its own
``authorized_keys`` and a free port, inside ``unshare --mount --pid --fork --mount-proc``: the
test's overlays over ``/etc`` and ``/opt`` are seen by that server's sessions only, never by the
machine. ``/etc`` gains a password user (``esusteste``) for the password tests; the "PEC
server" variant also binds a fixture installation over ``/opt/e-SUS`` and ``/etc/pec.config``
and puts stub ``systemctl``/``java`` first on the sessions' PATH (``SetEnv``). Root login is by
key only (``PermitRootLogin prohibit-password``). Needs root (namespaces, overlays); under
CI=true a missing sshd or unshare is a failure (``require``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from esus_runbook.net import free_port
from tests.support.pec_server_fixture import build_installation

from .project import require

SSHD = "/usr/sbin/sshd"
PASSWORD_USER = "esusteste"
PASSWORD = "Senha-de-teste-9f3c1"  # test-only account inside the server's namespace
PASSWORD_UID = 4242


def wait_for_port(port: int, timeout: float = 10.0) -> bool:
    """True once something accepts connections on 127.0.0.1:``port``, False after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@dataclass
class SshServer:
    port: int
    root: Path
    client_key: Path          # private key accepted for every user (authorized_keys)
    host_key_line: str        # "ssh-ed25519 AAAA..." (public)
    host_fingerprint: str
    proc: subprocess.Popen
    log: Path
    extra: dict

    host = "127.0.0.1"

    def target(self, user: str = "root") -> str:
        return f"{user}@{self.host}:{self.port}"

    def known_hosts(self, name: str = "known_hosts") -> Path:
        """A known_hosts file that trusts this server."""
        path = self.root / name
        path.write_text(f"[{self.host}]:{self.port} {self.host_key_line}\n")
        return path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "esus-teste", "-f",
                    str(path)], check=True, capture_output=True)


def _etc_upper(upper: Path, home: Path) -> None:
    """passwd/shadow/group of the machine plus the password test user."""
    upper.mkdir(parents=True)
    hashed = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=PASSWORD,
                            capture_output=True, text=True, check=True).stdout.strip()
    for name, line in (("passwd", f"{PASSWORD_USER}:x:{PASSWORD_UID}:{PASSWORD_UID}::"
                                  f"{home}:/bin/sh"),
                       ("shadow", f"{PASSWORD_USER}:{hashed}:20000:0:99999:7:::"),
                       ("group", f"{PASSWORD_USER}:x:{PASSWORD_UID}:")):
        text = Path("/etc", name).read_text()
        (upper / name).write_text(text.rstrip("\n") + "\n" + line + "\n")
        os.chmod(upper / name, 0o640 if name == "shadow" else 0o644)


def start_sshd(root: Path, *, installation: Path | None = None) -> SshServer:
    require(shutil.which("ssh-keygen") is not None and os.path.exists(SSHD),
            "OpenSSH server (/usr/sbin/sshd, ssh-keygen)")
    require(shutil.which("unshare") is not None and shutil.which("openssl") is not None,
            "unshare and openssl")
    require(hasattr(os, "geteuid") and os.geteuid() == 0,
            "root (the test sshd runs in its own mount namespace)")
    root.mkdir(parents=True, exist_ok=True)
    _keygen(root / "host_ed25519")
    _keygen(root / "id_ed25519")
    shutil.copy(root / "id_ed25519.pub", root / "authorized_keys")
    home = root / "home"
    home.mkdir()
    os.chown(home, PASSWORD_UID, PASSWORD_UID)
    _etc_upper(root / "etc_upper", home)
    (root / "etc_work").mkdir()
    (root / "opt_upper").mkdir()
    (root / "opt_work").mkdir()
    port = free_port()
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    mounts = [f"mount -t overlay overlay -o lowerdir=/etc,upperdir={root}/etc_upper,"
              f"workdir={root}/etc_work /etc"]
    background = []
    if installation is not None:
        (root / "etc_upper" / "pec.config").touch()
        (root / "opt_upper" / "e-SUS").mkdir()
        mounts += [f"mount -t overlay overlay -o lowerdir=/opt,upperdir={root}/opt_upper,"
                   f"workdir={root}/opt_work /opt",
                   f"mount --bind {installation}/opt/e-SUS /opt/e-SUS",
                   f"mount --bind {installation}/etc/pec.config /etc/pec.config"]
        path = f"{installation}/bin:{path}"
        # the password user may use `sudo -n` (servidor.sudo: true), with the stubs on its PATH
        sudoers = root / "etc_upper" / "sudoers.d"
        sudoers.mkdir()
        (sudoers / "esus-teste").write_text(
            f'Defaults:{PASSWORD_USER} secure_path="{path}"\n'
            f"{PASSWORD_USER} ALL=(root) NOPASSWD: ALL\n")
        os.chmod(sudoers / "esus-teste", 0o440)
        background = [shlex.join(cmd) + " &" for cmd in installation_processes(installation)]
    cfg = root / "sshd_config"
    cfg.write_text("\n".join([
        "ListenAddress 127.0.0.1", f"Port {port}", f"HostKey {root}/host_ed25519",
        f"PidFile {root}/sshd.pid", f"AuthorizedKeysFile {root}/authorized_keys",
        "StrictModes no", "UsePAM no", "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes", "PasswordAuthentication yes",
        "KbdInteractiveAuthentication no", "PermitEmptyPasswords no", "MaxStartups 50:30:100",
        "MaxSessions 50", f"SetEnv PATH={path}", "LogLevel INFO", ""]))
    script = root / "server.sh"
    script.write_text("\n".join(["set -e", *mounts, *background,
                                 f"{SSHD} -D -e -f {cfg}", ""]))
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    log = root / "sshd.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "--pid",
                                 "--fork", "--mount-proc", "--kill-child", "sh", str(script)],
                                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    if not wait_for_port(port, 10.0):
        proc.kill()
        proc.wait()
        pytest.fail(f"sshd did not start: {log.read_text(errors='replace')[-2000:]}")
    pub = (root / "host_ed25519.pub").read_text().split()
    fp = subprocess.run(["ssh-keygen", "-lf", str(root / "host_ed25519.pub")],
                        capture_output=True, text=True, check=True).stdout.split()[1]
    return SshServer(port, root, root / "id_ed25519", f"{pub[0]} {pub[1]}", fp, proc, log,
                     {"installation": installation})


def installation_processes(installation: Path) -> list[list[str]]:
    """What runs on the fixture server: the PEC's Java process (the stub ``java`` with the
    installation's JVM options) and a listener standing in for the bundled database."""
    spec = (installation / "processes.txt").read_text().splitlines()
    java_args = shlex.split(spec[0])
    db_host, db_port = spec[1].split()
    listener = ("import socket,time;s=socket.socket();"
                "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
                f"s.bind(({db_host!r},{int(db_port)}));s.listen();time.sleep(86400)")
    return [[str(installation / "bin" / "java"), *java_args], [sys.executable, "-c", listener]]


def stop_sshd(server: SshServer) -> None:
    if server.proc.poll() is None:
        os.killpg(server.proc.pid, signal.SIGKILL)  # --kill-child takes the namespace down
    server.proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and wait_for_port(server.port, 0.05):
        time.sleep(0.05)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """A plain test sshd (the machine itself, reached over SSH)."""
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    stop_sshd(server)


@pytest.fixture(scope="session", params=["saudavel", "quebrada"])
def pec_sshd(request, tmp_path_factory):
    """A test sshd standing in for a PEC server after installation: ``saudavel`` (healthy) or
    ``quebrada`` (broken). ``server.extra`` holds the fixture's expectations."""
    from esus_runbook.data import read_csv
    from esus_runbook.jvm import recommend

    profile = next(dict(r) for r in read_csv("profiles.csv") if r["profile_id"] == "ate_40")
    plan = recommend(profile, 16 * 1024 ** 3)
    root = tmp_path_factory.mktemp(f"pec-{request.param}")
    installation = build_installation(root / "fixture", request.param, plan["flags"])
    server = start_sshd(root / "sshd", installation=installation)
    server.extra.update(kind=request.param, jvm_plan=plan, profile=profile)
    yield server
    stop_sshd(server)
