"""CSV cells safe to open in a spreadsheet (CSV/formula injection).

A cell that starts with ``= + - @``, a tab or a carriage return is read by Excel and
LibreOffice as a formula (``=HYPERLINK(...)`` in a site's ``nome`` would run when the analyst
opens a run's roll-up CSV). Every CSV the tool writes passes its cells through :func:`safe_cell`,
which prefixes such a cell with ``'`` (OWASP's advice); a CSV the tool also reads back (the
installer registry) undoes it with :func:`read_cell`. :func:`write_csv` writes a whole
table that way (the dashboard's exports).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .atomic import write_text_atomic

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would take as a formula;
    any other value unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def read_cell(text: str) -> str:
    """The value :func:`safe_cell` was given, from the cell it wrote."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


def write_csv(df, path: str | os.PathLike) -> Path:
    """Write a pandas DataFrame as UTF-8 CSV, atomically, every text cell (and header)
    passed through :func:`safe_cell`."""
    out = df.map(safe_cell)  # non-text cells pass unchanged
    out.columns = [safe_cell(str(c)) for c in out.columns]
    write_text_atomic(path, out.to_csv(index=False))
    return Path(path)
