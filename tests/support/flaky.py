"""Flakiness finder: run the slow tiers N times (and the fast tier under ``-n 2`` in random
order) and list every test whose outcome changed between runs.

    python -m tests.support.flaky --runs 5          # or: make flaky N=5

Each pytest run writes a JUnit XML report (``--junitxml``) and a log into the output folder
(``test-artifacts/flaky/<date>/`` by default); the finder parses the reports, prints one line
per run and then the tests whose outcome was not the same in every run of their tier, with
the first line of each failure. As root with ``unshare`` available, every pytest run gets a
private network namespace (only loopback), so the demo's fixed ports (18080/18081) never
collide with another suite on the same machine. ``CI`` is passed through from the caller:
with ``CI=true`` a component that cannot be started fails instead of skipping; without it a
skip is counted and a test that passes in one run and skips in another is listed as well.
(In the namespace the package index is out of reach: tests/test_wheel_install.py skips, or
fails under ``CI=true``.)

The fast tier runs with pytest-randomly (``-p randomly --randomly-seed=S``; the default
``pytest`` run keeps it off with ``-p no:randomly`` in ``addopts``): an order dependency
shows up as a flip, and the seed in the run's line reproduces the order.

Exit status: 0 when every test had the same outcome in every run and none failed; 1 when a
test flipped or failed; 2 on bad arguments. See docs/testes.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout (this file is tests/support/flaky.py)
SLOW = "notebooks or browser or postgres"
FAST = "not notebooks and not browser and not postgres"
# worst first: a test reported twice (e.g. failed, then an error in teardown) keeps the worst
SEVERITY = ("error", "failed", "skipped", "passed")


@dataclass
class Run:
    tier: str
    index: int
    command: list[str]
    report: Path
    log: Path
    started: str = ""
    ended: str = ""
    seconds: float = 0.0
    returncode: int | None = None
    outcomes: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    seed: int | None = None

    def counts(self) -> dict[str, int]:
        out = {k: 0 for k in reversed(SEVERITY)}
        for outcome in self.outcomes.values():
            out[outcome] += 1
        return out


def netns_prefix() -> list[str]:
    """``unshare -n`` with loopback up, when this process may create a network namespace."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if os.geteuid() != 0 or not unshare or not ip:
        return []
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        return []
    return [unshare, "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "flaky"]


def parse_junit(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Outcome (passed/failed/error/skipped) and first message line of each test case."""
    outcomes: dict[str, str] = {}
    messages: dict[str, str] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("error", "failure", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                text = child.get("message") or (child.text or "")
                message = text.strip().splitlines()[0][:200] if text.strip() else ""
                break
        previous = outcomes.get(test_id)
        if previous is None or SEVERITY.index(outcome) < SEVERITY.index(previous):
            outcomes[test_id] = outcome
            if message:
                messages[test_id] = message
    return outcomes, messages


def run_pytest(run: Run, prefix: list[str], timeout: float) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run.started = dt.datetime.now().strftime("%H:%M:%S")
    t0 = time.monotonic()
    with run.log.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen([*prefix, *run.command], stdout=log, stderr=subprocess.STDOUT,
                                cwd=ROOT, env=env, start_new_session=True)
        try:
            run.returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            run.returncode = None
            log.write(f"\n[flaky] pytest interrompido após {timeout:g}s\n")
    run.seconds = time.monotonic() - t0
    run.ended = dt.datetime.now().strftime("%H:%M:%S")
    if run.report.is_file():
        try:
            run.outcomes, run.messages = parse_junit(run.report)
        except ET.ParseError:
            pass


def describe(run: Run) -> str:
    c = run.counts()
    status = ("sem relatório" if not run.outcomes
              else "interrompido" if run.returncode is None else f"saída {run.returncode}")
    seed = f" seed={run.seed}" if run.seed is not None else ""
    return (f"{run.tier} #{run.index}: {run.started}–{run.ended} ({run.seconds / 60:.1f} min), "
            f"{c['passed']} ok, {c['failed']} falhas, {c['error']} erros, "
            f"{c['skipped']} pulados, {status}{seed}")


def flips(runs: list[Run]) -> dict[str, list[str]]:
    """Tests whose outcome was not the same in every run of the tier ("ausente": not run)."""
    complete = [r for r in runs if r.outcomes]
    names = sorted({t for r in complete for t in r.outcomes})
    table = {t: [r.outcomes.get(t, "ausente") for r in complete] for t in names}
    return {t: seq for t, seq in table.items() if len(set(seq)) > 1}


def always_failing(runs: list[Run]) -> list[str]:
    complete = [r for r in runs if r.outcomes]
    if not complete:
        return []
    return sorted(t for t in complete[0].outcomes
                  if all(r.outcomes.get(t) in ("failed", "error") for r in complete))


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"use um número inteiro ≥ 1, não {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.flaky",
        description="Roda as camadas lentas N vezes (e a rápida com -n 2 em ordem aleatória) "
                    "e lista os testes cujo resultado mudou entre as execuções.")
    parser.add_argument("--runs", "-N", type=positive_int, default=5,
                        help="quantas vezes rodar cada camada (padrão: 5)")
    parser.add_argument("--out", type=Path, default=None,
                        help="pasta dos relatórios (padrão: test-artifacts/flaky/<data>)")
    parser.add_argument("--slow", default=SLOW, help=f"marcadores da camada lenta ({SLOW!r})")
    parser.add_argument("--no-fast", action="store_true", help="não rodar a camada rápida")
    parser.add_argument("--no-slow", action="store_true", help="não rodar as camadas lentas")
    parser.add_argument("--seed", type=int, default=None,
                        help="semente da ordem aleatória da 1ª execução rápida (as seguintes "
                             "somam 1)")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="limite de cada execução do pytest, em segundos (padrão: 3600)")
    parser.add_argument("pytest_args", nargs="*",
                        help="argumentos extras do pytest (depois de --), p.ex. um arquivo")
    args = parser.parse_args(argv)

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = (args.out or ROOT / "test-artifacts" / "flaky" / stamp).resolve()
    out.mkdir(parents=True, exist_ok=True)
    prefix = netns_prefix()
    if not prefix:
        print("[flaky] aviso: sem 'unshare -n' (precisa de root): as portas fixas da "
              "demonstração podem colidir com outra suíte nesta máquina", file=sys.stderr)
    seed = args.seed if args.seed is not None else random.randrange(1, 2**31)
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args.pytest_args]
    runs: dict[str, list[Run]] = {"lenta": [], "rápida": []}
    print(f"[flaky] {args.runs} execução(ões); relatórios em {out}", flush=True)
    for i in range(1, args.runs + 1):
        if not args.no_slow:
            report = out / f"lenta-{i}.xml"
            run = Run("lenta", i, [*base, "-m", args.slow, f"--junitxml={report}"], report,
                      out / f"lenta-{i}.log")
            run_pytest(run, prefix, args.timeout)
            runs["lenta"].append(run)
            print("[flaky] " + describe(run), flush=True)
        if not args.no_fast:
            report = out / f"rapida-{i}.xml"
            run = Run("rápida", i, [*base, "-n", "2", "-m", FAST, "-p", "randomly",
                                    f"--randomly-seed={seed + i - 1}", f"--junitxml={report}"],
                      report, out / f"rapida-{i}.log", seed=seed + i - 1)
            run_pytest(run, prefix, args.timeout)
            runs["rápida"].append(run)
            print("[flaky] " + describe(run), flush=True)

    lines = [describe(r) for tier in runs.values() for r in tier]
    changed = {tier: flips(rs) for tier, rs in runs.items()}
    failing = {tier: always_failing(rs) for tier, rs in runs.items()}
    messages = {t: m for rs in runs.values() for r in rs for t, m in r.messages.items()}
    lines.append("")
    for tier in runs:
        if not runs[tier]:
            continue
        if changed[tier]:
            lines.append(f"Camada {tier}: {len(changed[tier])} teste(s) mudaram de resultado:")
            for test, seq in changed[tier].items():
                lines.append(f"  {test}: {' → '.join(seq)}")
                if test in messages:
                    lines.append(f"      {messages[test]}")
        else:
            lines.append(f"Camada {tier}: nenhum teste mudou de resultado em "
                         f"{len(runs[tier])} execução(ões).")
        for test in failing[tier]:
            lines.append(f"  falhou em todas: {test}: {messages.get(test, '')}")
        missing = [r.index for r in runs[tier] if not r.outcomes or r.returncode is None]
        if missing:
            lines.append(f"  execuções sem relatório completo: {missing} (veja os .log)")
    text = "\n".join(lines) + "\n"
    (out / "resumo.txt").write_text(text, encoding="utf-8")
    (out / "resumo.json").write_text(json.dumps({
        "runs": [{"tier": r.tier, "index": r.index, "started": r.started, "ended": r.ended,
                  "seconds": round(r.seconds, 1), "returncode": r.returncode, "seed": r.seed,
                  "counts": r.counts()} for rs in runs.values() for r in rs],
        "flipped": changed, "always_failing": failing}, ensure_ascii=False, indent=1),
        encoding="utf-8")
    print("\n" + text + f"(resumo em {out / 'resumo.txt'})", flush=True)
    bad = any(changed.values()) or any(failing.values()) or any(
        not r.outcomes or r.returncode is None for rs in runs.values() for r in rs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
