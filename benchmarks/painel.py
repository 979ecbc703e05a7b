"""Benchmark: the painel of 5 000 sites × 52 weekly runs, built and opened.

The catalog is generated straight into SQLite (``esus_runbook.demo.rollout_state.records``
through the catalog's own writer, ``catalog.store.write_run``, which also keeps each site's
summary for the painel, as an import does): 260 000 site folders of JSON would cost far more
than the painel being measured, and the import has its own benchmark (benchmarks/catalog.py).
Then, in the same run:

- baseline: reading every stage result of the catalog into pandas
  (``catalog.history.stage_results``), the floor under a painel that replays the history
  (as it did before the summary, migration 3);
- painel: ``write_dashboard`` in process, and ``esus-runbook painel`` as a new process
  (imports included; wall clock and the CPU time the process used, which the load of a
  shared machine does not inflate); goal ≤ 5 s;
- the page in headless Chromium at 1366×768: from navigation to the first answer of the
  filter (the table's script ready, a status chosen, the rows narrowed); goal ≤ 2 s;
- once, what a catalog migrated from version 2 costs: every site's summary rebuilt from its
  whole history (``catalog.history.refresh``), the first painel after the upgrade
  (``--sem-reconstrucao`` skips it).

Run: ``.venv/bin/python benchmarks/painel.py`` (``--sites N``, ``--runs N``, ``--keep DIR``:
keep the generated folder there; run again with the same ``--keep DIR`` to measure the painel
and the page on that catalog without generating it again).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from esus_runbook.catalog import catalog_path, connect
from esus_runbook.catalog.dashboard import write_dashboard
from esus_runbook.catalog.history import refresh, stage_results
from esus_runbook.catalog.store import write_run
from esus_runbook.demo.rollout_state import records

GOAL_BUILD_S = 5.0
GOAL_PAGE_S = 2.0
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t, out


def page_ready(html: Path) -> tuple[float, float, int, int]:
    """Seconds from navigation to the table script being ready, and to the filter's first
    answer; the rows before and after filtering."""
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        t = time.perf_counter()
        page.goto(html.as_uri(), wait_until="domcontentloaded")
        page.wait_for_selector("html[data-tabelas=prontas]")
        ready = time.perf_counter() - t
        total = page.locator("#tabela-locais tbody tr").count()
        page.locator('.filtros[data-for="tabela-locais"] label', has_text="Situação") \
            .locator("select").select_option("OK")
        page.wait_for_function("() => !document.querySelector("
                               "'.filtros[data-for=tabela-locais] output')"
                               ".textContent.startsWith('" + str(total) + " de')")
        filtered = time.perf_counter() - t
        shown = page.locator("#tabela-locais tbody tr:not([hidden])").count()
        browser.close()
    return ready, filtered, total, shown


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=52)
    ap.add_argument("--keep", default=None, help="keep the generated folder here (a folder "
                    "kept before: its catalog is measured again, not generated)")
    ap.add_argument("--sem-reconstrucao", action="store_true",
                    help="skip the rebuild of every summary (a catalog migrated from v2)")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="esus-bench-painel-"))
    base = work / "execucoes"
    base.mkdir(parents=True, exist_ok=True)
    try:
        conn = connect(catalog_path(base))
        t = time.perf_counter()
        reused = args.keep and conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        if not reused:
            for rec in records(base, args.sites, args.runs):
                write_run(conn, rec)
        gen_s = time.perf_counter() - t
        rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("runs", "run_sites", "stage_results", "checks")}
        print(f"catálogo {'reaproveitado de --keep' if reused else 'gerado'}: "
              f"{args.sites} locais × {args.runs} execuções em {gen_s:.1f} s; linhas: {rows}",
              flush=True)
        base_s, _ = timed(stage_results, conn)
        dash_s, (_, info) = timed(write_dashboard, conn, base / "painel.html",
                                  source=str(catalog_path(base)))
        conn.close()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "esus_runbook", "painel", "--execucoes",
                               str(base)], capture_output=True, text=True)
        cli_s = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        html = base / "painel.html"
        ready_s, filter_s, total, shown = page_ready(html)
        print(f"baseline (ler os resultados do catálogo): {base_s:6.2f} s")
        print(f"painel (em processo):                     {dash_s:6.2f} s "
              f"({dash_s / base_s:.1f}× a baseline)  {info}")
        print(f"painel (comando, novo processo):          {cli_s:6.2f} s  "
              f"(CPU {cli_cpu:.2f} s; {cli_s / base_s:.2f}× a baseline; "
              f"meta ≤ {GOAL_BUILD_S:.0f} s: {'OK' if cli_s <= GOAL_BUILD_S else 'NÃO'})")
        print(f"página: {html.stat().st_size / 1e6:.1f} MB; tabela pronta em {ready_s:.2f} s; "
              f"primeira resposta do filtro em {filter_s:.2f} s ({total} → {shown} linhas; "
              f"meta ≤ {GOAL_PAGE_S:.0f} s: {'OK' if filter_s <= GOAL_PAGE_S else 'NÃO'})")
        if not args.sem_reconstrucao:
            conn = connect(catalog_path(base))
            conn.execute("INSERT INTO painel_dirty SELECT site_id FROM sites")
            rebuild_s, n = timed(refresh, conn)
            conn.close()
            print(f"catálogo migrado da versão 2: resumos de {n} locais reconstruídos do "
                  f"histórico em {rebuild_s:.1f} s (uma vez, no primeiro painel)")
        return 0 if cli_s <= GOAL_BUILD_S and filter_s <= GOAL_PAGE_S else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
