"""SIMULATOR — local HTTP servers that answer *like* e-SUS PEC and like a download portal.

This is NOT e-SUS PEC. It exists so that the demo (``make demo``) and the tests can exercise
``verify-install``, the instalação stage and the resumable download against real HTTP servers
on 127.0.0.1, including the failures seen in the field: a PEC that is slow, answers 500 or
another version, a connection dropped in the middle of a body, a server without ``Range``
support, 403/404/5xx. Every answer says it comes from a simulator (field ``simulador`` in
``/api/public/info``, the page title of ``/``).

Standard library only (``http.server``; of the package, only ``errors``), so it starts fast and runs anywhere::

    python -m esus_runbook.demo.pec_simulator --instancia 18080=0.0.1 --instancia 18081=0.0.0
    python -m esus_runbook.demo.pec_simulator --instancia 18090 --servir /pasta/com/instaladores
    python -m esus_runbook.demo.pec_simulator --pronto /tmp/sim.pid   # writes its pid once listening
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import signal
import socket
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import describe_os_error

LABEL = "SIMULADOR do esus-runbook — não é o e-SUS PEC"
ENDLESS_MAX = 4 * 1024 ** 3  # an "endless" body stops here even if the client never hangs up


@dataclass
class PecConfig:
    """How the simulated PEC answers. ``info_status``/``root_status`` other than 200 give
    that HTTP error; ``delay_s`` waits before answering (a slow or still-starting PEC);
    ``drop`` closes the connection without answering."""

    versao: str = "0.0.1"
    info_status: int = 200
    root_status: int = 200
    delay_s: float = 0.0
    drop: bool = False
    info_body: str | None = None  # raw body instead of the JSON (e.g. not JSON at all)
    log_path: Path | None = None  # where the simulated PEC writes its log (like pec.log)


@dataclass
class FileConfig:
    """A file served for download. ``data`` (bytes) or ``path`` (served with sendfile).

    Faults: ``statuses`` are answered first, one per request (e.g. [503, 503]); ``status``
    answers every request with that code; ``drop_after`` sends only that many body bytes on
    the first ``drops`` responses and then cuts the connection; ``ranges=False`` ignores
    ``Range`` (always 200 with the whole file); ``delay_s`` waits before the headers;
    ``content_type`` ``text/html`` imitates a login page.

    Hostile servers: ``if_range=False`` serves the asked range even when ``If-Range`` names
    another version of the file; ``content_range`` replaces the ``Content-Range`` header of
    every 206 answer (e.g. a malformed one); ``no_length`` sends no ``Content-Length`` (the
    body ends when the connection closes); ``endless`` sends the file, then zeros without
    end and without ``Content-Length`` until the client hangs up (at most ``ENDLESS_MAX``)."""

    data: bytes | None = None
    path: Path | None = None
    ranges: bool = True
    etag: str | None = '"sim-1"'
    last_modified: str | None = None
    statuses: list[int] = field(default_factory=list)
    status: int | None = None
    drop_after: int | None = None
    drops: int = 0
    delay_s: float = 0.0
    content_type: str = "application/java-archive"
    disposition: str | None = None
    if_range: bool = True
    content_range: str | None = None
    no_length: bool = False
    endless: bool = False

    def size(self) -> int:
        return len(self.data) if self.data is not None else Path(self.path).stat().st_size


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, port: int = 0, pec: PecConfig | None = None,
                 files: dict[str, FileConfig] | None = None, folder: Path | None = None):
        super().__init__(("127.0.0.1", port), _Handler)
        self.pec = pec
        self.files = files or {}
        self.folder = folder
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, TLS refused, dropped) are part of the tests."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            super().handle_error(request, client_address)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self, *lines: str) -> None:
        """Append ``lines`` to the simulated PEC's log, each with a time stamp like PEC's."""
        if self.pec is None or self.pec.log_path is None:
            return
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.pec.log_path, "a", encoding="utf-8") as fh:
            fh.writelines(f"{stamp}.000 INFO  [{LABEL}] {line}\n" for line in lines)

    def upgrade(self, versao: str, *, migration_fails: bool = False) -> None:
        """What running the installer of ``versao`` does to the simulated PEC: a restart that
        migrates the database (the log says so) and then answers the new version — or, with
        ``migration_fails``, a log with "Falha ao migrar" and the old version."""
        old = self.pec.versao
        self.log(f"Parando e-SUS APS PEC {old}", f"Iniciando e-SUS APS PEC {versao}")
        if migration_fails:
            self.log("ERROR Falha ao migrar o Banco de Dados")
            return
        self.log(f"Migração do banco de dados de {old} para {versao} concluída")
        self.pec.versao = versao

    def start(self) -> SimServer:
        if self.pec is not None:
            self.log(f"Iniciando e-SUS APS PEC {self.pec.versao}")
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name=f"simulador-{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def file_for(self, path: str) -> FileConfig | None:
        if path in self.files:
            return self.files[path]
        if self.folder is not None:
            name = Path(unquote(path)).name
            candidate = self.folder / name
            if name and candidate.is_file() and candidate.parent == self.folder:
                cfg = FileConfig(path=candidate, etag=None,
                                 last_modified=formatdate(candidate.stat().st_mtime, usegmt=True))
                self.files[path] = cfg
                return cfg
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: SimServer
    server_version = "esus-runbook-simulador/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- helpers --------------------------------------------------------------------------
    def _send(self, code: int, body: bytes, ctype: str = "text/plain; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _cut(self) -> None:
        """Close the connection in the middle of a body, as a broken link or proxy does
        (the client sees fewer bytes than Content-Length announced)."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- routes ---------------------------------------------------------------------------
    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        with self.server.lock:
            self.server.requests.append({"path": path, "range": self.headers.get("Range"),
                                         "if_range": self.headers.get("If-Range"),
                                         "at": time.time()})
        cfg = self.server.file_for(path)
        if cfg is not None:
            return self._file(cfg)
        pec = self.server.pec
        if pec is not None and path in ("/api/public/info", "/", ""):
            return self._pec(pec, path)
        self._send(404, b"nao encontrado\n")

    def _pec(self, pec: PecConfig, path: str) -> None:
        if pec.delay_s:
            time.sleep(pec.delay_s)
        if pec.drop:
            return self._cut()
        if path == "/api/public/info":
            if pec.info_status != 200:
                return self._send(pec.info_status, b'{"erro": "simulado"}', "application/json")
            body = pec.info_body if pec.info_body is not None else json.dumps(
                {"versao": pec.versao, "simulador": LABEL}, ensure_ascii=False)
            return self._send(200, body.encode("utf-8"), "application/json; charset=utf-8")
        if pec.root_status != 200:
            return self._send(pec.root_status, b"erro simulado\n")
        html = (f"<!doctype html><html lang='pt-BR'><head><title>{LABEL}</title></head>"
                f"<body><h1>{LABEL}</h1><p>versão simulada {pec.versao}</p></body></html>")
        return self._send(200, html.encode("utf-8"), "text/html; charset=utf-8")

    def _file(self, cfg: FileConfig) -> None:
        if cfg.delay_s:
            time.sleep(cfg.delay_s)
        with self.server.lock:
            forced = cfg.statuses.pop(0) if cfg.statuses else cfg.status
        if forced is not None and forced != 200:
            return self._send(forced, f"erro simulado {forced}\n".encode())
        size = cfg.size()
        start, end = 0, size - 1
        partial = False
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        validators = {v for v in (cfg.etag, cfg.last_modified) if v}
        if rng and cfg.ranges and (not if_range or if_range in validators
                                   or not cfg.if_range):
            try:
                unit, spec = rng.split("=", 1)
                first, last = spec.split(",")[0].split("-", 1)
                if unit.strip() != "bytes" or not first:
                    raise ValueError
                start = int(first)
                end = min(int(last), size - 1) if last else size - 1
            except ValueError:
                start, end = 0, size - 1
            else:
                if start >= size:
                    return self._send(416, b"", headers={"Content-Range": f"bytes */{size}"})
                partial = True
        length = end - start + 1
        self.send_response(206 if partial else 200)
        self.send_header("Content-Type", cfg.content_type)
        if cfg.no_length or cfg.endless:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(length))
        if cfg.ranges:
            self.send_header("Accept-Ranges", "bytes")
        if partial:
            self.send_header("Content-Range", cfg.content_range
                             or f"bytes {start}-{end}/{size}")
        if cfg.etag:
            self.send_header("ETag", cfg.etag)
        if cfg.last_modified:
            self.send_header("Last-Modified", cfg.last_modified)
        if cfg.disposition:
            self.send_header("Content-Disposition", f'attachment; filename="{cfg.disposition}"')
        self.end_headers()
        if self.command == "HEAD":
            return
        with self.server.lock:
            cut = cfg.drop_after is not None and cfg.drops > 0
            if cut:
                cfg.drops -= 1
        count = min(length, cfg.drop_after) if cut else length
        try:
            if cfg.data is not None:
                self.wfile.write(cfg.data[start:start + count])
            else:
                self.wfile.flush()
                with open(cfg.path, "rb") as fh:
                    self.connection.sendfile(fh, offset=start, count=count)
            if cfg.endless and not cut:
                zeros, sent = bytes(1024 * 1024), 0
                while sent < ENDLESS_MAX:
                    self.wfile.write(zeros)
                    sent += len(zeros)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        if cut:
            self._cut()


# --------------------------------------------------------------------------- helpers
_ENTRY = "LEIA-ME-SIMULADOR.bin"
_ZIP_OVERHEAD = 30 + 46 + 22 + 2 * len(_ENTRY)  # local header, central entry, end record


def write_installer(fh: Any, size: int, seed: bytes = b"a") -> None:
    """Write to the binary file ``fh`` a valid ZIP (what a ``.jar`` is) of exactly ``size``
    bytes: one stored entry of deterministic bytes derived from ``seed``. NOT an installer:
    the tests and the benchmark download it as if it were one."""
    content = size - _ZIP_OVERHEAD
    if content < 0:
        raise ValueError(f"size must be at least {_ZIP_OVERHEAD}")
    block = hashlib.sha256(seed).digest() * 32768  # 1 MiB
    info = zipfile.ZipInfo(_ENTRY, date_time=(2026, 1, 1, 0, 0, 0))
    info.file_size = content
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf, zf.open(info, "w") as out:
        left = content
        while left:
            piece = block[:left]
            out.write(piece)
            left -= len(piece)


def installer_bytes(size: int, seed: bytes = b"a") -> bytes:
    """:func:`write_installer` into memory."""
    buf = io.BytesIO()
    write_installer(buf, size, seed)
    data = buf.getvalue()
    assert len(data) == size, (len(data), size)
    return data


def _instance(text: str) -> tuple[int, str]:
    port, _, versao = text.partition("=")
    try:
        return int(port), versao or "0.0.1"
    except ValueError:
        raise argparse.ArgumentTypeError("use PORTA=VERSAO, ex.: 18080=0.0.1") from None


def main(argv: list[str] | None = None, default_instances: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="simulador", description=f"{LABEL}: responde como o PEC em 127.0.0.1.")
    p.add_argument("--instancia", action="append", type=_instance, default=[],
                   metavar="PORTA=VERSAO", help="um PEC simulado nesta porta com esta versão "
                                                "(porta 0: uma livre, escolhida pelo sistema)")
    p.add_argument("--servir", type=Path, default=None, metavar="PASTA",
                   help="serve os arquivos desta pasta (com Range) em todas as instâncias")
    p.add_argument("--pronto", type=Path, default=None, metavar="ARQUIVO",
                   help="quando todas as portas estiverem abertas, grava neste arquivo o PID "
                        "e uma linha PORTA=VERSAO por instância (as portas de fato abertas)")
    args = p.parse_args(argv)
    instances = args.instancia or [_instance(t) for t in (default_instances or ["18080=0.0.1"])]
    servers = []
    try:
        for port, versao in instances:
            servers.append(SimServer(port, PecConfig(versao=versao),
                                     folder=args.servir.resolve() if args.servir else None))
    except OSError as exc:
        print(f"simulador: não foi possível abrir a porta ({describe_os_error(exc)}); outra cópia já está "
              "rodando? — pare-a ou use outra porta", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    for s in servers:
        s.start()
        print(f"{LABEL}: {s.url} (versão {s.pec.versao})", flush=True)
    if args.pronto is not None:
        tmp = args.pronto.with_name(args.pronto.name + ".tmp")
        tmp.write_text(f"{os.getpid()}\n" + "".join(f"{s.port}={s.pec.versao}\n"
                                                     for s in servers), encoding="utf-8")
        os.replace(tmp, args.pronto)
    try:
        stop.wait()
    finally:
        for s in servers:
            s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
