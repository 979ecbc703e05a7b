"""The package's own resources outside Python code: the stage notebooks and the Jupyter kernel
that executes them. ``lab`` (workspaces for analysts) and ``batch`` (papermill runs) both take
them from here.

The stage notebooks live at the top of the checkout (``notebooks/``), where analysts open
them; an installed wheel carries a copy as ``esus_runbook/notebooks`` (mapped from the
top-level folder at build time by ``setup.py``). ``ESUS_RUNBOOK_NOTEBOOKS`` points elsewhere
when set (tests, a site that keeps its own copy).

The kernel is the Jupyter kernel spec registered by ``make setup`` (``python -m ipykernel
install --sys-prefix --name esus-runbook``): the environment that has this package.
"""

from __future__ import annotations

import os
from pathlib import Path

KERNEL_NAME = "esus-runbook"
"""The Jupyter kernel that executes the stage notebooks (batch default, lab's default kernel)."""

NOTEBOOKS_ENV = "ESUS_RUNBOOK_NOTEBOOKS"
"""Environment variable naming another notebooks folder."""

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGED_NOTEBOOKS = PACKAGE_DIR / "notebooks"
"""The copy an installed wheel carries."""
CHECKOUT_NOTEBOOKS = PACKAGE_DIR.parent / "notebooks"
"""The source checkout's folder (an editable install)."""


def notebooks_dir() -> Path:
    """Where the stage notebooks are: :data:`NOTEBOOKS_ENV` when set; else the wheel's copy
    (:data:`PACKAGED_NOTEBOOKS`) when installed; else the checkout's
    (:data:`CHECKOUT_NOTEBOOKS`)."""
    env = os.environ.get(NOTEBOOKS_ENV)
    if env:
        return Path(env)
    return PACKAGED_NOTEBOOKS if PACKAGED_NOTEBOOKS.is_dir() else CHECKOUT_NOTEBOOKS


def shipped_folders() -> set[Path]:
    """The folders that belong to the package itself (its code and its notebooks, wherever
    they are taken from): never a place for an analyst's work."""
    return {PACKAGE_DIR, PACKAGED_NOTEBOOKS, CHECKOUT_NOTEBOOKS, notebooks_dir().resolve()}
