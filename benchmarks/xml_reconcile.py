"""Benchmark: ``xml reconcile`` of a capital-sized CNES file against one ``xml audit`` of it.

Generates the 200 000-professional file with the project's generator (as
``benchmarks/xml_audit.py`` does), starts a PostgreSQL exactly like the tests
(``tests/support/servers.py``), creates PEC's real schema and imports the file into it the way
PEC's import does (``tests/support/pec_import.py``), then measures, each in its own subprocess,
interleaved round by round (best of ``--repeat``):

- audit: ``xml audit FILE --json`` (parse, every rule, summaries, JSON written) — the baseline;
- reconcile: ``xml reconcile FILE --db-url URL --json`` (parse, schema check, the four
  tables read with COPY, comparison, JSON written), which must find no difference.

Target: reconcile ≤ 2× one audit, measured in the same run.

A PEC much larger than the file (a state-wide or capital PEC: ``--pec-professionals N``
professionals outside the file, ``--pec-lotacoes M`` of them with an active lotação in the
file's units, i.e. M ``PROFESSIONAL_ONLY_IN_PEC`` differences) measures the memory and the
JSON size; ``--baseline-ref REF`` runs the reconciliation of that git revision too, on its
own fixture layout loaded with the same rows, so "before" and "after" come from one run.

Run: ``flock /tmp/esus-heavy.lock .venv/bin/python benchmarks/xml_reconcile.py``
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


def run_once(mode: str, args: list[str], env: dict[str, str], script: Path | None = None
             ) -> dict:
    """One child; ``script``: another tree's copy of this benchmark (its own package)."""
    proc = subprocess.run([sys.executable, str(script or __file__), "--child", mode, *args],
                          capture_output=True, text=True, timeout=1800,
                          env={**os.environ, **env, "PYTHONDONTWRITEBYTECODE": "1"})
    if proc.returncode != 0:
        raise SystemExit(f"{mode} falhou:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# a load script run with sys.path = [the source tree]: PEC's schema and the import as that
# tree's tests/support/pec_import.py builds them, then the extra rows (argv: url password xml
# extra_professionals extra_lotacoes)
LOAD = r"""
import sys, psycopg
from esus_runbook.cnes.parser import parse
from tests.support.pec_import import create_schema, import_xml
url, password, xml, n_prof, n_lot = sys.argv[1:6]
with psycopg.connect(url, password=password) as conn:
    conn.execute("CREATE TABLE tb_config_sistema (co_config_sistema varchar(60) PRIMARY "
                 "KEY, ds_config_sistema varchar(255), ds_texto text, ds_inteiro bigint)")
    conn.execute("INSERT INTO tb_config_sistema VALUES ('VERSAOBANCODADOS', "
                 "'Versão do banco de dados', '5.5.24', NULL)")
    create_schema(conn)
    print(import_xml(conn, parse(xml)))
    conn.execute("INSERT INTO tb_prof (nu_cpf, nu_cns, no_profissional) SELECT "
                 "'P' || lpad(g::text, 10, '0'), 'C' || lpad(g::text, 14, '0'), 'EXTRA' "
                 "FROM generate_series(1, %s) g", (int(n_prof),))
    conn.execute("CREATE TEMP TABLE x AS SELECT p.co_seq_prof AS pid, "
                 "row_number() OVER (ORDER BY p.co_seq_prof) AS rn FROM tb_prof p "
                 "WHERE p.nu_cpf LIKE 'P%%' ORDER BY 1 LIMIT %s", (int(n_lot),))
    units = "(SELECT array_agg(co_seq_unidade_saude ORDER BY 1) FROM tb_unidade_saude)"
    unit = f"({units})[1 + mod(x.rn, array_length({units}, 1))]"
    cbo = "(SELECT min(co_cbo) FROM tb_cbo)"
    if conn.execute("SELECT to_regclass('tb_ator_papel')").fetchone()[0]:
        conn.execute("CREATE TEMP TABLE y AS SELECT x.*, nextval(pg_get_serial_sequence("
                     "'tb_ator_papel', 'co_seq_ator_papel')) AS aid FROM x")
        conn.execute("INSERT INTO tb_ator_papel (co_seq_ator_papel, no_tipo_ator_papel, "
                     "co_prof, st_ativo) SELECT aid, 'LOTACAO', pid, 1 FROM y")
        conn.execute(f"INSERT INTO tb_lotacao (co_ator_papel, co_prof, co_unidade_saude, "
                     f"co_cbo) SELECT y.aid, y.pid, {unit.replace('x.', 'y.')}, {cbo} FROM y")
    else:   # the layout of revisions before the real schema (tb_lotacao.st_ativo)
        conn.execute(f"INSERT INTO tb_lotacao (co_prof, co_unidade_saude, co_cbo) "
                     f"SELECT x.pid, {unit}, {cbo} FROM x")
    conn.execute("ANALYZE")
"""


def load_database(pg, path: Path, name: str, tree: Path, extra: tuple[int, int]
                  ) -> tuple[str, str, float]:
    """A fresh database with the schema and import of the source ``tree`` and the extra
    rows: (URL, the import's counts, seconds)."""
    pg.execute(f'CREATE DATABASE "{name}" OWNER esus')
    url = pg.url(db=name)   # no password in the URL: it goes as an argument
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", f"import sys; sys.path[:0] = [{str(tree)!r}]"
                           f"\n{LOAD}", url, pg.esus_password, str(path), str(extra[0]),
                           str(extra[1])], capture_output=True, text=True, timeout=3600,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if proc.returncode != 0:
        raise SystemExit(f"carga de {name} falhou:\n{proc.stderr[-2000:]}")
    return url, proc.stdout.strip().splitlines()[-1], time.perf_counter() - t


def export_tree(ref: str, folder: Path) -> Path:
    """The source tree of git revision ``ref`` (git archive; nothing is written in the
    working trees)."""
    out = folder / "baseline"
    out.mkdir()
    archive = subprocess.run(["git", "-C", str(HERE.parent), "archive", ref],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--professionals", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3,
                    help="rodadas de auditoria e reconciliação (vale a melhor de cada)")
    ap.add_argument("--keep", default=None, help="pasta para guardar o arquivo gerado")
    ap.add_argument("--pec-professionals", type=int, default=0,
                    help="profissionais a mais no PEC, fora do arquivo")
    ap.add_argument("--pec-lotacoes", type=int, default=0,
                    help="desses, quantos com uma lotação ativa numa unidade do arquivo")
    ap.add_argument("--baseline-ref", default=None,
                    help="revisão git a medir também (antes), no mesmo banco de dados")
    ap.add_argument("--child", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1:])
        return 0
    from tests.support.servers import _start_postgres, _stop_postgres

    extra = (args.pec_professionals, min(args.pec_lotacoes, args.pec_professionals))
    with tempfile.TemporaryDirectory(prefix="xml-rec-bench-") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        big, gen_s = generate(args.professionals, folder)
        print(f"Arquivo gerado: {big.name} {big.stat().st_size / 1e6:.1f} MB em {gen_s:.1f} s")
        base = export_tree(args.baseline_ref, Path(tmp)) if args.baseline_ref else None
        pg = _start_postgres()
        try:
            url, counts, load_s = load_database(pg, big, "esus_bench", HERE.parent, extra)
            print(f"Banco de teste (PostgreSQL {pg.bin.parent.name}) carregado como a "
                  f"importação do PEC em {load_s:.1f} s: {counts}; a mais no PEC: "
                  f"{extra[0]} profissionais, {extra[1]} lotações")
            if base is not None:
                base_url, base_counts, base_s = load_database(pg, big, "esus_bench_base", base,
                                                              extra)
                print(f"Banco da revisão {args.baseline_ref} (o leiaute dela) em "
                      f"{base_s:.1f} s: {base_counts}")
            env = {PASSWORD_VAR: pg.esus_password}
            runs: dict[str, list[dict]] = {"audit": [], "reconcile": [], "before": []}
            for _ in range(args.repeat):
                runs["audit"].append(run_once("audit", [str(big)], env))
                runs["reconcile"].append(run_once("reconcile", [str(big), url], env))
                if base is not None:
                    runs["before"].append(run_once(
                        "reconcile", [str(big), base_url], env,
                        base / "benchmarks" / "xml_reconcile.py"))
        finally:
            _stop_postgres(pg)
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in runs.items() if v}
    a, r = best["audit"], best["reconcile"]
    print(f"\n{args.professionals:,} profissionais no arquivo".replace(",", "."))
    print(f"{'comando':<48}{'tempo (s)':>11}{'pico RSS (MB)':>16}{'JSON (MB)':>12}")
    rows = [("xml audit --json (base)", a), ("xml reconcile --db-url --json", r)]
    if "before" in best:
        rows.append((f"xml reconcile em {args.baseline_ref} (antes)", best["before"]))
    for label, row in rows:
        size = (row["info"].get("json_bytes") or 0) / 1e6
        print(f"{label:<48}{row['seconds']:>11.2f}{row['peak_rss_mb']:>16.0f}{size:>12.1f}")
    ratio = r["seconds"] / a["seconds"]
    print(f"\nreconciliação / auditoria (tempo): {ratio:.2f}x  (meta ≤ 2x) "
          f"{'OK' if ratio <= 2 else 'ACIMA DA META'}")
    for k, v in runs.items():
        if v:
            print(f"rodadas {k} (s): {[round(x['seconds'], 2) for x in v]}; pico RSS (MB): "
                  f"{[round(x['peak_rss_mb']) for x in v]}")
    print(f"etapas da reconciliação: {r['info']['seconds']}")
    print(f"etapas da auditoria: {a['info']['seconds']}")
    info = r["info"]
    print(f"reconciliação: situação {info['status']}, {info['differences']} diferença(s) "
          f"listada(s); PEC: {info['pec']}")
    if "before" in best:
        b = best["before"]["info"]
        print(f"antes: situação {b['status']}, {b['differences']} diferença(s) listada(s)")
    if not extra[1] and (info["status"] != "ok" or info["differences"]):
        print("ERRO: o banco carregado com o próprio arquivo deveria conferir (0 diferenças)")
        return 1
    if extra[1] and info["status"] != "diferencas":
        print("ERRO: as lotações a mais no PEC deveriam aparecer como diferenças")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
