"""Open a CNES XML or a ZIP holding exactly one XML as a byte stream, safely.

The archive is never extracted: the single ``.xml`` member is decompressed as a stream while
the parser reads it. Refused (``HostileFileError``): member names that would escape a folder
(zip-slip), declared or actual uncompressed sizes above :attr:`Limits.max_bytes`, compression
ratios above :attr:`Limits.max_ratio` (zip bombs), too many members. Refused
(``InputError``): not exactly one ``.xml``, encrypted or corrupt archives, empty files,
missing files.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import HostileFileError, InputError, describe_os_error
from ..files.reading import file_sha256
from ..integrity import describe_zip_error

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_DRIVE = re.compile(r"^[A-Za-z]:")
_NON_ASCII = re.compile(rb"[\x80-\xff]")


@dataclass(frozen=True)
class Limits:
    """Safety limits for reading a CNES file (defaults fit a capital's file with margin).

    max_bytes: largest uncompressed XML accepted (a capital's file is a few hundred MB).
    max_ratio: largest uncompressed/compressed ratio of a ZIP member, checked only above
        ``ratio_floor`` bytes (tiny files compress arbitrarily well). Real CNES XMLs
        compress about 10-30x; zip bombs, thousands of times.
    max_members: most entries a ZIP may list.
    head_bytes: the prolog and the root element must appear within this many bytes.
    """

    max_bytes: int = 2 * 1024**3
    max_ratio: float = 200.0
    ratio_floor: int = 8 * 1024**2
    max_members: int = 100
    head_bytes: int = 64 * 1024


@dataclass
class SourceInfo:
    """What was read: shown in reports (the path's file name only, never its content)."""

    name: str
    size_bytes: int
    container: str                 # "xml" | "zip"
    member: str | None = None      # the XML inside the ZIP
    sha256: str | None = None      # of the file as given (the ZIP itself for a ZIP)
    xml_bytes: int = 0             # uncompressed XML bytes read
    encoding: str | None = None    # as declared in the prolog
    misencoded: dict | None = None  # UTF-8 text under a single-byte declaration (Utf8Probe)
    extra: dict = field(default_factory=dict)


class Utf8Probe:
    """Watches the raw bytes of a file that declares a single-byte encoding (ISO-8859-1,
    windows-1252) for text that is really UTF-8: names PEC would import garbled ("JOÃƒO"
    for "JOÃO"). Accented Portuguese in ISO-8859-1 is practically never valid UTF-8 (an
    accented letter is followed by an ASCII letter, not by a byte 0x80-0xBF), so: every
    non-ASCII byte decodes as UTF-8 → the file is misencoded; the first decoding error ends
    the watch (it is ISO-8859-1 indeed). ASCII chunks (the bulk of a CNES file) cost one
    ``isascii`` call. See docs/cnes-xml-audit.md."""

    __slots__ = ("_decoder", "active", "extra_bytes", "first_line", "_lines")

    def __init__(self):
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.active = True
        self.extra_bytes = 0      # continuation bytes seen (≈ accented characters)
        self.first_line: int | None = None
        self._lines = 0           # newlines before the first non-ASCII byte

    def feed(self, data: bytes) -> None:
        if not self.active:
            return
        if data.isascii():
            if self.first_line is None:
                self._lines += data.count(b"\n")
            return
        if self.first_line is None:
            at = _NON_ASCII.search(data).start()
            self.first_line = self._lines + data.count(b"\n", 0, at) + 1
        try:
            self.extra_bytes += len(data) - len(self._decoder.decode(data))
        except UnicodeDecodeError:
            self.active = False

    def verdict(self) -> dict | None:
        """``{"chars": ≈ accented characters, "line": first one}`` when the text is UTF-8."""
        if not self.active or not self.extra_bytes:
            return None
        return {"chars": self.extra_bytes, "line": self.first_line}


class CountingReader:
    """A read-only stream that counts bytes, enforces the size limits while they are read
    (declared ZIP sizes can lie) and can hash what passes through it."""

    def __init__(self, raw, source: str, limits: Limits, compressed: int | None = None,
                 hasher=None):
        self.raw = raw
        self.source = source
        self.limits = limits
        self.compressed = compressed
        self.hasher = hasher
        self.count = 0
        self.eof = False
        self.probe: Utf8Probe | None = None
        self._pushback = b""

    def unread(self, data: bytes) -> None:
        """Put ``data`` (already read) back in front of the stream."""
        self._pushback = data + self._pushback

    def read(self, n: int = -1) -> bytes:
        if self._pushback:
            if n is None or n < 0 or n >= len(self._pushback):
                data, self._pushback = self._pushback, b""
                if n is not None and n >= 0 and len(data) < n:
                    data += self._read_raw(n - len(data))
                return data
            data, self._pushback = self._pushback[:n], self._pushback[n:]
            return data
        return self._read_raw(n)

    def _read_raw(self, n: int) -> bytes:
        data = self.raw.read(n if n is not None and n >= 0 else 1 << 20)
        if not data:
            self.eof = True
            return b""
        self.count += len(data)
        if self.hasher is not None:
            self.hasher.update(data)
        if self.probe is not None:
            self.probe.feed(data)
        if self.count > self.limits.max_bytes:
            raise HostileFileError(
                f"XML maior que o limite de {self.limits.max_bytes // 1024**2} MB",
                file=self.source, remedy="confira se é mesmo o XML do CNES do e-Gestor")
        if (self.compressed is not None and self.count > self.limits.ratio_floor
                and self.count > self.limits.max_ratio * max(self.compressed, 1)):
            raise HostileFileError(
                "taxa de compressão do ZIP acima do limite (possível bomba ZIP)",
                file=self.source, remedy="baixe o arquivo novamente no e-Gestor AB")
        return data


def _unsafe_name(name: str) -> bool:
    norm = name.replace("\\", "/")
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    return (norm.startswith("/") or bool(_DRIVE.match(norm)) or "\x00" in name
            or any(p == ".." for p in parts))


def _zip_member(zf: zipfile.ZipFile, source: str, limits: Limits) -> zipfile.ZipInfo:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise HostileFileError(f"o ZIP lista {len(infos)} entradas",
                               file=source, remedy="use o ZIP gerado pelo e-Gestor AB, "
                               "que contém um único XML")
    bad = [i.filename for i in infos if _unsafe_name(i.filename)]
    if bad:
        raise HostileFileError("o ZIP contém nomes de arquivo que saem da pasta (zip-slip): "
                               + ", ".join(repr(b[:60]) for b in bad[:3]), file=source,
                               remedy="não use este arquivo; baixe o ZIP no e-Gestor AB")
    xmls = [i for i in infos if not i.is_dir() and i.filename.lower().endswith(".xml")]
    if len(xmls) != 1:
        found = ", ".join(i.filename for i in xmls[:5]) if xmls else "nenhum"
        raise InputError(f"o ZIP deve conter exatamente um arquivo .xml (encontrado(s) "
                         f"{len(xmls)}: {found})", file=source,
                         remedy="use o ZIP do e-Gestor AB sem alterações, com um único XML")
    info = xmls[0]
    if info.flag_bits & 0x1:
        raise InputError("o XML dentro do ZIP está protegido por senha", file=source,
                         remedy="gere o ZIP sem senha (o PEC também não o aceita)")
    if info.file_size > limits.max_bytes:
        raise HostileFileError(
            f"o XML dentro do ZIP declara {info.file_size // 1024**2} MB, acima do limite de "
            f"{limits.max_bytes // 1024**2} MB", file=source,
            remedy="confira se é mesmo o XML do CNES do e-Gestor AB")
    if (info.file_size > limits.ratio_floor
            and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
        raise HostileFileError("taxa de compressão do ZIP acima do limite (possível bomba ZIP)",
                               file=source, remedy="baixe o arquivo novamente no e-Gestor AB")
    return info


@contextmanager
def open_cnes(path: str | os.PathLike, limits: Limits | None = None
              ) -> Iterator[tuple[CountingReader, SourceInfo]]:
    """Yield ``(stream, info)`` for a bare XML or the single XML of a ZIP (detected by
    content, not by extension). ``info.xml_bytes`` is filled when the block exits."""
    limits = limits or Limits()
    p = Path(path)
    source = str(p)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError("arquivo não encontrado", file=source,
                         remedy="confira o caminho do XML do CNES") from None
    except OSError as exc:
        raise InputError(f"não foi possível ler o arquivo ({describe_os_error(exc)})",
                         file=source, remedy="confira o caminho do XML do CNES") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("é uma pasta, não um arquivo", file=source,
                         remedy="informe o arquivo do XML do CNES dentro dela "
                                "(XmlParaESUS*.zip ou .xml baixado do e-Gestor AB)")
    if not stat.S_ISREG(st.st_mode):   # a FIFO would block the reader forever
        raise InputError("não é um arquivo comum (FIFO, dispositivo ou socket)", file=source,
                         remedy="informe o arquivo .xml ou .zip baixado do e-Gestor AB")
    if st.st_size == 0:
        raise InputError("arquivo vazio", file=source,
                         remedy="baixe o XML novamente no e-Gestor AB")
    with p.open("rb") as fh:
        magic = fh.read(4)
        fh.seek(0)
        if magic in ZIP_MAGIC:
            info = SourceInfo(p.name, st.st_size, "zip", sha256=file_sha256(p))
            try:
                zf = zipfile.ZipFile(fh)
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                raise InputError(f"ZIP corrompido ou incompleto ({describe_zip_error(exc)})",
                                 file=source,
                                 remedy="baixe o arquivo novamente no e-Gestor AB") from None
            with zf:
                member = _zip_member(zf, source, limits)
                info.member = member.filename
                try:
                    with zf.open(member) as raw:
                        reader = CountingReader(raw, source, limits, member.compress_size)
                        yield reader, info
                        info.xml_bytes = reader.count
                except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
                    raise InputError(f"ZIP corrompido ou truncado ({describe_zip_error(exc)})",
                                     file=source,
                                     remedy="baixe o arquivo novamente no e-Gestor AB") from None
        else:
            hasher = hashlib.sha256()
            info = SourceInfo(p.name, st.st_size, "xml")
            reader = CountingReader(fh, source, limits, None, hasher)
            yield reader, info
            # the parser stops at the end of the root element: hash what is left
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                hasher.update(chunk)
            info.sha256 = hasher.hexdigest()
            info.xml_bytes = reader.count
