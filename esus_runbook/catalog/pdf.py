"""HTML to PDF with headless Chromium (A4, page numbers from the page's own ``@page`` rules,
no browser header or footer). The PDF appears under its final name only when complete.

A document people sign is printed locked down, in three layers (docs/catalogo.md): the page
printed is a copy of the HTML with a Content-Security-Policy ``<meta>`` first (no script, no
frame, no fetch, no ``file:`` image: only inline styles and ``data:`` images); JavaScript is
off in the fresh profile; and Chromium keeps its sandbox unless it runs as root, where it
refuses to start with it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InputError, RunbookError, describe_os_error

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 180.0
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'.encode()
# JavaScript off through the profile's content settings. --blink-settings=scriptEnabled=false
# makes headless Chromium (new headless mode, checked with 156) write no PDF at all.
PREFERENCES = {"profile": {"default_content_setting_values": {"javascript": 2}}}
_DOCTYPE = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<!doctype[^>]*>", re.IGNORECASE)
_BOM = b"\xef\xbb\xbf"


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def with_csp(html: bytes) -> bytes:
    """``html`` with the CSP ``<meta>`` before anything else but the doctype: the parser
    puts it in ``<head>`` ahead of any script or frame of the page, whatever its markup."""
    found = _DOCTYPE.match(html)
    at = found.end() if found else len(_BOM) if html.startswith(_BOM) else 0
    return html[:at] + CSP_META + html[at:]


def as_root() -> bool:
    return getattr(os, "geteuid", lambda: -1)() == 0


def chromium_command(exe: str, profile: str | Path, pdf: str | Path, url: str) -> list[str]:
    """The Chromium command line that prints ``url`` to ``pdf``: sandboxed unless root."""
    sandbox = ["--no-sandbox"] if as_root() else []  # as root Chromium starts only without it
    return [exe, "--headless", *sandbox, "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-extensions", f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf}", "--no-pdf-header-footer", url]


def html_to_pdf(html: str | Path, pdf: str | Path) -> Path:
    """Print ``html`` to ``pdf``. Missing Chromium is an InputError (exit 2) saying how to
    install it; a Chromium that fails is a RunbookError."""
    html, pdf = Path(html).resolve(), Path(pdf)
    exe = find_chromium()
    if exe is None:
        raise InputError("o Chromium não está instalado, então o PDF não foi gerado (o HTML "
                         "foi gravado)", file=str(pdf), key="--pdf",
                         remedy="instale-o com 'sudo apt-get install chromium' (Debian/Ubuntu) "
                                "e rode o comando de novo, ou abra o HTML no navegador e use "
                                "Imprimir → Salvar como PDF")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{pdf.name}.", suffix=".tmp", dir=pdf.parent)
    os.close(fd)
    try:
        with tempfile.TemporaryDirectory(prefix="esus-chromium-") as work:
            profile, page = Path(work) / "perfil", Path(work) / "pagina.html"
            (profile / "Default").mkdir(parents=True)
            (profile / "Default" / "Preferences").write_text(json.dumps(PREFERENCES))
            try:
                page.write_bytes(with_csp(html.read_bytes()))
            except OSError as exc:
                raise InputError(f"não foi possível ler o HTML ({describe_os_error(exc)})", file=str(html),
                                 remedy="confira o caminho") from None
            cmd = chromium_command(exe, profile, tmp, page.as_uri())
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise RunbookError(f"o Chromium não terminou o PDF em {TIMEOUT_S:.0f} s",
                                   file=str(pdf), remedy="tente de novo") from None
        with open(tmp, "rb") as fh:
            head = fh.read(5)
        if head != b"%PDF-":
            tail = (proc.stderr or "").strip().splitlines()[-1:] or ["sem mensagem"]
            sandbox = "sandbox" in (proc.stderr or "").lower() and not as_root()
            raise RunbookError(f"o Chromium não gerou o PDF (código {proc.returncode}: "
                               f"{tail[0][:200]})", file=str(pdf),
                               remedy="o sandbox do Chromium não iniciou: habilite os "
                                      "namespaces de usuário do kernel ou instale o "
                                      "chromium-sandbox" if sandbox else
                                      "confira se o Chromium abre sem interface gráfica "
                                      "(chromium --headless --version)")
        os.replace(tmp, pdf)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return pdf
