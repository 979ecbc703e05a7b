"""HTML to PDF with headless Chromium (A4, page numbers from the page's own ``@page`` rules,
no browser header or footer). The PDF appears under its final name only when complete."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InputError, RunbookError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 180.0


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


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
        with tempfile.TemporaryDirectory(prefix="esus-chromium-") as profile:
            cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update",
                   "--disable-sync", f"--user-data-dir={profile}", f"--print-to-pdf={tmp}",
                   "--no-pdf-header-footer", html.as_uri()]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise RunbookError(f"o Chromium não terminou o PDF em {TIMEOUT_S:.0f} s",
                                   file=str(pdf), remedy="tente de novo") from None
        with open(tmp, "rb") as fh:
            head = fh.read(5)
        if head != b"%PDF-":
            tail = (proc.stderr or "").strip().splitlines()[-1:] or ["sem mensagem"]
            raise RunbookError(f"o Chromium não gerou o PDF (código {proc.returncode}: "
                               f"{tail[0][:200]})", file=str(pdf),
                               remedy="confira se o Chromium abre sem interface gráfica "
                                      "(chromium --headless --version)")
        os.replace(tmp, pdf)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return pdf
