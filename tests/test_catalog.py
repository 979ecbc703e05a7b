"""Issue 18: the run catalog (SQLite), the per-site dossier and the state dashboard.

Most tests ingest synthetic run folders with controlled dates (esus_runbook.demo.rollout_history,
the same layout a batch writes); one test checks that a real batch records itself.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import lxml.html
import nbformat
import pytest

from esus_runbook.catalog import catalog_path, connect, import_folders, record_run, run_folders
from esus_runbook.catalog.dashboard import build_dashboard, write_dashboard
from esus_runbook.catalog.dossier import build_dossier, write_dossier
from esus_runbook.catalog.schema import VERSION
from esus_runbook.csvcells import safe_cell
from esus_runbook.demo.rollout_history import SiteSpec, write_run_folder
from esus_runbook.report.rollup import write_rollup
from esus_runbook.results import STAGES
from esus_runbook.stages import title

from .conftest import ROOT, require_tool

BRT = timezone(timedelta(hours=-3))
T0 = datetime(2026, 9, 7, 9, 0, tzinfo=BRT)  # a Monday
OK = "ok"


def all_ok(**override: list[tuple[str, str, str]]) -> dict[str, list[tuple[str, str, str]]]:
    stages = {s: [(f"{s.upper()}_BASE", f"Base de {s}", OK)] for s in STAGES}
    stages.update(override)
    return stages


def three_batches(base: Path) -> list[Path]:
    """The demo's three sites over three batches a week apart, edited between them:
    batch 2 fixes ubs-vila-nova's RAM failure; batch 3 brings a new XML failure to
    ubs-centro. sms-centralizado stays pendente (no probe, no XML)."""
    ram_bad = [("AMB_RAM", "Memória RAM", "falha"), ("AMB_LOCALE", "Locale pt_BR", OK)]
    ram_ok = [("AMB_RAM", "Memória RAM", OK), ("AMB_LOCALE", "Locale pt_BR", OK)]
    xml_bad = [("XML_CNES_SITE", "Unidade do site está no XML", "falha")]
    pend = {"cenario": [("CEN_PERFIL", "Perfil de servidor", OK)],
            "ambiente": [("AMB_SONDAGEM", "Sondagem do servidor", "pendente")],
            "xml": [("XML_ARQUIVO", "XML do CNES", "pendente")]}
    runs = []
    for week, (vila_amb, centro_xml) in enumerate(
            [(ram_bad, None), (ram_ok, None), (ram_ok, xml_bad)]):
        centro = all_ok(**({"xml": centro_xml} if centro_xml else {}))
        sites = [SiteSpec("ubs-centro", "UBS Centro", stages=centro),
                 SiteSpec("ubs-vila-nova", "UBS Vila Nova", stages=all_ok(ambiente=vila_amb)),
                 SiteSpec("sms-centralizado", "SMS Centralizado", "2927408", stages=pend)]
        runs.append(write_run_folder(base, f"2026090{week}-090000-aaa{week}",
                                     T0 + timedelta(days=7 * week), sites))
    return runs


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("runs", "sites", "run_sites", "stage_results", "checks", "evidence")}


# ----------------------------------------------------------------------------- store
def test_schema_is_versioned_and_wal(tmp_path):
    conn = connect(tmp_path / "c.sqlite")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert [r[0] for r in conn.execute("SELECT version FROM schema_migrations")] == \
        list(range(1, VERSION + 1))
    conn.execute(f"PRAGMA user_version = {VERSION + 1}")  # written by a newer esus-runbook
    conn.close()
    shutil.copy(tmp_path / "c.sqlite", tmp_path / "catalogo.sqlite")
    proc = subprocess.run([sys.executable, "-m", "esus_runbook", "painel", "--execucoes",
                           str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "versão de esquema" in proc.stderr and "atualize o esus-runbook" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "painel.html").exists()


def test_import_is_idempotent_and_a_moved_run_is_the_same_run(tmp_path):
    base = tmp_path / "execucoes"
    runs = three_batches(base)
    cat = catalog_path(base)
    import_folders(run_folders(base), cat)
    conn = connect(cat)
    first = counts(conn)
    assert first["runs"] == 3 and first["sites"] == 3 and first["run_sites"] == 9
    assert first["stage_results"] == 3 * (6 + 6 + 3)
    import_folders(run_folders(base), cat)  # again
    assert counts(conn) == first
    moved = tmp_path / "arquivo-morto" / runs[0].name
    shutil.copytree(runs[0], moved)
    shutil.rmtree(runs[0])
    record_run(moved, cat)
    assert counts(conn) == first
    assert conn.execute("SELECT folder FROM runs WHERE run_id = ?",
                        (runs[0].name,)).fetchone()[0] == str(moved.resolve())
    conn.close()


def test_interrupted_run_is_marked(tmp_path):
    run = write_run_folder(tmp_path, "20260901-000000-0001", T0,
                           [SiteSpec("ubs-a", "UBS A", stages={"cenario": []})],
                           status="interrompido")
    record_run(run)
    conn = connect(catalog_path(tmp_path))
    assert conn.execute("SELECT status, interrupted FROM runs").fetchall() == \
        [("interrompido", 1)]
    conn.close()


_WRITER = """
import sys
from pathlib import Path
from esus_runbook.catalog import import_folders, run_folders
import_folders(run_folders(Path(sys.argv[1])), Path(sys.argv[2]))
"""


def test_concurrent_writers_do_not_corrupt(tmp_path):
    """Four processes importing different runs into one catalog at the same time."""
    cat = tmp_path / "shared" / "catalogo.sqlite"
    folders = []
    for p in range(4):
        base = tmp_path / f"lote{p}"
        for i in range(6):
            sites = [SiteSpec(f"site-{p}-{j}", f"Site {p}.{j}", stages=all_ok())
                     for j in range(5)]
            write_run_folder(base, f"2026090{p}-0000{i:02d}-beef", T0 + timedelta(days=i),
                             sites)
        folders.append(base)
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(f), str(cat)], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for f in folders]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    conn = connect(cat)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert counts(conn) == {"runs": 24, "sites": 20, "run_sites": 120,
                            "stage_results": 720, "checks": 720, "evidence": 0}
    conn.close()


# ----------------------------------------------------------------------------- dossier
def test_dossier_timeline_shows_the_changes_with_their_dates(tmp_path):
    base = tmp_path / "execucoes"
    three_batches(base)
    import_folders(run_folders(base), catalog_path(base))
    conn = connect(catalog_path(base))
    vila = {s["stage"]: s for s in build_dossier(conn, "ubs-vila-nova")["stages"]}
    amb = vila["ambiente"]["timeline"]
    assert [(t["kind"], t["previous"], t["status"]) for t in amb] == \
        [("inicio", None, "falha"), ("ok", "falha", "ok")]
    assert amb[1]["date"].startswith("2026-09-14T09:02")  # batch 2, stage 2 finished
    assert vila["ambiente"]["run_id"] == "20260902-090000-aaa2"  # latest result's run
    centro = build_dossier(conn, "ubs-centro")
    xml = {s["stage"]: s for s in centro["stages"]}["xml"]
    assert [(t["kind"], t["status"]) for t in xml["timeline"]] == \
        [("inicio", "ok"), ("regrediu", "falha")]
    assert xml["timeline"][1]["date"].startswith("2026-09-21T09:06")
    assert [c["id"] for c in xml["open"]] == ["XML_CNES_SITE"]
    assert centro["status"] == "falha"

    out = write_dossier(conn, "ubs-vila-nova", tmp_path / "d.html")
    doc = lxml.html.fromstring(out.read_text(encoding="utf-8"))
    rows = doc.xpath('//section[@id="etapa-ambiente"]//table[@class="linha-do-tempo"]'
                     '/tbody/tr')
    assert [r.get("data-kind") for r in rows] == ["inicio", "ok"]
    assert [r.xpath('string(td[@class="data"])') for r in rows] == \
        ["07/09/2026 09:02", "14/09/2026 09:02"]
    assert doc.xpath('string(//*[@id="veredito"]/@data-status)') == "ok"
    assert "desde 14/09/2026 09:02" in doc.xpath('string(//*[@id="veredito"])')
    assert doc.xpath('//*[@id="assinaturas"]//td[text()="Coordenação"]')
    sms = lxml.html.fromstring(write_dossier(conn, "sms-centralizado", tmp_path / "s.html")
                               .read_text(encoding="utf-8"))
    never = {r.get("data-stage") for r in sms.xpath('//table[@id="pendencias"]/tbody/tr')}
    assert never == {"download", "instalacao", "contra_chave", "ambiente", "xml"}
    conn.close()


def test_dossier_evidence_comes_from_the_result(tmp_path):
    run = write_run_folder(tmp_path, "20260910-100000-ab12", T0,
                           [SiteSpec("ubs-a", "UBS A", stages=all_ok())])
    path = run / "ubs-a" / "contra_chave.json"
    data = json.loads(path.read_text())
    data["metrics"] = {"gerada_por": "Maria (e-Gestor)", "gerada_em": "2026-09-01",
                       "contra_chave_mascarada": "****-9999",
                       "contra_chave_fingerprint": "pbkdf2-sha256$1$00$ff"}
    path.write_text(json.dumps(data))
    path = run / "ubs-a" / "xml.json"
    data = json.loads(path.read_text())
    data["metrics"] = {"diff": {"codigo_confirmacao": "d5e7c2695b0d", "confirmado": True}}
    data["inputs"]["xml.arquivo"] = "sha256:" + "ab" * 32
    path.write_text(json.dumps(data))
    record_run(run)
    conn = connect(catalog_path(tmp_path))
    stages = {s["stage"]: s for s in build_dossier(conn, "ubs-a")["stages"]}
    cc = {e["label"]: e["value"] for e in stages["contra_chave"]["evidence"]}
    assert cc == {"Contra-chave gerada por": "Maria (e-Gestor)",
                  "Contra-chave gerada em": "2026-09-01"}
    xml = {e["label"]: e["value"] for e in stages["xml"]["evidence"]}
    assert xml["Código de confirmação das alterações"] == "d5e7c2695b0d"
    assert xml["XML do CNES (SHA-256 do arquivo)"] == "sha256:" + "ab" * 32
    blob = (tmp_path / "catalogo.sqlite").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("catalogo.sqlite-*"))
    assert b"****-9999" not in blob and b"pbkdf2" not in blob
    conn.close()


def test_cli_dossier_errors_are_one_line(tmp_path, cli, cli_main):
    proc = cli("dossie", "ubs-a", "--execucoes", tmp_path)  # one refusal in a real process
    assert proc.returncode == 2 and "catalogo importar" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
    run = write_run_folder(tmp_path, "20260910-100000-ab12", T0,
                           [SiteSpec("ubs-a", "UBS A", stages=all_ok())])
    cli = cli_main  # the rest in this process: same exit codes and messages
    proc = cli("catalogo", "importar", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "1 execução(ões), 1 site(s)" in proc.stdout
    proc = cli("dossie", "ubs-b", "--execucoes", tmp_path)
    assert proc.returncode == 2 and "você quis dizer 'ubs-a'" in proc.stderr
    # without Chromium the HTML is written, the PDF is refused with how to get it
    env = {"PATH": str(Path(sys.executable).parent)}
    out = tmp_path / "d.html"
    proc = cli("dossie", "ubs-a", "--execucoes", tmp_path, "--saida", out, "--pdf",
               tmp_path / "d.pdf", env=env)
    assert proc.returncode == 2, proc.stderr
    assert "apt-get install chromium" in proc.stderr and "Traceback" not in proc.stderr
    assert out.exists() and not (tmp_path / "d.pdf").exists()
    assert run.exists()


# ----------------------------------------------------------------------------- dashboard
def blocking_runs(base: Path) -> None:
    """Six sites; in the latest runs AMB_RAM fails in 3 sites, DL_SHA256 in 2, XML_CNES_SITE
    in 1; PEC_HTTP failed in every site in the first run but was fixed everywhere since."""
    def site(i: int, *fails: str, pec_bad: bool = False) -> SiteSpec:
        stages = all_ok()
        fail = {"AMB_RAM": "ambiente", "DL_SHA256": "download", "XML_CNES_SITE": "xml"}
        for cid in fails:
            stages[fail[cid]] = [(cid, f"Título {cid}", "falha")]
        if pec_bad:
            stages["instalacao"] = [("PEC_HTTP", "PEC responde", "falha")]
        return SiteSpec(f"site-{i}", f"Site {i}", "2927408" if i < 3 else "3550308",
                        stages=stages)

    first = [site(i, pec_bad=True) for i in range(6)]
    write_run_folder(base, "20260907-090000-0001", T0, first)
    latest = [site(0, "AMB_RAM", "DL_SHA256"), site(1, "AMB_RAM", "DL_SHA256"),
              site(2, "AMB_RAM"), site(3, "XML_CNES_SITE"), site(4), site(5)]
    for i, s in enumerate(latest):  # each site in its own later run
        write_run_folder(base, f"2026091{i}-090000-00{i}f", T0 + timedelta(days=3 + i), [s])


def test_dashboard_ranks_the_blocking_checks(tmp_path):
    base = tmp_path / "execucoes"
    blocking_runs(base)
    import_folders(run_folders(base), catalog_path(base))
    conn = connect(catalog_path(base))
    today = T0 + timedelta(days=30)
    d = build_dashboard(conn, stalled_days=14, today=today)
    ranked = d.blocking[["check_id", "sites", "lista"]].values.tolist()
    assert ranked == [["AMB_RAM", 3, "site-0, site-1, site-2"],
                      ["DL_SHA256", 2, "site-0, site-1"],
                      ["XML_CNES_SITE", 1, "site-3"]]
    assert set(d.current.loc[d.current["situacao"] == "ok", "site_id"]) == {"site-4", "site-5"}
    # site-4 became ready in its second run, 7 days after the first
    days = d.days.set_index("site_id")["dias"]
    assert days["site-4"] == 7.0 and days["site-5"] == 8.0 and days[["site-0"]].isna().all()
    # not ready and unchanged for ≥ 14 days (until day 30): sites 0..3 changed on days 3..6
    assert list(d.stalled["site_id"]) == ["site-0", "site-1", "site-2", "site-3"]
    assert list(build_dashboard(conn, 25, today).stalled["site_id"]) == ["site-0", "site-1"]
    muni = d.municipalities.set_index("municipio_ibge")
    assert muni.loc["2927408", ["sites", "falha", "prontos"]].tolist() == [3, 3, 0]
    assert muni.loc["3550308", ["sites", "ok", "prontos", "parados"]].tolist() == [3, 2, 2, 1]
    weekly = d.weekly.set_index("semana")
    assert weekly.loc["2026-09-07"].sum() == 6 and weekly.loc["2026-09-07", "falha"] == 6
    assert weekly.loc["2026-09-14", "ok"] == 2 and weekly.loc["2026-09-14", "falha"] == 4

    paths, info = write_dashboard(conn, tmp_path / "painel" / "painel.html", 14, today)
    assert info == {"sites": 6, "prontos": 2, "parados": 4, "bloqueios": 3}
    with open(paths["bloqueios"], encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["check_id"], r["sites"]) for r in rows] == \
        [("AMB_RAM", "3"), ("DL_SHA256", "2"), ("XML_CNES_SITE", "1")]
    doc = lxml.html.fromstring(paths["html"].read_text(encoding="utf-8"))
    assert [tr.get("data-check") for tr in doc.xpath('//table[@id="bloqueios"]/tbody/tr')] \
        == ["AMB_RAM", "DL_SHA256", "XML_CNES_SITE"]
    assert doc.xpath('string(//*[@id="total-parados"])') == "4"
    assert len(doc.xpath("//svg")) == 2
    conn.close()


def test_csv_cells_cannot_be_formulas(tmp_path):
    assert [safe_cell(v) for v in ("=1+1", "+55", "-2", "@SUM(A1)", "\tx", "\rx", "ok", 3)] \
        == ["'=1+1", "'+55", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "ok", 3]
    evil = '=HYPERLINK("http://exemplo.invalido","clique")'
    run = write_run_folder(tmp_path, "20260910-100000-ab12", T0, [SiteSpec(
        "ubs-a", evil, stages={"cenario": [("CEN_PERFIL", "Perfil", "falha")]})])
    record_run(run)
    conn = connect(catalog_path(tmp_path))
    paths, _ = write_dashboard(conn, tmp_path / "painel.html", 1,
                               T0 + timedelta(days=10))
    with open(paths["parados"], encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["nome"] == "'" + evil
    conn.close()


def test_cli_painel_writes_html_and_csv(tmp_path, cli, cli_main):
    base = tmp_path / "execucoes"
    three_batches(base)
    assert cli_main("catalogo", "importar", base).returncode == 0
    proc = cli("painel", "--execucoes", base, "--parado-dias", "7")
    assert proc.returncode == 0, proc.stderr
    assert (base / "painel.html").exists()
    assert {p.name for p in base.glob("painel_*.csv")} == {
        "painel_semanas.csv", "painel_dias_ate_pronto.csv", "painel_bloqueios.csv",
        "painel_parados.csv", "painel_municipios.csv"}
    assert "Sites: 3 (1 prontos" in proc.stdout


# ----------------------------------------------------------------------------- real batch
@pytest.mark.notebooks
def test_a_real_batch_records_its_run(demo_run: Path):
    """The demo batch (papermill, real notebooks) recorded itself in its catalog."""
    conn = connect(catalog_path(demo_run.parent))
    meta = json.loads((demo_run / "run.json").read_text())
    assert conn.execute("SELECT run_id, status, interrupted FROM runs").fetchall() == \
        [(meta["run_id"], meta["status"], 0)]
    files = [p for p in demo_run.glob("*/*.json") if p.stem in STAGES]
    assert conn.execute("SELECT count(*) FROM stage_results").fetchone()[0] == len(files)
    rollup = json.loads((demo_run / "rollup.json").read_text())["site_status"]
    assert dict(conn.execute("SELECT site_id, status FROM run_sites").fetchall()) == rollup
    checks = sum(len(json.loads(p.read_text())["checks"]) for p in files)
    assert conn.execute("SELECT count(*) FROM checks").fetchone()[0] == checks
    evidence = dict(conn.execute(
        "SELECT name, value FROM evidence JOIN stage_results USING (result_pk) "
        "WHERE site_id = 'ubs-centro' AND kind = 'arquivo'").fetchall())
    assert set(evidence) >= {"ambiente.probe", "xml.arquivo"}
    assert all(v.startswith("sha256:") for v in evidence.values())
    assert conn.execute("SELECT count(*) FROM timings").fetchone()[0] == 3 * 7
    # notebook 07 shows where the site's dossier is and how to generate it
    nb = nbformat.read(demo_run / "ubs-centro" / "07_relatorio.ipynb", as_version=4)
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells
                   if c.cell_type == "code" for o in c.outputs)
    assert 'href="../../dossies/ubs-centro.html"' in html
    assert f"esus-runbook dossie ubs-centro --execucoes {demo_run.parent}" in html
    # the contra-chave stage's inputs hold its salted fingerprint: the catalog does not
    assert "pbkdf2" in (demo_run / "ubs-centro" / "contra_chave.json").read_text()
    conn.close()
    blob = b"".join(p.read_bytes() for p in demo_run.parent.glob("catalogo.sqlite*"))
    assert b"pbkdf2" not in blob


# ----------------------------------------------------------------------------- browser
@pytest.mark.browser
def test_dossier_pdf_and_pages_render(tmp_path, cli, browser):
    pdftotext, pdftoppm = require_tool("pdftotext"), require_tool("pdftoppm")
    base = tmp_path / "execucoes"
    three_batches(base)
    assert cli("catalogo", "importar", base).returncode == 0
    pdf = tmp_path / "dossie.pdf"
    proc = cli("dossie", "ubs-vila-nova", "--execucoes", base, "--pdf", pdf)
    assert proc.returncode == 0, proc.stderr
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "UBS Vila Nova" in text and "Página 1 de" in text
    for stage in STAGES:
        assert title(stage) in text, stage
    subprocess.run([pdftoppm, "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "p")], check=True)
    assert next(tmp_path.glob("p*.png")).stat().st_size > 5_000
    assert cli("painel", "--execucoes", base).returncode == 0

    page = browser.new_page()
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url)
            if not r.url.startswith(("file:", "data:", "about:")) else None)
    page.goto((base / "dossies" / "ubs-vila-nova.html").as_uri())
    assert page.locator("#site-nome").inner_text() == "UBS Vila Nova"
    assert page.locator("#etapas tbody tr").count() == 6
    amb = page.locator('#etapa-ambiente table.linha-do-tempo tbody tr')
    assert amb.count() == 2 and amb.nth(1).get_attribute("data-kind") == "ok"
    assert page.locator("#assinaturas").is_visible()
    page.goto((base / "painel.html").as_uri())
    assert page.locator("#total-sites").inner_text() == "3"
    assert page.locator("#bloqueios tbody tr").first.get_attribute("data-check") == \
        "XML_CNES_SITE"
    assert page.locator("svg").count() == 2 and page.locator("svg").first.is_visible()
    assert page.locator("script").count() == 0
    assert external == []
    page.close()


def test_cli_input_errors_leave_nothing(tmp_path, cli_main):
    cli = cli_main  # refusals in a real process: test_cli_dossier_errors_are_one_line
    empty = tmp_path / "vazia"
    empty.mkdir()
    proc = cli("catalogo", "importar", empty)
    assert proc.returncode == 2 and "nenhuma pasta de execução" in proc.stderr
    assert not (empty / "catalogo.sqlite").exists()
    write_run_folder(tmp_path, "20260910-100000-ab12", T0,
                     [SiteSpec("ubs-a", "UBS A", stages=all_ok())])
    assert cli("catalogo", "importar", tmp_path).returncode == 0
    blocked = tmp_path / "arquivo"
    blocked.write_text("não é pasta")
    for args in (("dossie", "ubs-a", "--saida", blocked / "d.html"),
                 ("painel", "--saida", blocked / "p.html")):
        proc = cli(*args, "--execucoes", tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert "não foi possível gravar" in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_rollup_links_to_the_dashboard(tmp_path):
    run = write_run_folder(tmp_path, "20260910-100000-ab12", T0,
                           [SiteSpec("ubs-a", "UBS A", stages=all_ok())])
    doc = lxml.html.fromstring(write_rollup(run)["html"].read_text(encoding="utf-8"))
    assert doc.xpath('string(//a[@id="link-painel"]/@href)') == "../painel.html"
    record_run(run)
    conn = connect(catalog_path(tmp_path))
    paths, _ = write_dashboard(conn, tmp_path / "painel.html")  # the default place
    assert (run / "../painel.html").resolve() == paths["html"].resolve()
    conn.close()


@pytest.mark.notebooks
def test_three_real_batches_tell_the_story_of_each_site(tmp_path, cli, demo_simulator):
    """Three batches of the demo inventory (real notebooks), edited between them: the
    vila-nova chave copied in full (a failing check fixed), then the centro XML swapped for
    one with problems (a new failure), then swapped back. The dossier's timeline and the
    dashboard's ranking follow, with the dates the runs really finished."""
    from .conftest import EXAMPLES, demo_env

    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES, examples)
    base = tmp_path / "execucoes"
    vila, centro = examples / "sites/ubs-vila-nova.yaml", examples / "sites/ubs-centro.yaml"

    def batch() -> Path:
        before = set(run_folders(base)) if base.exists() else set()
        proc = cli("lote", examples / "inventario.yaml", "--execucoes", base, "--paralelos", "2",
                   "--sem-progresso", env=demo_env())
        assert proc.returncode in (0, 1), proc.stderr
        (new,) = set(run_folders(base)) - before
        return new

    def edit(path: Path, old: str, new: str) -> None:
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")

    first = batch()
    edit(vila, "chave: 0916-0409-8915-9622-2161-0480-1336 ",
         "chave: 0916-0409-8915-9622-2161-0480-1336-1227 ")
    edit(centro, "XmlParaESUS31_292740.zip", "XmlParaESUS31_292740-com-problemas.zip")
    second = batch()
    edit(centro, "XmlParaESUS31_292740-com-problemas.zip", "XmlParaESUS31_292740.zip")
    third = batch()

    conn = connect(catalog_path(base))
    assert [r for (r,) in conn.execute("SELECT run_id FROM runs ORDER BY started_at")] == \
        [first.name, second.name, third.name]
    finished = {run.name: json.loads((run / "run.json").read_text())["finished_at"]
                for run in (first, second, third)}

    def stage_finished(run: Path, site: str, stage: str) -> str:
        return json.loads((run / site / f"{stage}.json").read_text())["finished_at"]

    cc = {s["stage"]: s for s in build_dossier(conn, "ubs-vila-nova")["stages"]}["contra_chave"]
    changes = [(t["previous"], t["status"]) for t in cc["timeline"]]
    assert changes[0] == (None, "falha") and changes[1][0] == "falha" and len(changes) == 2
    assert cc["timeline"][1]["date"] == stage_finished(second, "ubs-vila-nova", "contra_chave")
    assert "CC_CHAVE" not in {c["id"] for c in cc["open"]}

    xml = {s["stage"]: s for s in build_dossier(conn, "ubs-centro")["stages"]}["xml"]
    assert [(t["kind"], t["status"]) for t in xml["timeline"]] == \
        [("inicio", "ok"), ("regrediu", "falha"), ("ok", "ok")]
    assert [t["date"] for t in xml["timeline"]][1:] == \
        [stage_finished(second, "ubs-centro", "xml"), stage_finished(third, "ubs-centro", "xml")]
    assert xml["run_id"] == third.name and not xml["open"]
    assert all(finished.values())

    # the dashboard ranks what blocks sites now: vila-nova's checks, not centro's fixed XML
    ids = set(build_dashboard(conn, 14, datetime.now(timezone.utc)).blocking["check_id"])
    assert "AMB_RAM" in ids and "CC_CHAVE" not in ids and "XML_CPF_INVALID" in ids
    conn.close()
