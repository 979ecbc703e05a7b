"""SSH connection to the PEC server: strict host keys, key or agent, password by reference.

Host keys come only from a known_hosts file (default ``~/.ssh/known_hosts``). An unknown host
is refused with its SHA256 fingerprint and the command that records it after the analyst
confirms it (``esus-runbook ssh aceitar``); a key that differs from the recorded one is refused
as a possible attack. The password, when used, is read from the environment variable the site
names; it, the key file's contents and any passphrase never reach a message.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shlex
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from ..errors import RunbookError
from ..secrets import read_secret
from ..ssh_target import Target

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
MAX_OUTPUT = 4 * 1024 * 1024


class SshError(RunbookError):
    """The server could not be reached, authenticated or trusted. ``kind`` says which:
    ``host_desconhecido``, ``host_alterado``, ``autenticacao``, ``inacessivel``, ``tempo``,
    ``comando``."""

    def __init__(self, message: str, *, kind: str, remedy: str | None = None,
                 fingerprint: str | None = None):
        super().__init__(message, remedy=remedy)
        self.kind = kind
        self.fingerprint = fingerprint


@dataclass(frozen=True)
class SshOptions:
    """How to reach a server. Secrets only by reference: ``identity`` is a key file path,
    ``password_env`` the NAME of a variable."""

    identity: str | None = None
    known_hosts: str | None = None
    password_env: str | None = None
    sudo: bool = False
    connect_timeout: float = 10.0
    command_timeout: float = 60.0
    env: Mapping[str, str] | None = field(default=None, repr=False)  # where senha_env is read

    @property
    def known_hosts_path(self) -> Path:
        return Path(self.known_hosts or DEFAULT_KNOWN_HOSTS).expanduser()


def options_for(servidor: dict, env: Mapping[str, str] | None = None) -> SshOptions:
    """SshOptions from a validated site's ``servidor`` section (``env``: where the
    password variable is read; default the process environment)."""
    return SshOptions(identity=servidor.get("chave_ssh_file"),
                      known_hosts=servidor.get("known_hosts"),
                      password_env=servidor.get("senha_env"),
                      sudo=bool(servidor.get("sudo")), env=env)


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of a public key."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def accept_command(target: Target, known_hosts: str | None) -> str:
    cmd = f"esus-runbook ssh aceitar {shlex.quote(str(target))}"
    if known_hosts:
        cmd += f" --known-hosts {shlex.quote(known_hosts)}"
    return cmd


class _Unknown(Exception):
    def __init__(self, key: paramiko.PKey):
        super().__init__("unknown host key")
        self.key = key


class _RejectUnknown(paramiko.MissingHostKeyPolicy):
    """RejectPolicy that keeps the offered key, so the message can show its fingerprint."""

    def missing_host_key(self, client, hostname, key):  # noqa: D401 - paramiko's API
        raise _Unknown(key)


def _load_host_keys(path: Path, keys: paramiko.HostKeys | None = None) -> paramiko.HostKeys:
    """The host keys of ``path`` (none when it does not exist yet), added to ``keys``."""
    keys = paramiko.HostKeys() if keys is None else keys
    if path.is_file():
        try:
            keys.load(str(path))
        except (OSError, paramiko.SSHException) as exc:
            raise SshError(f"não foi possível ler o arquivo de hosts conhecidos {path} "
                           f"({exc.__class__.__name__})", kind="host_desconhecido",
                           remedy="confira o caminho e o conteúdo de known_hosts") from None
    return keys


class SshSession:
    """An open connection; use as a context manager (closes on every exit path)."""

    def __init__(self, client: paramiko.SSHClient, target: Target, options: SshOptions):
        self.client = client
        self.target = target
        self.options = options
        key = client.get_transport().get_remote_server_key()
        self.fingerprint = fingerprint(key)
        self.host_key_type = key.get_name()

    def __enter__(self) -> SshSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    @property
    def transport(self) -> paramiko.Transport:
        return self.client.get_transport()

    def run(self, command: str, *, timeout: float | None = None, sudo: bool | None = None,
            max_bytes: int = MAX_OUTPUT, input: str | None = None) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of ``command`` run by the server's shell. Output past
        ``max_bytes`` is dropped (the stream still drains); past ``timeout`` the channel is
        closed and SshError(kind="tempo") raised. ``sudo`` wraps it in ``sudo -n`` (never
        asks for a password). ``input`` is sent on the command's stdin (a script for
        ``sh -s`` stays out of the server's process list)."""
        timeout = self.options.command_timeout if timeout is None else timeout
        if self.options.sudo if sudo is None else sudo:
            command = "sudo -n sh -c " + shlex.quote(command)
        try:
            chan = self.transport.open_session(timeout=self.options.connect_timeout)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise SshError(f"{self.target}: a conexão SSH caiu ({exc.__class__.__name__})",
                           kind="inacessivel", remedy="tente de novo; confira a rede") from None
        out, err = bytearray(), bytearray()
        end = time.monotonic() + timeout
        try:
            chan.settimeout(0.2)
            chan.exec_command(command)
            if input is not None:
                chan.sendall(input.encode("utf-8"))
            chan.shutdown_write()
            while True:
                got = False
                while chan.recv_ready():
                    data = chan.recv(65536)
                    got = got or bool(data)
                    out += data[:max(0, max_bytes - len(out))]
                while chan.recv_stderr_ready():
                    data = chan.recv_stderr(65536)
                    got = got or bool(data)
                    err += data[:max(0, max_bytes - len(err))]
                if chan.exit_status_ready() and not chan.recv_ready() \
                        and not chan.recv_stderr_ready():
                    break
                if time.monotonic() > end:
                    raise SshError(f"{self.target}: comando remoto sem resposta em "
                                   f"{timeout:.0f} s", kind="tempo",
                                   remedy="o servidor está sobrecarregado ou a rede lenta; "
                                          "tente de novo mais tarde")
                if not got:
                    time.sleep(0.02)
            rc = chan.recv_exit_status()
        finally:
            chan.close()
        return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _password(options: SshOptions) -> str | None:
    if not options.password_env:
        return None
    secret = read_secret(options.password_env, what="senha SSH", env=options.env)
    return secret.reveal() if secret else None


def connect(target: Target, options: SshOptions | None = None) -> SshSession:
    """Open an authenticated session to ``target``; SshError (pt-BR, no secret) otherwise."""
    options = options or SshOptions()
    kh_path = options.known_hosts_path
    client = paramiko.SSHClient()  # only this file's keys: system-wide ones are not loaded
    _load_host_keys(kh_path, client.get_host_keys())
    client.set_missing_host_key_policy(_RejectUnknown())
    identity = str(Path(options.identity).expanduser()) if options.identity else None
    if identity and not os.path.isfile(identity):
        raise SshError(f"chave SSH não encontrada: {identity}", kind="autenticacao",
                       remedy="confira chave_ssh_file (ou --identity); sem ela o agente SSH "
                              "é usado")
    password = _password(options)
    try:
        client.connect(target.host, port=target.port, username=target.user,
                       key_filename=identity, password=password,
                       allow_agent=identity is None, look_for_keys=False,
                       timeout=options.connect_timeout, banner_timeout=options.connect_timeout,
                       auth_timeout=options.connect_timeout,
                       channel_timeout=options.connect_timeout)
    except _Unknown as exc:
        client.close()
        fp = fingerprint(exc.key)
        raise SshError(
            f"{target}: chave do servidor desconhecida ({exc.key.get_name()} {fp})",
            kind="host_desconhecido", fingerprint=fp,
            remedy=f"confirme a impressão digital {fp} com o responsável pelo servidor "
                   f"(ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub, no servidor) e rode: "
                   f"{accept_command(target, options.known_hosts)}") from None
    except paramiko.BadHostKeyException as exc:
        client.close()
        fp = fingerprint(exc.key)
        raise SshError(
            f"{target}: a chave do servidor MUDOU (recebida {fp}, registrada "
            f"{fingerprint(exc.expected_key)}) — pode ser um ataque (intermediário na rede)",
            kind="host_alterado", fingerprint=fp,
            remedy="não prossiga: confirme com o responsável se o servidor foi reinstalado; só "
                   f"então apague a linha antiga (ssh-keygen -R "
                   f"{shlex.quote(target.known_hosts_name)} -f {shlex.quote(str(kh_path))}) "
                   "e aceite a nova chave") from None
    except paramiko.PasswordRequiredException:
        client.close()
        raise SshError(f"{target}: a chave SSH está protegida por senha", kind="autenticacao",
                       remedy="carregue-a no agente (ssh-add) e deixe chave_ssh_file vazio") \
            from None
    except paramiko.AuthenticationException:
        client.close()
        raise SshError(f"{target}: o servidor recusou a autenticação (chave ou senha)",
                       kind="autenticacao",
                       remedy=f"confira que a chave pública está em ~{target.user}/.ssh/"
                              "authorized_keys no servidor, ou a variável de senha "
                              "(senha_env)") from None
    except TimeoutError:
        client.close()
        raise SshError(f"{target}: sem resposta em {options.connect_timeout:.0f} s",
                       kind="tempo", remedy="confira o endereço, a rede (VPN) e o firewall "
                                            "(porta SSH liberada?)") from None
    except (paramiko.SSHException, OSError, EOFError) as exc:
        client.close()
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
            exc.__class__.__name__
        raise SshError(f"{target}: não foi possível conectar ({why})", kind="inacessivel",
                       remedy="confira o endereço, a porta e se o serviço SSH está ativo no "
                              "servidor (systemctl status ssh)") from None
    finally:
        password = None
    return SshSession(client, target, options)


def fetch_host_key(target: Target, timeout: float = 10.0) -> paramiko.PKey:
    """The host key the server offers (no authentication)."""
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
    except OSError as exc:
        raise SshError(f"{target}: não foi possível conectar ({exc.strerror or exc})",
                       kind="inacessivel", remedy="confira o endereço e a porta") from None
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = timeout
        transport.start_client(timeout=timeout)
        return transport.get_remote_server_key()
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise SshError(f"{target}: o servidor não respondeu como SSH "
                       f"({exc.__class__.__name__})", kind="inacessivel",
                       remedy="confira a porta (é a do SSH?)") from None
    finally:
        transport.close()


def accept_host_key(target: Target, known_hosts: str | None = None,
                    timeout: float = 10.0) -> tuple[str, str, bool]:
    """Record the server's host key in ``known_hosts`` (hashed host name, file 600).
    Returns (key type, fingerprint, already recorded?). A different recorded key is refused."""
    path = Path(known_hosts or DEFAULT_KNOWN_HOSTS).expanduser()
    key = fetch_host_key(target, timeout)
    fp = fingerprint(key)
    recorded = (_load_host_keys(path).lookup(target.known_hosts_name) or {})
    old = recorded.get(key.get_name())
    if old is not None:
        if old.asbytes() == key.asbytes():
            return key.get_name(), fp, True
        raise SshError(
            f"{target}: já há outra chave {key.get_name()} registrada em {path} "
            f"({fingerprint(old)}; o servidor oferece {fp}) — pode ser um ataque",
            kind="host_alterado", fingerprint=fp,
            remedy="confirme com o responsável se o servidor foi reinstalado; só então rode "
                   f"ssh-keygen -R {shlex.quote(target.known_hosts_name)} -f "
                   f"{shlex.quote(str(path))} e aceite de novo")
    line = f"{paramiko.HostKeys.hash_host(target.known_hosts_name)} {key.get_name()} " \
           f"{key.get_base64()}\n"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="ascii") as fh:
        if fh.tell() > 0:
            with open(path, "rb") as rd:
                rd.seek(-1, os.SEEK_END)
                if rd.read(1) != b"\n":
                    fh.write("\n")
        fh.write(line)
    return key.get_name(), fp, False


def accept_text(target: Target, known_hosts: str | None = None, timeout: float = 10.0) -> str:
    """``esus-runbook ssh aceitar``: record the host key (:func:`accept_host_key`) and say in
    pt-BR what was recorded and where."""
    kind, fp, already = accept_host_key(target, known_hosts, timeout=timeout)
    where = known_hosts or "~/.ssh/known_hosts"
    if already:
        return (f"Servidor {target}: chave {kind} {fp}\n"
                f"Esta chave já estava registrada em {where}; nada mudou.")
    return (f"Servidor {target}: chave {kind} {fp}\n"
            f"Chave registrada em {where}. Se a impressão digital acima não for a do "
            "servidor (confira com o responsável), apague a linha e não prossiga.")
