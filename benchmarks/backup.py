"""Backup evidence on a large dump, beside ``pg_restore --list`` alone on the same file.

Starts the tests' PostgreSQL (``tests/support/servers.py``), fills a PEC-like database (the tables of
``tests/test_backup.py``) until ``pg_dump -Fc -Z0`` writes about ``--mb`` megabytes (default
1024), then measures, in the same run and on the same file: ``pg_restore --list`` alone,
``sha256sum`` and ``openssl dgst -sha256`` alone (the floor of any evidence that records the
hash: one full read) and the
whole backup evidence (:func:`esus_runbook.upkeep.backup.evidence` on this machine's shell).
Best of ``--rounds``.

    python benchmarks/backup.py --mb 1024 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]


def best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)

    from esus_runbook.results import Checks
    from esus_runbook.upkeep.backup import evidence
    from esus_runbook.upkeep.shell import LocalShell
    from tests.support.servers import _start_postgres, _stop_postgres
    from tests.support.upkeep import PEC_DDL

    pg = _start_postgres()
    folder = Path(tempfile.mkdtemp(prefix="esus-bench-backup-"))
    try:
        pg.execute('CREATE DATABASE "bench" OWNER esus')
        rows = max(1, args.mb * 1024 * 1024 // 270)  # ~270 bytes per tb_prof row in the dump
        with pg.connect("bench") as conn:
            for statement in PEC_DDL.split(";"):
                if statement.strip() and "INSERT INTO tb_prof" not in statement:
                    conn.execute(statement)
            conn.execute("INSERT INTO tb_prof SELECT g, lpad(g::text, 11, '0'), NULL, "
                         "repeat(md5(g::text), 7) FROM generate_series(1, %s) g", (rows,))
        dump = folder / "esus-bench.backup"
        env = {**os.environ, "PGPASSWORD": pg.superuser_password}
        subprocess.run([str(pg.bin / "pg_dump"), "-Fc", "-Z0", "-h", pg.host, "-p",
                        str(pg.port), "-U", "postgres", "-f", str(dump), "bench"], env=env,
                       check=True)
        os.chmod(dump, 0o600)
        size = dump.stat().st_size
        pgr = str(pg.bin / "pg_restore")
        site = {"backup": {"pasta": str(folder), "padrao": "esus-*.backup", "janela_horas": 24,
                           "copia_externa": True, "pg_restore": pgr},
                "cenario": {"backup_automatizado": True}}
        listing = best(lambda: subprocess.run([pgr, "--list", str(dump)], check=True,
                                              capture_output=True), args.rounds)
        sha = best(lambda: subprocess.run(["sha256sum", str(dump)], check=True,
                                          capture_output=True), args.rounds)
        ossl = best(lambda: subprocess.run(["openssl", "dgst", "-sha256", "-r", str(dump)],
                                           check=True, capture_output=True), args.rounds) \
            if shutil.which("openssl") else None
        last: list[Checks] = []

        def measure() -> None:
            last[:] = [Checks()]
            evidence(LocalShell(), site, last[0])

        full = best(measure, args.rounds)
        statuses = {c.id: c.status.value for c in last[0]}
        print(f"dump: {size / 1e6:.0f} MB ({size} bytes); melhor de {args.rounds}")
        print(f"pg_restore --list sozinho: {listing:.3f} s")
        print(f"sha256sum sozinho (piso de qualquer evidência com o hash): {sha:.3f} s")
        if ossl is not None:
            print(f"openssl dgst -sha256 sozinho (o hash que a evidência usa): {ossl:.3f} s")
        print(f"evidência completa do backup: {full:.3f} s")
        floor = ossl if ossl is not None else sha
        print(f"razão evidência / --list: {full / listing:.1f}x; evidência / sha256sum: "
              f"{full / sha:.2f}x; evidência / hash usado: {full / floor:.2f}x")
        print(f"verificações: {statuses}")
    finally:
        _stop_postgres(pg)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
