"""Data tables (profiles, releases, catalogues) that can be corrected without touching code."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import Any


def path(name: str):
    """A traversable for ``esus_runbook/data/<name>``."""
    return resources.files(__name__).joinpath(name)


def _number(text: str) -> Any:
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


@cache
def read_csv(name: str) -> tuple[dict[str, Any], ...]:
    """Rows of a packaged CSV with numbers converted and empty cells as None."""
    with path(name).open(encoding="utf-8", newline="") as fh:
        return tuple({k: _number(v) for k, v in row.items()} for row in csv.DictReader(fh))
