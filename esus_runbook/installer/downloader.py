"""Resumable, verified download of the PEC installer (:func:`download`).

The name the file will have is decided first (from the URL, else from the first response's
``Content-Disposition``) and must be the installer of the version and platform asked for.
:class:`~.transfer.Transfer` fills ``<name>.part``; the file gets its final name only after
:func:`~.verify.verify_file` passes. A file that fails verification is moved to
``quarentena/`` under a name that is not the installer's, so nobody installs it by mistake; a
file that passed everything but whose first use nobody vouches for stays a complete ``.part``
until the user confirms it (:data:`~.trust.TRUST_FLAG`). See docs/download.md.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from filelock import FileLock
from tqdm.auto import tqdm

from ..errors import InputError, describe_os_error
from ..files.atomic import write_json_atomic
from ..results import Check, Checks, now_iso
from ..status import ExitCode, Status
from .naming import (
    PLATFORM_TAG,
    expected_name,
    name_from_disposition,
    name_from_url,
    parse_installer_name,
)
from .network import CHUNK, DownloadError, Network, describe_network_error, request, safe_url
from .releases import Registry
from .transfer import Cap, Part, Transfer
from .trust import TRUST_FLAG
from .verify import Verification, size_ceiling, verify_file

QUARANTINE = "quarentena"
USER_AGENT = "esus-runbook (download verificado do instalador do PEC)"


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
    early_checks: Checks = field(default_factory=Checks)
    kept: Path | None = None
    discarded: str | None = None

    @property
    def checks(self) -> Checks:
        """The checks made before the transfer (the announced size) and on the file."""
        return Checks([*self.early_checks,
                       *(self.verification.checks if self.verification else ())])

    @property
    def status(self) -> Status:
        return self.checks.status

    @property
    def pending(self) -> bool:
        return self.kept is not None and self.verification is not None \
            and self.verification.pending

    @property
    def ok(self) -> bool:
        return self.path is not None and self.checks.passed

    def metrics(self) -> dict[str, Any]:
        v = self.verification
        return {
            "origem": "url", "url": safe_url(self.url), "arquivo": str(self.path) if self.path
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

    # -- what the command line prints -----------------------------------------------------
    def text(self) -> str:
        """The pt-BR text of ``esus-runbook baixar``: the checks, then where the verified
        installer is."""
        out = [self.checks.text()]
        v = self.verification
        if self.ok and v is not None:
            how = "já estava baixado e foi conferido" if self.reused else "baixado e verificado"
            out.append(f"Instalador {how}: {self.path}")
            out.append(f"SHA-256: {v.sha256}  Registro: {v.registry}")
        return "\n".join(x for x in out if x)

    def notices(self) -> str:
        """Standard error: a discarded ``.part``, the rejection, or the confirmation a first
        use waits for (naming :data:`TRUST_FLAG`)."""
        err: list[str] = []
        if self.discarded:
            err.append(f"Aviso: o {self.name}.part encontrado foi descartado ({self.discarded}); "
                       "o download recomeçou do início.")
        v = self.verification
        if self.ok and v is not None:
            return "\n".join(err)
        if self.quarantined is not None:
            err.append(f"Arquivo REJEITADO, movido para a quarentena: {self.quarantined}")
        elif self.pending and v is not None:
            err.append(f"{TRUST_FLAG}: primeiro uso da versão {v.versao} sem tamanho em nenhum "
                       f"registro: o SHA-256 {v.sha256} NÃO foi registrado e o arquivo ficou em "
                       f"{self.kept} — confira o hash com outra equipe e execute de novo com "
                       f"{TRUST_FLAG} (ou --sha256 {v.sha256})")
        else:
            err.append("Nada foi gravado com o nome do instalador.")
        return "\n".join(err)

    @property
    def exit_code(self) -> ExitCode:
        """OK for a verified installer, FINDINGS for a rejected one, UNDECIDED for a file
        whose first use waits for a confirmation (the hash is evidence nobody vouched for)."""
        if self.pending and self.verification is not None:
            return ExitCode.UNDECIDED
        return ExitCode.OK if self.ok else ExitCode.FINDINGS


def quarantine(path: Path, dest: Path, name: str, sha256: str | None,
               checks: list[Check]) -> Path:
    """Move a rejected file to ``dest/quarentena/`` under a name that is not an installer's,
    with a JSON beside it saying why."""
    qdir = dest / QUARANTINE
    qdir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    tag = (sha256 or "sem-hash")[:12]
    target = qdir / f"{name}.{stamp}.{tag}.rejeitado"
    n = 1
    while target.exists():
        n += 1
        target = target.with_name(f"{name}.{stamp}-{n}.{tag}.rejeitado")
    os.replace(path, target)
    write_json_atomic(target.with_name(target.name + ".json"), {
        "arquivo_original": name, "sha256": sha256, "em": now_iso(),
        "verificacoes": [{"id": c.id, "status": c.status.value, "esperado": c.expected,
                          "observado": c.observed} for c in checks if c.status is not Status.OK]})
    return target


def _check_name(name: str, versao: str, plataforma: str | None) -> None:
    """The URL's installer must be the version and platform asked for (DownloadError)."""
    info = parse_installer_name(name)
    assert info is not None
    if info.versao != versao:
        raise DownloadError(f"o link é do instalador {info.versao}, não da versão {versao}",
                            file="--url", remedy="copie o link da versão pedida ou corrija "
                                                "--versao-pec")
    if plataforma and not info.fits(plataforma):
        raise DownloadError(f"o link é do instalador {PLATFORM_TAG[info.plataforma]}, mas o "
                            f"servidor é {plataforma}", file="--url",
                            remedy=f"copie o link de {expected_name(versao, plataforma)}")


def _progress_factory(enabled: bool, name: str) -> Callable[..., Any]:
    def make(total: int | None = None, initial: int = 0, desc: str | None = None) -> Any:
        return tqdm(total=total, initial=initial, desc=desc or name, unit="B", unit_scale=True,
                    unit_divisor=1024, disable=not enabled, file=sys.stderr, mininterval=0.5,
                    dynamic_ncols=True, leave=True)
    return make


@dataclass(frozen=True)
class _Request:
    """What the file must be: the release asked for and how it is trusted."""

    versao: str
    plataforma: str
    expected_sha256: str | None
    registry: Registry | None
    trust_first_use: bool
    ceiling: int

    def verify(self, path: Path, **facts: Any) -> Verification:
        return verify_file(path, self.versao, self.plataforma,
                           expected_sha256=self.expected_sha256, registry=self.registry,
                           trust_first_use=self.trust_first_use, max_bytes=self.ceiling,
                           **facts)


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
    if not re.fullmatch(r"\d+\.\d+\.\d+", versao or ""):
        raise InputError(f"versão '{versao}' inválida", file="--versao-pec",
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
        raise InputError(f"não foi possível criar a pasta ({describe_os_error(exc)})",
                         file=str(dest), key="--pasta",
                         remedy="escolha uma pasta com permissão de escrita") from None
    name = name_from_url(url)
    if parse_installer_name(name) is None:
        name = ""  # decided from Content-Disposition on the first response
    else:
        _check_name(name, versao, plataforma)
    network = Network(retries, backoff, timeout, chunk_size, sleep)

    own_session = session is None
    session = session or requests.Session()
    session.headers.setdefault("User-Agent", USER_AGENT)
    t0 = time.perf_counter()
    first = None
    try:
        if not name:
            first, name = _name_from_response(session, url, timeout)
            _check_name(name, versao, plataforma)
        info = parse_installer_name(name)
        assert info is not None
        wanted = _Request(versao, info.plataforma, expected_sha256, registry, trust_first_use,
                          ceiling)
        lock = FileLock(str(dest / f".{name}.lock"))
        try:
            lock.acquire()
        except OSError as exc:
            raise InputError(f"não foi possível gravar na pasta ({describe_os_error(exc)})",
                             file=str(dest), key="--pasta",
                             remedy="a pasta está num sistema de arquivos somente leitura ou "
                                    "sem permissão de escrita: escolha outra pasta") from None
        try:
            out = _reuse(url, name, dest, wanted)
            if out is None:
                make_bar = _progress_factory(progress, name)
                try:
                    out = _fetch(session, url, name, dest, wanted, network, make_bar, first)
                except OSError as exc:  # the disk, not the network (handled in Transfer)
                    if isinstance(exc, requests.exceptions.RequestException):
                        raise
                    raise DownloadError(f"erro ao gravar em {dest} ({describe_os_error(exc)})",
                                        file=str(dest), key="--pasta",
                                        remedy="confira o espaço livre e as permissões da "
                                               "pasta de destino") from None
                first = None  # consumed (and closed) by the transfer
            out.seconds = time.perf_counter() - t0
            return out
        finally:
            lock.release()
    finally:
        if first is not None:
            first.close()
        if own_session:
            session.close()


def _name_from_response(session: Any, url: str, timeout: Any) -> tuple[Any, str]:
    """The first response (kept open for the transfer) and the installer name its
    ``Content-Disposition`` gives, for a URL whose last segment is not one."""
    try:
        first = request(session, url, {}, timeout)
    except requests.exceptions.RequestException as exc:
        msg, remedy = describe_network_error(exc, url)
        raise DownloadError(msg, file="--url", remedy=remedy) from None
    name = name_from_disposition(first.headers.get("Content-Disposition")) or ""
    if parse_installer_name(name) is None:
        first.close()
        raise DownloadError(
            "o endereço não leva a um instalador do PEC (nome do arquivo não é "
            "eSUS-AB-PEC-<versão>-Linux64.jar ou -Win64.jar)", file="--url",
            remedy="copie o link do instalador no portal SISAPS (termina com o nome do "
                   "arquivo)")
    return first, name


def _reuse(url: str, name: str, dest: Path, wanted: _Request) -> DownloadOutcome | None:
    """The outcome for a file already under the installer's name that passes verification
    (or waits for the first-use confirmation); a failing one goes to quarantine (None)."""
    final = dest / name
    if not final.exists():
        return None
    v = wanted.verify(final)
    if not (v.passed or v.pending):
        quarantine(final, dest, name, v.sha256, v.checks)
        return None
    out = DownloadOutcome(url, name, dest, v)
    if v.passed:
        out.path, out.reused = final, True
    else:
        out.kept = final  # placed there by hand: never moved, never trusted
    return out


def _fetch(session: Any, url: str, name: str, dest: Path, wanted: _Request, network: Network,
           make_bar: Callable[..., Any], first: Any) -> DownloadOutcome:
    """Transfer into the ``.part`` (resuming a provable one), then verify and place it."""
    out = DownloadOutcome(url, name, dest, None)
    part = Part(dest, name, url, wanted.versao)
    out.resumed_from, out.discarded = part.load(make_bar)
    if part.complete:  # verified earlier, waiting for the first-use confirmation
        if first is not None:
            first.close()
        return _finish(out, part, wanted, part.total)
    refs = wanted.registry.references(wanted.versao, wanted.plataforma) \
        if wanted.registry else []
    registry_size = next((r.tamanho_bytes for r in refs if r.tamanho_bytes is not None), None)
    cap = Cap.for_release(registry_size, refs[0].source if refs else "registro",
                          wanted.ceiling)
    transfer = Transfer(session, url, part, cap, network, make_bar, first)
    try:
        transfer.run()
    finally:
        out.attempts = transfer.attempts
        out.downloaded_bytes = transfer.downloaded_bytes
        if transfer.restarted:
            out.resumed_from = 0
    if transfer.refused is not None:
        out.early_checks.append(transfer.refused)
        return out
    return _finish(out, part, wanted, transfer.total)


def _finish(out: DownloadOutcome, part: Part, wanted: _Request,
            total: int | None) -> DownloadOutcome:
    v = wanted.verify(part.path, sha256=part.hash.hexdigest(), content_length=total,
                      name=out.name)
    out.verification = v
    if v.passed:
        part.cleanup()
        final = out.dest / out.name
        os.replace(part.path, final)
        v.path = final
        out.path = final
    elif v.pending:  # kept as a complete .part: nothing under the installer's name
        part.save_meta(url=part.url, versao=wanted.versao, total=v.size, completo=True,
                       sha256=v.sha256)
        out.kept = part.path
    else:
        part.cleanup()
        out.quarantined = quarantine(part.path, out.dest, out.name, v.sha256, v.checks)
        v.path = out.quarantined
    return out
