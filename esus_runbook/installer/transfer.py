"""The HTTP side of a download: the ``.part`` file that survives an interrupted call, and
:class:`Transfer`, the request loop that fills it (network errors: :mod:`.network`).

The body is streamed into ``<name>.part`` and fed to SHA-256 as it arrives (one pass, constant
memory). A dropped connection is resumed with an HTTP ``Range`` request inside the same call
(``Network.retries`` bounds the total number of requests, with exponential backoff), and a
``.part`` left by an interrupted call is resumed by the next one only when its sidecar
(``.<name>.part.json``) proves it is the same file: same URL and version, and the server's
``ETag``/``Last-Modified``/total length unchanged wherever both sides have them; anything else
starts over from zero (docs/download.md). The size is capped while the bytes arrive.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from urllib3 import exceptions as u3

from ..errors import describe_os_error
from ..files.atomic import write_json_atomic
from ..render.numbers import size_bytes
from ..results import Check
from ..status import Status
from .network import (
    HTTP_FATAL,
    DownloadError,
    Network,
    describe_network_error,
    request,
    retryable_status,
    safe_url,
)
from .verify import CEILING_ENV, hash_file

RESTART = "tente de novo: o download recomeça do início"


# --------------------------------------------------------------------------- headers
def shown(value: str | None) -> str:
    """A header value as a message shows it: printable, quoted, at most 60 characters."""
    if value is None:
        return "ausente"
    text = "".join(ch if ch.isprintable() else "?" for ch in value)
    return f"'{text[:57]}...'" if len(text) > 60 else f"'{text}'"


def is_count(value: Any) -> bool:
    """A non-negative int read from JSON (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d{1,18})-(\d{1,18})|\*)/(\d{1,18}|\*)\s*$")


def parse_content_range(value: str | None
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


# --------------------------------------------------------------------------- the .part file
class Part:
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
        self.url = safe_url(url)
        self.versao = versao
        self.hash = hashlib.sha256()
        self.size = 0
        self.meta: dict[str, Any] = {}
        self.complete = False  # verified, waiting for the first-use confirmation

    @property
    def total(self) -> int | None:
        """The file's total length as the server announced it (recorded in the sidecar)."""
        total = self.meta.get("total")
        return total if is_count(total) else None

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
        if not any(isinstance(x, str) and x for x in validators) and not is_count(
                meta.get("total")):
            return "o servidor não informou ETag, Last-Modified nem o tamanho do arquivo"
        if is_count(meta.get("total")) and size > meta["total"]:
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
                    return f"o {header} mudou de {shown(mine)} para {shown(theirs)}"
                compared += 1
        mine = self.meta.get("total")
        if is_count(mine) and total is not None:
            if mine != total:
                return f"o tamanho mudou de {size_bytes(mine)} para {size_bytes(total)}"
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


# --------------------------------------------------------------------------- the transfer
@dataclass(frozen=True)
class Cap:
    """The most bytes the server may send (``limit``) and where that figure comes from; the
    registry's size of the release (``exact``, from ``source``) when one is known."""

    limit: int
    why: str
    exact: int | None = None
    source: str = "registro"

    @classmethod
    def for_release(cls, registry_size: int | None, source: str, ceiling: int) -> Cap:
        if registry_size is not None:
            return cls(registry_size, "tamanho do registro", registry_size, source)
        return cls(ceiling, "teto para versão sem tamanho no registro")


class _TooBig(Exception):
    """The server sent more bytes than the cap for this installer."""


class Transfer:
    """Fill ``part`` with ``url``'s file: ranged requests to resume, retries with backoff,
    the cap enforced while the bytes arrive. :meth:`run` returns when the part holds the
    whole file (or the server's announced size contradicts the registry: :attr:`refused`)
    and raises :class:`DownloadError` when the file cannot be obtained. ``first`` is a
    response already open for the first request (the one the file's name came from)."""

    def __init__(self, session: Any, url: str, part: Part, cap: Cap, network: Network,
                 make_bar: Callable[..., Any], first: Any = None):
        self.session, self.url, self.part, self.cap = session, url, part, cap
        self.network, self.make_bar, self.first = network, make_bar, first
        self.total: int | None = part.total
        self.attempts = 0
        self.downloaded_bytes = 0
        self.restarted = False  # a kept part was found unusable and discarded
        self.refused: Check | None = None
        self._bar: Any = None
        self._failures = 0
        self._last_error: tuple[str, str] | None = None

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> None:
        part = self.part
        try:
            while not self._attempt():
                pass
        finally:
            if self.first is not None:
                self.first.close()
                self.first = None
            if self._bar is not None:
                self._bar.close()
            if part.size == 0 and part.path.exists() and part.path.stat().st_size == 0:
                part.path.unlink(missing_ok=True)  # nothing arrived: leave no empty .part
                part.cleanup()

    def _retry(self, message: str, remedy: str, progressed: bool = False) -> bool:
        self._last_error = (message, remedy)
        self._failures = 1 if progressed else self._failures + 1
        return False

    def _restart(self) -> None:
        self.part.discard()
        self.restarted = True

    def _attempt(self) -> bool:
        """One request; True when the transfer is over (complete or refused)."""
        part, net = self.part, self.network
        if self.attempts >= max(net.retries, 0) + 1:
            raise self._give_up()
        if self._failures:
            net.sleep(min(net.backoff * 2 ** (self._failures - 1), 30.0)
                      * (0.75 + random.random() / 2))
        self.attempts += 1
        if part.size and not part.resumable():
            self._restart()
        headers: dict[str, str] = {}
        if part.size:
            headers["Range"] = f"bytes={part.size}-"
            validator = part.validator()
            if validator:
                headers["If-Range"] = validator
        try:
            if self.first is not None and not part.size:
                resp, self.first = self.first, None
            else:
                if self.first is not None:
                    self.first.close()
                    self.first = None
                resp = request(self.session, self.url, headers, net.timeout)
        except requests.exceptions.RequestException as exc:
            msg, remedy = describe_network_error(exc, self.url)
            if isinstance(exc, requests.exceptions.SSLError | requests.exceptions.InvalidURL
                          | requests.exceptions.MissingSchema) or "DNS" in msg:
                raise DownloadError(msg, file="--url", remedy=remedy) from None
            return self._retry(msg, remedy)
        with resp:
            return self._answer(resp)

    def _answer(self, resp: Any) -> bool:
        part, cap = self.part, self.cap
        code = resp.status_code
        if code in HTTP_FATAL:
            msg, remedy = HTTP_FATAL[code]
            raise DownloadError(msg, file="--url", remedy=remedy)
        if retryable_status(code):
            return self._retry(f"o servidor respondeu erro HTTP {code}",
                               "o servidor do portal está com problema: tente mais tarde")
        if code == 416:
            cr = parse_content_range(resp.headers.get("Content-Range"))
            t = cr[2] if cr else None
            if part.size and t == part.size and part.mismatch(resp.headers, t) is None:
                self.total = t
                return True  # the part is already complete
            self._restart()
            self._last_error = ("o servidor recusou a retomada (HTTP 416) e o que já foi "
                                "baixado não confere com o arquivo dele", RESTART)
            return False
        if code not in (200, 206):
            raise DownloadError(f"resposta inesperada do servidor (HTTP {code})", file="--url",
                                remedy="copie de novo o link de download do portal SISAPS")
        if resp.headers.get("Content-Type", "").lower().startswith("text/html"):
            raise DownloadError("o endereço devolveu uma página HTML, não o instalador",
                                file="--url",
                                remedy="copie o link direto do arquivo (botão de download no "
                                       "portal SISAPS), não o da página")
        if code == 206:
            raw_range = resp.headers.get("Content-Range")
            cr = parse_content_range(raw_range)
            if cr is None or cr[0] is None:
                part.discard()
                raise DownloadError(
                    "o servidor respondeu a um pedido de retomada (HTTP 206) com um "
                    f"Content-Range inválido ({shown(raw_range)}): os bytes não podem ser "
                    "encaixados no arquivo; nada foi guardado", file="--url",
                    remedy="execute de novo (o download recomeça do início); se repetir, o "
                           "servidor ou um proxy no caminho está com defeito: baixe por "
                           "outra rede")
            start, _, t = cr
            why = None
            if start != part.size:
                why = f"o servidor devolveu a partir do byte {start}, não do {part.size}"
            elif part.size:
                why = part.mismatch(resp.headers, t)
            if why:
                self._restart()
                self._last_error = (f"a retomada não confere com o que já foi baixado ({why})",
                                    RESTART)
                return False
            self.total = t if t is not None else self.total
        else:
            if part.size:
                self._restart()  # the server ignored Range (or If-Range said it changed)
            length = resp.headers.get("Content-Length")
            self.total = int(length) if length and length.isdigit() else None
        total = self.total
        if cap.exact is not None and total is not None and total != cap.exact:
            part.discard()
            self.refused = Check(
                "DL_TAMANHO", "Tamanho do arquivo", Status.FALHA,
                f"{size_bytes(cap.exact)} ({cap.source})",
                f"{size_bytes(total)} anunciados pelo servidor",
                "O servidor oferece um arquivo de outro tamanho que o registro para esta "
                "versão: confira o link e a versão no portal SISAPS; nada foi baixado.")
            return True
        if total is not None and total > cap.limit:
            part.discard()
            raise DownloadError(
                f"o servidor anuncia {size_bytes(total)}, acima do teto de "
                f"{size_bytes(cap.limit)} ({cap.why}): nada foi baixado", file="--url",
                remedy="confira o link no portal SISAPS: nenhum instalador do PEC tem esse "
                       f"tamanho (teto em docs/download.md, variável {CEILING_ENV})")
        accepts = resp.headers.get("Accept-Ranges", "").strip().lower() == "bytes"
        part.save_meta(url=part.url, versao=part.versao, total=total,
                       etag=resp.headers.get("ETag"),
                       last_modified=resp.headers.get("Last-Modified"),
                       ranges=code == 206 or accepts)
        if self._bar is None:
            self._bar = self.make_bar(total=total, initial=part.size)
        else:
            self._bar.reset(total=total)
            self._bar.update(part.size)
        before = part.size
        try:
            self._stream(resp)
        except _TooBig:
            part.discard()
            raise DownloadError(
                f"o servidor enviou mais de {size_bytes(cap.limit)} ({cap.why}) sem terminar "
                "o arquivo: download interrompido e descartado", file="--url",
                remedy="confira o link no portal SISAPS: um instalador do PEC não passa desse "
                       "tamanho") from None
        except (u3.HTTPError, requests.exceptions.RequestException, OSError) as exc:
            if isinstance(exc, OSError) and not isinstance(
                    exc, ConnectionError | TimeoutError) and exc.errno is not None:
                raise DownloadError(f"erro ao gravar em {part.path} ({describe_os_error(exc)})",
                                    file=str(part.path),
                                    remedy="confira o espaço livre e as permissões da pasta "
                                           "de destino") from None
            _, remedy = describe_network_error(exc, self.url)
            return self._retry("a conexão caiu durante o download", remedy,
                               progressed=part.size > before)
        if total is not None and part.size < total:
            return self._retry("a conexão caiu durante o download", "tente de novo mais tarde",
                               progressed=part.size > before)
        return True

    def _stream(self, resp: Any) -> None:
        """Copy the body into the part file, hashing as it arrives; never past the cap."""
        part, cap, bar = self.part, self.cap.limit, self._bar
        raw = resp.raw
        update = part.hash.update
        chunk_size = self.network.chunk_size
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
                    self.downloaded_bytes += n
                    bar.update(n)
            finally:
                fh.flush()
                os.fsync(fh.fileno())

    def _give_up(self) -> DownloadError:
        """The error after the last attempt, saying truthfully what is kept for the next
        run."""
        part = self.part
        msg, remedy = self._last_error or ("o download não terminou", "tente de novo mais tarde")
        n = self.attempts
        text = f"{msg} após {n} {'tentativa' if n == 1 else 'tentativas'}"
        if part.resumable():
            text += (f"; {size_bytes(part.size)} guardados em {part.path.name}, a próxima "
                     "execução continua deles")
        elif part.size:
            why = part.unprovable(part.meta, part.size)
            part.discard()
            text += f"; nada foi guardado ({why}): a próxima execução baixa do início"
        return DownloadError(text, file="--url", remedy=remedy)
