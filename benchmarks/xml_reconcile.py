"""Benchmark: ``xml reconcile`` of a capital-sized CNES file against one ``xml audit`` of it.

Generates the 200 000-professional file with the project's generator (as
``benchmarks/xml_audit.py`` does), starts a PostgreSQL exactly like the tests
(``tests/servers.py``), creates the PEC-like schema and imports the file into it the way
PEC's import does (``tests/pec_import.py``), then measures, each in its own subprocess,
interleaved round by round (best of ``--repeat``):

- audit: ``xml audit FILE --json`` (parse, every rule, summaries, JSON written) — the baseline;
- reconcile: ``xml reconcile FILE --db-url URL --json`` (parse, schema check, the five
  tables read with COPY, comparison, JSON written), which must find no difference.

Target: reconcile ≤ 2× one audit, measured in the same run. Run:
``flock /tmp/esus-heavy.lock .venv/bin/python benchmarks/xml_reconcile.py``
(``--professionals N``, ``--repeat N``, ``--keep DIR`` to keep the generated file).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
from xml_audit import generate, peak_rss_mb, run_audit  # noqa: E402

PASSWORD_VAR = "ESUS_BENCH_DB_SENHA"


def run_reconcile(path: str, db_url: str) -> dict:
    """What ``xml reconcile PATH --db-url URL --json FILE`` does."""
    from esus_runbook.reconcile import reconcile
    from esus_runbook.secret_refs import read_secret

    password = read_secret(PASSWORD_VAR, what="senha do banco")
    report = reconcile(path, db_url, password)
    t = time.perf_counter()
    out = Path(tempfile.mkdtemp(prefix="xml-bench-json-")) / "reconciliacao.json"
    report.write_json(out)
    json_seconds = time.perf_counter() - t
    size = out.stat().st_size
    os.unlink(out)
    os.rmdir(out.parent)
    return {"status": report.status, "differences": int(len(report.differences)),
            "pec": report.pec.get("counts"), "json_bytes": size,
            "seconds": {**report.seconds, "json": round(json_seconds, 3)}}


def child(mode: str, args: list[str]) -> None:
    import lxml.etree  # noqa: F401
    import pandas  # noqa: F401
    import psycopg  # noqa: F401

    import esus_runbook.cnes.audit  # noqa: F401
    import esus_runbook.reconcile  # noqa: F401

    t = time.perf_counter()
    info = run_audit(args[0]) if mode == "audit" else run_reconcile(args[0], args[1])
    seconds = time.perf_counter() - t
    print(json.dumps({"mode": mode, "seconds": seconds, "peak_rss_mb": peak_rss_mb(),
                      "info": info}))


def run_once(mode: str, args: list[str], env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", mode, *args],
                          capture_output=True, text=True, timeout=1800,
                          env={**os.environ, **env})
    if proc.returncode != 0:
        raise SystemExit(f"{mode} falhou:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def load_database(pg, path: Path) -> tuple[str, dict, float]:
    """A fresh database with the PEC-like schema and the file imported: (URL, counts, s)."""
    from esus_runbook.cnes.parser import parse
    from tests.pec_import import create_schema, import_xml

    pg.execute('CREATE DATABASE "esus_bench" OWNER esus')
    t = time.perf_counter()
    cf = parse(path)
    with pg.connect("esus_bench", user="esus", password=pg.esus_password) as conn:
        conn.execute("CREATE TABLE tb_config_sistema (co_config_sistema varchar(60) PRIMARY "
                     "KEY, ds_config_sistema varchar(255), ds_texto text, ds_inteiro bigint)")
        conn.execute("INSERT INTO tb_config_sistema VALUES ('VERSAOBANCODADOS', "
                     "'Versão do banco de dados', '5.5.24', NULL)")
        create_schema(conn)
        counts = import_xml(conn, cf)
        conn.execute("ANALYZE")
    return pg.url(db="esus_bench"), counts, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--professionals", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3,
                    help="rodadas de auditoria e reconciliação (vale a melhor de cada)")
    ap.add_argument("--keep", default=None, help="pasta para guardar o arquivo gerado")
    ap.add_argument("--child", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1:])
        return 0
    from tests.servers import _start_postgres, _stop_postgres

    with tempfile.TemporaryDirectory(prefix="xml-rec-bench-") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        big, gen_s = generate(args.professionals, folder)
        print(f"Arquivo gerado: {big.name} {big.stat().st_size / 1e6:.1f} MB em {gen_s:.1f} s")
        pg = _start_postgres()
        try:
            url, counts, load_s = load_database(pg, big)
            print(f"Banco de teste (PostgreSQL {pg.bin.parent.name}) carregado como a "
                  f"importação do PEC em {load_s:.1f} s: {counts}")
            env = {PASSWORD_VAR: pg.esus_password}
            runs: dict[str, list[dict]] = {"audit": [], "reconcile": []}
            for _ in range(args.repeat):
                runs["audit"].append(run_once("audit", [str(big)], env))
                runs["reconcile"].append(run_once("reconcile", [str(big), url], env))
        finally:
            _stop_postgres(pg)
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in runs.items()}
    a, r = best["audit"], best["reconcile"]
    print(f"\n{args.professionals:,} profissionais".replace(",", "."))
    print(f"{'comando':<44}{'tempo (s)':>11}{'pico RSS (MB)':>16}")
    for label, row in (("xml audit --json (base)", a), ("xml reconcile --db-url --json", r)):
        print(f"{label:<44}{row['seconds']:>11.2f}{row['peak_rss_mb']:>16.0f}")
    ratio = r["seconds"] / a["seconds"]
    print(f"\nreconciliação / auditoria (tempo): {ratio:.2f}x  (meta ≤ 2x) "
          f"{'OK' if ratio <= 2 else 'ACIMA DA META'}")
    print(f"todas as rodadas (s): auditoria {[round(x['seconds'], 2) for x in runs['audit']]}; "
          f"reconciliação {[round(x['seconds'], 2) for x in runs['reconcile']]}")
    print(f"etapas da reconciliação: {r['info']['seconds']}")
    print(f"etapas da auditoria: {a['info']['seconds']}")
    info = r["info"]
    print(f"reconciliação: situação {info['status']}, {info['differences']} diferença(s); "
          f"PEC: {info['pec']}")
    if info["status"] != "ok" or info["differences"]:
        print("ERRO: o banco carregado com o próprio arquivo deveria conferir (0 diferenças)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
