"""Benchmark of the agentless probe over SSH, next to the local probe measured in the same run.

    .venv/bin/python benchmarks/ssh_probe.py [--repeat 5] [--servers 10]

Starts the tests' real sshd on 127.0.0.1 (tests/support/sshd.py; needs root, sshd and unshare) and
measures:

1. one server: connect (key auth, strict host key) + ``collect_ssh`` + close, vs the local
   probe ``probe.collect()`` on the same machine (baseline);
2. a batch of N servers (default 10): N probes one after another vs N at once on threads
   (as ``esus-runbook lote`` workers would), each with its own SSH connection. The N targets
   are N sshd instances on this machine, so the figure is the tool's cost, not the network's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.probe import timed  # noqa: E402
from esus_runbook import probe  # noqa: E402
from esus_runbook.ssh import SshOptions, connect, parse_target  # noqa: E402
from esus_runbook.ssh.remote_probe import collect_ssh  # noqa: E402
from tests.support.sshd import start_sshd, stop_sshd  # noqa: E402


def probe_one(server) -> dict:
    opts = SshOptions(identity=str(server.client_key), known_hosts=str(server.known_hosts()))
    with connect(parse_target(server.target()), opts) as session:
        return collect_ssh(session)


def fmt(samples: list[float]) -> str:
    return (f"mediana {statistics.median(samples):.3f} s (min {min(samples):.3f}, "
            f"máx {max(samples):.3f}, n={len(samples)})")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--servers", type=int, default=10)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-ssh-"))
    servers = [start_sshd(root / f"s{i}") for i in range(args.servers)]
    try:
        probe.collect()  # warm imports
        probe_one(servers[0])
        local = timed(probe.collect, args.repeat)
        remote = timed(lambda: probe_one(servers[0]), args.repeat)
        assert not probe_one(servers[0])["errors"], "the SSH probe must be complete"
        print("1. um servidor")
        print(f"   sondagem local (linha de base): {fmt(local)}")
        print(f"   sondagem por SSH (conexão + coleta): {fmt(remote)}")

        def batch_sequential():
            for s in servers:
                probe_one(s)

        def batch_parallel():
            with ThreadPoolExecutor(len(servers)) as pool:
                list(pool.map(probe_one, servers))

        seq = timed(batch_sequential, max(1, args.repeat // 2))
        par = timed(batch_parallel, max(1, args.repeat // 2))
        print(f"2. lote de {len(servers)} servidores (sshd distintos nesta máquina)")
        print(f"   um após o outro (linha de base): {fmt(seq)}")
        print(f"   em paralelo ({len(servers)} conexões): {fmt(par)}")
    finally:
        for s in servers:
            stop_sshd(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
