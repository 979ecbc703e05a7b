"""CSV files meant to be opened in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel/LibreOffice as a formula (CSV formula injection): such cells get a leading apostrophe,
which spreadsheets show as text and do not evaluate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..results import write_text_atomic

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading apostrophe when a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV (atomically), text cells escaped with :func:`safe_cell`."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_cell)
    out.columns = [safe_cell(str(c)) for c in out.columns]
    write_text_atomic(path, out.to_csv(index=False))
    return Path(path)
