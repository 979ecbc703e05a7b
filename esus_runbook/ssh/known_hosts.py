"""The OpenSSH ``known_hosts`` file, read and appended to without trusting it blindly.

Lines are parsed here (paramiko's ``HostKeys`` loader stops at the markers ``@cert-authority``
and ``@revoked``, common in corporate files); keys are decoded by paramiko. Host names match
like OpenSSH: plain, hashed (``|1|salt|hash``), ``[host]:port``, ``*``/``?`` wildcards and
``!`` negation. ``@cert-authority`` lines are skipped (host certificates are not used by the
runbook); ``@revoked`` keys are refused as revoked. Every failure to read or write the file is
a pt-BR :class:`SshError`; the file is never followed through a symbolic link when written and
is kept at mode 600. Facts: docs/ssh.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import paramiko

from ..errors import describe_os_error
from .errors import SshError

MAX_FILE = 16 * 1024 * 1024  # a corporate known_hosts is kilobytes; this bounds a hostile one


@dataclass(frozen=True)
class Entry:
    """One usable line: ``marker`` is None, "revoked" (``@revoked``) or "cert-authority"."""

    marker: str | None
    names: str
    key_type: str
    blob: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.blob)

    def matches(self, host_name: str) -> bool:
        return host_matches(self.names, host_name)

    def pkey(self) -> paramiko.PKey | None:
        """The key as paramiko reads it (None for a type paramiko does not know)."""
        try:
            return paramiko.PKey.from_type_string(self.key_type, self.blob)
        except Exception:  # noqa: BLE001 - unknown or malformed: not usable for trust
            return None


def fingerprint_of(blob: bytes) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of a public key blob."""
    digest = hashlib.sha256(blob).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def _pattern(pattern: str) -> re.Pattern:
    """OpenSSH's host pattern: only ``*`` and ``?`` are special (``[host]:port`` is literal)."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in pattern.lower()), re.S)


def host_matches(names: str, host_name: str) -> bool:
    """Whether ``host_name`` (``host`` or ``[host]:port``) matches a line's host field."""
    if names.startswith("|1|"):
        try:
            want = paramiko.HostKeys.hash_host(host_name, names)
        except (binascii.Error, IndexError, ValueError):
            return False
        return hmac.compare_digest(want.encode(), names.encode())
    matched = False
    for pattern in names.split(","):
        negated = pattern.startswith("!")
        pattern = pattern[1:] if negated else pattern
        if _pattern(pattern).fullmatch(host_name.lower()):
            if negated:
                return False
            matched = True
    return matched


def _where(path: Path) -> str:
    return f"o arquivo de hosts conhecidos {path}"


def parse(data: bytes, path: Path) -> list[Entry]:
    """The entries of a known_hosts file's bytes. Lines OpenSSH would skip (comments, unknown
    markers, malformed keys) are skipped; binary content (NUL bytes) is refused."""
    if b"\0" in data:
        raise SshError(f"{_where(path)} não é texto (conteúdo binário)", kind="known_hosts",
                       remedy="informe o arquivo known_hosts certo (--hosts-conhecidos ou "
                              "servidor.known_hosts)")
    text = data.decode("utf-8", "replace")  # a Latin-1 comment is no reason to refuse
    entries = []
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = None
        if fields[0].startswith("@"):
            marker, fields = fields[0][1:], fields[1:]
            if marker not in ("revoked", "cert-authority"):
                continue
        if len(fields) < 3:
            continue
        try:
            blob = base64.b64decode(fields[2], validate=True)
        except (binascii.Error, ValueError):
            continue
        if blob:
            entries.append(Entry(marker, fields[0], fields[1], blob))
    return entries


def _refuse_os(path: Path, exc: OSError, doing: str) -> SshError:
    why = describe_os_error(exc)
    return SshError(f"não foi possível {doing} {_where(path)} ({why})", kind="known_hosts",
                    remedy="confira o caminho, as permissões da pasta e se é um arquivo comum "
                           "(--hosts-conhecidos ou servidor.known_hosts)")


def _check_regular(path: Path, st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise SshError(f"{_where(path)} é uma pasta, não um arquivo", kind="known_hosts",
                       remedy="informe o caminho de um arquivo (ex.: ~/.ssh/known_hosts)")
    if not stat.S_ISREG(st.st_mode):
        raise SshError(f"{_where(path)} não é um arquivo comum", kind="known_hosts",
                       remedy="informe o caminho de um arquivo (ex.: ~/.ssh/known_hosts)")
    if st.st_size > MAX_FILE:
        raise SshError(f"{_where(path)} tem mais de {MAX_FILE // (1024 * 1024)} MB",
                       kind="known_hosts", remedy="informe o arquivo known_hosts certo")


def load(path: Path) -> list[Entry]:
    """The entries of ``path`` (none when it does not exist yet)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise _refuse_os(path, exc, "ler") from None
    _check_regular(path, st)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE + 1)
    except OSError as exc:
        raise _refuse_os(path, exc, "ler") from None
    return parse(data, path)


def for_host(entries: list[Entry], host_name: str) -> list[Entry]:
    """The host's entries (plain and ``@revoked``; ``@cert-authority`` lines are skipped)."""
    return [e for e in entries if e.marker != "cert-authority" and e.matches(host_name)]


def revoked(entries: list[Entry], blob: bytes) -> bool:
    """Whether a key is listed as ``@revoked`` (for any host, as OpenSSH reads it)."""
    return any(e.marker == "revoked" and e.blob == blob for e in entries)


def append(path: Path, host_name: str, key: paramiko.PKey, *, check) -> tuple[bool, str | None]:
    """Append ``key`` for ``host_name`` (hashed name) unless ``check(entries)`` — called with
    the file's entries read through the same descriptor — says it is already there (returns
    True) or raises. Never follows a symbolic link; the file ends at mode 600. Returns
    (already recorded?, note on a mode that was fixed)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _refuse_os(path, exc, "ler") from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise SshError(f"{_where(path)} é um link simbólico; o runbook não grava através de "
                       "links", kind="known_hosts",
                       remedy="informe o arquivo de destino do link (--hosts-conhecidos) ou "
                              "substitua o link por um arquivo comum")
    if st is not None:
        _check_regular(path, st)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
                     | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        raise _refuse_os(path, exc, "gravar") from None
    note = None
    try:
        fst = os.fstat(fd)
        _check_regular(path, fst)
        data = b""
        while len(data) <= MAX_FILE:
            chunk = os.read(fd, 1024 * 1024)
            if not chunk:
                break
            data += chunk
        entries = parse(data, path)
        if fst.st_mode & 0o077:
            os.fchmod(fd, 0o600)
            note = (f"o modo de {path} era {stat.S_IMODE(fst.st_mode):03o} (acessível a "
                    "outros usuários); foi corrigido para 600")
        if check(entries):
            return True, note
        line = f"{paramiko.HostKeys.hash_host(host_name)} {key.get_name()} " \
               f"{key.get_base64()}\n"
        if data and not data.endswith(b"\n"):
            line = "\n" + line
        os.write(fd, line.encode("ascii"))
        os.fsync(fd)
    except OSError as exc:
        raise _refuse_os(path, exc, "gravar") from None
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
    return False, note
