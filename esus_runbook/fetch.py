"""Resumable, verified download of the PEC installer, and verification of an installer file.

:func:`download` streams the file with ``requests`` into ``<name>.part``, feeding each chunk
to SHA-256 as it arrives (one pass, constant memory). A dropped connection is resumed with an
HTTP ``Range`` request inside the same call (``retries`` bounds the total number of requests,
with exponential backoff), and a ``.part`` left by an interrupted call is resumed by the next
one only when its sidecar (``.<name>.part.json``) proves it is the same file: same URL and
version, and the server's ``ETag``/``Last-Modified``/total length unchanged wherever both sides
have them; anything else starts over from zero (see docs/download.md). The size is capped (the
registry's size when known, else :data:`MAX_INSTALLER_BYTES`) while the bytes arrive, and
checked against ``Content-Length``/``Content-Range`` and the registry; the file gets its final
name only after :func:`verify_file` passes. A file that fails verification is moved to
``quarentena/`` under a name that is not the installer's, so nobody installs it by mistake; a
file that passed everything but whose first use nobody vouches for stays a complete ``.part``
until the user confirms it (:data:`TRUST_FLAG`).

:func:`verify_file` is what the download stage uses for a file that is already on disk: name,
version, platform, format (the ``.jar`` is a ZIP whose every entry's CRC-32 is checked, the
``.exe`` a PE with its sections inside the file: :mod:`integrity`), size, SHA-256 against an
expected value and against the registry (trust on first use, see :mod:`releases`).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import InputError, describe_os_error
from .integrity import Integrity, check_pe, check_zip
from .releases import PLATFORM_TAG, TAG_PLATFORM, Registry, Release
from .results import Check, Status, derive_status, now_iso, write_json_atomic

INSTALLER_NAME = re.compile(
    r"^eSUS-AB-PEC-(?P<versao>\d+\.\d+\.\d+)-(?P<tag>Linux64|Win64)\.(?P<ext>jar|exe)$")
MAGIC = {"jar": (b"PK\x03\x04", "um arquivo JAR (ZIP)"), "exe": (b"MZ", "um executável Windows")}
CHUNK = 1024 * 1024
QUARANTINE = "quarentena"
USER_AGENT = "esus-runbook (download verificado do instalador do PEC)"
# Ceiling for an installer whose size no registry knows (the PEC's are under 1 GB; see
# docs/download.md). ESUS_RUNBOOK_INSTALADOR_MAX_MB sets another value, in MiB.
MAX_INSTALLER_BYTES = 3 * 1024 ** 3
CEILING_ENV = "ESUS_RUNBOOK_INSTALADOR_MAX_MB"
# The explicit confirmation needed to record the hash of a release no registry knows the size of.
TRUST_FLAG = "--confiar-primeiro-uso"


class DownloadError(InputError):
    """The download could not be done: HTTP error, DNS, TLS, timeout, dropped connection
    after every retry, or a URL/name that cannot be the installer (exit 2)."""


# --------------------------------------------------------------------------- names
@dataclass(frozen=True)
class InstallerName:
    name: str
    versao: str
    plataforma: str  # linux | windows
    ext: str  # jar | exe


def parse_installer_name(name: str) -> InstallerName | None:
    m = INSTALLER_NAME.match(name or "")
    if not m:
        return None
    return InstallerName(name, m["versao"], TAG_PLATFORM[m["tag"]], m["ext"])


def expected_name(versao: str, plataforma: str, ext: str = "jar") -> str:
    return f"eSUS-AB-PEC-{versao}-{PLATFORM_TAG[plataforma]}.{ext}"


def name_from_url(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def _name_from_disposition(value: str | None) -> str | None:
    if not value:
        return None
    msg = Message()
    msg["content-disposition"] = value
    name = msg.get_filename()
    return Path(name).name if name else None


# --------------------------------------------------------------------------- hashing
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


# --------------------------------------------------------------------------- verification
@dataclass
class Verification:
    """Checks on one installer file, and the facts they were made on."""

    path: Path
    name: str
    versao: str
    plataforma: str | None
    size: int
    sha256: str
    checks: list[Check] = field(default_factory=list)
    registry: str | None = None
    recorded: str | None = None  # RecordOutcome.action when the team registry was touched

    @property
    def status(self) -> Status:
        return derive_status(self.checks)

    @property
    def passed(self) -> bool:
        return self.status in (Status.OK, Status.ALERTA)

    @property
    def pending(self) -> bool:
        """Passed every check, but its first use waits for a confirmation (TRUST_FLAG)."""
        return self.status is Status.PENDENTE

    def add(self, *args: Any) -> None:
        self.checks.append(Check(*args))


def _fmt_size(n: int | None) -> str:
    return "desconhecido" if n is None else f"{n:,} bytes".replace(",", ".")


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
        sha256 = hash_file(path).hexdigest()
    parsed = parse_installer_name(name)
    effective = plataforma or (parsed.plataforma if parsed else None)
    v = Verification(path, name, versao, effective, size, sha256,
                     registry=str(registry.team_file) if registry and registry.team_file
                     else None)
    pattern = "eSUS-AB-PEC-<versão>-(Linux64|Win64).(jar|exe)"
    if parsed is None:
        v.add("DL_NOME", "Nome do arquivo do instalador", Status.FALHA, pattern, name,
              "Use o arquivo com o nome original do portal SISAPS, ex.: "
              f"{expected_name(versao, plataforma or 'linux')}; um arquivo renomeado não pode "
              "ser conferido com o registro de versões.")
    else:
        v.add("DL_NOME", "Nome do arquivo do instalador", Status.OK, pattern, name)
        if parsed.versao == versao:
            v.add("DL_VERSAO", "Versão no nome do arquivo", Status.OK, versao, parsed.versao)
        else:
            v.add("DL_VERSAO", "Versão no nome do arquivo", Status.FALHA, versao, parsed.versao,
                  f"O arquivo é da versão {parsed.versao}, o site pede {versao}: baixe o "
                  "instalador certo ou corrija instalador.versao.")
        if plataforma is not None:
            if parsed.plataforma == plataforma and not (plataforma == "linux"
                                                        and parsed.ext != "jar"):
                v.add("DL_PLATAFORMA", "Plataforma do instalador", Status.OK,
                      PLATFORM_TAG[plataforma], f"{PLATFORM_TAG[parsed.plataforma]}.{parsed.ext}")
            else:
                v.add("DL_PLATAFORMA", "Plataforma do instalador", Status.FALHA,
                      PLATFORM_TAG[plataforma], f"{PLATFORM_TAG[parsed.plataforma]}.{parsed.ext}",
                      f"O servidor é {plataforma}: baixe "
                      f"{expected_name(versao, plataforma)} (só existe instalador x64).")
        ext = parsed.ext
        content = check_content(path, ext)
        if content.ok:
            v.add("DL_FORMATO", "Conteúdo é um instalador", Status.OK, MAGIC[ext][1],
                  content.detail)
        else:
            v.add("DL_FORMATO", "Conteúdo é um instalador", Status.FALHA, MAGIC[ext][1],
                  content.problem,
                  "Não instale. Baixe de novo pelo link do portal SISAPS; confira se o link "
                  "não leva a uma página de login ou de erro.")

    refs = registry.references(versao, effective) if registry and effective else []
    _check_size(v, refs, content_length, size_ceiling() if max_bytes is None else max_bytes)
    if expected_sha256:
        expected = expected_sha256.lower()
        if expected == sha256:
            v.add("DL_SHA256", "SHA-256 igual ao esperado", Status.OK, expected, sha256)
        else:
            v.add("DL_SHA256", "SHA-256 igual ao esperado", Status.FALHA, expected, sha256,
                  "O arquivo não é o esperado (corrompido, adulterado ou outra versão): não "
                  "instale; baixe de novo pelo portal SISAPS e confira o hash informado.")
    if registry is not None and effective is not None:
        matched = bool(expected_sha256) and expected_sha256.lower() == sha256
        _check_registry(v, registry, refs, record, matched, trust_first_use)
    return v


def _check_size(v: Verification, refs: list[Release], content_length: int | None,
                ceiling: int) -> None:
    expected: list[tuple[str, int]] = [(r.source, r.tamanho_bytes) for r in refs
                                       if r.tamanho_bytes is not None]
    if not expected and v.size > ceiling:
        v.add("DL_TAMANHO", "Tamanho do arquivo", Status.FALHA,
              f"até {_fmt_size(ceiling)} (teto sem tamanho no registro)", _fmt_size(v.size),
              "Nenhum instalador do PEC chega perto deste tamanho: não instale; baixe de novo "
              "pelo link do portal SISAPS.")
        return
    if content_length is not None:
        expected.append(("Content-Length do servidor", content_length))
    if not expected:
        v.add("DL_TAMANHO", "Tamanho do arquivo", Status.ALERTA, "tamanho de referência",
              _fmt_size(v.size),
              "Nenhum registro conhece o tamanho desta versão: confira com o tamanho mostrado "
              "no portal ou por outra equipe que já a instalou.")
        return
    wrong = [(src, n) for src, n in expected if n != v.size]
    shown = "; ".join(f"{_fmt_size(n)} ({src})" for src, n in expected)
    if wrong:
        v.add("DL_TAMANHO", "Tamanho do arquivo", Status.FALHA, shown, _fmt_size(v.size),
              "O tamanho difere da referência: download incompleto, arquivo corrompido ou "
              "outra versão. Não instale; baixe de novo (o download retoma de onde parou).")
    else:
        v.add("DL_TAMANHO", "Tamanho do arquivo", Status.OK, shown, _fmt_size(v.size))


def _check_registry(v: Verification, registry: Registry, refs: list[Release], record: bool,
                    independently_checked: bool, trust_first_use: bool = False) -> None:
    title = "SHA-256 no registro de versões (primeiro uso confiável)"
    known = [r for r in refs if r.sha256]
    mismatched = [r for r in known if r.sha256 != v.sha256]
    if mismatched:
        r = mismatched[0]
        when = f" em {r.registrado_em}" if r.registrado_em else ""
        v.add("DL_REGISTRO", title, Status.FALHA, f"{r.sha256} (registrado{when}; {r.source})",
              v.sha256,
              "ALARME: este arquivo difere do que a equipe já verificou para a mesma versão. "
              "Não instale. Baixe de novo pelo portal SISAPS; se o hash novo repetir o "
              "registrado, o arquivo anterior estava corrompido; se não, avise a equipe e a "
              "SAPS antes de mudar o registro.")
        return
    if known:
        r = known[0]
        when = f" em {r.registrado_em}" if r.registrado_em else ""
        v.add("DL_REGISTRO", title, Status.OK, f"{r.sha256} (registrado{when}; {r.source})",
              v.sha256)
        return
    if not refs:
        versions = registry.known_versions(v.plataforma)
        note = f"versões conhecidas: {', '.join(versions[-6:])}" if versions else ""
        unknown_remedy = (f"A versão {v.versao} ({v.plataforma}) não consta dos registros "
                          f"({note}). Confira a versão no portal SISAPS. ")
    else:
        unknown_remedy = ""
    others_failed = any(c.status is Status.FALHA for c in v.checks)
    if registry.team_file is None:
        v.add("DL_REGISTRO", title, Status.ALERTA, "hash registrado pela equipe",
              f"{v.sha256} (sem registro da equipe configurado)",
              unknown_remedy + "Defina registro_instaladores no inventário (um CSV da equipe, "
              "versionado) para guardar o hash do primeiro download verificado.")
        return
    if others_failed or not record:
        v.add("DL_REGISTRO", title, Status.ALERTA, "hash registrado pela equipe",
              f"{v.sha256} (não registrado: o arquivo não passou nas outras verificações)"
              if others_failed else f"{v.sha256} (não registrado)",
              unknown_remedy + "Corrija as outras verificações; o hash só é registrado para "
              "um arquivo que passou em todas.")
        return
    size_known = any(r.tamanho_bytes is not None for r in refs)
    if not (size_known or independently_checked or trust_first_use):
        v.add("DL_REGISTRO", title, Status.PENDENTE,
              "tamanho no registro, SHA-256 informado ou primeiro uso confirmado",
              f"{v.sha256} (não registrado: nenhum registro conhece o tamanho desta versão)",
              unknown_remedy + "Confira este SHA-256 com outra equipe que baixou a mesma "
              f"versão e confirme o primeiro uso: {TRUST_FLAG} no comando download, ou "
              "informe o hash (--sha256 ou instalador.sha256) ou o tamanho do portal "
              f"(coluna tamanho_bytes de {registry.team_file.name}).")
        return
    try:
        outcome = registry.record(Release(
            v.versao, v.plataforma or "", v.name, v.size, v.sha256, now_iso(),
            "primeiro download verificado (esus-runbook)",
            "conferido com o SHA-256 informado" if independently_checked
            else f"primeiro uso confirmado ({TRUST_FLAG})" if trust_first_use and not size_known
            else "primeiro uso: sem hash oficial para comparar"))
    except (InputError, OSError) as exc:
        v.add("DL_REGISTRO", title, Status.ALERTA, "hash registrado pela equipe",
              f"{v.sha256} (não foi possível gravar: {exc.__class__.__name__})",
              f"Confira permissões de {registry.team_file} e execute de novo.")
        return
    v.recorded = outcome.action
    e = outcome.entry
    if outcome.action == "divergente":  # another site recorded a different file meanwhile
        v.add("DL_REGISTRO", title, Status.FALHA,
              f"{e.sha256} ({_fmt_size(e.tamanho_bytes)}; registrado em {e.registrado_em}; "
              f"{e.source})", f"{v.sha256} ({_fmt_size(v.size)})",
              "ALARME: outro download da mesma versão, registrado há pouco, tem outro "
              "conteúdo. Não instale nenhum dos dois antes de baixar de novo e comparar.")
    elif outcome.action == "ja_registrado":
        v.add("DL_REGISTRO", title, Status.OK,
              f"{e.sha256} (registrado em {e.registrado_em}; {e.source})", v.sha256)
    elif independently_checked:
        v.add("DL_REGISTRO", title, Status.OK, "hash registrado pela equipe",
              f"{v.sha256} registrado agora em {e.source} (conferido com o SHA-256 informado)")
    else:
        v.add("DL_REGISTRO", title, Status.ALERTA, "hash registrado pela equipe",
              f"{v.sha256} registrado agora em {e.source} (primeiro uso)",
              unknown_remedy + "Primeiro download desta versão: não havia hash para comparar. "
              "O hash foi registrado e os próximos downloads serão conferidos com ele; se "
              "puder, confirme-o com outra equipe que baixou a mesma versão.")


# --------------------------------------------------------------------------- errors
def _causes(exc: BaseException) -> list[BaseException]:
    """exc and everything it wraps (requests → urllib3 → socket/ssl)."""
    seen: list[BaseException] = []
    todo: list[Any] = [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or any(e is s for s in seen):
            continue
        seen.append(e)
        todo.extend([e.__cause__, e.__context__, getattr(e, "reason", None), *e.args])
    return seen


def describe_network_error(exc: BaseException, url: str, timeout: Any = None) -> tuple[str, str]:
    """A pt-BR (message, remedy) for a requests/urllib3 exception."""
    import socket
    import ssl

    import requests
    from urllib3 import exceptions as u3

    host = urlsplit(url).hostname or url
    causes = _causes(exc)
    kinds = tuple(type(c) for c in causes)
    if isinstance(exc, requests.exceptions.SSLError) or any(
            issubclass(k, (ssl.SSLError, u3.SSLError)) for k in kinds):
        return (f"falha de TLS/certificado ao conectar a {host}",
                "confira a data e a hora desta máquina, os certificados de CA do sistema "
                "(pacote ca-certificates) e se um proxy está interceptando o HTTPS")
    if any(issubclass(k, (socket.gaierror, u3.NameResolutionError)) for k in kinds):
        return (f"não foi possível resolver o nome {host} (DNS)",
                "confira o endereço copiado do portal e o DNS/proxy desta máquina")
    if any(issubclass(k, ConnectionRefusedError) for k in kinds):
        return (f"{host} recusou a conexão",
                "confira o endereço e a porta, e se o servidor está no ar")
    # urllib3's NewConnectionError subclasses ConnectTimeoutError: exclude it here
    if isinstance(exc, requests.exceptions.ConnectTimeout) or any(
            issubclass(k, u3.ConnectTimeoutError) and not issubclass(k, u3.NewConnectionError)
            for k in kinds):
        return (f"{host} não aceitou a conexão no tempo limite",
                "confira a rede, o firewall e o proxy; tente de novo mais tarde")
    if isinstance(exc, requests.exceptions.ReadTimeout) or any(
            issubclass(k, (u3.ReadTimeoutError, socket.timeout, TimeoutError)) for k in kinds):
        return (f"{host} parou de responder (tempo limite de leitura)",
                "tente de novo mais tarde")
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema
                  | requests.exceptions.InvalidSchema):
        return ("URL inválida", "copie de novo o link de download do portal SISAPS")
    return (f"a conexão com {host} falhou ({exc.__class__.__name__})",
            "tente de novo mais tarde")


_HTTP_FATAL = {
    401: ("acesso negado (HTTP 401)",
          "o link exige autenticação: baixe pelo portal SISAPS e copie o link direto"),
    403: ("acesso negado (HTTP 403)",
          "o link pode ter expirado ou estar bloqueado por proxy: copie de novo o link no "
          "portal SISAPS"),
    404: ("arquivo não encontrado no servidor (HTTP 404)",
          "o endereço tem um trecho aleatório por versão: copie de novo o link no portal "
          "SISAPS, não o digite"),
    410: ("arquivo removido do servidor (HTTP 410)",
          "esta versão saiu do portal: copie o link da versão atual"),
}


def _retryable_status(code: int) -> bool:
    return code == 429 or code == 408 or 500 <= code <= 599


# --------------------------------------------------------------------------- download
@dataclass
class DownloadOutcome:
    """What :func:`download` did. ``path`` is the verified installer (None when it failed
    verification, then ``quarantined`` says where the rejected bytes are; or when its first
    use waits for a confirmation, then ``kept`` is the complete ``.part`` holding it).
    ``discarded`` says why a ``.part`` found on disk was not resumed."""

    url: str
    name: str
    dest: Path
    verification: Verification | None
    path: Path | None = None
    quarantined: Path | None = None
    reused: bool = False
    resumed_from: int = 0
    downloaded_bytes: int = 0
    attempts: int = 0
    seconds: float = 0.0
    early_checks: list[Check] = field(default_factory=list)
    kept: Path | None = None
    discarded: str | None = None

    @property
    def pending(self) -> bool:
        return self.kept is not None and self.verification is not None \
            and self.verification.pending

    @property
    def checks(self) -> list[Check]:
        return self.early_checks + (self.verification.checks if self.verification else [])

    @property
    def status(self) -> Status:
        return derive_status(self.checks)

    @property
    def ok(self) -> bool:
        return self.path is not None and self.status in (Status.OK, Status.ALERTA)

    def metrics(self) -> dict[str, Any]:
        v = self.verification
        return {
            "origem": "url", "url": _safe_url(self.url), "arquivo": str(self.path) if self.path
            else None, "nome": self.name, "pasta": str(self.dest),
            "quarentena": str(self.quarantined) if self.quarantined else None,
            "tamanho_bytes": v.size if v else None, "sha256": v.sha256 if v else None,
            "reaproveitado": self.reused, "retomado_de_bytes": self.resumed_from,
            "baixados_bytes": self.downloaded_bytes, "tentativas": self.attempts,
            "segundos": round(self.seconds, 3),
            "mb_por_segundo": round(self.downloaded_bytes / 1e6 / self.seconds, 2)
            if self.seconds > 0 and self.downloaded_bytes else None,
            "registro": v.registry if v else None, "registro_acao": v.recorded if v else None,
            "aguardando_confirmacao": str(self.kept) if self.kept else None,
            "parte_descartada": self.discarded,
        }


def _safe_url(url: str) -> str:
    """The URL without user:password (never shown)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    return parts.geturl()


def quarantine(path: Path, dest: Path, name: str, sha256: str | None,
               checks: list[Check]) -> Path:
    """Move a rejected file to ``dest/quarentena/`` under a name that is not an installer's,
    with a JSON beside it saying why."""
    qdir = dest / QUARANTINE
    qdir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = qdir / f"{name}.{stamp}.{(sha256 or 'sem-hash')[:12]}.rejeitado"
    n = 1
    while target.exists():
        n += 1
        target = target.with_name(f"{name}.{stamp}-{n}.{(sha256 or 'sem-hash')[:12]}.rejeitado")
    os.replace(path, target)
    write_json_atomic(target.with_name(target.name + ".json"), {
        "arquivo_original": name, "sha256": sha256, "em": now_iso(),
        "verificacoes": [{"id": c.id, "status": c.status.value, "esperado": c.expected,
                          "observado": c.observed} for c in checks if c.status is not Status.OK]})
    return target


def _shown(value: str | None) -> str:
    """A header value as a message shows it: printable, quoted, at most 60 characters."""
    if value is None:
        return "ausente"
    text = "".join(ch if ch.isprintable() else "?" for ch in value)
    return f"'{text[:57]}...'" if len(text) > 60 else f"'{text}'"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d{1,18})-(\d{1,18})|\*)/(\d{1,18}|\*)\s*$")


def _parse_content_range(value: str | None
                         ) -> tuple[int | None, int | None, int | None] | None:
    """(start, end, total) of ``bytes a-b/total`` or ``bytes */total``; None when the header
    is missing, malformed or inconsistent (end before start, end beyond the total)."""
    m = _CONTENT_RANGE.match(value or "")
    if not m:
        return None
    start = int(m[1]) if m[1] else None
    end = int(m[2]) if m[2] else None
    total = int(m[3]) if m[3] != "*" else None
    if start is not None and end is not None and (
            end < start or (total is not None and end >= total)):
        return None
    return start, end, total


class _Part:
    """The ``.part`` file, its sidecar and the running hash.

    The sidecar records where the bytes came from (URL without credentials, version) and what
    the server said about the file (``ETag``, ``Last-Modified``, total length, ``Range``
    support). A part is resumed only when the sidecar proves it is the same file, first on
    disk (:meth:`unprovable`) and then against the server's answer (:meth:`mismatch`);
    otherwise it is discarded and the download starts over (docs/download.md)."""

    MAX_META_BYTES = 64 * 1024

    def __init__(self, dest: Path, name: str, url: str, versao: str):
        self.path = dest / f"{name}.part"
        self.meta_path = dest / f".{name}.part.json"
        self.url = _safe_url(url)
        self.versao = versao
        self.hash = hashlib.sha256()
        self.size = 0
        self.meta: dict[str, Any] = {}
        self.complete = False  # verified, waiting for the first-use confirmation

    def _read_meta(self) -> dict[str, Any]:
        try:
            if self.meta_path.stat().st_size > self.MAX_META_BYTES:
                return {}
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    def unprovable(self, meta: dict[str, Any], size: int) -> str | None:
        """Why ``meta`` does not prove that a part of ``size`` bytes is a piece of this URL's
        file (None when it does)."""
        if not meta:
            return "sem o arquivo de controle que prova de onde vieram os bytes"
        if meta.get("url") != self.url:
            return "baixado de outro endereço"
        if meta.get("versao") != self.versao:
            return "de outra versão"
        validators = [meta.get(k) for k in ("etag", "last_modified")]
        if not any(isinstance(x, str) and x for x in validators) and not _is_int(
                meta.get("total")):
            return "o servidor não informou ETag, Last-Modified nem o tamanho do arquivo"
        if _is_int(meta.get("total")) and size > meta["total"]:
            return "maior que o arquivo anunciado pelo servidor"
        if meta.get("completo") is not True and meta.get("ranges") is not True:
            return "o servidor não aceita retomada (Range)"
        return None

    def load(self, progress_factory: Callable[..., Any]) -> tuple[int, str | None]:
        """Take up a previous call's part when its sidecar proves where it came from (its
        bytes are hashed once from disk). Returns (bytes kept, why a part was discarded)."""
        if not self.path.is_file():
            self.meta_path.unlink(missing_ok=True)
            return 0, None
        size = self.path.stat().st_size
        meta = self._read_meta()
        why = self.unprovable(meta, size) if size else None
        if why is not None or not size:
            self.discard()
            return 0, why
        self.meta = meta
        bar = progress_factory(total=size, desc="conferindo parte já baixada")
        try:
            hash_file(self.path, self.hash, bar.update)
        finally:
            bar.close()
        self.size = size
        if meta.get("completo") is True:
            if meta.get("sha256") != self.hash.hexdigest() or meta.get("total") != size:
                self.discard()
                return 0, "o arquivo mudou depois de verificado"
            self.complete = True
        return size, None

    def resumable(self) -> bool:
        return self.size > 0 and self.unprovable(self.meta, self.size) is None

    def mismatch(self, headers: Any, total: int | None) -> str | None:
        """Why the server's answer is not the file this part holds: a validator both sides
        have differs, or there is none to compare (None when they agree)."""
        compared = 0
        for key, header in (("etag", "ETag"), ("last_modified", "Last-Modified")):
            mine, theirs = self.meta.get(key), headers.get(header)
            if mine and theirs:
                if mine != theirs:
                    return f"o {header} mudou de {_shown(mine)} para {_shown(theirs)}"
                compared += 1
        mine = self.meta.get("total")
        if _is_int(mine) and total is not None:
            if mine != total:
                return f"o tamanho mudou de {_fmt_size(mine)} para {_fmt_size(total)}"
            compared += 1
        if not compared:
            return "o servidor não devolveu ETag, Last-Modified nem tamanho para comparar"
        return None

    def discard(self) -> None:
        """Forget the part: the next request starts from byte zero."""
        self.path.unlink(missing_ok=True)
        self.meta_path.unlink(missing_ok=True)
        self.hash = hashlib.sha256()
        self.size = 0
        self.meta = {}
        self.complete = False

    def validator(self) -> str | None:
        etag = self.meta.get("etag")
        if isinstance(etag, str) and etag and not etag.startswith("W/"):
            return etag
        lm = self.meta.get("last_modified")
        return lm if isinstance(lm, str) and lm else None

    def save_meta(self, **meta: Any) -> None:
        self.meta.update({k: v for k, v in meta.items() if v is not None})
        write_json_atomic(self.meta_path, self.meta)

    def cleanup(self) -> None:
        self.meta_path.unlink(missing_ok=True)


def _progress_factory(enabled: bool, name: str) -> Callable[..., Any]:
    def make(total: int | None = None, initial: int = 0, desc: str | None = None) -> Any:
        from tqdm.auto import tqdm

        return tqdm(total=total, initial=initial, desc=desc or name, unit="B", unit_scale=True,
                    unit_divisor=1024, disable=not enabled, file=sys.stderr, mininterval=0.5,
                    dynamic_ncols=True, leave=True)
    return make


def download(url: str, dest: str | os.PathLike, versao: str, *, plataforma: str | None = None,
             expected_sha256: str | None = None, registry: Registry | None = None,
             progress: bool = True, retries: int = 5, backoff: float = 1.0,
             timeout: tuple[float, float] = (15.0, 60.0), chunk_size: int = CHUNK,
             session: Any = None, sleep: Callable[[float], None] = time.sleep,
             trust_first_use: bool = False, max_bytes: int | None = None) -> DownloadOutcome:
    """Download ``url`` into ``dest``, verified. Raises :class:`DownloadError` (exit 2) when
    the file could not be obtained; a file that arrived but failed verification is returned
    with a failed status and moved to quarantine (the CLI exits 1); a file that passed every
    check but whose first use nobody vouches for is kept as a complete ``.part``
    (``outcome.pending``; see :func:`verify_file`). ``retries`` bounds the number of requests:
    at most ``retries + 1``. ``max_bytes`` is the ceiling for a release of unknown size
    (default :func:`size_ceiling`)."""
    import requests
    from filelock import FileLock

    if not re.fullmatch(r"\d+\.\d+\.\d+", versao or ""):
        raise InputError(f"versão '{versao}' inválida", file="--version",
                         remedy="use o formato N.N.N, ex.: 5.5.24")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("URL inválida: deve começar com http:// ou https://", file="--url",
                         remedy="copie o link de download do portal SISAPS")
    ceiling = size_ceiling() if max_bytes is None else max_bytes
    dest = Path(dest).expanduser().resolve()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"não foi possível criar a pasta "
                         f"({describe_os_error(exc)})",
                         file=str(dest), key="--dest",
                         remedy="escolha uma pasta com permissão de escrita") from None
    name = name_from_url(url)
    if parse_installer_name(name) is None:
        name = ""  # decided from Content-Disposition on the first response
    else:
        _check_name(name, versao, plataforma)

    own_session = session is None
    session = session or requests.Session()
    session.headers.setdefault("User-Agent", USER_AGENT)
    make_bar = _progress_factory(progress, name or "download")
    t0 = time.perf_counter()
    first = None
    try:
        if not name:
            try:
                first = _request(session, url, {}, timeout)
            except requests.exceptions.RequestException as exc:
                msg, remedy = describe_network_error(exc, url)
                raise DownloadError(msg, file="--url", remedy=remedy) from None
            name = _name_from_disposition(first.headers.get("Content-Disposition")) or ""
            if parse_installer_name(name) is None:
                first.close()
                raise DownloadError(
                    "o endereço não leva a um instalador do PEC (nome do arquivo não é "
                    "eSUS-AB-PEC-<versão>-Linux64.jar ou -Win64.jar)", file="--url",
                    remedy="copie o link do instalador no portal SISAPS (termina com o nome "
                           "do arquivo)")
            _check_name(name, versao, plataforma)
            make_bar = _progress_factory(progress, name)
        info = parse_installer_name(name)
        assert info is not None
        lock = FileLock(str(dest / f".{name}.lock"))
        try:
            lock.acquire()
        except OSError as exc:
            raise InputError(f"não foi possível gravar na pasta "
                             f"({describe_os_error(exc)})",
                             file=str(dest), key="--dest",
                             remedy="a pasta está num sistema de arquivos somente leitura ou "
                                    "sem permissão de escrita: escolha outra pasta") from None
        try:
            out = DownloadOutcome(url, name, dest, None)
            final = dest / name
            if final.exists():
                v = verify_file(final, versao, info.plataforma, expected_sha256=expected_sha256,
                                registry=registry, trust_first_use=trust_first_use,
                                max_bytes=ceiling)
                if v.passed or v.pending:
                    out.verification = v
                    if v.passed:
                        out.path, out.reused = final, True
                    else:
                        out.kept = final  # placed there by hand: never moved, never trusted
                    out.seconds = time.perf_counter() - t0
                    if first is not None:
                        first.close()
                    return out
                quarantine(final, dest, name, v.sha256, v.checks)
            refs = registry.references(versao, info.plataforma) if registry else []
            try:
                out = _transfer(session, url, dest, name, versao, info.plataforma,
                                expected_sha256, registry, refs, retries, backoff, timeout,
                                chunk_size, sleep, make_bar, first, ceiling, trust_first_use)
            except OSError as exc:  # the disk, not the network (handled in _transfer)
                if isinstance(exc, requests.exceptions.RequestException):
                    raise
                raise DownloadError(f"erro ao gravar em {dest} "
                                    f"({describe_os_error(exc)})",
                                    file=str(dest), key="--dest",
                                    remedy="confira o espaço livre e as permissões da pasta "
                                           "de destino") from None
            first = None
            out.seconds = time.perf_counter() - t0
            return out
        finally:
            lock.release()
    finally:
        if first is not None:
            first.close()
        if own_session:
            session.close()


def _check_name(name: str, versao: str, plataforma: str | None) -> None:
    info = parse_installer_name(name)
    assert info is not None
    if info.versao != versao:
        raise DownloadError(f"o link é do instalador {info.versao}, não da versão {versao}",
                            file="--url", remedy="copie o link da versão pedida ou corrija "
                                                "--version")
    if plataforma and (info.plataforma != plataforma or (plataforma == "linux"
                                                         and info.ext != "jar")):
        raise DownloadError(f"o link é do instalador {PLATFORM_TAG[info.plataforma]}, mas o "
                            f"servidor é {plataforma}", file="--url",
                            remedy=f"copie o link de {expected_name(versao, plataforma)}")


def _request(session: Any, url: str, headers: dict[str, str], timeout: Any) -> Any:
    """GET with stream=True; network errors become DownloadError-ready exceptions."""
    return session.get(url, headers={"Accept-Encoding": "identity", **headers}, stream=True,
                       timeout=timeout, allow_redirects=True)


class _TooBig(Exception):
    """The server sent more bytes than the cap for this installer."""


RESTART = "tente de novo: o download recomeça do início"


def _give_up(out: DownloadOutcome, part: _Part, last_error: tuple[str, str] | None
             ) -> DownloadError:
    """The error after the last attempt, saying truthfully what is kept for the next run."""
    msg, remedy = last_error or ("o download não terminou", "tente de novo mais tarde")
    n = out.attempts
    text = f"{msg} após {n} {'tentativa' if n == 1 else 'tentativas'}"
    if part.resumable():
        text += (f"; {_fmt_size(part.size)} guardados em {part.path.name}, a próxima "
                 "execução continua deles")
    elif part.size:
        why = part.unprovable(part.meta, part.size)
        part.discard()
        text += f"; nada foi guardado ({why}): a próxima execução baixa do início"
    return DownloadError(text, file="--url", remedy=remedy)


def _transfer(session: Any, url: str, dest: Path, name: str, versao: str, plataforma: str,
              expected_sha256: str | None, registry: Registry | None, refs: list[Release],
              retries: int, backoff: float, timeout: Any, chunk_size: int,
              sleep: Callable[[float], None], make_bar: Callable[..., Any],
              first: Any, ceiling: int, trust_first_use: bool) -> DownloadOutcome:
    import requests
    from urllib3 import exceptions as u3

    out = DownloadOutcome(url, name, dest, None)
    part = _Part(dest, name, url, versao)
    out.resumed_from, out.discarded = part.load(make_bar)
    registry_size = next((r.tamanho_bytes for r in refs if r.tamanho_bytes is not None), None)
    if registry_size is not None:
        cap, cap_source = registry_size, "tamanho do registro"
    else:
        cap, cap_source = ceiling, "teto para versão sem tamanho no registro"
    total: int | None = part.meta.get("total") if _is_int(part.meta.get("total")) else None
    if part.complete:  # verified earlier, waiting for the first-use confirmation
        if first is not None:
            first.close()
        return _finish(out, part, versao, plataforma, expected_sha256, registry, total,
                       trust_first_use, ceiling)
    max_attempts = max(retries, 0) + 1
    failures = 0
    last_error: tuple[str, str] | None = None
    bar = None
    try:
        while True:
            if out.attempts >= max_attempts:
                raise _give_up(out, part, last_error)
            if failures:
                delay = min(backoff * 2 ** (failures - 1), 30.0) * (0.75 + random.random() / 2)
                sleep(delay)
            out.attempts += 1
            if part.size and not part.resumable():
                part.discard()
                out.resumed_from = 0
            headers: dict[str, str] = {}
            if part.size:
                headers["Range"] = f"bytes={part.size}-"
                validator = part.validator()
                if validator:
                    headers["If-Range"] = validator
            try:
                if first is not None and not part.size:
                    resp, first = first, None
                else:
                    if first is not None:
                        first.close()
                        first = None
                    resp = _request(session, url, headers, timeout)
            except requests.exceptions.RequestException as exc:
                msg, remedy = describe_network_error(exc, url)
                if isinstance(exc, requests.exceptions.SSLError | requests.exceptions.InvalidURL
                              | requests.exceptions.MissingSchema) or "DNS" in msg:
                    raise DownloadError(msg, file="--url", remedy=remedy) from None
                last_error = (msg, remedy)
                failures += 1
                continue
            with resp:
                code = resp.status_code
                if code in _HTTP_FATAL:
                    msg, remedy = _HTTP_FATAL[code]
                    raise DownloadError(msg, file="--url", remedy=remedy)
                if _retryable_status(code):
                    last_error = (f"o servidor respondeu erro HTTP {code}",
                                  "o servidor do portal está com problema: tente mais tarde")
                    failures += 1
                    continue
                if code == 416:
                    cr = _parse_content_range(resp.headers.get("Content-Range"))
                    t = cr[2] if cr else None
                    if part.size and t == part.size and part.mismatch(resp.headers, t) is None:
                        total = t
                        break  # the part is already complete
                    part.discard()
                    out.resumed_from = 0
                    last_error = ("o servidor recusou a retomada (HTTP 416) e o que já foi "
                                  "baixado não confere com o arquivo dele", RESTART)
                    continue
                if code not in (200, 206):
                    raise DownloadError(f"resposta inesperada do servidor (HTTP {code})",
                                        file="--url",
                                        remedy="copie de novo o link de download do portal "
                                               "SISAPS")
                ctype = resp.headers.get("Content-Type", "").lower()
                if ctype.startswith("text/html"):
                    raise DownloadError("o endereço devolveu uma página HTML, não o instalador",
                                        file="--url",
                                        remedy="copie o link direto do arquivo (botão de "
                                               "download no portal SISAPS), não o da página")
                if code == 206:
                    raw_range = resp.headers.get("Content-Range")
                    cr = _parse_content_range(raw_range)
                    if cr is None or cr[0] is None:
                        part.discard()
                        raise DownloadError(
                            "o servidor respondeu a um pedido de retomada (HTTP 206) com um "
                            f"Content-Range inválido ({_shown(raw_range)}): os bytes não podem "
                            "ser encaixados no arquivo; nada foi guardado", file="--url",
                            remedy="execute de novo (o download recomeça do início); se "
                                   "repetir, o servidor ou um proxy no caminho está com "
                                   "defeito: baixe por outra rede")
                    start, _, t = cr
                    why = None
                    if start != part.size:
                        why = (f"o servidor devolveu a partir do byte {start}, não do "
                               f"{part.size}")
                    elif part.size:
                        why = part.mismatch(resp.headers, t)
                    if why:
                        part.discard()
                        out.resumed_from = 0
                        last_error = (f"a retomada não confere com o que já foi baixado ({why})",
                                      RESTART)
                        continue
                    total = t if t is not None else total
                else:
                    if part.size:
                        part.discard()  # the server ignored Range (or If-Range said changed)
                        out.resumed_from = 0
                    length = resp.headers.get("Content-Length")
                    total = int(length) if length and length.isdigit() else None
                if registry_size is not None and total is not None and total != registry_size:
                    part.discard()
                    out.early_checks.append(Check(
                        "DL_TAMANHO", "Tamanho do arquivo", Status.FALHA,
                        f"{_fmt_size(registry_size)} ({refs[0].source if refs else 'registro'})",
                        f"{_fmt_size(total)} anunciados pelo servidor",
                        "O servidor oferece um arquivo de outro tamanho que o registro para "
                        "esta versão: confira o link e a versão no portal SISAPS; nada foi "
                        "baixado."))
                    return out
                if total is not None and total > cap:
                    part.discard()
                    raise DownloadError(
                        f"o servidor anuncia {_fmt_size(total)}, acima do teto de "
                        f"{_fmt_size(cap)} ({cap_source}): nada foi baixado", file="--url",
                        remedy="confira o link no portal SISAPS: nenhum instalador do PEC tem "
                               f"esse tamanho (teto em docs/download.md, variável {CEILING_ENV})")
                accepts = resp.headers.get("Accept-Ranges", "").strip().lower() == "bytes"
                part.save_meta(url=part.url, versao=versao, total=total,
                               etag=resp.headers.get("ETag"),
                               last_modified=resp.headers.get("Last-Modified"),
                               ranges=code == 206 or accepts)
                if bar is None:
                    bar = make_bar(total=total, initial=part.size)
                else:
                    bar.reset(total=total)
                    bar.update(part.size)
                before = part.size
                try:
                    _stream(resp, part, chunk_size, bar, out, cap)
                except _TooBig:
                    part.discard()
                    raise DownloadError(
                        f"o servidor enviou mais de {_fmt_size(cap)} ({cap_source}) sem "
                        "terminar o arquivo: download interrompido e descartado", file="--url",
                        remedy="confira o link no portal SISAPS: um instalador do PEC não "
                               "passa desse tamanho") from None
                except (u3.HTTPError, requests.exceptions.RequestException, OSError) as exc:
                    if isinstance(exc, OSError) and not isinstance(
                            exc, ConnectionError | TimeoutError) and exc.errno is not None:
                        raise DownloadError(f"erro ao gravar em {part.path} ({describe_os_error(exc)})",
                                            file=str(part.path),
                                            remedy="confira o espaço livre e as permissões da "
                                                   "pasta de destino") from None
                    msg, remedy = describe_network_error(exc, url)
                    last_error = ("a conexão caiu durante o download", remedy)
                    failures = 1 if part.size > before else failures + 1
                    continue
                if total is not None and part.size < total:
                    last_error = ("a conexão caiu durante o download", "tente de novo mais tarde")
                    failures = 1 if part.size > before else failures + 1
                    continue
                break
    finally:
        if bar is not None:
            bar.close()
        if part.size == 0 and part.path.exists() and part.path.stat().st_size == 0:
            part.path.unlink(missing_ok=True)  # nothing arrived: leave no empty .part behind
            part.cleanup()
    return _finish(out, part, versao, plataforma, expected_sha256, registry, total,
                   trust_first_use, ceiling)


def _stream(resp: Any, part: _Part, chunk_size: int, bar: Any, out: DownloadOutcome,
            cap: int) -> None:
    """Copy the body into the part file, hashing as it arrives; never past ``cap`` bytes."""
    raw = resp.raw
    update = part.hash.update
    with part.path.open("ab") as fh:
        write = fh.write
        try:
            while True:
                block = raw.read(chunk_size, decode_content=False)
                if not block:
                    break
                n = len(block)
                if part.size + n > cap:
                    raise _TooBig
                write(block)
                update(block)
                part.size += n
                out.downloaded_bytes += n
                bar.update(n)
        finally:
            fh.flush()
            os.fsync(fh.fileno())


def _finish(out: DownloadOutcome, part: _Part, versao: str, plataforma: str,
            expected_sha256: str | None, registry: Registry | None,
            total: int | None, trust_first_use: bool, ceiling: int) -> DownloadOutcome:
    v = verify_file(part.path, versao, plataforma, expected_sha256=expected_sha256,
                    registry=registry, sha256=part.hash.hexdigest(), content_length=total,
                    name=out.name, trust_first_use=trust_first_use, max_bytes=ceiling)
    out.verification = v
    if v.passed:
        part.cleanup()
        final = out.dest / out.name
        os.replace(part.path, final)
        v.path = final
        out.path = final
    elif v.pending:  # kept as a complete .part: nothing under the installer's name
        part.save_meta(url=part.url, versao=versao, total=v.size, completo=True,
                       sha256=v.sha256)
        out.kept = part.path
    else:
        part.cleanup()
        out.quarantined = quarantine(part.path, out.dest, out.name, v.sha256, v.checks)
        v.path = out.quarantined
    return out
