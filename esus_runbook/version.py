"""The installed version of this package (one lookup for the CLI, probes, stages and batch)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "esus-runbook"


def package_version() -> str | None:
    """The installed ``esus-runbook`` version, or ``None`` when the package is not installed
    (running from a bare checkout)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return None
