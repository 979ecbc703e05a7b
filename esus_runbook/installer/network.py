"""How the download talks to the server: the request, its settings, and what a network or
HTTP failure means in pt-BR (also used by ``verify-install`` for the PEC's own address)."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3 import exceptions as u3

from ..errors import InputError

CHUNK = 1024 * 1024  # bytes per read from the connection


class DownloadError(InputError):
    """The download could not be done: HTTP error, DNS, TLS, timeout, dropped connection
    after every retry, or a URL/name that cannot be the installer (exit 2)."""


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


def describe_network_error(exc: BaseException, url: str) -> tuple[str, str]:
    """A pt-BR (message, remedy) for a requests/urllib3 exception."""
    host = urlsplit(url).hostname or url
    kinds = tuple(type(c) for c in _causes(exc))
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


HTTP_FATAL = {
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


def retryable_status(code: int) -> bool:
    return code == 429 or code == 408 or 500 <= code <= 599


# --------------------------------------------------------------------------- requests
@dataclass(frozen=True)
class Network:
    """How a download talks to the server: ``retries`` bounds the number of requests (at
    most ``retries + 1``), with exponential ``backoff`` (seconds) between failures."""

    retries: int = 5
    backoff: float = 1.0
    timeout: Any = (15.0, 60.0)
    chunk_size: int = CHUNK
    sleep: Callable[[float], None] = time.sleep


def request(session: Any, url: str, headers: dict[str, str], timeout: Any) -> Any:
    """GET with stream=True and no content encoding (the bytes as the file has them)."""
    return session.get(url, headers={"Accept-Encoding": "identity", **headers}, stream=True,
                       timeout=timeout, allow_redirects=True)


def safe_url(url: str) -> str:
    """The URL without user:password (never shown)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    return parts.geturl()
