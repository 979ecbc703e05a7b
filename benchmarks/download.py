"""Benchmark: verified download of a large installer over a real local HTTP server.

For each size (default 64 MB and 512 MB) a file shaped like an installer is served by
``esus_runbook.demo.pec_simulator`` (its own process, sendfile) on 127.0.0.1, then fetched by

* the baseline, measured in the same run: ``curl -o FILE URL`` followed by ``sha256sum FILE``
  and ``unzip -tqq FILE`` (the ZIP's CRCs: the check the runbook also makes);
* ``esus-runbook baixar --sha256 H`` (the CLI as a user runs it, in a subprocess):
  streaming, SHA-256 while the bytes arrive, fsync, the ZIP's CRCs and the other checks
  before the rename.

Wall time is the median of ``--repeat`` runs; peak memory is each child process's own VmHWM
(``/proc/<pid>/status``, polled while it runs). Targets: our time ≤ 1.5× the baseline, peak memory < 200 MB whatever the
size. Run::

    .venv/bin/python benchmarks/download.py [--sizes 64,512] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from esus_runbook.demo.pec_simulator import write_installer
from esus_runbook.installer.verify import hash_file
from esus_runbook.net import free_port

ROOT = Path(__file__).resolve().parents[1]
NAME = "eSUS-AB-PEC-0.0.1-Linux64.jar"


def make_file(path: Path, mb: int) -> str:
    """An installer-shaped file (a valid ZIP, like a .jar); returns its SHA-256."""
    with path.open("wb") as fh:
        write_installer(fh, mb << 20, os.urandom(16))
    return hash_file(path).hexdigest()


def _vm_hwm(pid: int) -> int:
    """Peak RSS of the process's *own* memory (VmHWM, reset at exec), in bytes; 0 if gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_child(cmd: list[str], **kw) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in bytes, stdout) of one child process.

    The peak comes from polling ``/proc/<pid>/status`` VmHWM (a high-water mark of the child's
    own address space): ``wait4``'s ru_maxrss would include the parent's memory copied at
    fork time."""
    peak = 0
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, **kw)
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _vm_hwm(proc.pid))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out = proc.stdout.read().decode()  # type: ignore[union-attr]
    proc.wait()
    seconds = time.perf_counter() - t0
    done.set()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"falhou ({proc.returncode}): {' '.join(cmd)}\n{out}")
    return seconds, peak, out


def baseline(url: str, dest: Path, expected: str) -> tuple[float, int, str]:
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / NAME
    t1, m1, _ = run_child(["curl", "-sS", "-f", "-o", str(target), url])
    t2, m2, out = run_child(["sha256sum", str(target)])
    t3, m3, _ = run_child(["unzip", "-tqq", str(target)])
    return t1 + t2 + t3, max(m1, m2, m3), out.split()[0]


def ours(url: str, dest: Path, expected: str) -> tuple[float, int, str]:
    registry = dest.parent / f"{dest.name}-registro.csv"
    seconds, peak, out = run_child(
        [sys.executable, "-m", "esus_runbook", "baixar", "--url", url, "--versao-pec", "0.0.1",
         "--pasta", str(dest), "--registro", str(registry), "--sem-progresso", "--sha256",
         expected], cwd=ROOT)
    digest = next(line.split()[1] for line in out.splitlines() if line.startswith("SHA-256:"))
    return seconds, peak, digest


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="64,512", help="tamanhos em MB, separados por vírgula")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    if not all(shutil.which(t) for t in ("curl", "sha256sum", "unzip")):
        print("precisa de curl, sha256sum e unzip no PATH", file=sys.stderr)
        return 2
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="esus-bench-dl-"))
    serve = work / "servir"
    serve.mkdir()
    ready = work / "pronto"
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "esus_runbook.demo.pec_simulator", "--instancia",
                               f"{port}=0.0.1", "--servir", str(serve), "--pronto", str(ready)],
                              stdout=subprocess.DEVNULL, cwd=ROOT)
    rows = []
    try:
        for _ in range(100):
            if ready.exists():
                break
            time.sleep(0.1)
        else:
            raise SystemExit("o servidor local não iniciou")
        url = f"http://127.0.0.1:{port}/{NAME}"
        for mb in sizes:
            expected = make_file(serve / NAME, mb)
            results: dict[str, list[tuple[float, int]]] = {"base": [], "ours": []}
            for i in range(args.repeat):
                for kind, fn in (("base", baseline), ("ours", ours)):
                    dest = work / f"{kind}-{mb}-{i}"
                    seconds, peak, digest = fn(url, dest, expected)
                    assert digest == expected, (kind, digest, expected)
                    results[kind].append((seconds, peak))
                    shutil.rmtree(dest)
            row = {"mb": mb}
            for kind in ("base", "ours"):
                row[kind] = statistics.median(s for s, _ in results[kind])
                row[kind + "_mem"] = max(m for _, m in results[kind])
            rows.append(row)
            (serve / NAME).unlink()
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)

    print(f"Download + verificação (SHA-256) por HTTP em 127.0.0.1, mediana de {args.repeat} "
          f"execuções; CPUs: {os.cpu_count()}")
    print(f"{'tamanho':>8}  {'ferramenta':<34} {'tempo':>8} {'MB/s':>7} {'memória pico':>13}")
    ok = True
    for r in rows:
        for kind, label in (("base", "curl + sha256sum + unzip -t (ref.)"),
                            ("ours", "esus-runbook baixar (CLI)")):
            print(f"{r['mb']:>5} MB  {label:<34} {r[kind]:>7.2f}s {r['mb'] / r[kind]:>7.0f} "
                  f"{r[kind + '_mem'] / 2**20:>10.1f} MB")
        ratio = r["ours"] / r["base"]
        mem_ok = r["ours_mem"] < 200 * 2**20
        ok &= ratio <= 1.5 and mem_ok
        print(f"{'':>10}razão {ratio:.2f}× (meta ≤ 1,5×: {'atingida' if ratio <= 1.5 else 'NÃO'})"
              f"; memória {'< 200 MB' if mem_ok else '≥ 200 MB (NÃO)'}")
    print(json.dumps({"download": rows}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
