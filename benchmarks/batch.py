"""Batch throughput: one kernel per site against one kernel per notebook and the papermill
floor.

    .venv/bin/python benchmarks/batch.py [--sites 12] [--workers 2] [--reps 5] [--dask]

Builds an inventory of ``--sites`` sites from the demo sites (same inputs, distinct site ids)
and runs ``esus-runbook lote`` on it as a user would (a separate process, wall time measured
from outside; the demo's PEC simulator runs meanwhile, as in ``make demo``) with the default
engine (one warm kernel per site, forked from the kernel zygote) and with
``--kernel-por-notebook`` (the earlier engine), for
1 worker and for ``--paralelos``. Printed beside them, measured in the same run:

    floor = notebook executions × (bare papermill time of an empty notebook, same kernel)
            / workers

— what any engine that starts a fresh kernel per notebook must pay. The empty notebook has the
same parameters cell the stage notebooks have and one empty code cell; it is timed with plain
``papermill.execute_notebook`` (default settings), median of ``--reps`` runs before and
``--reps`` after the batches. Target: with ``--paralelos`` workers, the site engine gives ≥ 3×
the sites per hour of the per-notebook engine.

Also printed: time per notebook by stage as the batch measured it, and what importing
``esus_runbook.notebook`` and each stage module costs in a fresh interpreter that already
holds what a kernel holds (IPython, ipykernel), with the heavy packages each one pulls in —
the numbers to watch when stage modules change. ``--dask`` repeats the batch on a Dask
cluster (scheduler and two one-thread workers started on 127.0.0.1). Where the time of a
site goes, step by step: ``benchmarks/batch_profile.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from esus_runbook.net import free_port

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET = 3.0  # sites/hour of the site engine ÷ sites/hour of the per-notebook engine
HEAVY = ("pandas", "numpy", "matplotlib", "lxml", "requests", "psycopg", "jinja2", "ruamel",
         "scipy", "PIL", "urllib3")


def demo_env() -> dict[str, str]:
    from tests.support.project import read_env_file

    return read_env_file(ROOT / "examples" / "demo.env")


def make_inventory(folder: Path, n: int) -> Path:
    """``n`` sites cycling through the demo sites (absolute paths, distinct site ids)."""
    from esus_runbook.sites.loading import load_sites

    demo = load_sites(ROOT / "examples" / "inventario.yaml")
    items = []
    extra: dict = {}
    for i in range(n):
        base = demo[i % len(demo)]
        data = base.to_json()
        extra.update(data.pop("_extra", {}) or {})
        data.pop("_source", None)
        data["site_id"] = f"{base.site_id}-{i + 1:02d}"
        data["nome"] = f"{base.nome} {i + 1:02d}"
        items.append(data)
    inv = {"sites": items, **extra}
    path = folder / "inventario.yaml"
    path.write_text(json.dumps(inv, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


FLOOR_SCRIPT = r"""
import json, sys, time
from pathlib import Path
import nbformat, papermill as pm
folder, reps = Path(sys.argv[1]), int(sys.argv[2])
nb = nbformat.v4.new_notebook()
nb.metadata.kernelspec = {"name": "esus-runbook", "display_name": "Python (esus-runbook)",
                          "language": "python"}
params = nbformat.v4.new_code_cell(
    "site_file = None\nsite_id = None\nrun_dir = None\ninteractive = True")
params.metadata["tags"] = ["parameters"]
nb.cells = [params, nbformat.v4.new_code_cell("")]
nbformat.write(nb, folder / "vazio.ipynb")
values = {"site_file": str(folder / "x.json"), "site_id": "x", "run_dir": str(folder),
          "interactive": False}
out = []
for i in range(reps + 1):
    t = time.perf_counter()
    pm.execute_notebook(str(folder / "vazio.ipynb"), str(folder / "vazio-out.ipynb"),
                        parameters=values, kernel_name="esus-runbook", progress_bar=False)
    if i:  # the first run warms the page cache and the kernel's bytecode
        out.append(time.perf_counter() - t)
print(json.dumps(out))
"""

PARALLEL_SCRIPT = r"""
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import papermill as pm
folder, n, workers = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
values = {"site_file": "x", "site_id": "x", "run_dir": str(folder), "interactive": False}
failures = []
def one(i):
    for _ in range(3):  # plain papermill in parallel sometimes loses a TCP port race
        try:
            return pm.execute_notebook(str(folder / "vazio.ipynb"),
                                       str(folder / f"par-{i % workers}.ipynb"),
                                       parameters=values, kernel_name="esus-runbook",
                                       progress_bar=False)
        except Exception as exc:
            failures.append(f"{exc.__class__.__name__}: {str(exc)[:80]}")
one(0)
t = time.perf_counter()
with ThreadPoolExecutor(workers) as pool:
    list(pool.map(one, range(n)))
print(json.dumps({"seconds": time.perf_counter() - t, "failures": failures}))
"""

IMPORT_SCRIPT = r"""
import json, sys, time
import IPython, ipykernel.ipkernel, ipykernel.kernelapp  # what a kernel already holds
before = set(sys.modules)
t = time.perf_counter()
import esus_runbook.notebook
t1 = time.perf_counter()
mods = set(sys.modules)
stage = sys.argv[1]
if stage != "-":
    from esus_runbook import stages
    stages.module(stage)
t2 = time.perf_counter()
new = {m.split(".")[0] for m in set(sys.modules) - before}
print(json.dumps({"notebook": t1 - t, "stage": t2 - t1, "new": sorted(new)}))
"""


def floor_times(folder: Path, reps: int) -> list[float]:
    out = subprocess.run([sys.executable, "-c", FLOOR_SCRIPT, str(folder), str(reps)],
                         capture_output=True, text=True, check=True, cwd=folder)
    return json.loads(out.stdout.strip().splitlines()[-1])


def parallel_empty(folder: Path, n: int, workers: int) -> float:
    """``n`` empty notebooks, ``workers`` at a time, plain papermill on threads: what this
    machine really gets from ``workers`` kernels in parallel (informative). Plain papermill
    uses TCP kernels, whose ports two managers can pick at the same time: failed runs are
    retried (the time counts) and reported."""
    out = subprocess.run([sys.executable, "-c", PARALLEL_SCRIPT, str(folder), str(n),
                          str(workers)], capture_output=True, text=True, check=True, cwd=folder)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    if data["failures"]:
        print(f"  (papermill puro em paralelo: {len(data['failures'])} execuções falharam e "
              f"foram repetidas — {data['failures'][0]})")
    return float(data["seconds"])


def import_profile() -> list[tuple[str, float, float, list[str]]]:
    from esus_runbook.results import STAGES

    rows = []
    for stage in ("-", *STAGES):
        out = subprocess.run([sys.executable, "-c", IMPORT_SCRIPT, stage], capture_output=True,
                             text=True, check=True)
        d = json.loads(out.stdout.strip().splitlines()[-1])
        heavy = [m for m in HEAVY if m in d["new"]]
        rows.append((stage, d["notebook"], d["stage"], heavy))
    return rows


def start_pec_simulator(folder: Path) -> subprocess.Popen | None:
    """The demo's PEC simulator (examples/pec_simulado.py, 127.0.0.1:18080/18081), as
    ``make demo`` runs it, so the installation stage has real HTTP checks to make."""
    script = ROOT / "examples" / "pec_simulado.py"
    if not script.exists():
        return None
    ready = folder / "simulador.pronto"
    proc = subprocess.Popen([sys.executable, str(script), "--pronto", str(ready)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if ready.exists() or proc.poll() is not None:
            break
        time.sleep(0.1)
    if not ready.exists():
        proc.kill()
        print("aviso: o simulador de PEC não iniciou (portas 18080/18081 ocupadas?); a etapa "
              "de instalação vai medir conexões recusadas")
        return None
    return proc


def start_dask(folder: Path, workers: int) -> tuple[str, list[subprocess.Popen]]:
    bindir = Path(sys.executable).parent
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(folder / "dask.log", "w")  # noqa: SIM115
    procs = [subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1",
                               "--port", str(port), "--dashboard-address", ":0",
                               "--no-show"], stdout=log, stderr=subprocess.STDOUT)]
    time.sleep(2)
    for _ in range(workers):
        procs.append(subprocess.Popen(
            [str(bindir / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "1",
             "--host", "127.0.0.1", "--dashboard-address", ":0", "--no-nanny",
             "--local-directory", str(folder / "dask-worker")],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **demo_env()}))
    from distributed import Client

    with Client(address, timeout=30) as c:
        c.wait_for_workers(workers, timeout=60)
    return address, procs


def run_batch(inventory: Path, out: Path, workers: int, scheduler: str | None,
              per_notebook: bool = False) -> dict:
    cmd = [sys.executable, "-m", "esus_runbook", "lote", str(inventory), "--execucoes", str(out),
           "--paralelos", str(workers), "--sem-progresso"]
    if scheduler:
        cmd += ["--agendador", scheduler]
    if per_notebook:
        cmd += ["--kernel-por-notebook"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **demo_env()})
    wall = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise SystemExit(f"batch falhou (código {proc.returncode}):\n{proc.stderr}")
    run = max((p for p in out.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    meta = json.loads((run / "run.json").read_text(encoding="utf-8"))
    return {"wall": wall, "meta": meta, "stderr": proc.stderr}


def per_stage(meta: dict) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for site in meta["sites"].values():
        for nb in site.get("notebooks", []):
            if not nb.get("skipped"):
                out.setdefault(nb.get("stage") or nb.get("name"), []).append(nb["seconds"])
    return out


def report(label: str, sites: int, workers: int, res: dict, floor_nb: float,
           parallel: float | None) -> float:
    meta = res["meta"]
    executed = sum(1 for s in meta["sites"].values() for nb in s.get("notebooks", [])
                   if not nb.get("skipped"))
    floor = executed * floor_nb / workers
    wall = res["wall"]
    ratio = wall / floor
    print(f"\n[{label}] {sites} sites × 7 notebooks = {executed} execuções, {workers} workers")
    print(f"  {'':34}{'segundos':>10}")
    print(f"  {'piso (execuções × vazio / workers)':34}{floor:>10.1f}")
    if parallel is not None:
        print(f"  {'vazios em paralelo (papermill puro)':34}{parallel:>10.1f}   "
              f"{parallel / floor:.2f}× o piso  (o que a máquina rende com {workers} kernels)")
    print(f"  {'batch (parede, processo do CLI)':34}{wall:>10.1f}   {ratio:.2f}× o piso")
    print(f"  {'batch (run.json, sem iniciar o CLI)':34}{meta['duration_s']:>10.1f}")
    print(f"  sites/hora: {sites / wall * 3600:,.0f}   (piso: {sites / floor * 3600:,.0f})"
          .replace(",", "."))
    kernels = len({nb.get("kernel_pid") for s in meta["sites"].values()
                   for nb in s.get("notebooks", []) if not nb.get("skipped")})
    print(f"  kernels iniciados: {kernels}")
    print("  tempo por notebook, medido pelo batch (média, com "
          f"{workers} em paralelo; piso sequencial = {floor_nb:.2f} s):")
    for stage, values in per_stage(meta).items():
        print(f"    {stage:14}{statistics.mean(values):6.2f} s  (n={len(values)})")
    return ratio


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--dask", action="store_true", help="repete o lote num cluster Dask local")
    args = ap.parse_args(argv)
    if args.sites < 12:
        ap.error("use ao menos 12 sites")
    counts = sorted({1, args.workers})
    with tempfile.TemporaryDirectory(prefix="esus-bench-") as tmp:
        folder = Path(tmp)
        inventory = make_inventory(folder, args.sites)
        print(f"esus-runbook lote: {args.sites} sites, {args.workers} workers, "
              f"{os.cpu_count()} CPUs, carga média {os.getloadavg()[0]:.2f}")
        simulator = start_pec_simulator(folder)
        before = floor_times(folder, args.reps)
        runs: dict[tuple[str, int], dict] = {}
        for workers in counts:  # the two engines back to back, so a load change hits both
            for engine in ("notebook", "site"):
                runs[(engine, workers)] = run_batch(inventory, folder / f"{engine}-{workers}",
                                                    workers, None, engine == "notebook")
        parallel = parallel_empty(folder, args.sites * 7, args.workers)
        dask = None
        if args.dask:
            address, procs = start_dask(folder, args.workers)
            try:
                dask = run_batch(inventory, folder / "dask", args.workers, address)
            finally:
                for p in procs[::-1]:
                    p.terminate()
                for p in procs:
                    p.wait(timeout=30)
        if simulator is not None:
            simulator.terminate()
            simulator.wait(timeout=30)
        after = floor_times(folder, args.reps)
        floor_nb = statistics.median(before + after)
        print(f"papermill, notebook vazio, kernel esus-runbook: mediana {floor_nb:.3f} s "
              f"(antes {statistics.median(before):.3f} s, depois "
              f"{statistics.median(after):.3f} s; {len(before) + len(after)} execuções)")
        for workers in counts:
            report(f"um kernel por site, {workers} worker(s)", args.sites, workers,
                   runs[("site", workers)], floor_nb,
                   parallel if workers == args.workers else None)
            report(f"--kernel-por-notebook, {workers} worker(s)", args.sites, workers,
                   runs[("notebook", workers)], floor_nb, None)
        if dask is not None:
            report("dask, um kernel por site", args.sites, args.workers, dask, floor_nb, None)
        noisy = [line for r in runs.values() for line in r["stderr"].splitlines()
                 if "without encryption" in line or "Traceback" in line]
        print(f"\n  linhas de aviso/traceback no stderr dos lotes: {len(noisy)}")
    print(f"\nSites por hora ({args.sites} sites; carga média ao fim "
          f"{os.getloadavg()[0]:.2f}):")
    print(f"  {'workers':>8}{'piso papermill':>16}{'kernel/notebook':>17}"
          f"{'kernel/site':>13}{'ganho':>8}")
    gain = 0.0
    for workers in counts:
        floor_rate = args.sites / (args.sites * 7 * floor_nb / workers) * 3600
        old = args.sites / runs[("notebook", workers)]["wall"] * 3600
        new = args.sites / runs[("site", workers)]["wall"] * 3600
        gain = new / old
        print(f"  {workers:>8}{floor_rate:>16,.0f}{old:>17,.0f}{new:>13,.0f}{gain:>7.2f}×"
              .replace(",", "."))
    print(f"  meta: ≥ {TARGET:g}× com {args.workers} workers — "
          f"{'OK' if gain >= TARGET else 'ABAIXO'}")
    print("\nCusto de importação num kernel novo (IPython e ipykernel já carregados):")
    print(f"  {'etapa':14}{'notebook':>10}{'etapa':>9}   pacotes pesados carregados")
    for stage, nb_s, st_s, heavy in import_profile():
        name = "(só notebook)" if stage == "-" else stage
        print(f"  {name:14}{nb_s * 1000:>8.0f}ms{st_s * 1000:>7.0f}ms   "
              f"{', '.join(heavy) or '—'}")
    return 0 if gain >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
