"""Inputs of a batch test: the notebooks folder with some notebooks replaced by the broken
or misbehaving ones of tests/notebooks/, and one demo site file."""

from __future__ import annotations

import shutil
from pathlib import Path

from .project import EXAMPLES, NOTEBOOKS

FIXTURES = Path(__file__).resolve().parents[1] / "notebooks"


def notebooks_with(tmp_path: Path, replace: dict[str, str]) -> Path:
    """A copy of notebooks/ where each ``target`` notebook is tests/notebooks/<fixture>.ipynb."""
    nbdir = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, nbdir)
    for target, fixture in replace.items():
        shutil.copy(FIXTURES / f"{fixture}.ipynb", nbdir / target)
    return nbdir


def one_site(tmp_path: Path) -> Path:
    """The demo's sms-centralizado site file, copied to ``tmp_path/site.yaml``."""
    text = (EXAMPLES / "sites" / "sms-centralizado.yaml").read_text()
    site = tmp_path / "site.yaml"
    site.write_text(text)
    return site
