"""Every option of a batch run, typed and documented in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

KERNEL_NAME = "esus-runbook"


def default_notebooks_dir() -> Path:
    """``notebooks/`` of the checkout (``ESUS_RUNBOOK_NOTEBOOKS`` overrides it)."""
    env = os.environ.get("ESUS_RUNBOOK_NOTEBOOKS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "notebooks"


@dataclass
class BatchOptions:
    out: Path = Path("execucoes")
    """Folder that receives one new ``<run-id>/`` folder per run."""
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    """Sites executed at the same time on the local pool (each notebook in its own kernel)."""
    scheduler: str | None = None
    """``tcp://HOST:PORT`` of a Dask scheduler; None runs on the local pool."""
    resume: Path | None = None
    """An earlier run folder to continue: complete stages with unchanged inputs are skipped."""
    timeout: float | None = None
    """Seconds a notebook cell may run before the notebook is stopped and the stage is
    marked ``erro``; None waits forever."""
    retries: int = 0
    """How many times a stage that crashed (``erro``) is executed again."""
    kernel_name: str = KERNEL_NAME
    """Jupyter kernel that executes the notebooks (registered by ``make setup``)."""
    notebooks_dir: Path = field(default_factory=default_notebooks_dir)
    """Where the stage notebooks live."""
    progress: bool = True
    """Show a progress bar on stderr."""
