"""Reading an input file the user names, safely: bounded in size, regular files only.

Site files, inventories, probe files and installer registries come from users and may be
hostile or simply wrong: a FIFO would block a read forever, a symlink loop raises ``ELOOP``,
a 50 MB YAML takes minutes to parse. :func:`read_bounded` refuses all of these *before*
parsing, with one pt-BR line naming the file (limits: ``docs/limites-de-entrada.md``).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from itertools import accumulate
from pathlib import Path
from typing import Any

from ..errors import HostileFileError, InputError, describe_os_error

# Documented limits (README, "Limites das entradas"; docs/limites-de-entrada.md).
MAX_SITE_FILE_BYTES = 1024 * 1024
"""A site file or an inventory YAML (an inventory with more sites: one file per site)."""
MAX_TEXT_CHARS = 500
"""Any text value of a site file (nome, gerada_por, URLs...)."""
MAX_PATH_CHARS = 4096
"""A path value of a site file (the Linux PATH_MAX)."""
MAX_SITE_ID_CHARS = 63
"""A site_id: it names folders, so it stays well under the 255-byte file-name limit."""
MAX_NESTING = 32
"""Nesting depth of a site file or inventory (a site file needs 4)."""

_MIB = 1024 * 1024


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file (hex), read in 1 MiB blocks; an OSError propagates."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _size_text(n: int) -> str:
    return f"{n / _MIB:.1f} MiB" if n >= _MIB else f"{n} bytes"


def read_bounded(path: str | os.PathLike, limit: int, what: str, remedy: str) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Refused with :class:`InputError` (exit 2): missing, a folder, a symlink loop, a FIFO or
    device, unreadable, larger than ``limit`` (checked before reading, and again while
    reading, in case the file grows). ``what`` names the kind of file in the message."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputError(f"{what}: arquivo não encontrado", file=str(p),
                         remedy="confira o caminho") from None
    except OSError as exc:
        raise _os_error(exc, p, what) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{what}: é uma pasta, não um arquivo", file=str(p), remedy=remedy)
    if not stat.S_ISREG(st.st_mode):
        raise HostileFileError(f"{what}: não é um arquivo comum (pipe, dispositivo ou socket)",
                               file=str(p), remedy="informe o caminho de um arquivo comum")
    if st.st_size > limit:
        raise HostileFileError(f"{what}: arquivo grande demais ({_size_text(st.st_size)}; "
                               f"limite {_size_text(limit)})", file=str(p), remedy=remedy)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise _os_error(exc, p, what) from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped since the stat above
            raise HostileFileError(f"{what}: não é um arquivo comum", file=str(p),
                                   remedy=remedy)
        # as much as stat said (read(limit) would allocate the whole limit for a small file),
        # then what the file grew since, up to the limit
        data = fh.read(min(limit, st.st_size) + 1)
        if len(data) > st.st_size:
            data += fh.read(limit + 1 - len(data))
    if len(data) > limit:
        raise HostileFileError(f"{what}: arquivo grande demais (limite {_size_text(limit)})",
                               file=str(p), remedy=remedy)
    return data


# A JSON string (possessive: no backtracking state per character of a long string) and what
# is left once strings are gone and only brackets remain.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]++")
_BRACKET_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(data: bytes) -> int:
    """Nesting depth of a JSON document, measured on its bytes without parsing (the parser
    recurses once per level: 100 000 ``[`` exhaust the interpreter's stack)."""
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", data))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def read_json_bounded(path: str | os.PathLike, limit: int, what: str, remedy: str,
                      max_depth: int = MAX_NESTING) -> Any:
    """The parsed JSON of ``path``: :func:`read_bounded` (a regular file of at most ``limit``
    bytes), then nested at most ``max_depth`` levels (checked before parsing), UTF-8, valid
    JSON, without NaN/Infinity and without integers of more digits than Python parses.
    Every refusal is an :class:`InputError` with one pt-BR line naming the file."""
    data = read_bounded(path, limit, what, remedy)
    if json_depth(data) > max_depth:
        raise HostileFileError(f"{what}: JSON aninhado demais (mais de {max_depth} níveis)",
                               file=str(path), remedy=remedy)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what}: não está em UTF-8 (byte inválido na posição {exc.start})",
                         file=str(path), remedy=remedy) from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what}: JSON inválido na linha {exc.lineno} (arquivo corrompido "
                         "ou truncado)", file=str(path), remedy=remedy) from None
    except ValueError:  # NaN/Infinity, or an integer beyond int_max_str_digits
        raise InputError(f"{what}: número inválido (NaN, infinito ou com dígitos demais)",
                         file=str(path), remedy=remedy) from None
    except RecursionError:  # depth was checked; a smaller stack than usual still ends here
        raise HostileFileError(f"{what}: JSON aninhado demais", file=str(path),
                               remedy=remedy) from None


def resolved(path: str | os.PathLike) -> Path:
    """``Path(path).resolve()``, or the absolute normalized path when it cannot be resolved
    (a symlink loop raises RuntimeError in Python < 3.13): reading it later says why."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(os.path.normpath(os.path.abspath(path)))


def _os_error(exc: OSError, p: Path, what: str) -> InputError:
    if exc.errno == errno.ELOOP:
        return InputError(f"{what}: link simbólico em ciclo", file=str(p),
                          remedy="aponte para o arquivo real")
    if exc.errno == errno.ENAMETOOLONG:
        return InputError(f"{what}: caminho longo demais", file=str(p),
                          remedy="use um caminho mais curto")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return InputError(f"{what}: sem permissão de leitura", file=str(p),
                          remedy="confira as permissões do arquivo")
    return InputError(f"{what}: não foi possível ler o arquivo ({describe_os_error(exc)})",
                      file=str(p), remedy="confira o caminho e as permissões")
