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
pytest_plugins = ("tests.servers", "tests.browser", "tests.sshd")  # real PostgreSQL, HTTP, sshd


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


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, demo_simulator) -> Path:
    """The demo inventory executed once with papermill (the same as `make demo`, with the
    simulated PECs of examples/pec_simulado.py up)."""
    out = tmp_path_factory.mktemp("demo")
    proc = run_cli("batch", EXAMPLES / "inventario.yaml", "--out", out, "--workers", "2",
                   "--no-progress", env=demo_env())
    assert proc.returncode in (0, 1), proc.stderr
    runs = [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 1
    return runs[0]


def demo_env() -> dict[str, str]:
    """Environment variables the demo's secret references point to (examples/demo.env)."""
    from esus_runbook.secrets import read_env_file

    return read_env_file(EXAMPLES / "demo.env")


# A test's markers follow from what it needs: whatever uses one of these fixtures gets the
# marker, so `-m "not notebooks and not browser and not postgres"` is an honest fast tier.
_MARKER_OF_FIXTURE = {"demo_run": "notebooks", "demo_simulator": "notebooks",
                      "postgres": "postgres", "pec_db": "postgres", "browser": "browser"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture in set(getattr(item, "fixturenames", ())) & _MARKER_OF_FIXTURE.keys():
            item.add_marker(_MARKER_OF_FIXTURE[fixture])


def run_folders(out: Path) -> list[Path]:
    """The run folders under an --out folder (it also holds the catalog and dashboard)."""
    return sorted(p for p in out.iterdir() if (p / "run.json").is_file())
