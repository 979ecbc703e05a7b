"""Benchmark of the server probe and the ambiente stage, each next to a baseline measured in
the same run.

    .venv/bin/python benchmarks/probe.py [--disk-mb 256] [--sites 200]

1. probe collection: ``probe.collect()`` (parts in parallel under one deadline) vs the same
   parts run one after another (baseline); the budget is 3 s.
2. disk speed: ``--velocidade-disco`` (write+fsync, read with O_DIRECT) vs ``dd`` doing the same
   (``conv=fsync`` / ``iflag=direct``) on the same folder: the figures should agree.
3. stage evaluation: ``evaluate("ambiente")`` per site from a recorded probe file vs
   ``evaluate("cenario")`` (the lightest stage) as baseline.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from esus_runbook import probe  # noqa: E402
from esus_runbook.probe import _parts, diskspeed  # noqa: E402
from esus_runbook.probe import facts as facts_mod  # noqa: E402


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def sequential_parts(parts, deadline_s, errors):
    """Baseline: the same parts, one after another, no deadline."""
    results = {}
    for name, fn in parts.items():
        try:
            results[name] = fn()
        except Exception as exc:  # noqa: BLE001
            errors[name] = _parts.describe(exc)
    return results


def bench_collect(repeat: int) -> None:
    folder = tempfile.mkdtemp()
    try:
        probe.collect(install_path=folder)  # warm imports
        ours = timed(lambda: probe.collect(install_path=folder), repeat)
        original = facts_mod.run_parallel
        facts_mod.run_parallel = sequential_parts
        try:
            base = timed(lambda: probe.collect(install_path=folder), repeat)
        finally:
            facts_mod.run_parallel = original
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{'coleta da sondagem (s)':40} {'paralela':>12} {'sequencial':>12} {'limite':>8}")
    print(f"{'  mediana de ' + str(repeat):40} {statistics.median(ours):12.3f} "
          f"{statistics.median(base):12.3f} {3.0:8.1f}")
    print(f"{'  máximo':40} {max(ours):12.3f} {max(base):12.3f}")


def _dd(*args: str) -> float | None:
    """MB/s reported by one dd run (None without dd)."""
    dd = shutil.which("dd")
    if dd is None:
        return None
    proc = subprocess.run([dd, *args], capture_output=True, text=True)
    m = re.search(r"^(\d+) bytes.*copied, (\d+(?:[.,]\d+)?) s", proc.stderr, re.M)
    return int(m.group(1)) / 1048576 / float(m.group(2).replace(",", ".")) if m else None


def bench_disk(size_mb: int, rounds: int = 3) -> None:
    """Alternate the probe and dd on the same folder (shared disks are noisy) and report
    medians. dd writes the same kind of data (random, from a cached file) with conv=fsync and
    reads with iflag=direct; a dd of zeros shows why the probe writes random data (virtual
    disks and compressing file systems store zeros for free)."""
    folder = tempfile.mkdtemp()
    src, target = Path(folder) / "src.tmp", Path(folder) / "dd.tmp"
    src.write_bytes(os.urandom(size_mb * 1048576))
    rows: dict[str, list[float]] = {k: [] for k in ("w", "r", "dd_w", "dd_r", "dd_zero")}
    method = "?"
    try:
        for _ in range(rounds):
            ours = diskspeed.measure(folder, size_mb)
            method = ours["read_method"]
            rows["w"].append(ours["write_mb_s"])
            rows["r"].append(ours["read_mb_s"])
            for key, args in (("dd_w", (f"if={src}", f"of={target}", "bs=1M", "conv=fsync")),
                              ("dd_r", (f"if={target}", "of=/dev/null", "bs=1M",
                                        "iflag=direct")),
                              ("dd_zero", ("if=/dev/zero", f"of={target}", "bs=1M",
                                           f"count={size_mb}", "conv=fsync"))):
                v = _dd(*args)
                if v is not None:
                    rows[key].append(v)
            target.unlink(missing_ok=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def f(values):
        return f"{statistics.median(values):12.1f}" if values else f"{'n/d':>12}"

    print(f"\n{f'velocidade do disco, {size_mb} MB, mediana de {rounds} (MB/s)':40} "
          f"{'--velocidade-disco':>12} {'dd':>12}")
    print(f"{'  gravação com fsync (dados aleatórios)':40} {f(rows['w'])} {f(rows['dd_w'])}")
    print(f"{'  leitura sem cache (' + method + ')':40} {f(rows['r'])} {f(rows['dd_r'])}")
    print(f"{'  gravação com fsync de zeros (só dd)':40} {'':>12} {f(rows['dd_zero'])}")


def bench_stage(n_sites: int) -> None:
    from esus_runbook.sites.loading import validate_site
    from esus_runbook.stages import StageContext, evaluate

    probe_file = ROOT / "tests" / "data" / "probes" / "linux-ok.json"
    with tempfile.TemporaryDirectory() as tmp:
        sites = [validate_site({"site_id": f"s{i}", "nome": "S", "municipio_ibge": "2927408",
                                "cenario": {"usuarios_simultaneos": 10 + i % 3000},
                                "ambiente": {"probe": str(probe_file), "passmark": 6500}},
                               source=Path(tmp) / "s.yaml") for i in range(n_sites)]
        ctx = StageContext()
        evaluate("ambiente", sites[0], ctx)
        evaluate("cenario", sites[0], ctx)
        t0 = time.perf_counter()
        for s in sites:
            evaluate("ambiente", s, ctx)
        amb = (time.perf_counter() - t0) / n_sites
        t0 = time.perf_counter()
        for s in sites:
            evaluate("cenario", s, ctx)
        cen = (time.perf_counter() - t0) / n_sites
    print(f"\n{'etapa por site, ' + str(n_sites) + ' sites (ms)':40} {'ambiente':>12} "
          f"{'cenario':>12}")
    print(f"{'  média':40} {amb * 1000:12.2f} {cen * 1000:12.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--disk-mb", type=int, default=256)
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    bench_collect(args.repeat)
    bench_disk(args.disk_mb)
    bench_stage(args.sites)


if __name__ == "__main__":
    main()
