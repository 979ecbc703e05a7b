"""JSON text for reports with large tables (audit findings and summaries, diff changes).

``json.dumps(..., indent=2)`` runs in pure Python and a capital's audit has hundreds of
thousands of table rows. Here a table becomes :class:`Records` (one JSON object per row,
built column by column: pandas' C writer for flat tables, vectorized string concatenation
for rows with a nested ``where`` object) and :func:`dumps` writes the document indented
with each record on one line. ``json.loads(dumps(doc))`` equals the document with every
``Records`` replaced by its list of objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from json.encoder import encode_basestring  # C-accelerated; keeps accents (ensure_ascii=False)
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Records:
    """A JSON array of objects given as the text of each object (one per line)."""

    lines: list[str]

    def __len__(self) -> int:
        return len(self.lines)

    def to_python(self) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.lines]


def flat_records(df: pd.DataFrame) -> Records:
    """Rows of a flat table (strings, numbers, booleans; missing → null) as JSON objects,
    written by pandas' C JSON writer."""
    if not len(df):
        return Records([])
    text = df.to_json(orient="records", lines=True, force_ascii=False)
    # pandas escapes every '/' as '\/' (valid JSON, noisy for dates); a '\/' pair is always
    # such an escape because a literal backslash is written '\\' and '/' never unescaped
    return Records(text.replace("\\/", "/").rstrip("\n").split("\n"))


def _literal(values: pd.Series, integer: bool, distinct: bool = False
             ) -> tuple[np.ndarray, np.ndarray]:
    """(JSON literal per row — "" where missing — as an object array, bool mask of present
    values). Strings are quoted once per distinct value, or one by one for columns whose
    values are mostly distinct (``distinct``: hashing them would cost more)."""
    present = values.notna().to_numpy(dtype=bool)
    out = np.full(len(values), "", dtype=object)
    if present.any():
        kept = values[present]
        if integer:
            out[present] = kept.astype("int64").astype(str).to_numpy(dtype=object)
        elif distinct:
            out[present] = [encode_basestring(str(v)) for v in kept.to_numpy(dtype=object)]
        else:
            codes, uniques = pd.factorize(kept.astype(str), use_na_sentinel=False)
            quoted = np.array([encode_basestring(u) for u in uniques], dtype=object)
            out[present] = quoted[codes]
    return out, present


def nested_records(df: pd.DataFrame, top: Sequence[str], nested_key: str,
                   nested: Sequence[str], tail: Sequence[str],
                   integers: Iterable[str] = (), distinct: Iterable[str] = ()) -> Records:
    """Objects ``{top..., nested_key: {nested...}, tail...}`` per row, where the nested
    object only holds the keys whose value is present (not null). Built column by column
    (numpy object arrays of short pieces) and joined once per row; strings are quoted once
    per distinct value, or per row for the ``distinct`` columns (e.g. messages)."""
    n = len(df)
    if not n:
        return Records([])
    integers, distinct = set(integers), set(distinct)
    pieces: list = []           # per column: a str (same for every row) or an object array

    def plain(cols: Sequence[str], first: bool) -> None:
        for col in cols:
            lit, present = _literal(df[col], col in integers, col in distinct)
            lit[~present] = "null"
            pieces.append(("" if first else ",") + encode_basestring(col) + ":")
            pieces.append(lit)
            first = False

    pieces.append("{")
    plain(top, True)
    pieces.append(("," if top else "") + encode_basestring(nested_key) + ":{")
    seen = np.zeros(n, dtype=bool)
    for col in nested:
        lit, present = _literal(df[col], col in integers, col in distinct)
        if not present.any():
            continue
        key = encode_basestring(col) + ":"
        part = np.full(n, "", dtype=object)
        part[present] = np.where(seen[present], "," + key, key).astype(object) + lit[present]
        pieces.append(part)
        seen |= present
    pieces.append("}")
    plain(tail, False)
    pieces.append("}")
    columns = [p if isinstance(p, np.ndarray) else repeat(p, n) for p in pieces]
    return Records(["".join(row) for row in zip(*columns, strict=True)])


def dumps(doc: Any, indent: int = 2) -> str:
    """JSON text of ``doc`` (dicts, lists, scalars and :class:`Records`), indented, with
    each record of a ``Records`` on its own line."""
    out: list[str] = []
    _write(doc, 0, indent, out)
    out.append("\n")
    return "".join(out)


def _write(obj: Any, level: int, indent: int, out: list[str]) -> None:
    pad = " " * (indent * (level + 1))
    end = " " * (indent * level)
    if isinstance(obj, Records):
        if not obj.lines:
            out.append("[]")
            return
        out.append("[\n" + pad)
        out.append((",\n" + pad).join(obj.lines))
        out.append("\n" + end + "]")
    elif isinstance(obj, dict):
        if not obj:
            out.append("{}")
            return
        out.append("{")
        for i, (k, v) in enumerate(obj.items()):
            out.append(("," if i else "") + "\n" + pad + encode_basestring(str(k)) + ": ")
            _write(v, level + 1, indent, out)
        out.append("\n" + end + "}")
    elif isinstance(obj, (list, tuple)):
        if not obj:
            out.append("[]")
            return
        out.append("[")
        for i, v in enumerate(obj):
            out.append(("," if i else "") + "\n" + pad)
            _write(v, level + 1, indent, out)
        out.append("\n" + end + "]")
    else:
        out.append(json.dumps(obj, ensure_ascii=False, default=str))


def to_python(doc: Any) -> Any:
    """``doc`` with every :class:`Records` replaced by its list of dicts."""
    if isinstance(doc, Records):
        return doc.to_python()
    if isinstance(doc, dict):
        return {k: to_python(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [to_python(v) for v in doc]
    return doc
