"""Shared fixtures. Tests that need a real server start it; under CI=true a server or tool
that cannot be started is a failure, not a skip (see ``require``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NOTEBOOKS = ROOT / "notebooks"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
pytest_plugins = ("tests.support.servers", "tests.support.browser", "tests.support.sshd")  # real PostgreSQL, HTTP, sshd


def require(condition: bool, what: str) -> None:
    """Skip when ``what`` is unavailable on a developer machine; fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} not available")


def require_tool(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"'{name}'")
    return path  # type: ignore[return-value]


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python -m esus_runbook`` like a user would (a separate process)."""
    return subprocess.run([sys.executable, "-m", "esus_runbook", *map(str, args)],
                          capture_output=True, text=True, env={**os.environ, **(env or {})},
                          cwd=cwd or ROOT, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def cli_main(capfd, monkeypatch):
    """``esus-runbook ARGS`` called in this process (``cli.main``), answered like
    :func:`run_cli`: exit code, stdout and stderr. For the many rows of one behaviour (a
    refusal, a report) where a new interpreter per row only adds its start-up; an exception
    that escapes ``main`` fails the test, as a traceback would. Keep at least one
    :func:`run_cli` per behaviour class, so a real process still shows it (exit code, no
    traceback)."""
    from esus_runbook.cli import main

    def call(*args, env: dict | None = None, cwd: Path | None = None):
        capfd.readouterr()
        with monkeypatch.context() as patch:
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            patch.chdir(cwd or ROOT)
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse: usage errors and --help
                code = exc.code if isinstance(exc.code, int) else (exc.code is not None)
        out, err = capfd.readouterr()
        return subprocess.CompletedProcess(["esus-runbook", *map(str, args)], int(code), out,
                                           err)

    return call


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, demo_simulator) -> Path:
    """The demo inventory executed once with papermill (the same as `make demo`, with the
    simulated PECs of examples/pec_simulado.py up)."""
    out = tmp_path_factory.mktemp("demo")
    proc = run_cli("lote", EXAMPLES / "inventario.yaml", "--execucoes", out, "--paralelos", "2",
                   "--sem-progresso", env=demo_env())
    assert proc.returncode in (0, 1, 3), proc.stderr  # as `make demo`: findings or pendente
    runs = [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 1
    return runs[0]


def demo_env() -> dict[str, str]:
    """Environment variables the demo's secret references point to (examples/demo.env)."""
    from esus_runbook.secret_refs import read_env_file

    return read_env_file(EXAMPLES / "demo.env")


# A test's markers follow from what it needs: whatever uses one of these fixtures, directly
# or through another fixture, gets the marker, so `-m "not notebooks and not browser and not
# postgres"` is an honest fast tier (docs/testes.md). tests/test_markers.py checks the rest
# (what a test does in its body) statically.
MARKER_OF_FIXTURE = {"demo_run": "notebooks", "demo_simulator": "notebooks",
                     "postgres": "postgres", "pec_db": "postgres", "browser": "browser",
                     "sshd": "ssh", "pec_sshd": "ssh"}

# Under pytest-xdist (`-n 2 --dist loadgroup`) the tests sharing one of these session servers
# run on one worker: the demo simulator listens on the fixed ports 18080/18081 (two workers
# would clash), and the demo batch, PostgreSQL and the sshd start once instead of once per
# worker. A test needing several goes with the first of this order (the demo must never be on
# two workers; another sshd or PostgreSQL on a free port is only a cost). Without --dist
# loadgroup the mark is inert.
_GROUP_OF_FIXTURE = {"demo_simulator": "demo", "demo_run": "demo", "postgres": "postgres",
                     "pec_db": "postgres", "sshd": "sshd", "pec_sshd": "sshd"}
_GROUP_ORDER = ("demo", "postgres", "sshd")


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        for fixture in fixtures & MARKER_OF_FIXTURE.keys():
            item.add_marker(MARKER_OF_FIXTURE[fixture])
        groups = {_GROUP_OF_FIXTURE[f] for f in fixtures & _GROUP_OF_FIXTURE.keys()}
        group = next((g for g in _GROUP_ORDER if g in groups), None)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


def run_folders(out: Path) -> list[Path]:
    """The run folders under an --out folder (it also holds the catalog and dashboard)."""
    return sorted(p for p in out.iterdir() if (p / "run.json").is_file())
