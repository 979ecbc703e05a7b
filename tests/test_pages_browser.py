"""Every HTML output, as a person sees it: rendered by headless Chromium at 1366×768 and
measured on the page — no code, status, number, date or header cell breaks inside a word,
every internal link has its target, the painel's rows link to files that exist, the filter
narrows the table and the sort reorders it. The demo (real notebooks) and a generated state
of 200 sites × 8 weekly runs. With ``ESUS_SCREENSHOTS=docs/img`` the first screens of the
site report and of the painel are written there (the docs show them)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from esus_runbook.catalog.commands import all_dossiers, dashboard, import_runs
from esus_runbook.demo.rollout_state import write_state

from .support.project import EXAMPLES, run_cli

pytestmark = [pytest.mark.browser]

VIEWPORT = {"width": 1366, "height": 768}

# For each cell that must stay whole, every word on one line (a Range per word: more than one
# line box means the word was broken), and for the cells that never wrap, one line in all.
MEASURE = """() => {
  const bad = [];
  const lines = (range) => {
    const tops = Array.from(range.getClientRects()).filter(r => r.width > 0 && r.height > 0)
      .map(r => r.top).sort((a, b) => a - b);
    let n = 0, last = -1e9;
    for (const t of tops) { if (t - last > 6) { n++; last = t; } }
    return n;
  };
  const cells = document.querySelectorAll(
    'th, td.k, td.num, td.status, td.data, td code, .badge, ol.passos code');
  for (const el of cells) {
    if (el.getClientRects().length === 0) continue;  // not rendered (a closed <details>)
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const re = /\\S+/g; let m;
      while ((m = re.exec(node.textContent))) {
        const r = document.createRange();
        r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
        if (lines(r) > 1) bad.push(`${el.tagName.toLowerCase()}.${el.className}: ${m[0]}`);
      }
    }
    if (el.tagName !== 'TH' && !el.closest('ol.passos, .remedy')) {  // commands wrap between words
      const r = document.createRange(); r.selectNodeContents(el);
      if (lines(r) > 1) bad.push(`em mais de uma linha: ${el.textContent.trim()}`);
    }
  }
  const dead = Array.from(document.querySelectorAll('a[href^="#"]'))
    .map(a => a.getAttribute('href').slice(1))
    .filter(id => id && !document.getElementById(decodeURIComponent(id)));
  return {bad: bad.slice(0, 20), nbad: bad.length, dead,
          cells: cells.length, width: document.documentElement.scrollWidth};
}"""


def measure(page, url: str) -> dict:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    out = page.evaluate(MEASURE)
    assert out["cells"] > 0, url
    assert out["nbad"] == 0, (url, out["bad"])
    assert out["dead"] == [], (url, out["dead"])
    assert errors == [], (url, errors)
    return out


def local_target(page_url: str, href: str) -> Path:
    return Path(unquote(urlparse(href).path)) if href.startswith("file:") else \
        Path(unquote(urlparse(page_url).path)).parent / unquote(href)


def check_painel(page, painel: Path, n_sites: int) -> None:
    page.goto(painel.as_uri())
    page.wait_for_selector("html[data-tabelas=prontas]")
    rows = page.locator("#tabela-locais tbody tr")
    assert rows.count() == n_sites
    links = page.eval_on_selector_all(
        "#tabela-locais a", "as => as.map(a => [a.className, a.getAttribute('href')])")
    kinds = [k for k, _ in links]
    assert kinds.count("relatorio") == n_sites and kinds.count("dossie") == n_sites
    for _, href in links:
        assert not href.startswith(("/", "file:")), href  # relative: the folder can move
        assert local_target(page.url, href).is_file(), href
    # worst first: the statuses never get better down the table
    order = ["ok", "alerta", "pendente", "falha", "erro"]
    statuses = rows.evaluate_all("rs => rs.map(r => r.dataset.status)")
    ranks = [order.index(s) for s in statuses]
    assert ranks == sorted(ranks, reverse=True)
    # the filter narrows the table, and only to what was asked
    box = page.locator('.filtros[data-for="tabela-locais"]')
    situacao = box.locator("label", has_text="Situação").locator("select")
    wanted = "OK" if "ok" in statuses else "Falha"
    situacao.select_option(wanted)
    shown = page.locator("#tabela-locais tbody tr:not([hidden])")
    n = shown.count()
    assert 0 < n < n_sites or n_sites == statuses.count(wanted.lower())
    assert set(shown.evaluate_all("rs => rs.map(r => r.dataset.status)")) == {wanted.lower()}
    assert box.locator("output").inner_text() == f"{n} de {n_sites} linhas"
    situacao.select_option("")
    first = statuses and rows.first.get_attribute("data-site")
    box.locator("input[type=search]").fill(first)
    assert shown.count() >= 1
    assert first in shown.first.inner_text()
    box.locator("input[type=search]").fill("")
    assert shown.count() == n_sites
    # the sort: a click on "Local" orders the ids
    page.locator("#tabela-locais th", has_text="Local").first.click()
    ids = rows.evaluate_all("rs => rs.map(r => r.dataset.site)")
    assert ids == sorted(ids)


@pytest.fixture(scope="module")
def page(browser):
    p = browser.new_page(viewport=VIEWPORT)
    blocked: list[str] = []
    p.on("request", lambda r: blocked.append(r.url)
         if not r.url.startswith(("file:", "data:", "about:")) else None)
    yield p
    p.close()
    assert blocked == []  # every page is self-contained: not one request leaves the file


@pytest.fixture(scope="module")
def state200(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("estado200") / "execucoes"
    write_state(base, 200, 8)
    import_runs(base)
    list(all_dossiers(base))
    dashboard(base)
    return base


def shots(page, name: str) -> None:
    target = os.environ.get("ESUS_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / name))


@pytest.mark.notebooks
def test_every_demo_page_reads_whole(page, demo_run: Path, tmp_path):
    base = demo_run.parent
    assert sum(1 for _ in all_dossiers(base)) == 4  # three dossiers and the total line
    dashboard(base)
    audit = tmp_path / "auditoria.html"
    proc = run_cli("xml", "audit", EXAMPLES / "xml" / "XmlParaESUS31_292740-com-problemas.zip",
                   "--html", audit)
    assert proc.returncode in (0, 1), proc.stderr
    assert f"Página gravada: {audit}" in proc.stdout
    pages = [base / "painel.html", demo_run / "rollup.html", audit,
             *sorted(demo_run.glob("*/relatorio.html")), *sorted(demo_run.glob("*/xml_*.html")),
             *sorted((base / "dossies").glob("*.html"))]
    for path in pages:
        measure(page, path.as_uri())
    check_painel(page, base / "painel.html", 3)
    # the site report: the verdict, then the next steps, before any stage table
    page.goto((demo_run / "ubs-vila-nova" / "relatorio.html").as_uri())
    verdict = page.locator("#veredito").bounding_box()
    steps = page.locator("#passos").bounding_box()
    assert verdict["y"] < steps["y"] < page.locator("#etapas").bounding_box()["y"]
    assert steps["y"] < VIEWPORT["height"]  # on the first screen
    codes = page.locator("#passos > li").evaluate_all(
        "ls => ls.map(l => [l.dataset.status, l.dataset.check || ''])")
    groups = [{"falha": 0, "erro": 0, "pendente": 1, "alerta": 2}[s] for s, _ in codes]
    assert groups == sorted(groups)
    assert page.locator("#passos pre code").count() >= 1  # commands to copy
    assert "`" not in page.locator("#passos").inner_text()
    shots(page, "relatorio.png")
    # the audit page: findings first, the rules without any collapsed
    page.goto(audit.as_uri())
    assert page.locator("#regras tbody tr").count() >= 1
    assert not page.locator("#regras-sem-ocorrencia").get_attribute("open")


def test_a_200_site_state_reads_whole(page, state200: Path):
    runs = sorted(p for p in state200.iterdir() if (p / "run.json").exists())
    last = runs[-1]
    pages = [state200 / "painel.html", last / "rollup.html",
             *sorted(last.glob("*/relatorio.html"))[:20],
             *sorted((state200 / "dossies").glob("*.html"))[:20]]
    for path in pages:
        out = measure(page, path.as_uri())
        if path.name == "painel.html":
            # a wide table scrolls inside its wrapper; the page itself never needs to
            assert out["width"] <= VIEWPORT["width"], out["width"]
    check_painel(page, state200 / "painel.html", 200)
    page.goto((state200 / "painel.html").as_uri())
    shots(page, "painel.png")
    # the roll-up's filter narrows its matrix too
    page.goto((last / "rollup.html").as_uri())
    rows = page.locator("#matriz tbody tr")
    total = rows.count()
    page.locator('.filtros[data-for="matriz"] label', has_text="Geral").locator("select") \
        .select_option("Falha")
    assert 0 < page.locator("#matriz tbody tr:not([hidden])").count() < total


def test_the_dossier_pdf_keeps_the_signatures_with_what_they_sign(page, state200: Path,
                                                                   tmp_path):
    """Printed (JavaScript off, as catalog.pdf prints it), the signature block shares its
    page with the declaration of what is signed, and every internal link has a target."""
    from esus_runbook.catalog.pdf import html_to_pdf

    from .support.project import require_tool

    pdftotext = require_tool("pdftotext")
    html = state200 / "dossies" / "local-00007.html"
    pdf = html_to_pdf(html, tmp_path / "dossie.pdf")
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = text.split("\f")
    where = [i for i, p in enumerate(pages) if "Os abaixo-assinados" in p]
    assert len(where) == 1
    assert "Coordenação" in pages[where[0]] and "Analista de implantação" in pages[where[0]]
    assert "Assinaturas" in pages[where[0]]
    # the rule that keeps them together, as the printing browser applies it
    page.emulate_media(media="print")
    page.goto(html.as_uri())
    assert page.eval_on_selector("#bloco-assinaturas",
                                 "e => getComputedStyle(e).breakInside") == "avoid"
    assert page.eval_on_selector("#declaracao", "e => e.closest('#bloco-assinaturas') !== null")
    page.emulate_media(media="screen")


def test_a_long_table_shows_its_first_rows_and_the_rest_on_request(page, state200: Path):
    """The painel's page size (300 rows), made 50 in a copy of the 200-site painel: the first
    50 are laid out, the count says how many match, one click shows them all."""
    html = (state200 / "painel.html").read_text(encoding="utf-8")
    assert 'data-pagina="300"' in html and "nth-child(n+301)" in html
    copy = state200 / "painel_50.html"
    copy.write_text(html.replace('data-pagina="300"', 'data-pagina="50"')
                    .replace("nth-child(n+301)", "nth-child(n+51)"), encoding="utf-8")
    page.goto(copy.as_uri())
    page.wait_for_selector("html[data-tabelas=prontas]", state="attached")
    shown = page.locator("#tabela-locais tbody tr:not([hidden])")
    box = page.locator('.filtros[data-for="tabela-locais"]')
    assert shown.count() == 50
    assert box.locator("output").inner_text() == "200 de 200 linhas; mostrando as 50 primeiras"
    box.locator("button", has_text="mostrar todas").click()
    assert shown.count() == 200 and not box.locator("button").is_visible()
    box.locator("label", has_text="Situação").locator("select").select_option("Falha")
    assert 0 < shown.count() < 200
