"""SSH connection to the PEC server: strict host keys, key or agent, password by reference.

Host keys come only from a known_hosts file (default ``~/.ssh/known_hosts``, read by
:mod:`.known_hosts`). An unknown host is refused with its SHA256 fingerprint and the command
that records exactly that key after the analyst confirms it (``esus-runbook ssh aceitar ...
--impressao-digital SHA256:...``); a key that differs from every recorded one (of any type) is
refused as a possible attack, a ``@revoked`` one as revoked. A private key file must be
readable by its owner only (as OpenSSH demands). Every remote command has one deadline that
covers the channel, the exec request, the command and its output; a command past it is
signalled (TERM) and its channel closed. The password, when used, is read from the environment
variable the site names; it, the key file's contents and any passphrase never reach a message.
"""

from __future__ import annotations

import logging
import re
import socket
import stat
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
from paramiko.common import cMSG_CHANNEL_REQUEST

from ..commands import join as shell_join
from ..commands import sh
from ..errors import InputError, describe_os_error
from ..secret_refs import read_secret
from ..ssh_target import Target
from . import known_hosts
from .errors import SshError

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
MAX_OUTPUT = 4 * 1024 * 1024
KEEPALIVE_S = 15
KILL_S = 5.0  # the deadline of the command that stops a timed-out one
PID_TAG = "@@ESUS-PID "
STDERR_SHOWN = 300  # characters of the remote stderr kept in a message

# paramiko logs in English (and with tracebacks) from its transport thread; Python's
# last-resort handler would print those lines on the analyst's terminal. Our pt-BR SshError
# says what happened; paramiko's lines go nowhere unless an application configures them.
_PARAMIKO_LOG = logging.getLogger("paramiko")
_PARAMIKO_LOG.addHandler(logging.NullHandler())
_PARAMIKO_LOG.propagate = False


@dataclass(frozen=True)
class SshOptions:
    """How to reach a server. Secrets only by reference: ``identity`` is a key file path,
    ``password_env`` the NAME of a variable. ``command_timeout`` is the one deadline of a
    remote command (channel, exec request, command and output)."""

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
    return known_hosts.fingerprint_of(key.asbytes())


def accept_command(target: Target, known_hosts_file: str | None, fp: str) -> str:
    """The ``esus-runbook ssh aceitar`` command that records exactly the key ``fp``."""
    words = ["esus-runbook", "ssh", "aceitar", str(target), "--impressao-digital", fp]
    if known_hosts_file:
        words += ["--hosts-conhecidos", known_hosts_file]
    return shell_join(words)


def remove_command(target: Target, path: Path) -> str:
    """``ssh-keygen -R`` for the host's lines of ``path`` (quoted)."""
    return shell_join(["ssh-keygen", "-R", target.known_hosts_name, "-f", str(path)])


def _listed(entries: list[known_hosts.Entry]) -> str:
    return ", ".join(f"{e.key_type} {e.fingerprint}" for e in entries)


def _changed(target: Target, path: Path, offered: paramiko.PKey,
             recorded: list[known_hosts.Entry]) -> SshError:
    fp = fingerprint(offered)
    return SshError(
        f"{target}: a chave do servidor MUDOU (recebida {offered.get_name()} {fp}; "
        f"registrada(s) em {path}: {_listed(recorded)}) — pode ser um ataque (intermediário "
        "na rede)", kind="host_alterado", fingerprint=fp,
        remedy="não prossiga: confirme com o responsável se o servidor foi reinstalado; só "
               f"então apague as linhas antigas ({remove_command(target, path)}) e aceite a "
               "nova chave")


def _revoked(target: Target, path: Path, offered: paramiko.PKey) -> SshError:
    fp = fingerprint(offered)
    return SshError(
        f"{target}: a chave oferecida pelo servidor ({offered.get_name()} {fp}) está REVOGADA "
        f"(@revoked em {path})", kind="host_revogado", fingerprint=fp,
        remedy="não prossiga: a chave foi revogada por quem administra a rede; fale com o "
               "responsável pelo servidor")


class _Refused(Exception):
    def __init__(self, error: SshError):
        super().__init__("host key refused")
        self.error = error


class _Unknown(Exception):
    def __init__(self, key: paramiko.PKey):
        super().__init__("unknown host key")
        self.key = key


class _HostKeyPolicy(paramiko.MissingHostKeyPolicy):
    """Called (before authentication) for a key paramiko found no recorded key of its type
    for: revoked, changed (another key of any type is recorded) or unknown."""

    def __init__(self, target: Target, path: Path, entries: list[known_hosts.Entry]):
        self.target, self.path, self.entries = target, path, entries

    def missing_host_key(self, client, hostname, key):  # noqa: D401 - paramiko's API
        if known_hosts.revoked(self.entries, key.asbytes()):
            raise _Refused(_revoked(self.target, self.path, key))
        recorded = [e for e in known_hosts.for_host(self.entries, self.target.known_hosts_name)
                    if e.marker is None]
        if recorded:
            raise _Refused(_changed(self.target, self.path, key, recorded))
        raise _Unknown(key)


def _trust(client: paramiko.SSHClient, target: Target, path: Path) -> list[known_hosts.Entry]:
    """Load ``path`` and give paramiko the host's usable keys (not revoked, not CA lines)."""
    entries = known_hosts.load(path)
    keys = client.get_host_keys()
    for e in known_hosts.for_host(entries, target.known_hosts_name):
        if e.marker is None and not known_hosts.revoked(entries, e.blob):
            key = e.pkey()
            if key is not None:
                keys.add(target.known_hosts_name, key.get_name(), key)
    return entries


_PUBLIC_KEY_STARTS = (b"ssh-", b"ecdsa-", b"sk-", b"---- BEGIN SSH2 PUBLIC KEY")


def load_identity(path_text: str) -> paramiko.PKey:
    """The private key of ``path_text``, refused (pt-BR, nothing of its contents) when missing,
    readable by group or others, a public key, protected by a passphrase or not a key."""
    path = Path(path_text).expanduser()
    option = "confira chave_ssh_file (ou --chave-ssh)"
    try:
        st = path.stat()
    except OSError:
        raise SshError(f"chave SSH não encontrada: {path}", kind="autenticacao",
                       remedy=f"{option}; sem ela o agente SSH é usado") from None
    if not stat.S_ISREG(st.st_mode):
        raise SshError(f"a chave SSH {path} não é um arquivo comum", kind="autenticacao",
                       remedy=option)
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).lstrip()
    except OSError as exc:
        raise SshError(f"não foi possível ler a chave SSH {path} ({describe_os_error(exc)})",
                       kind="autenticacao", remedy=option) from None
    if head.startswith(_PUBLIC_KEY_STARTS):
        raise SshError(f"{path} é uma chave PÚBLICA; o acesso precisa da chave PRIVADA",
                       kind="autenticacao",
                       remedy="informe o arquivo sem .pub (ex.: ~/.ssh/id_ed25519) em "
                              "chave_ssh_file ou --chave-ssh")
    if st.st_mode & 0o077:
        raise SshError(f"a chave privada SSH {path} pode ser lida por outros usuários (modo "
                       f"{stat.S_IMODE(st.st_mode):03o})", kind="autenticacao",
                       remedy=f"restrinja-a ao dono, como o OpenSSH exige: chmod 600 {sh(path)}")
    try:
        return paramiko.PKey.from_path(path)
    except paramiko.PasswordRequiredException:
        raise SshError(f"a chave SSH {path} está protegida por senha", kind="autenticacao",
                       remedy="carregue-a no agente (ssh-add) e deixe chave_ssh_file vazio") \
            from None
    except (paramiko.SSHException, ValueError, TypeError, UnicodeError) as exc:
        raise SshError(f"{path} não é uma chave privada SSH reconhecida "
                       f"({exc.__class__.__name__})", kind="autenticacao", remedy=option) \
            from None


def _session_pid(err: bytearray | bytes) -> tuple[int | None, bytes]:
    """(the pid the session's shell announced, stderr without that line)."""
    tag = PID_TAG.encode()
    if not err.startswith(tag) or b"\n" not in err:
        return None, bytes(err)
    first, _, rest = bytes(err).partition(b"\n")
    value = first[len(tag):]
    return (int(value) if value.isdigit() and int(value) > 1 else None), rest


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def _send_signal(chan: paramiko.Channel, name: str = "TERM") -> None:
    """RFC 4254 6.9 "signal" request (paramiko has no method for it; OpenSSH's sshd delivers
    it to the session's process). Best effort: the channel is closed right after."""
    try:
        m = paramiko.Message()
        m.add_byte(cMSG_CHANNEL_REQUEST)
        m.add_int(chan.remote_chanid)
        m.add_string("signal")
        m.add_boolean(False)
        m.add_string(name)
        chan.transport._send_user_message(m)
    except Exception:  # noqa: BLE001 - the transport may already be gone
        pass


def stderr_excerpt(err: bytes | str) -> str:
    """The remote stderr for a message: one line, bounded."""
    text = err.decode("utf-8", "replace") if isinstance(err, bytes) else err
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text[:STDERR_SHOWN] + ("…" if len(text) > STDERR_SHOWN else "")


class SshSession:
    """An open connection; use as a context manager (closes on every exit path)."""

    def __init__(self, client: paramiko.SSHClient, target: Target, options: SshOptions):
        self.client = client
        self.target = target
        self.options = options
        key = client.get_transport().get_remote_server_key()
        self.fingerprint = fingerprint(key)
        self.host_key_type = key.get_name()
        self._stopping = False

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
        """(exit code, stdout, stderr) of ``command`` run by the server's shell, within ONE
        deadline of ``timeout`` seconds covering the channel, the exec request (paramiko's
        ``exec_command`` alone waits forever), the input, the command and its output. Output
        past ``max_bytes`` is dropped (the stream still drains). Past the deadline the command
        is signalled (TERM), its channel closed and SshError(kind="tempo", or "inundacao" when
        the output overflowed) raised; a server that never answered the exec request leaves
        the session closed. ``sudo`` wraps it in ``sudo -n`` (never asks for a password).
        ``input`` is sent on the command's stdin (a script for ``sh -s`` stays out of the
        server's process list)."""
        timeout = self.options.command_timeout if timeout is None else timeout
        end = time.monotonic() + timeout

        def left() -> float:
            return max(0.05, end - time.monotonic())

        if self.options.sudo if sudo is None else sudo:
            command = "sudo -n sh -c " + sh(command)
        # the session's shell says its pid first (on stderr, removed below): the process
        # group to stop on timeout. sshd honours the "signal" request only for sessions it
        # runs with privilege separation, i.e. not for root logins.
        command = f"printf '{PID_TAG}%s\\n' \"$$\" >&2; {command}"
        try:
            chan = self.transport.open_session(timeout=min(self.options.connect_timeout,
                                                           left()))
        except (paramiko.SSHException, OSError, EOFError, AttributeError):
            if self.transport is not None and self.transport.is_active():
                raise SshError(f"{self.target}: o servidor não abriu um canal SSH em "
                               f"{min(self.options.connect_timeout, timeout):.0f} s",
                               kind="tempo", remedy="a rede caiu ou o servidor travou; confira "
                                                    "a rede (VPN) e tente de novo") from None
            raise self._lost() from None
        out, err = bytearray(), bytearray()
        overflow = False
        try:
            self._exec(chan, command, left, timeout)
            if input is not None:
                chan.settimeout(left())
                chan.sendall(input.encode("utf-8"))
            chan.shutdown_write()
            chan.settimeout(0.2)
            while True:
                got = False
                while chan.recv_ready():
                    data = chan.recv(65536)
                    got = got or bool(data)
                    overflow = overflow or len(out) + len(data) > max_bytes
                    out += data[:max(0, max_bytes - len(out))]
                while chan.recv_stderr_ready():
                    data = chan.recv_stderr(65536)
                    got = got or bool(data)
                    overflow = overflow or len(err) + len(data) > max_bytes
                    err += data[:max(0, max_bytes - len(err))]
                if chan.exit_status_ready() and not chan.recv_ready() \
                        and not chan.recv_stderr_ready():
                    break
                if time.monotonic() > end:
                    self._stop(chan, err)
                    raise self._timed_out(timeout, max_bytes if overflow else None)
                if not got:
                    time.sleep(0.02)
            rc = chan.recv_exit_status()
        except TimeoutError:  # sendall: the server stopped reading the input
            self._stop(chan, err)
            raise self._timed_out(timeout, None) from None
        except (paramiko.SSHException, OSError, EOFError):
            raise self._lost() from None
        finally:
            chan.close()
        _, err = _session_pid(err)
        return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def _stop(self, chan: paramiko.Channel, err: bytearray) -> None:
        """Stop a command past its deadline: the "signal" request, the channel closed, and
        its process group killed from a new channel (bounded; nothing if the link is gone)."""
        _send_signal(chan)
        chan.close()
        pid, _ = _session_pid(err)
        if self._stopping or pid is None or not self.transport \
                or not self.transport.is_active():
            return  # (a kill that itself timed out is not chased by another one)
        self._stopping = True
        try:
            self.run(f"kill -TERM -- -{pid} 2>/dev/null || kill -TERM {pid}", timeout=KILL_S,
                     sudo=False)
        except SshError:
            pass
        finally:
            self._stopping = False

    def _exec(self, chan: paramiko.Channel, command: str, left, timeout: float) -> None:
        """``chan.exec_command`` bounded by the deadline (it waits for the server's answer
        without a timeout of its own: it runs in a helper thread)."""
        failure: list[BaseException] = []

        def request() -> None:
            try:
                chan.exec_command(command)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                failure.append(exc)

        helper = threading.Thread(target=request, daemon=True, name="esus-ssh-exec")
        helper.start()
        helper.join(left())
        if helper.is_alive():
            self.close()  # unblocks the helper (the transport closes every channel)
            helper.join(5)
            raise SshError(f"{self.target}: o servidor não respondeu ao pedido de execução de "
                           f"comando em {timeout:.0f} s", kind="tempo",
                           remedy="o serviço SSH do servidor está travado ou a rede caiu; "
                                  "confira o servidor (systemctl status ssh) e tente de novo")
        if failure:
            if not self.transport or not self.transport.is_active():
                raise self._lost()
            raise SshError(f"{self.target}: o servidor recusou executar comandos nesta sessão",
                           kind="comando",
                           remedy="confira se o usuário pode executar comandos por SSH "
                                  "(ForceCommand, shell /sbin/nologin, restrições em "
                                  "authorized_keys)")

    def _lost(self) -> SshError:
        return SshError(f"{self.target}: a conexão SSH caiu",
                        kind="inacessivel", remedy="tente de novo; confira a rede (VPN) e o "
                                                   "servidor")

    def _timed_out(self, timeout: float, flooded: int | None) -> SshError:
        if flooded is not None:
            return SshError(f"{self.target}: o comando remoto enviou mais de "
                            f"{_size(flooded)} de saída e não terminou em "
                            f"{timeout:.0f} s (inundação de saída); o comando foi interrompido",
                            kind="inundacao",
                            remedy="o servidor respondeu com uma saída sem fim, o que não é "
                                   "normal: confira o servidor e o shell do usuário SSH")
        return SshError(f"{self.target}: comando remoto sem resposta em {timeout:.0f} s; o "
                        "comando foi interrompido no servidor", kind="tempo",
                        remedy="o servidor está sobrecarregado, travado ou a rede caiu; "
                               "tente de novo mais tarde")


def _password(options: SshOptions) -> str | None:
    if not options.password_env:
        return None
    secret = read_secret(options.password_env, what="senha SSH", env=options.env)
    return secret.reveal() if secret else None


def connect(target: Target, options: SshOptions | None = None) -> SshSession:
    """Open an authenticated session to ``target``; SshError (pt-BR, no secret) otherwise.
    The host key is checked against known_hosts before any credential is sent."""
    options = options or SshOptions()
    kh_path = options.known_hosts_path
    client = paramiko.SSHClient()  # only this file's keys: system-wide ones are not loaded
    entries = _trust(client, target, kh_path)
    client.set_missing_host_key_policy(_HostKeyPolicy(target, kh_path, entries))
    pkey = load_identity(options.identity) if options.identity else None
    password = _password(options)
    try:
        client.connect(target.host, port=target.port, username=target.user,
                       pkey=pkey, password=password,
                       allow_agent=pkey is None, look_for_keys=False,
                       timeout=options.connect_timeout, banner_timeout=options.connect_timeout,
                       auth_timeout=options.connect_timeout,
                       channel_timeout=options.connect_timeout)
        client.get_transport().set_keepalive(KEEPALIVE_S)
    except _Refused as exc:
        client.close()
        raise exc.error from None
    except _Unknown as exc:
        client.close()
        fp = fingerprint(exc.key)
        raise SshError(
            f"{target}: chave do servidor desconhecida ({exc.key.get_name()} {fp})",
            kind="host_desconhecido", fingerprint=fp,
            remedy=f"confirme a impressão digital {fp} com o responsável pelo servidor "
                   f"(ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub, no servidor) e rode: "
                   f"{accept_command(target, options.known_hosts, fp)}") from None
    except paramiko.BadHostKeyException as exc:
        client.close()
        if known_hosts.revoked(entries, exc.key.asbytes()):
            raise _revoked(target, kh_path, exc.key) from None
        recorded = [e for e in known_hosts.for_host(entries, target.known_hosts_name)
                    if e.marker is None]
        raise _changed(target, kh_path, exc.key, recorded) from None
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
        if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
            first = next(iter(exc.errors.values()), None)  # one OSError per address tried
            why = describe_os_error(first) if isinstance(first, OSError) else \
                "conexão recusada (nada escuta nesta porta)"
        elif isinstance(exc, OSError):
            why = describe_os_error(exc)
        elif isinstance(exc, EOFError):
            why = "o servidor encerrou a conexão"
        else:
            why = "o serviço nessa porta não respondeu como um servidor SSH"
        raise SshError(f"{target}: não foi possível conectar ({why})", kind="inacessivel",
                       remedy="confira o endereço, a porta e se o serviço SSH está ativo no "
                              "servidor (systemctl status ssh)") from None
    finally:
        password = None
    return SshSession(client, target, options)


def fetch_host_key(target: Target, timeout: float = 10.0) -> paramiko.PKey:
    """The host key the server offers (no authentication), fetched once."""
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
    except OSError as exc:
        raise SshError(f"{target}: não foi possível conectar ({describe_os_error(exc)})",
                       kind="inacessivel", remedy="confira o endereço e a porta") from None
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = timeout
        transport.start_client(timeout=timeout)
        return transport.get_remote_server_key()
    except (paramiko.SSHException, OSError, EOFError):
        raise SshError(f"{target}: o servidor não respondeu como SSH", kind="inacessivel",
                       remedy="confira a porta (é a do SSH?)") from None
    finally:
        transport.close()


FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")


def check_fingerprint(text: object, option: str = "--impressao-digital") -> str:
    """The ``SHA256:...`` fingerprint the analyst confirmed; InputError otherwise."""
    if not isinstance(text, str) or not FINGERPRINT.fullmatch(text.strip()):
        raise InputError("impressão digital inválida", file=option,
                         remedy="copie a impressão digital SHA256:... (43 caracteres depois de "
                                "'SHA256:') da mensagem 'chave do servidor desconhecida', depois "
                                "de confirmá-la com o responsável pelo servidor")
    return text.strip()


def accept_host_key(target: Target, fingerprint_confirmed: str,
                    known_hosts_file: str | None = None,
                    timeout: float = 10.0) -> tuple[str, str, bool, str | None]:
    """Record the server's host key in ``known_hosts`` (hashed host name, file 600, never
    through a symbolic link) only when its fingerprint is ``fingerprint_confirmed``; refused
    when any other key (of any type) is recorded for the host, or the key is revoked.
    Returns (key type, fingerprint, already recorded?, note on a file mode that was fixed)."""
    wanted = check_fingerprint(fingerprint_confirmed)
    path = Path(known_hosts_file or DEFAULT_KNOWN_HOSTS).expanduser()
    # before touching the network: another key recorded for the host is refused at once
    _refuse_recorded(target, path, known_hosts.load(path), None, wanted)
    key = fetch_host_key(target, timeout)
    fp = fingerprint(key)
    if fp != wanted:
        raise SshError(
            f"{target}: o servidor oferece a chave {key.get_name()} {fp}, não a impressão "
            f"digital confirmada ({wanted}) — pode ser um ataque; nada foi gravado",
            kind="host_alterado", fingerprint=fp,
            remedy="não prossiga: confira de novo com o responsável pelo servidor "
                   "(ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub, no servidor)")

    def check(entries: list[known_hosts.Entry]) -> bool:
        return _refuse_recorded(target, path, entries, key, fp)

    already, note = known_hosts.append(path, target.known_hosts_name, key, check=check)
    return key.get_name(), fp, already, note


def _refuse_recorded(target: Target, path: Path, entries: list[known_hosts.Entry],
                     key: paramiko.PKey | None, fp: str) -> bool:
    """True when the key of fingerprint ``fp`` (``key``, once fetched) is already recorded
    for the host; SshError when it is revoked or any OTHER key is recorded for the host, of
    any type (OpenSSH's ``ssh-keygen -R`` removes them)."""
    if key is not None and known_hosts.revoked(entries, key.asbytes()):
        raise _revoked(target, path, key)
    recorded = [e for e in known_hosts.for_host(entries, target.known_hosts_name)
                if e.marker is None]
    if key is not None and any(e.blob == key.asbytes() for e in recorded):
        return True
    others = [e for e in recorded if e.fingerprint != fp]
    if others:
        raise SshError(
            f"{target}: já há chave(s) registrada(s) para este servidor em {path} "
            f"({_listed(others)}) — o runbook não acrescenta outra chave (de nenhum tipo) ao "
            "lado de uma registrada: pode ser um ataque", kind="host_alterado",
            fingerprint=others[0].fingerprint,
            remedy="confirme com o responsável se o servidor foi reinstalado; só então rode "
                   f"{remove_command(target, path)} e aceite de novo")
    return False


def accept_text(target: Target, fingerprint_confirmed: str, known_hosts_file: str | None = None,
                timeout: float = 10.0) -> str:
    """``esus-runbook ssh aceitar``: record the host key (:func:`accept_host_key`) and say in
    pt-BR what was recorded and where."""
    kind, fp, already, note = accept_host_key(target, fingerprint_confirmed, known_hosts_file,
                                              timeout=timeout)
    where = known_hosts_file or "~/.ssh/known_hosts"
    lines = [f"Servidor {target}: chave {kind} {fp} (a impressão digital confirmada)"]
    if already:
        lines.append(f"Esta chave já estava registrada em {where}; nada mudou.")
    else:
        lines.append(f"Chave registrada em {where}.")
    if note:
        lines.append(f"Atenção: {note}.")
    return "\n".join(lines)
