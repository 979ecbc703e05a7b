"""Paths of the checkout and the helpers every test module shares: run the CLI as a user
would, skip (or fail under CI=true) when a tool is missing, the demo's environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NOTEBOOKS = ROOT / "notebooks"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


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


def run_folders(out: Path) -> list[Path]:
    """The run folders under an --out folder (it also holds the catalog and dashboard)."""
    return sorted(p for p in out.iterdir() if (p / "run.json").is_file())


def read_env_file(path: str | os.PathLike) -> dict[str, str]:
    """``NAME=value`` lines of a shell-style env file (``#`` comments and blank lines
    skipped), e.g. the demo's ``examples/demo.env``; {} when the file does not exist."""
    env: dict[str, str] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return env
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            env[k.strip()] = v.strip()
    return env


def demo_env() -> dict[str, str]:
    """Environment variables the demo's secret references point to (examples/demo.env)."""
    return read_env_file(EXAMPLES / "demo.env")
