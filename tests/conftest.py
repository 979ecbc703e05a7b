"""Shared fixtures. Tests that need a real server start it; under CI=true a server or tool
that cannot be started is a failure, not a skip (``tests/support/project.py``, ``require``).
Helpers live in ``tests/support/``; the plugins below hold the fixtures of the real servers,
the browser, the sshd, the upkeep tests' PEC dumps and the tiers' markers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .support.project import EXAMPLES, ROOT, demo_env, run_cli

pytest_plugins = ("tests.support.servers", "tests.support.browser", "tests.support.sshd",
                  "tests.support.upkeep", "tests.support.tiers")


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
