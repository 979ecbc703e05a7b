"""Benchmark: the run catalog with 2 000 sites × 10 runs (generated results).

Writes 10 weekly run folders of 2 000 sites each (``esus_runbook.demo.rollout_history``: the layout a
batch writes, 5–9 checks per stage, failures fixed and new ones appearing from run to run,
50 municipalities), then measures:

- baseline: reading and parsing every JSON file of the runs (the floor of any import);
- import: ``catalogo importar`` of the 10 folders into a new catalog, and again (idempotent:
  the second import replaces every run);
- dashboard: ``painel`` (catalog → pandas → charts → HTML + 5 CSV), in-process and as the
  command a user runs (a new process, imports included); goal ≤ 5 s;
- one site's dossier; the catalog's size on disk.

Run: ``.venv/bin/python benchmarks/catalog.py`` (``--sites N``, ``--runs N``, ``--keep DIR``).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from esus_runbook.catalog import catalog_path, connect, import_folders, run_folders
from esus_runbook.catalog.dashboard import write_dashboard
from esus_runbook.catalog.dossier import write_dossier
from esus_runbook.demo.rollout_history import SiteSpec, write_run_folder
from esus_runbook.results import STAGES

GOAL_DASHBOARD_S = 5.0
CHECKS = {s: [f"{s.upper()}_{i:02d}" for i in range(9)] for s in STAGES}


def generate(base: Path, n_sites: int, n_runs: int, seed: int = 18) -> None:
    rng = random.Random(seed)
    t0 = datetime(2026, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=-3)))
    munis = [f"29{i:05d}" for i in range(50)]
    width = {s: rng.randint(5, 9) for s in STAGES}
    # per site: the run from which each stage is ok (some never), and the checks failing
    ready_at = {(i, s): rng.randint(0, n_runs + 2) for i in range(n_sites) for s in STAGES}
    for run in range(n_runs):
        sites = []
        for i in range(n_sites):
            stages = {}
            for s in STAGES:
                failing = run < ready_at[i, s]
                status = ("pendente" if s in ("contra_chave", "xml") and rng.random() < .3
                          else "falha") if failing else "ok"
                bad = set(rng.sample(range(width[s]), k=rng.randint(1, 2))) if failing else ()
                stages[s] = [(cid, f"Verificação {cid}", status if k in bad else "ok")
                             for k, cid in enumerate(CHECKS[s][:width[s]])]
            sites.append(SiteSpec(f"site-{i:05d}", f"Unidade {i}", munis[i % len(munis)],
                                  stages=stages))
        write_run_folder(base, f"{(t0 + timedelta(days=7 * run)):%Y%m%d-%H%M%S}-{run:04x}",
                         t0 + timedelta(days=7 * run), sites, stage_minutes=0.05)


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t, out


def read_all(base: Path) -> int:
    n = 0
    for path in base.glob("*/*/*.json"):
        json.loads(path.read_text(encoding="utf-8"))
        n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--keep", default=None, help="keep the generated folder here")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="esus-bench-catalog-"))
    base = work / "execucoes"
    try:
        gen_s, _ = timed(generate, base, args.sites, args.runs)
        print(f"gerado: {args.sites} sites × {args.runs} execuções em {gen_s:.1f} s")
        base_s, n_files = timed(read_all, base)
        cat = catalog_path(base)
        folders = run_folders(base)
        imp_s, _ = timed(import_folders, folders, cat)
        again_s, _ = timed(import_folders, folders, cat)
        conn = connect(cat)
        rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("runs", "run_sites", "stage_results", "checks")}
        dash_s, (_, info) = timed(write_dashboard, conn, work / "painel" / "painel.html")
        dos_s, _ = timed(write_dossier, conn, "site-00007", work / "dossie.html")
        conn.close()
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "esus_runbook", "painel", "--execucoes",
                               str(base), "--saida", str(work / "painel2" / "painel.html")],
                              capture_output=True, text=True)
        cli_s = time.perf_counter() - t
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        size = sum(p.stat().st_size for p in base.glob("catalogo.sqlite*"))
        print(f"linhas: {rows}")
        print(f"baseline (ler {n_files} JSON):      {base_s:6.2f} s")
        print(f"importar (catálogo novo):           {imp_s:6.2f} s "
              f"({imp_s / base_s:.1f}× a baseline)")
        print(f"importar de novo (idempotente):     {again_s:6.2f} s")
        print(f"painel (em processo):               {dash_s:6.2f} s  {info}")
        print(f"painel (comando, novo processo):    {cli_s:6.2f} s  "
              f"(meta ≤ {GOAL_DASHBOARD_S:.0f} s: {'OK' if cli_s <= GOAL_DASHBOARD_S else 'NÃO'})")
        print(f"dossiê de um site:                  {dos_s:6.2f} s")
        print(f"catálogo: {size / 1e6:.1f} MB")
        return 0 if cli_s <= GOAL_DASHBOARD_S else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
