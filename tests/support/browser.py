"""Headless Debian chromium driven by Playwright (the browser cannot be downloaded here)."""

from __future__ import annotations

import pytest

from .project import require, require_tool

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (fails under CI=true) saying what is missing
    expect = None
else:
    # Tests wait for what they assert: expect(locator).to_have_text/to_have_count/... retries
    # until the page shows it (docs/testes.md). The default 5 s is too short for a widget or
    # a JupyterLab panel rendered on a loaded 2-core machine; a pass still returns at once.
    expect.set_options(timeout=60_000)

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
