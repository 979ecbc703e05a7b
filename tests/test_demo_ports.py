"""Two demos on one host never meet: the simulator opens free ports (or the ports of
ESUS_DEMO_PORTA_*) and the demo's inputs are a copy of examples/ pointing to them, as
`make demo` does."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from esus_runbook.demo.demo_inputs import main as prepare_inputs
from esus_runbook.demo.demo_inputs import ready_ports
from esus_runbook.sites.loading import load_sites

from .support.project import EXAMPLES, ROOT, run_cli


def _start_simulator(ready: Path, centro: str = "0", vila: str = "0") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(EXAMPLES / "pec_simulado.py"), "--pronto",
                             str(ready), "--instancia", f"{centro}=0.0.1", "--instancia",
                             f"{vila}=0.0.0"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)


def _wait_ready(proc: subprocess.Popen, ready: Path, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while not ready.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "o simulador não ficou pronto"
        time.sleep(0.05)
    return ready_ports(ready)


def test_two_demos_at_once_on_one_host(tmp_path: Path):
    procs = []
    try:
        demos = []
        for name in ("a", "b"):
            ready = tmp_path / f"pronto-{name}"
            procs.append(_start_simulator(ready))
            demos.append((name, ready, procs[-1]))
        ports = {}
        for name, ready, proc in demos:
            ports[name] = _wait_ready(proc, ready)
            assert prepare_inputs(["--pronto", str(ready), "--destino",
                                   str(tmp_path / name)]) == 0
        assert len(set(ports["a"] + ports["b"])) == 4  # four distinct ports
        for name in ("a", "b"):
            sites = {s.site_id: s for s in load_sites(tmp_path / name / "inventario.yaml")}
            centro = sites["ubs-centro"].instalacao["pec_url"]
            vila = sites["ubs-vila-nova"].instalacao["pec_url"]
            assert centro == f"http://127.0.0.1:{ports[name][0]}"
            assert vila == f"http://127.0.0.1:{ports[name][1]}"
            ok = run_cli("conferir-instalacao", "--pec-url", centro, "--versao-pec", "0.0.1",
                         timeout=120)
            assert ok.returncode == 0, ok.stdout + ok.stderr
            old = run_cli("conferir-instalacao", "--pec-url", vila, "--versao-pec", "0.0.1",
                          timeout=120)
            assert old.returncode == 1 and "0.0.0" in old.stdout
        # a port taken by the first demo: the second simulator refuses it, in one line
        ready = tmp_path / "pronto-c"
        clash = _start_simulator(ready, centro=str(ports["a"][0]))
        assert clash.wait(60) == 2 and not ready.exists()
        assert "não foi possível abrir a porta" in clash.stderr.read()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)


def test_the_ports_can_come_from_the_environment(tmp_path: Path):
    """ESUS_DEMO_PORTA_CENTRO/VILA as the Makefile passes them (taken from free ports)."""
    import socket

    chosen = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            chosen.append(s.getsockname()[1])
    ready = tmp_path / "pronto"
    proc = _start_simulator(ready, *map(str, chosen))
    try:
        assert _wait_ready(proc, ready) == chosen
    finally:
        proc.terminate()
        proc.wait(30)
