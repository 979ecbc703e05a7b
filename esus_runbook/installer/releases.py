"""Release registry: the PEC installers a team knows, with size and SHA-256.

The Ministry publishes no checksum for the installers (docs/dominio.md, "Instalador e
download"). The registry therefore has two layers, both CSV files with the same columns
(``COLUMNS``):

* the packaged table ``esus_runbook/data/releases.csv``: versions and sizes seen in the field,
  read only, corrected by editing the data file, never by code;
* the *team registry*: a CSV the team keeps (and versions), named by the inventory key
  ``registro_instaladores``. It may add releases and sizes, and it is where the first verified
  SHA-256 of each release is recorded (trust on first use). A later file whose hash differs
  from the recorded one is an alarm, never an update.

Writes to the team registry happen under a lock file (``filelock``: one lock for threads and
processes alike, on Linux and Windows), re-read the file inside the lock, and replace it
atomically, so several sites of a batch can record at the same time.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ..data import path as data_path
from ..errors import InputError
from ..files.atomic import write_text_atomic
from ..files.csvcells import read_cell, safe_cell
from ..files.reading import read_bounded, resolved
from .naming import PLATFORM_TAG

COLUMNS = ("versao", "plataforma", "arquivo", "tamanho_bytes", "sha256", "registrado_em",
           "origem", "observacao")
PACKAGED = "registro do pacote (esus_runbook/data/releases.csv)"
TEAM_FILE_NAME = "registro-instaladores.csv"
MAX_REGISTRY_BYTES = 5 * 1024 * 1024
LOCK_TIMEOUT_S = 120
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

Key = tuple[str, str]


@dataclass(frozen=True)
class Release:
    """One release of one platform as a registry knows it. ``source`` says which registry
    (the packaged table or the path of a team file)."""

    versao: str
    plataforma: str
    arquivo: str | None = None
    tamanho_bytes: int | None = None
    sha256: str | None = None
    registrado_em: str | None = None
    origem: str | None = None
    observacao: str | None = None
    source: str = ""

    @property
    def key(self) -> Key:
        return (self.versao, self.plataforma)

    def row(self) -> dict[str, str]:
        d = asdict(self)
        return {c: "" if d[c] is None else str(d[c]) for c in COLUMNS}


def version_tuple(versao: str) -> tuple[int, ...]:
    return tuple(int(p) for p in versao.split("."))


# --------------------------------------------------------------------------- reading
def _parse(text: str, source: str, display: str) -> dict[Key, Release]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in ("versao", "plataforma") if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        what = (f"colunas ausentes: {', '.join(missing)}" if missing
                else f"colunas desconhecidas: {', '.join(unknown)}")
        raise InputError(f"registro de instaladores inválido ({what})", file=display,
                         key="cabeçalho", remedy=f"use as colunas {','.join(COLUMNS)}")
    out: dict[Key, Release] = {}
    for n, row in enumerate(reader, start=2):
        where = f"linha {n}"
        if None in row:  # more cells than columns
            raise InputError("mais valores que colunas", file=display, key=where,
                             remedy="confira as vírgulas da linha (use aspas em textos com "
                                    "vírgula)")
        cells = {k: read_cell((v or "").strip()) for k, v in row.items()}
        if not any(cells.values()):
            continue
        versao, plataforma = cells.get("versao", ""), cells.get("plataforma", "").lower()
        if not _VERSION.match(versao):
            raise InputError(f"versão '{versao}' inválida", file=display, key=where,
                             remedy="use o formato N.N.N, ex.: 5.5.24")
        if plataforma not in PLATFORM_TAG:
            raise InputError(f"plataforma '{plataforma}' inválida", file=display, key=where,
                             remedy="use linux ou windows")
        size_text = cells.get("tamanho_bytes", "")
        if size_text and not size_text.isdigit():
            raise InputError(f"tamanho '{size_text}' inválido", file=display, key=where,
                             remedy="informe o tamanho em bytes, só dígitos")
        sha = cells.get("sha256", "").lower()
        if sha and not _SHA256.match(sha):
            raise InputError("SHA-256 inválido", file=display, key=where,
                             remedy="use os 64 dígitos hexadecimais de sha256sum")
        key = (versao, plataforma)
        if key in out:
            raise InputError(f"versão {versao} ({plataforma}) repetida", file=display, key=where,
                             remedy="deixe uma linha por versão e plataforma")
        out[key] = Release(versao, plataforma, cells.get("arquivo") or None,
                           int(size_text) if size_text else None, sha or None,
                           cells.get("registrado_em") or None, cells.get("origem") or None,
                           cells.get("observacao") or None, source)
    return out


def read_registry_file(path: str | os.PathLike) -> dict[Key, Release]:
    """Releases of a team registry file; a missing file is an empty registry."""
    path = Path(path)
    try:
        path.stat()
    except FileNotFoundError:
        return {}
    except OSError:
        pass  # a symlink loop, a long name...: read_bounded says which
    try:
        text = read_bounded(path, MAX_REGISTRY_BYTES, "registro de instaladores",
                            "o registro é um CSV pequeno, uma linha por versão"
                            ).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("o registro não está em UTF-8", file=str(path),
                         remedy="salve o CSV com codificação UTF-8") from None
    except OSError as exc:
        raise InputError(f"não foi possível ler o registro ({exc.__class__.__name__})",
                         file=str(path), remedy="confira o caminho e as permissões") from None
    return _parse(text, str(path), str(path))


def packaged_releases() -> dict[Key, Release]:
    text = data_path("releases.csv").read_text(encoding="utf-8")
    return _parse(text, PACKAGED, "esus_runbook/data/releases.csv")


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class RecordOutcome:
    """What :meth:`Registry.record` did: ``registrado`` (new row or hash filled in),
    ``ja_registrado`` (same hash already there) or ``divergente`` (another hash is
    recorded: an alarm, nothing written). ``entry`` is the team's row after the call."""

    action: str
    entry: Release


class Registry:
    """The packaged table plus an optional team registry file (``team_file``)."""

    def __init__(self, team_file: str | os.PathLike | None = None):
        self.team_file = resolved(team_file) if team_file else None
        self._packaged = packaged_releases()

    def team_releases(self) -> dict[Key, Release]:
        """A fresh read of the team file (another process may have recorded meanwhile)."""
        return read_registry_file(self.team_file) if self.team_file else {}

    def references(self, versao: str, plataforma: str) -> list[Release]:
        """Every registry row for a release: the packaged one first, then the team's."""
        key = (versao, plataforma)
        refs = [r for r in (self._packaged.get(key), self.team_releases().get(key)) if r]
        return refs

    def known_versions(self, plataforma: str | None = None) -> list[str]:
        keys = set(self._packaged) | set(self.team_releases())
        return sorted({v for v, p in keys if plataforma in (None, p)}, key=version_tuple)

    def record(self, release: Release) -> RecordOutcome:
        """Record ``release`` (with its verified ``sha256``) in the team file: trust on first
        use. Never overwrites a different recorded hash or size."""
        if self.team_file is None:
            raise ValueError("no team registry file")
        if not release.sha256:
            raise ValueError("record needs a sha256")
        lock_path = self.team_file.with_name(f".{self.team_file.name}.lock")
        self.team_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            with FileLock(str(lock_path), timeout=LOCK_TIMEOUT_S):
                rows = read_registry_file(self.team_file)
                current = rows.get(release.key)
                if current is not None and current.sha256:
                    same = current.sha256 == release.sha256 and (
                        current.tamanho_bytes in (None, release.tamanho_bytes))
                    return RecordOutcome("ja_registrado" if same else "divergente", current)
                if current is not None and current.tamanho_bytes not in (
                        None, release.tamanho_bytes):
                    return RecordOutcome("divergente", current)
                entry = replace(release, source=str(self.team_file))
                if current is not None:  # a row the team wrote by hand, without the hash
                    entry = replace(entry, origem=current.origem or entry.origem,
                                    observacao=current.observacao or entry.observacao,
                                    arquivo=current.arquivo or entry.arquivo)
                rows[release.key] = entry
                write_text_atomic(self.team_file, _render(rows.values()))
                return RecordOutcome("registrado", entry)
        except Timeout:
            raise InputError("o registro de instaladores está bloqueado por outro processo",
                             file=str(self.team_file),
                             remedy=f"aguarde o outro download terminar ou apague {lock_path} "
                                    "se nenhum processo o estiver usando") from None


def _render(rows: Any) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in sorted(rows, key=lambda r: (version_tuple(r.versao), r.plataforma)):
        writer.writerow({k: safe_cell(v) for k, v in r.row().items()})
    return buf.getvalue()


def default_team_file(folder: str | os.PathLike) -> Path:
    """The team registry used when the inventory names none: ``registro-instaladores.csv``
    in the installers folder."""
    return Path(folder) / TEAM_FILE_NAME
