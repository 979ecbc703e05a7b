"""Structural integrity of archives and executables, read in bounded memory.

* :func:`check_zip` opens a ZIP (a ``.jar`` is one) through its central directory and reads
  every entry to its end in 1 MiB pieces, so :mod:`zipfile` compares each entry's CRC-32 with
  the one recorded in the archive. A file cut short, glued to another or altered fails here
  even when no hash is known to compare with. Limits on the number of entries and on the
  declared uncompressed total keep a hostile archive (a "zip bomb") from running for hours.
* :func:`check_pe` checks a Windows executable's headers: ``MZ``, the ``PE\\0\\0`` signature
  at ``e_lfanew`` and every section inside the file (a truncated ``.exe`` fails).
* :func:`describe_zip_error` turns what :mod:`zipfile`/:mod:`zlib` raise into a pt-BR reason
  (``EOFError`` has no message at all).

See docs/download.md for why the installer is checked this way.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .errors import describe_os_error

CHUNK = 1024 * 1024
MAX_ZIP_ENTRIES = 500_000
MAX_ZIP_UNCOMPRESSED = 16 * 1024 ** 3  # declared total; the PEC's JAR is far below


@dataclass(frozen=True)
class Integrity:
    """The outcome of one check: ``problem`` is a pt-BR reason (None when it passed);
    ``detail`` says what was verified."""

    problem: str | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


def _entry(name: str) -> str:
    name = "".join(ch if ch.isprintable() else "?" for ch in name)
    return f"'{name[:77]}...'" if len(name) > 80 else f"'{name}'"


def describe_zip_error(exc: BaseException) -> str:
    """A pt-BR reason for an exception raised while reading a ZIP; never empty."""
    if isinstance(exc, EOFError):
        return "o arquivo acaba no meio dos dados compactados de uma entrada"
    if isinstance(exc, zlib.error):
        return "dados compactados inválidos (deflate corrompido)"
    if isinstance(exc, NotImplementedError):
        return "método de compressão não suportado"
    if isinstance(exc, RuntimeError) and "encrypted" in str(exc):
        return "entrada cifrada (protegida por senha)"
    if isinstance(exc, OSError):
        return f"erro de leitura ({describe_os_error(exc)})"
    text = str(exc)
    if text.startswith("Bad CRC-32 for file"):
        name = text.split("for file", 1)[1].strip().strip("'\"")
        return f"o CRC-32 não confere na entrada {_entry(name)} (dados corrompidos)"
    if "not a zip file" in text:
        return "o diretório central do ZIP não foi encontrado (arquivo truncado ou não é ZIP)"
    if "central directory" in text:
        return "o diretório central do ZIP está truncado ou corrompido"
    if "file header" in text:
        return "o cabeçalho local de uma entrada está truncado ou corrompido"
    if "Overlapped" in text:
        return "entradas sobrepostas (ZIP malicioso)"
    if "differ" in text:
        return "o nome de uma entrada difere entre o diretório central e o cabeçalho local"
    return "a estrutura do ZIP é inválida"


def check_zip(path: str | os.PathLike) -> Integrity:
    """Central directory present and every entry's CRC-32 right, streaming."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if not infos:
                return Integrity("o ZIP não tem nenhuma entrada")
            if len(infos) > MAX_ZIP_ENTRIES:
                return Integrity(f"o ZIP declara {len(infos)} entradas (limite "
                                 f"{MAX_ZIP_ENTRIES})")
            declared = sum(i.file_size for i in infos)
            if declared > MAX_ZIP_UNCOMPRESSED:
                return Integrity(f"o ZIP declara {declared} bytes descompactados (limite "
                                 f"{MAX_ZIP_UNCOMPRESSED}): possível bomba de ZIP")
            for info in infos:
                with zf.open(info) as fh:
                    while fh.read(CHUNK):
                        pass
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError,
            OSError, ValueError) as exc:
        return Integrity(describe_zip_error(exc))
    return Integrity(None, f"ZIP íntegro: {len(infos)} entradas, CRC-32 de todas conferido")


def check_pe(path: str | os.PathLike) -> Integrity:
    """``MZ`` header, ``PE\\0\\0`` at ``e_lfanew``, section table inside the file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            dos = fh.read(64)
            if len(dos) < 64 or dos[:2] != b"MZ":
                return Integrity("não começa com o cabeçalho MZ de um executável Windows")
            (e_lfanew,) = struct.unpack_from("<I", dos, 0x3C)
            if e_lfanew < 64 or e_lfanew + 24 > size:
                return Integrity(f"o cabeçalho PE (e_lfanew={e_lfanew}) fica fora do arquivo "
                                 "(truncado?)")
            fh.seek(e_lfanew)
            coff = fh.read(24)
            if coff[:4] != b"PE\0\0":
                return Integrity(f"sem a assinatura PE em e_lfanew={e_lfanew}")
            (sections,) = struct.unpack_from("<H", coff, 6)
            (optional,) = struct.unpack_from("<H", coff, 20)
            fh.seek(e_lfanew + 24 + optional)
            table = fh.read(40 * sections)
    except OSError as exc:
        return Integrity(f"erro de leitura ({describe_os_error(exc)})")
    if sections == 0 or len(table) < 40 * sections:
        return Integrity("a tabela de seções do executável está truncada")
    end = 0
    for i in range(sections):
        raw_size, raw_ptr = struct.unpack_from("<II", table, 40 * i + 16)
        end = max(end, raw_ptr + raw_size)
    if end > size:
        return Integrity(f"as seções do executável vão até o byte {end}, mas o arquivo tem "
                         f"{size} (truncado)")
    return Integrity(None, f"executável PE: {sections} seções dentro do arquivo")
