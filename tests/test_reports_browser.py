"""Reports render in a real browser (Debian chromium, headless, driven by Playwright)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .support.browser import expect

pytestmark = [pytest.mark.browser, pytest.mark.notebooks]

# The reports are static files (no script): still, each check waits for what it asserts
# (expect), like every browser test (docs/testes.md).


def test_site_report_renders(browser, demo_run: Path):
    status = json.loads((demo_run / "rollup.json").read_text())["site_status"]
    page = browser.new_page()
    blocked: list[str] = []
    page.on("request", lambda r: blocked.append(r.url)
            if not r.url.startswith(("file:", "data:", "about:")) else None)
    charts = 0
    for site_id, expected in status.items():
        page.goto((demo_run / site_id / "relatorio.html").as_uri())
        verdict = page.locator("#veredito")
        expect(verdict).to_be_visible()
        expect(verdict).to_have_attribute("data-status", expected)
        expect(page.locator("#etapas tbody tr")).to_have_count(6)
        expect(page.locator("table.checks").nth(5)).to_be_attached()  # at least 6
        expect(page.locator("#passos, #passos-nenhum")).to_have_count(1)  # steps, or none
        expect(page.locator("script")).to_have_count(0)
        charts += page.locator("svg").count()  # the stages' inline charts (a static page)
    assert charts >= 1
    assert blocked == []  # self-contained: no network request at all
    page.close()


def test_rollup_renders(browser, demo_run: Path, tmp_path):
    status = json.loads((demo_run / "rollup.json").read_text())["site_status"]
    page = browser.new_page()
    page.goto((demo_run / "rollup.html").as_uri())
    expect(page.locator("#matriz tbody tr")).to_have_count(len(status))
    expect(page.locator("#total-sites")).to_have_text(str(len(status)))
    for site_id, st in status.items():
        row = page.locator(f'#matriz tr[data-site="{site_id}"]')
        expect(row).to_have_attribute("data-status", st)
        expect(row.locator("td.status")).to_have_count(7)
    page.screenshot(path=str(tmp_path / "rollup.png"), full_page=True)
    assert (tmp_path / "rollup.png").stat().st_size > 10_000
    page.close()
