"""Reports render in a real browser (Debian chromium, headless, driven by Playwright)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.notebooks]




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
        assert verdict.is_visible()
        assert verdict.get_attribute("data-status") == expected
        assert page.locator("#etapas tbody tr").count() == 6
        assert page.locator("table.checks").count() >= 6
        charts += page.locator("svg").count()  # the stages' inline charts
        assert page.locator("#passos, #passos-nenhum").count() == 1  # next steps, or none
        assert page.locator("script").count() == 0
    assert charts >= 1
    assert blocked == []  # self-contained: no network request at all
    page.close()


def test_rollup_renders(browser, demo_run: Path, tmp_path):
    status = json.loads((demo_run / "rollup.json").read_text())["site_status"]
    page = browser.new_page()
    page.goto((demo_run / "rollup.html").as_uri())
    assert page.locator("#matriz tbody tr").count() == len(status)
    assert page.locator("#total-sites").inner_text() == str(len(status))
    for site_id, st in status.items():
        row = page.locator(f'#matriz tr[data-site="{site_id}"]')
        assert row.get_attribute("data-status") == st
        assert row.locator("td.status").count() == 7
    page.screenshot(path=str(tmp_path / "rollup.png"), full_page=True)
    assert (tmp_path / "rollup.png").stat().st_size > 10_000
    page.close()
