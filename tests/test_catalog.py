"""Issue 18: the run catalog (SQLite), the per-site dossier and the state dashboard.

Most tests ingest synthetic run folders with controlled dates (esus_runbook.demo.rollout_history,
the same layout a batch writes); one test checks that a real batch records itself.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import lxml.html
import nbformat
import pandas as pd
import pytest

from esus_runbook.catalog import (
    catalog_path,
    connect,
    history,
    import_folders,
    record_run,
    run_folders,
)
from esus_runbook.catalog.dashboard import build_dashboard, write_dashboard
from esus_runbook.catalog.dossier import build_dossier, write_dossier
from esus_runbook.catalog.schema import VERSION
from esus_runbook.catalog.store import write_run
from esus_runbook.demo.rollout_history import SiteSpec, write_run_folder
from esus_runbook.demo.rollout_state import records
from esus_runbook.files.csvcells import safe_cell
from esus_runbook.report.rollup import write_rollup
from esus_runbook.results import STAGES
from esus_runbook.stages import title

from .support.project import ROOT, require, require_tool

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
    # stored at -03:00, shown in the machine's zone (the page names it)
    shown = [datetime(2026, 9, d, 9, 2, tzinfo=timezone(timedelta(hours=-3))).astimezone()
             .strftime("%d/%m/%Y %H:%M") for d in (7, 14)]
    assert [r.xpath('string(td[@class="data"])') for r in rows] == shown
    assert doc.xpath('string(//*[@id="veredito"]/@data-status)') == "ok"
    assert f"desde {shown[1]}" in doc.xpath('string(//*[@id="veredito"])')
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
    assert "importados: 1 execução, 1 local de implantação" in proc.stdout
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
    assert info == {"sites": 6, "prontos": 2, "parados": 4, "bloqueios": 3, "sem_data": 0}
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
        "painel_parados.csv", "painel_municipios.csv", "painel_locais.csv"}
    assert "Locais de implantação: 3 (1 pronto," in proc.stdout


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
    assert page.locator("script[src]").count() == 0  # the table script is inline
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
        assert "--saida" in proc.stderr and "não é uma pasta" in proc.stderr
        assert "Traceback" not in proc.stderr
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
    from .support.project import EXAMPLES, demo_env

    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES, examples)
    base = tmp_path / "execucoes"
    vila, centro = examples / "sites/ubs-vila-nova.yaml", examples / "sites/ubs-centro.yaml"

    def batch() -> Path:
        before = set(run_folders(base)) if base.exists() else set()
        proc = cli("lote", examples / "inventario.yaml", "--execucoes", base, "--paralelos", "2",
                   "--sem-progresso", env=demo_env())
        assert proc.returncode in (0, 1, 3), proc.stderr
        (new,) = set(run_folders(base)) - before
        return new

    def edit(path: Path, old: str, new: str) -> None:
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")

    # vila-nova is a training installation, which needs no contra-chave (issue 22): its
    # half-copied chave fails, and is fixed, with the site in production mode
    edit(vila, "modo: treinamento", "modo: producao")
    first = batch()
    edit(vila, "chave: 0916-0409-8915-9622-2161-0480-1336\n",
         "chave: 0916-0409-8915-9622-2161-0480-1336-1227\n")
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


# ----------------------------------------------------------------------------- hostile run folders
# Issue 23 item 7: each row edits one file of a valid run of two sites (ubs-a, ubs-b) the way
# a hostile or broken share could; `catalogo importar` skips that file with its name and a
# pt-BR reason, records the rest, and never gives a traceback.
def _edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _set(*keys, value):
    def change(data):
        node = data
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return change


def _raw(text: str | bytes):
    def write(path: Path) -> None:
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return write


DEEP = "[" * 100_000 + "]" * 100_000
HOSTILE_RUN_ROWS = [
    # (id, file under the run folder, edit (dict change or raw writer), pt-BR words,
    #  ubs-b's results recorded (of 6), run recorded)
    ("resultado-tipo-errado", "ubs-b/cenario.json", _set("checks", 0, "title", value=5),
     "checks/0/title: tipo errado", 5, True),
    ("resultado-situacao-invalida", "ubs-b/ambiente.json", _set("status", value="talvez"),
     "status: valor fora dos permitidos", 5, True),
    ("resultado-sem-checks", "ubs-b/xml.json", lambda d: d.pop("checks"),
     "falta a chave checks", 5, True),
    ("resultado-metrics-lista", "ubs-b/xml.json", _set("metrics", value=[1, 2]),
     "metrics: tipo errado", 5, True),
    ("resultado-aninhado", "ubs-b/download.json", _raw(DEEP), "JSON aninhado demais", 5,
     True),
    ("resultado-aninhado-em-metrics", "ubs-b/download.json",
     _set("metrics", "x", value=json.loads("[" * 100 + "]" * 100)), "aninhado demais", 5,
     True),
    ("resultado-inteiro-5000-digitos", "ubs-b/download.json",
     _raw('{"schema": "esus-runbook/stage-result/1", "n": ' + "9" * 5000 + "}"),
     "número inválido", 5, True),
    ("resultado-nan", "ubs-b/download.json", _raw('{"a": NaN}'), "número inválido", 5, True),
    ("resultado-utf8-invalido", "ubs-b/cenario.json",
     _raw(b'{"schema": "esus-runbook/stage-result/1", "site_id": "ubs-b\xff"}'),
     "não está em UTF-8", 5, True),
    ("resultado-de-outro-site", "ubs-b/cenario.json", _set("site_id", value="ubs-a"),
     "é do site ubs-a", 5, True),
    ("resultado-site-id-caminho", "ubs-b/cenario.json", _set("site_id", value="../../x"),
     "site_id: formato inválido", 5, True),
    ("resultado-data-impossivel", "ubs-b/instalacao.json",
     _set("finished_at", value="2026-13-45T99:00:00+00:00"), "finished_at: data inválida", 5,
     True),
    ("resultado-ano-1200", "ubs-b/instalacao.json",
     _set("started_at", value="1200-01-01T00:00:00+00:00"), "started_at: data fora do intervalo",
     5, True),
    ("resultado-truncado", "ubs-b/instalacao.json", _raw('{"schema": "esus-'),
     "JSON inválido na linha 1", 5, True),
    ("resultado-grande-demais", "ubs-b/instalacao.json",
     _raw(b'{"x": "' + b"a" * (17 * 1024 * 1024) + b'"}'), "grande demais", 5, True),
    ("site-id-caminho", "ubs-b/site.json", _set("site_id", value="../../x"),
     "site_id inválido", 0, True),
    ("site-id-numero", "ubs-b/site.json", _set("site_id", value=7),
     "site_id: tipo errado", 0, True),
    ("site-nome-lista", "ubs-b/site.json", _set("nome", value=["a"]), "nome: tipo errado",
     0, True),
    ("site-nome-escape", "ubs-b/site.json", _set("nome", value="UBS \x1b]0;x\x07"),
     "caractere de controle", 0, True),
    ("site-sem-municipio", "ubs-b/site.json", lambda d: d.pop("municipio_ibge"),
     "falta a chave municipio_ibge", 0, True),
    ("run-inicio-ilegivel", "run.json", _set("started_at", value="ontem"),
     "started_at: data inválida", 0, False),
    ("run-id-numero", "run.json", _set("run_id", value=5), "run_id: tipo errado", 0, False),
    ("run-aninhado", "run.json", _raw('{"schema": "esus-runbook/run/1", "x": ' + DEEP + "}"),
     "JSON aninhado demais", 0, False),
    ("run-versao-objeto", "run.json", _set("versions", value=[]), "versions: tipo errado", 0,
     False),
    ("rollup-lixo", "rollup.json", _raw(b"\xff\xfe"), "não está em UTF-8", 6, True),
]


@pytest.mark.parametrize("row", HOSTILE_RUN_ROWS, ids=[r[0] for r in HOSTILE_RUN_ROWS])
def test_import_skips_a_hostile_file_and_keeps_the_rest(row, tmp_path, cli_main):
    name, rel, edit, words, b_results, run_recorded = row
    base = tmp_path / "execucoes"
    good = write_run_folder(base, "20260910-100000-0001", T0,
                            [SiteSpec("ubs-a", "UBS A", stages=all_ok())])
    run = write_run_folder(base, "20260917-100000-0002", T0 + timedelta(days=7),
                           [SiteSpec("ubs-a", "UBS A", stages=all_ok()),
                            SiteSpec("ubs-b", "UBS B", stages=all_ok())])
    target = run / rel
    (edit(target) if edit.__name__ == "write" else _edit_json(target, edit))
    proc = cli_main("catalogo", "importar", base)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    notice = next(line for line in proc.stderr.splitlines() if str(target) in line)
    assert words in notice and notice.endswith("não importado"), notice
    assert "is not" not in notice and "required property" not in notice  # no English
    assert ("2 execuções" if run_recorded else "1 execução") in proc.stdout
    conn = connect(catalog_path(base))
    runs = {r[0] for r in conn.execute("SELECT run_id FROM runs")}
    assert runs == ({good.name, run.name} if run_recorded else {good.name})
    assert conn.execute("SELECT count(*) FROM stage_results WHERE site_id = 'ubs-b'"
                        ).fetchone()[0] == b_results
    assert conn.execute("SELECT count(*) FROM stage_results WHERE site_id = 'ubs-a'"
                        ).fetchone()[0] == (12 if run_recorded else 6)
    assert {r[0] for r in conn.execute("SELECT site_id FROM sites")} <= {"ubs-a", "ubs-b"}
    conn.close()
    assert cli_main("painel", "--execucoes", base).returncode == 0


def test_numbers_beyond_sqlite_are_stored_as_null(tmp_path, cli, cli_main):
    """run.json's notebook timings and duration are free-form numbers: one beyond SQLite's
    64-bit integers (or a double) is stored as NULL, the run is recorded."""
    base = tmp_path / "execucoes"
    run = write_run_folder(base, "20260910-100000-0001", T0,
                           [SiteSpec("ubs-a", "UBS A", stages=all_ok())])
    huge = 10 ** 400

    def change(meta):
        meta["duration_s"] = huge
        meta["sites"]["ubs-a"]["notebooks"] = [
            {"notebook": "01_cenario.ipynb", "seconds": huge, "attempts": 2 ** 70},
            {"notebook": "02_ambiente.ipynb", "seconds": 1.5, "attempts": 1},
            "não é um objeto", {"notebook": ["lista"]}]
    _edit_json(run / "run.json", change)
    _edit_json(run / "ubs-a" / "cenario.json",
               _set("checks", 0, "observed", value=-(2 ** 80)))
    proc = cli("catalogo", "importar", base)  # a real process: the interpreter's own limits
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr == ""
    conn = connect(catalog_path(base))
    assert conn.execute("SELECT duration_s FROM runs").fetchone() == (None,)
    assert conn.execute("SELECT notebook, seconds, attempts FROM timings ORDER BY notebook"
                        ).fetchall() == [("01_cenario.ipynb", None, None),
                                         ("02_ambiente.ipynb", 1.5, 1)]
    assert conn.execute("SELECT observed FROM checks WHERE check_id = 'CENARIO_BASE'"
                        ).fetchone() == (str(-(2 ** 80)),)
    conn.close()
    assert cli_main("dossie", "ubs-a", "--execucoes", base).returncode == 0


def test_a_run_json_without_the_later_keys_is_still_imported(tmp_path, cli_main):
    """The catalog needs schema, run_id, status and started_at; the run schema's other keys
    are checked when present, so a run.json older than them is imported."""
    base = tmp_path / "execucoes"
    run = write_run_folder(base, "20260910-100000-0001", T0,
                           [SiteSpec("ubs-a", "UBS A", stages=all_ok())])

    def old(meta):
        for key in ("site_snapshots", "notebooks", "versions", "options", "passes",
                    "inventory", "finished_at"):
            meta.pop(key)
    _edit_json(run / "run.json", old)
    proc = cli_main("catalogo", "importar", base)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "1 execução, 1 local de implantação" in proc.stdout


def test_import_of_nothing_but_refused_runs_creates_no_catalog(tmp_path, cli_main):
    base = tmp_path / "execucoes"
    run = write_run_folder(base, "20260910-100000-0001", T0,
                           [SiteSpec("ubs-a", "UBS A", stages=all_ok())])
    _edit_json(run / "run.json", _set("started_at", value="ontem"))
    proc = cli_main("catalogo", "importar", base)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert str(run / "run.json") in lines[0] and "started_at: data inválida" in lines[0]
    assert "nenhuma execução importada" in lines[-1]
    assert not catalog_path(base).exists()


@pytest.mark.parametrize("site_id", ["../../x", "ubs-a/../../x", "{tmp}/x", "UBS-A", "ubs-a.",
                                     "ubs-a\n", "a" * 64, "..", ""])
def test_dossier_refuses_a_site_id_outside_the_rule(site_id, tmp_path, cli_main):
    site_id = site_id.replace("{tmp}", str(tmp_path))  # an absolute path of this test
    base = tmp_path / "execucoes"
    write_run_folder(base, "20260910-100000-0001", T0,
                     [SiteSpec("ubs-a", "UBS A", stages=all_ok())])
    assert cli_main("catalogo", "importar", base).returncode == 0
    # a catalog written before the import checked the rule may hold such a site
    conn = connect(catalog_path(base))
    conn.execute("INSERT OR IGNORE INTO sites VALUES (?, 'X', '2927408', NULL, '')",
                 (site_id,))
    conn.close()
    before = sorted(p for p in tmp_path.rglob("*"))
    proc = cli_main("dossie", site_id, "--execucoes", base)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "site_id" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing written anywhere
    assert not (tmp_path / "x.html").exists()


def test_dossier_never_writes_through_a_link_out_of_its_folder(tmp_path, cli_main):
    base = tmp_path / "execucoes"
    write_run_folder(base, "20260910-100000-0001", T0,
                     [SiteSpec("ubs-a", "UBS A", stages=all_ok())])
    assert cli_main("catalogo", "importar", base).returncode == 0
    (base / "dossies").mkdir()
    outside = tmp_path / "fora.html"
    outside.write_text("original")
    (base / "dossies" / "ubs-a.html").symlink_to(outside)
    proc = cli_main("dossie", "ubs-a", "--execucoes", base)
    assert proc.returncode == 2 and "fora da pasta dos dossiês" in proc.stderr, proc.stderr
    assert outside.read_text() == "original"


# ----------------------------------------------------------------------------- painel, hostile
def test_painel_on_an_empty_catalog_says_so(tmp_path, cli, cli_main):
    """A failed import used to leave an empty catalog and painel crashed on it: now one
    pt-BR line, exit 2, and the last good dashboard stays as it was."""
    base = tmp_path / "execucoes"
    connect(catalog_path(base)).close()  # what a failed import left behind
    (base / "painel.html").write_text("painel anterior")
    proc = cli("painel", "--execucoes", base)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "nenhuma execução importada" in proc.stderr and "catalogo importar" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert (base / "painel.html").read_text() == "painel anterior"
    assert not list(base.glob("painel_*.csv"))


@pytest.mark.parametrize("sql,undated", [
    ("UPDATE stage_results SET finished_at = 'ontem', started_at = 'x'; "
     "UPDATE runs SET started_at = 'y'", 45),
    ("UPDATE stage_results SET finished_at = NULL, started_at = NULL; "
     "UPDATE runs SET started_at = 'quando?' WHERE run_pk = 1", 15),
    ("UPDATE stage_results SET finished_at = 12345, started_at = X'FF00'", 0),
    ("UPDATE stage_results SET finished_at = '1200-01-01T00:00:00+00:00' "
     "WHERE result_pk % 2 = 0", 0),
    ("UPDATE stage_results SET finished_at = '9999-01-01T00:00:00+00:00', "
     "started_at = '0001-01-01T00:00:00+00:00'; "
     "UPDATE runs SET started_at = '1200-01-01T00:00:00+00:00'", 45),
    ("DELETE FROM stage_results", 0),
], ids=["todas-ilegiveis", "sem-data-e-execucao-ilegivel", "tipos-errados", "fora-do-alcance",
        "todas-fora-do-alcance", "sem-resultados"])
def test_painel_and_dossier_skip_dates_they_cannot_parse(sql, undated, tmp_path, cli_main):
    """A catalog edited by hand or written by an older version: results without a date
    that parses are left out and counted, never a traceback."""
    base = tmp_path / "execucoes"
    three_batches(base)
    import_folders(run_folders(base), catalog_path(base))
    conn = sqlite3.connect(catalog_path(base))
    conn.executescript(sql)
    conn.close()
    proc = cli_main("painel", "--execucoes", base)
    assert proc.returncode == 0, proc.stderr
    assert "Locais de implantação: 3" in proc.stdout
    counted = f"{undated} resultado{'' if undated == 1 else 's'} de etapa sem data legível"
    assert (counted in proc.stdout) == bool(undated)
    assert (base / "painel.html").exists()
    with open(base / "painel_semanas.csv", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) <= 3  # three weeks, not one bar per week since 1200
    proc = cli_main("dossie", "ubs-centro", "--execucoes", base)
    assert proc.returncode == 0, proc.stderr


# ----------------------------------------------------------------------------- PDF renderer
# Issue 23 item 10: a page printed to PDF runs no script and reads no local file. Neither
# text below may reach the PDF (pdftotext): the scripts write SCRIPT-EXECUTOU, the frames and
# objects point at /etc/passwd and at a local file of the test.
HOSTILE_PAGE = """<!DOCTYPE html>
<script>document.write("<p>SCRIPT-EXECUTOU antes do head</p>")</script>
<html lang="pt-BR"><head><meta charset="utf-8"><title>página hostil</title></head>
<body><p>TEXTO-NORMAL da página, com acentuação</p>
<script>document.write("<p>SCRIPT-EXECUTOU</p>")</script>
<img src="x" onerror="document.body.append('SCRIPT-EXECUTOU onerror')">
<iframe src="file:///etc/passwd" width="600" height="300"></iframe>
<iframe src="{local}" width="600" height="100"></iframe>
<object data="file:///etc/passwd" width="600" height="100"></object>
<embed src="{local}" width="600" height="100">
</body></html>
"""


def _pdf_text(pdf: Path) -> str:
    return subprocess.run([require_tool("pdftotext"), "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def _hostile_page(tmp_path: Path) -> Path:
    local = tmp_path / "segredo-local.txt"
    local.write_text("CONTEUDO-LOCAL-SECRETO\n")
    page = tmp_path / "hostil.html"
    page.write_text(HOSTILE_PAGE.format(local=local.as_uri()), encoding="utf-8")
    return page


def test_pdf_renderer_runs_no_script_and_reads_no_local_file(tmp_path, monkeypatch):
    from esus_runbook.catalog import pdf as renderer

    require(renderer.find_chromium() is not None, "Chromium")
    page = _hostile_page(tmp_path)
    text = _pdf_text(renderer.html_to_pdf(page, tmp_path / "hostil.pdf"))
    assert "TEXTO-NORMAL da página, com acentuação" in text
    for leaked in ("SCRIPT-EXECUTOU", "root:x:0:0", "/usr/sbin/nologin",
                   "CONTEUDO-LOCAL-SECRETO"):
        assert leaked not in text, leaked
    assert renderer.CSP_META in renderer.with_csp(page.read_bytes())
    assert page.read_text(encoding="utf-8") == HOSTILE_PAGE.format(
        local=(tmp_path / "segredo-local.txt").as_uri())  # the HTML itself is left as it was
    # each layer alone: without the CSP, JavaScript is still off (the profile's setting
    # works under --print-to-pdf; --blink-settings=scriptEnabled=false writes no PDF at all)
    monkeypatch.setattr(renderer, "with_csp", lambda html: html)
    text = _pdf_text(renderer.html_to_pdf(page, tmp_path / "sem-csp.pdf"))
    assert "TEXTO-NORMAL" in text and "SCRIPT-EXECUTOU" not in text


def test_pdf_renderer_keeps_the_sandbox_when_not_root(tmp_path, monkeypatch):
    """Only root gets --no-sandbox (Chromium refuses to start as root with it); an ordinary
    user prints with the sandbox on (run for real as 'nobody' when the test runs as root)."""
    from esus_runbook.catalog import pdf as renderer

    monkeypatch.setattr(renderer, "as_root", lambda: False)
    assert "--no-sandbox" not in renderer.chromium_command("chromium", "p", "o.pdf", "file:///x")
    monkeypatch.setattr(renderer, "as_root", lambda: True)
    assert "--no-sandbox" in renderer.chromium_command("chromium", "p", "o.pdf", "file:///x")
    require(renderer.find_chromium() is not None, "Chromium")
    setpriv = shutil.which("setpriv")
    require(os.geteuid() == 0 and setpriv is not None, "root and setpriv (to run as nobody)")
    with tempfile.TemporaryDirectory(prefix="esus-nobody-") as work:  # pytest's is root-only
        _print_as_nobody(setpriv, Path(work))


def _print_as_nobody(setpriv: str, folder: Path) -> None:
    page = _hostile_page(folder)
    for p in (folder, *folder.iterdir()):
        os.chown(p, 65534, 65534)
    script = ("import sys; from esus_runbook.catalog import pdf; "
              "assert not pdf.as_root(); "
              "assert '--no-sandbox' not in pdf.chromium_command('c', 'p', 'o', 'u'); "
              "pdf.html_to_pdf(sys.argv[1], sys.argv[2])")
    proc = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                           sys.executable, "-c", script, str(page), str(folder / "h.pdf")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "HOME": str(folder), "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = _pdf_text(folder / "h.pdf")
    assert "TEXTO-NORMAL" in text and "SCRIPT-EXECUTOU" not in text
    assert "root:x:0:0" not in text and "CONTEUDO-LOCAL-SECRETO" not in text


# ----------------------------------------------------------------------------- the painel's summary
def _rollout_catalog(path: Path, order: str, n_sites: int = 40, n_runs: int = 8) -> sqlite3.Connection:
    """A generated rollout (esus_runbook.demo.rollout_state) recorded run by run through the
    catalog's writer: in order, shuffled, or in order with two runs recorded again."""
    conn = connect(path / "catalogo.sqlite")
    recs = list(records(path, n_sites, n_runs))
    if order == "shuffled":
        random.Random(3).shuffle(recs)
    for rec in recs + (recs[2:4] if order == "again" else []):
        write_run(conn, rec)
    return conn


def _tables(conn: sqlite3.Connection, today: datetime) -> dict:
    d = build_dashboard(conn, 14, today)
    sites = d.sites.assign(pasta_execucao=d.sites["pasta_execucao"].map(lambda p: Path(p).name))
    return {"weekly": d.weekly, "days": d.days, "blocking": d.blocking, "stalled": d.stalled,
            "municipalities": d.municipalities, "current": d.current, "sites": sites,
            "undated": d.undated}


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], pd.DataFrame):
            pd.testing.assert_frame_equal(a[key].reset_index(drop=True),
                                          b[key].reset_index(drop=True), obj=key)
        else:
            assert a[key] == b[key], key


def test_painel_summary_kept_at_import_is_the_one_rebuilt_from_the_history(tmp_path,
                                                                          monkeypatch):
    """The import folds each new run onto the stored summary (no rebuild); a catalog imported
    out of order, with runs recorded again, or migrated from version 2 (every site rebuilt
    from its whole history) gives the same painel, and the painel agrees with the replay of
    every result the dossier uses."""
    rebuilt = []
    original = history.rebuild
    monkeypatch.setattr(history, "rebuild", lambda conn, sites: (rebuilt.append(list(sites)),
                                                                   original(conn, sites)))
    (tmp_path / "a").mkdir()
    conn = _rollout_catalog(tmp_path / "a", "in order")
    assert rebuilt == []  # every run after the last: folded, nothing replayed
    assert conn.execute("SELECT count(*) FROM painel_dirty").fetchone()[0] == 0
    today = datetime.now(timezone.utc) + timedelta(days=3)
    expected = _tables(conn, today)

    for order in ("shuffled", "again"):
        (tmp_path / order).mkdir()
        rebuilt.clear()
        other = _rollout_catalog(tmp_path / order, order)
        # a run before one already recorded, or recorded again: its sites left dirty...
        assert other.execute("SELECT count(*) FROM painel_dirty").fetchone()[0] > 0, order
        _same(expected, _tables(other, today))
        assert rebuilt, order  # ...and rebuilt from their history when the painel reads
        other.close()

    # an old catalog (version 2): the migration marks every site, the painel rebuilds them
    old = sqlite3.connect(tmp_path / "old.sqlite", isolation_level=None)
    conn.backup(old)  # a copy of the file would miss what is still in the WAL
    for name in ("painel_result_added", "painel_result_removed", "painel_result_changed",
                 "painel_run_changed"):
        old.execute(f"DROP TRIGGER {name}")
    for name in ("painel_sites", "painel_stages", "painel_points", "painel_dirty"):
        old.execute(f"DROP TABLE {name}")
    old.execute("DROP INDEX evidence_kind")
    old.execute("DELETE FROM schema_migrations WHERE version = 3")
    old.execute("PRAGMA user_version = 2")
    old.close()
    migrated = connect(tmp_path / "old.sqlite")
    assert migrated.execute("SELECT count(*) FROM painel_dirty").fetchone()[0] == 40
    _same(expected, _tables(migrated, today))
    assert migrated.execute("SELECT count(*) FROM painel_dirty").fetchone()[0] == 0

    # the replay of every result (the dossier's reading) gives each site's situation,
    # stage reached and last run
    results = history.stage_results(conn)
    latest = history.latest(results)
    sites = expected["sites"].set_index("site_id")
    for sid, mine in latest.groupby("site_id"):
        status = dict(zip(mine["stage"], mine["status"], strict=True))
        worst_now = max((status.get(s, "pendente") for s in STAGES),
                        key=lambda s: history.SEV[s])
        assert sites.loc[sid, "situacao"] == worst_now, sid
        ready = [status.get(s) in history.READY for s in STAGES] + [False]
        assert sites.loc[sid, "etapas_prontas"] == ready.index(False), sid
        assert sites.loc[sid, "ultima_execucao"] == \
            results.loc[results["site_id"] == sid, "run_when"].max(), sid
    # the last week counts every site by its situation now
    last_week = expected["weekly"].iloc[-1]
    for status, n in sites["situacao"].value_counts().items():
        assert last_week[status] == n
    assert expected["weekly"].iloc[-1, 1:].sum() == 40


def test_a_result_changed_by_hand_is_read_again(tmp_path):
    """Any write to a site's results marks the site (triggers); the painel rebuilds it
    instead of showing the summary kept at import."""
    (tmp_path / "a").mkdir()
    conn = _rollout_catalog(tmp_path / "a", "in order", n_sites=5, n_runs=3)
    today = datetime.now(timezone.utc)
    before = build_dashboard(conn, 14, today).current.set_index("site_id")["situacao"]
    site = before.index[0]
    conn.execute("UPDATE stage_results SET status = 'erro' WHERE site_id = ? AND result_pk = "
                 "(SELECT MAX(result_pk) FROM stage_results WHERE site_id = ?)", (site, site))
    assert [r[0] for r in conn.execute("SELECT site_id FROM painel_dirty")] == [site]
    after = build_dashboard(conn, 14, today).current.set_index("site_id")["situacao"]
    assert after[site] == "erro" and before[site] != "erro"
    assert (after.drop(site) == before.drop(site)).all()
    newest = build_dashboard(conn, 14, today).sites["ultima_execucao"].max()
    conn.execute("DELETE FROM runs WHERE run_pk = (SELECT MAX(run_pk) FROM runs)")
    assert conn.execute("SELECT count(*) FROM painel_dirty").fetchone()[0] == 5
    after_all = build_dashboard(conn, 14, today).sites["ultima_execucao"]
    assert (after_all == newest - timedelta(days=7)).all()
