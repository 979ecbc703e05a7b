"""Verification of one installer file (what the download stage uses for a file already on
disk, and the download for the bytes it just received): name, version, platform, format (the
``.jar`` is a ZIP whose every entry's CRC-32 is checked, the ``.exe`` a PE with its sections
inside the file: :mod:`esus_runbook.integrity`), size against the registry and the server's
``Content-Length`` (a ceiling when no registry knows it), SHA-256 against an expected value
and against the team registry (:mod:`.trust`). See docs/download.md."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..files.reading import file_sha256
from ..integrity import Integrity, check_pe, check_zip
from ..render.numbers import size_bytes
from ..results import Checks
from ..status import Status
from .naming import PATTERN, PLATFORM_TAG, expected_name, parse_installer_name
from .releases import Registry, Release
from .trust import check_registry

MAGIC = {"jar": (b"PK\x03\x04", "um arquivo JAR (ZIP)"), "exe": (b"MZ", "um executável Windows")}
CHUNK = 1024 * 1024  # bytes per read from disk while hashing
# Ceiling for an installer whose size no registry knows (the PEC's are under 1 GB; see
# docs/download.md). ESUS_RUNBOOK_INSTALADOR_MAX_MB sets another value, in MiB.
MAX_INSTALLER_BYTES = 3 * 1024 ** 3
CEILING_ENV = "ESUS_RUNBOOK_INSTALADOR_MAX_MB"


def hash_file(path: str | os.PathLike, h: Any = None, progress: Any = None) -> Any:
    """Feed the whole file to ``h`` (a new sha256 by default) in 1 MiB reads."""
    h = h or hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(CHUNK)
            if not block:
                return h
            h.update(block)
            if progress is not None:
                progress(len(block))


def _magic_ok(path: Path, ext: str) -> bool:
    magic = MAGIC[ext][0]
    try:
        with path.open("rb") as fh:
            return fh.read(len(magic)) == magic
    except OSError:
        return False


def check_content(path: Path, ext: str) -> Integrity:
    """The installer's structure: a ZIP with every CRC right (``.jar``), a PE (``.exe``)."""
    if not _magic_ok(path, ext):
        return Integrity("outro conteúdo (página HTML de erro, arquivo truncado ou "
                         "corrompido?)")
    return check_zip(path) if ext == "jar" else check_pe(path)


def size_ceiling(env: Any = None) -> int:
    """The cap for an installer no registry knows the size of, in bytes."""
    env = os.environ if env is None else env
    text = (env.get(CEILING_ENV) or "").strip()
    if not text:
        return MAX_INSTALLER_BYTES
    if not text.isdigit() or len(text) > 7 or int(text) == 0:
        raise InputError(f"valor '{text[:20]}' inválido", file=CEILING_ENV,
                         remedy="informe o teto do instalador em MiB, um inteiro > 0 "
                                "(padrão: 3072)")
    return int(text) * 1024 * 1024


@dataclass
class Verification:
    """Checks on one installer file, and the facts they were made on."""

    path: Path
    name: str
    versao: str
    plataforma: str | None
    size: int
    sha256: str
    checks: Checks = field(default_factory=Checks)
    registry: str | None = None
    recorded: str | None = None  # RecordOutcome.action when the team registry was touched

    @property
    def status(self) -> Status:
        return self.checks.status

    @property
    def passed(self) -> bool:
        return self.checks.passed

    @property
    def pending(self) -> bool:
        """Passed every check, but its first use waits for a confirmation (TRUST_FLAG)."""
        return self.checks.pending


def verify_file(path: str | os.PathLike, versao: str, plataforma: str | None = None, *,
                expected_sha256: str | None = None, registry: Registry | None = None,
                sha256: str | None = None, content_length: int | None = None,
                name: str | None = None, record: bool = True, trust_first_use: bool = False,
                max_bytes: int | None = None) -> Verification:
    """Verify an installer file. ``sha256`` may be given when the caller already hashed the
    bytes (the download does, while they arrive); ``name`` is the installer name the file
    will get (a ``.part`` file is verified before its rename). Records the hash in the team
    registry (trust on first use) when every other check passed, ``record`` is true and
    either a registry knows the release's size, ``expected_sha256`` matched or
    ``trust_first_use`` confirms it; otherwise ``DL_REGISTRO`` is ``pendente``.
    ``max_bytes`` is the ceiling for a release of unknown size (:func:`size_ceiling`)."""
    path = Path(path)
    name = name or path.name
    size = path.stat().st_size
    if sha256 is None:
        sha256 = file_sha256(path)
    parsed = parse_installer_name(name)
    effective = plataforma or (parsed.plataforma if parsed else None)
    v = Verification(path, name, versao, effective, size, sha256,
                     registry=str(registry.team_file) if registry and registry.team_file
                     else None)
    checks = v.checks
    if parsed is None:
        checks.add("DL_NOME", "Nome do arquivo do instalador", Status.FALHA, PATTERN, name,
                   "Use o arquivo com o nome original do portal SISAPS, ex.: "
                   f"{expected_name(versao, plataforma or 'linux')}; um arquivo renomeado não "
                   "pode ser conferido com o registro de versões.")
    else:
        checks.add("DL_NOME", "Nome do arquivo do instalador", Status.OK, PATTERN, name)
        checks.judge("DL_VERSAO", "Versão no nome do arquivo", parsed.versao == versao, versao,
                     parsed.versao,
                     f"O arquivo é da versão {parsed.versao}, o site pede {versao}: baixe o "
                     "instalador certo ou corrija instalador.versao.")
        if plataforma is not None:
            checks.judge("DL_PLATAFORMA", "Plataforma do instalador", parsed.fits(plataforma),
                         PLATFORM_TAG[plataforma], parsed.shown,
                         f"O servidor é {plataforma}: baixe {expected_name(versao, plataforma)} "
                         "(só existe instalador x64).")
        content = check_content(path, parsed.ext)
        if content.ok:
            checks.add("DL_FORMATO", "Conteúdo é um instalador", Status.OK,
                       MAGIC[parsed.ext][1], content.detail)
        else:
            checks.add("DL_FORMATO", "Conteúdo é um instalador", Status.FALHA,
                       MAGIC[parsed.ext][1], content.problem,
                       "Não instale. Baixe de novo pelo link do portal SISAPS; confira se o "
                       "link não leva a uma página de login ou de erro.")

    refs = registry.references(versao, effective) if registry and effective else []
    _check_size(checks, size, refs, content_length,
                size_ceiling() if max_bytes is None else max_bytes)
    matched = False
    if expected_sha256:
        expected = expected_sha256.lower()
        matched = expected == sha256
        checks.judge("DL_SHA256", "SHA-256 igual ao esperado", matched, expected, sha256,
                     "O arquivo não é o esperado (corrompido, adulterado ou outra versão): não "
                     "instale; baixe de novo pelo portal SISAPS e confira o hash informado.")
    if registry is not None and effective is not None:
        v.recorded = check_registry(checks, registry, refs,
                                    Release(versao, effective, name, size, sha256),
                                    record=record, independently_checked=matched,
                                    trust_first_use=trust_first_use)
    return v


def _check_size(checks: Checks, size: int, refs: list[Release], content_length: int | None,
                ceiling: int) -> None:
    expected: list[tuple[str, int]] = [(r.source, r.tamanho_bytes) for r in refs
                                       if r.tamanho_bytes is not None]
    title = "Tamanho do arquivo"
    if not expected and size > ceiling:
        checks.add("DL_TAMANHO", title, Status.FALHA,
                   f"até {size_bytes(ceiling)} (teto sem tamanho no registro)",
                   size_bytes(size),
                   "Nenhum instalador do PEC chega perto deste tamanho: não instale; baixe de "
                   "novo pelo link do portal SISAPS.")
        return
    if content_length is not None:
        expected.append(("Content-Length do servidor", content_length))
    if not expected:
        checks.add("DL_TAMANHO", title, Status.ALERTA, "tamanho de referência",
                   size_bytes(size),
                   "Nenhum registro conhece o tamanho desta versão: confira com o tamanho "
                   "mostrado no portal ou por outra equipe que já a instalou.")
        return
    shown = "; ".join(f"{size_bytes(n)} ({src})" for src, n in expected)
    checks.judge("DL_TAMANHO", title, all(n == size for _, n in expected), shown,
                 size_bytes(size),
                 "O tamanho difere da referência: download incompleto, arquivo corrompido ou "
                 "outra versão. Não instale; baixe de novo (o download retoma de onde parou).")
