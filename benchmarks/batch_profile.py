"""Where a site's time goes in a batch: the batch run in this process, instrumented.

    .venv/bin/python benchmarks/batch_profile.py [--sites 12] [--workers 2] [--kernel-por-notebook]

Runs ``run_batch`` on the same inventory as ``benchmarks/batch.py`` (demo sites copied, PEC
simulator running) with timers around the engine's steps, and prints:

- wall time spent in each step of the batch process (summed over the site threads: with 2
  workers the sum exceeds the run's wall time), and the CPU of the batch process;
- the CPU each kernel spent on its notebooks' cells, on drawing the stage charts and on the
  namespace reset between notebooks (psutil, per step), and its total per site;
- the cells' own durations as papermill recorded them in the executed notebooks.

On a machine with 2 cores and 2 workers the batch is CPU-bound: the CPU figures add up to
the wall time × 2 at best, and they are what a change must lower.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import batch as bench  # noqa: E402  (benchmarks/batch.py: inventory, simulator)
import papermill.clientwrap as pm_client  # noqa: E402
import papermill.engines as pm_engines  # noqa: E402
import papermill.execute as pm_execute  # noqa: E402

import esus_runbook.catalog as catalog  # noqa: E402
import esus_runbook.report as report  # noqa: E402
from esus_runbook.batch import execution, runner, site_engine, site_task  # noqa: E402
from esus_runbook.batch.options import BatchOptions  # noqa: E402

WALL: dict[str, float] = collections.defaultdict(float)
CPU: dict[str, float] = collections.defaultdict(float)
COUNT: collections.Counter = collections.Counter()
LOCK = threading.Lock()


def timed(owner, name: str, label: str) -> None:
    """Wrap ``owner.name`` so its wall time adds to ``label``."""
    fn = getattr(owner, name)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            with LOCK:
                WALL[label] += time.perf_counter() - t
                COUNT[label] += 1

    setattr(owner, name, wrapper)


def kernel_cpu(pid: int | None) -> float:
    try:
        c = psutil.Process(pid).cpu_times()
        return c.user + c.system
    except (psutil.Error, TypeError, ValueError):
        return 0.0


def kernel_timed(owner, name: str, label, pid_of) -> None:
    """Wrap ``owner.name`` so the CPU its kernel spent meanwhile adds to ``label``."""
    fn = getattr(owner, name)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        pid = pid_of(*args)
        c = kernel_cpu(pid)
        try:
            return fn(*args, **kwargs)
        finally:
            key = label(*args) if callable(label) else label
            with LOCK:
                CPU[key] += kernel_cpu(pid) - c
                COUNT[key] += 1

    setattr(owner, name, wrapper)


def instrument() -> list[tuple[int, float]]:
    timed(pm_execute, "load_notebook_node", "papermill: ler e validar o notebook")
    timed(pm_execute, "parameterize_notebook", "papermill: injetar parâmetros")
    timed(pm_execute, "write_ipynb", "papermill: gravar o notebook executado")
    timed(pm_engines.NotebookExecutionManager, "save", "papermill: gravações intermediárias")
    timed(site_engine.SiteKernel, "__init__", "kernel: iniciar (fork do zigoto ou processo)")
    timed(site_engine.SiteKernel, "client", "kernel: esperar responder")
    timed(execution, "fresh_namespace", "kernel: limpar o espaço de nomes")
    timed(site_engine.SiteKernel, "run_silently", "kernel: desenhar os gráficos")
    timed(site_task, "draw_charts", "lote: gráficos (um kernel por notebook)")
    timed(site_task, "execute_notebook", "notebook inteiro (execute_notebook)")
    timed(report, "write_rollup", "consolidado (write_rollup)")
    timed(catalog, "record_after_batch", "catálogo (record_after_batch)")
    kernel_timed(site_engine.SiteKernel, "run_silently", "CPU do kernel: gráficos",
                 lambda self, *a: self.pid)
    kernel_timed(pm_client.PapermillNotebookClient, "papermill_execute_cells",
                 lambda self: "CPU do kernel: células de " + os.path.basename(
                     self.nb.metadata.papermill.get("input_path") or "?"),
                 lambda self: self.km.provisioner.pid)
    reset = execution.fresh_namespace

    def fresh_namespace(client, cwd):
        pid = client.km.provisioner.pid
        c = kernel_cpu(pid)
        try:
            return reset(client, cwd)
        finally:
            with LOCK:
                CPU["CPU do kernel: limpar o espaço de nomes"] += kernel_cpu(pid) - c
                COUNT["CPU do kernel: limpar o espaço de nomes"] += 1

    execution.fresh_namespace = fresh_namespace
    totals: list[tuple[int, float]] = []
    close = site_engine.SiteKernel.close

    def close_and_count(self):
        totals.append((self.notebooks, kernel_cpu(self.pid)))
        return close(self)

    site_engine.SiteKernel.close = close_and_count
    return totals


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kernel-por-notebook", action="store_true")
    args = ap.parse_args(argv)
    os.environ.update(bench.demo_env())
    totals = instrument()
    with tempfile.TemporaryDirectory(prefix="esus-perfil-") as tmp:
        folder = Path(tmp)
        inventory = bench.make_inventory(folder, args.sites)
        simulator = bench.start_pec_simulator(folder)
        try:
            c0, t0 = os.times(), time.perf_counter()
            summary = runner.run_batch(inventory, BatchOptions(
                out=folder / "out", workers=args.workers, progress=False,
                kernel_per_notebook=args.kernel_por_notebook))
            wall, c1 = time.perf_counter() - t0, os.times()
        finally:
            if simulator is not None:
                simulator.terminate()
                simulator.wait(timeout=30)
        cells: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
        for path in summary.run_dir.glob("[!_]*/*.ipynb"):
            nb = json.loads(path.read_text(encoding="utf-8"))
            for i, cell in enumerate(nb["cells"]):
                if cell["cell_type"] == "code":
                    tags = cell["metadata"].get("tags", [])
                    name = "parâmetros" if "injected-parameters" in tags else f"célula {i}"
                    duration = cell["metadata"].get("papermill", {}).get("duration")
                    if "parameters" not in tags and duration is not None:
                        cells[(path.name, name)].append(duration)
    own = c1.user - c0.user + c1.system - c0.system
    reaped = c1.children_user - c0.children_user + c1.children_system - c0.children_system
    print(f"{args.sites} sites, {args.workers} workers, "
          f"{'um kernel por notebook' if args.kernel_por_notebook else 'um kernel por site'}:"
          f" {wall:.1f} s de parede; CPU do processo do lote {own:.1f} s, dos processos "
          f"filhos encerrados (kernels, zigoto, simulador) {reaped:.1f} s")
    print("\nProcesso do lote, tempo de parede somado nas threads dos sites:")
    for label in sorted(WALL, key=lambda k: -WALL[k]):
        print(f"  {label:48}{WALL[label]:8.2f} s  n={COUNT[label]:<4}"
              f"{WALL[label] / COUNT[label] * 1000:8.1f} ms cada")
    if CPU:
        print("\nCPU dos kernels:")
        for label in sorted(CPU, key=lambda k: -CPU[k]):
            print(f"  {label:48}{CPU[label]:8.2f} s  n={COUNT[label]:<4}"
                  f"{CPU[label] / COUNT[label] * 1000:8.1f} ms cada")
    if totals:
        per_site = [c for _, c in totals]
        print(f"  CPU total por kernel de site: média {sum(per_site) / len(per_site):.2f} s "
              f"(mín. {min(per_site):.2f}, máx. {max(per_site):.2f}; {len(per_site)} kernels)")
    print("\nCélulas (duração registrada pelo papermill, média):")
    for (name, cell), values in sorted(cells.items()):
        print(f"  {name:24}{cell:12}{sum(values) / len(values) * 1000:8.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
