"""Headless Debian chromium driven by Playwright (the browser cannot be downloaded here)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest

from .project import ROOT, require, require_tool

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (fails under CI=true) saying what is missing
    expect = None
    PlaywrightError = PlaywrightTimeoutError = Exception
else:
    # Tests wait for what they assert: expect(locator).to_have_text/to_have_count/... retries
    # until the page shows it (docs/testes.md). The default 5 s is too short for a widget or
    # a JupyterLab panel rendered on a loaded 2-core machine; a pass still returns at once.
    expect.set_options(timeout=60_000)

ARTIFACTS = ROOT / "test-artifacts"
"""Screenshots and failure diagnostics (git-ignored)."""

# Without the background-networking flags chromium keeps trying hosts this machine cannot
# reach; --no-sandbox because the tests may run as root.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    exe = require_tool("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def dump_page(page, what: str, extra: dict[str, object] | None = None) -> Path:
    """Save what a failed wait saw, for the failure message to point to: a screenshot
    (``pagina.png``), the page's text (``pagina.txt``) and ``extra`` (a JSON-able value per
    file name, e.g. the JupyterLab state or a server's log) into a new folder of
    ``test-artifacts/`` named after ``what``, the time and this process (two suites on the
    same checkout never write into the same folder). Each part is best effort: a page that
    no longer answers must not hide the failure being reported."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", what).strip("-")[:80] or "falha"
    folder = ARTIFACTS / f"{slug}-{stamp}-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    try:
        page.screenshot(path=str(folder / "pagina.png"), full_page=True, timeout=30_000)
    except PlaywrightError as exc:
        notes.append(f"screenshot: {exc}")
    try:
        text = page.evaluate("() => document.body ? document.body.innerText : ''")
        (folder / "pagina.txt").write_text(text, encoding="utf-8")
    except PlaywrightError as exc:
        notes.append(f"page text: {exc}")
    for name, value in (extra or {}).items():
        body = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                              indent=1, default=str)
        (folder / name).write_text(body, encoding="utf-8")
    if notes:
        (folder / "erros.txt").write_text("\n".join(notes) + "\n", encoding="utf-8")
    return folder
