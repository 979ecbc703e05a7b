"""Brazilian identifiers used by e-SUS: CPF, CNS, CNPJ, IBGE municipality, CNES and INE.

The rules check whole columns with numpy (the CNES XML of a capital holds hundreds of
thousands of rows): ``*_valid_series(series) -> pd.Series[bool]``, and :func:`check_column` for
CPF and CNS (validity, blanks and duplicates in one pass); the IBGE code, which a site file
holds alone, also has the scalar :func:`ibge_valid`. They take strings of digits (the CNPJ
also its alphanumeric form, IN RFB 2.229/2024); anything else (wrong length, letters, None)
is invalid. The plain one-value forms the tests compare with are in
``tests/support/identifiers.py``. Rules: ``docs/dominio.md``, "Identificadores".

Masking: CPF keeps at most its six middle digits (``***.456.789-**``), CNS at most its last
four (``*** **** **** 1234``). :func:`scrub` masks CPF/CNS-like numbers inside free text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
else:  # lazy: pandas costs ~0.5 s to import: every notebook validates a site, few need Series
    class _LazyPandas:
        def __getattr__(self, name: str):
            import pandas  # lazy: see above

            globals()["pd"] = pandas
            return getattr(pandas, name)

    pd = _LazyPandas()

# The nine official municipality codes whose check digit breaks the rule (IBGE).
IBGE_EXCEPTIONS = frozenset({"4305871", "2201919", "2202251", "2201988", "2611533",
                             "3117836", "3152131", "5203939", "5203962"})

_CPF_W1 = np.arange(10, 1, -1)                      # 10..2 over digits 1-9
_CPF_W2 = np.arange(11, 1, -1)                      # 11..2 over digits 1-10
_CNPJ_W1 = np.array([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
_CNPJ_W2 = np.array([6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
_CNS_W = np.arange(15, 0, -1)                       # 15..1
_IBGE_W = np.array([1, 2, 1, 2, 1, 2])
_CNES_W = np.arange(7, 1, -1)                       # 7..2 over 6 digits
_INE_W = np.arange(10, 1, -1)                       # 10..2 over 9 digits


# --------------------------------------------------------------------------- helpers
def _matrix(values: pd.Series, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(mask of rows that are exactly ``n`` ASCII digits, ``uint8`` matrix of those rows'
    digits).

    No per-row Python: rows of the right length are joined and encoded once (a non-ASCII
    character becomes ``?``, one byte, so every row keeps ``n`` bytes), then checked as a
    ``uint8`` matrix (``byte - 48`` wraps every non-digit above 9). A column of ``str`` (what
    the parser makes) is read as it is; anything else (missing values, numbers) goes through
    ``astype("string")`` first (missing → "").
    """
    obj = pd.Series(values, copy=False).to_numpy(dtype=object)
    try:
        fmt, joined = _joined(obj, n)
    except TypeError:     # not all str: None, NaN, numbers
        obj = pd.Series(values, copy=False).astype("string").fillna("").to_numpy(dtype=object)
        fmt, joined = _joined(obj, n)
    if not joined:
        return fmt, np.zeros((0, n), dtype=np.uint8)
    m = np.frombuffer(joined.encode("ascii", "replace"), dtype=np.uint8).reshape(-1, n) \
        - np.uint8(48)
    digits = (m <= 9).all(axis=1)
    if digits.all():
        return fmt, m
    fmt[fmt] = digits
    return fmt, m[digits]


def _joined(obj: np.ndarray, n: int) -> tuple[np.ndarray, str]:
    """(mask of the values of length ``n``, those values joined). TypeError unless every
    value of length ``n`` is a ``str`` and every value has a length."""
    right_len = np.fromiter(map(len, obj), dtype=np.int64, count=len(obj)) == n
    return right_len, "".join(obj if right_len.all() else obj[right_len])


def _scalar_digits(value: object, n: int) -> np.ndarray | None:
    """The digits of ``value`` when it is a str of exactly ``n`` ASCII digits, else None."""
    if not isinstance(value, str) or len(value) != n or not value.isascii() \
            or not value.isdigit():
        return None
    return np.frombuffer(value.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48


def _mod11_dv(weighted_sum: np.ndarray) -> np.ndarray:
    """CPF-style digit: r = 11 - sum mod 11, 0 when r >= 10."""
    r = 11 - weighted_sum % 11
    return np.where(r >= 10, 0, r)


def _repeated(m: np.ndarray) -> np.ndarray:
    return (m == m[:, :1]).all(axis=1)


def _result(index: pd.Index, fmt: np.ndarray, ok_rows: np.ndarray) -> pd.Series:
    out = np.zeros(len(fmt), dtype=bool)
    out[fmt] = ok_rows
    return pd.Series(out, index=index, dtype=bool)


# --------------------------------------------------------------------------- CPF
def _cpf_rows(m: np.ndarray) -> np.ndarray:
    dv1 = _mod11_dv(m[:, :9] @ _CPF_W1)
    dv2 = _mod11_dv(m[:, :10] @ _CPF_W2)
    return (m[:, 9] == dv1) & (m[:, 10] == dv2) & ~_repeated(m)


# --------------------------------------------------------------------------- CNS
def _cns_rows(m: np.ndarray) -> np.ndarray:
    first = m[:, 0]
    definitive = ((first == 1) | (first == 2)) & (m[:, 11] == 0) & (m[:, 12] == 0) \
        & (m[:, 13] <= 1)
    provisional = np.isin(first, (5, 7, 8, 9))
    return (definitive | provisional) & ((m @ _CNS_W) % 11 == 0)


# --------------------------------------------------------------------------- columns
_POW10 = 10 ** np.arange(17, -1, -1, dtype=np.int64)          # 10^17 .. 10^0
_KINDS = {"cpf": (11, _cpf_rows), "cns": (15, _cns_rows)}


@dataclass(frozen=True)
class ColumnCheck:
    """A column of CPF or CNS read once (:func:`check_column`); arrays aligned with it."""

    valid: np.ndarray   # bool: a valid identifier
    blank: np.ndarray   # bool: the value is ""
    key: np.ndarray     # int64: equal exactly where the texts are equal (for duplicates)


def check_column(values: pd.Series, kind: str) -> ColumnCheck:
    """Validity, blanks and an integer key per value of a column of ``kind`` ("cpf" or
    "cns"), from a single pass over its strings. On a capital's file (200 000 professionals,
    each string its own object scattered in memory) that pass is what costs, so the check
    digits, the blanks and the duplicates share it. The key of a value of exactly n ASCII
    digits is the number itself (n ≤ 15: it fits an int64); any other text gets a
    negative code, one per distinct text."""
    n, rows = _KINDS[kind]
    fmt, m = _matrix(values, n)
    valid = np.zeros(len(fmt), dtype=bool)
    valid[fmt] = rows(m)
    key = np.empty(len(fmt), dtype=np.int64)
    key[fmt] = m @ _POW10[-n:]
    blank = np.zeros(len(fmt), dtype=bool)
    other = ~fmt
    if other.any():
        text = pd.Series(values, copy=False).to_numpy(dtype=object)[other]
        codes, _ = pd.factorize(text, use_na_sentinel=False)
        key[other] = -1 - codes
        blank[other] = text == ""
    return ColumnCheck(valid, blank, key)


# --------------------------------------------------------------------------- CNPJ
# IN RFB 2.229/2024: from July 2026 the Receita issues alphanumeric CNPJs: the first 12
# characters (root and order) are [0-9A-Z], the two check digits stay digits, computed with
# the same weights over each character's ASCII code minus 48 ('0'..'9' → 0..9, 'A' → 17,
# 'Z' → 42). Numeric CNPJs are the case where all 12 are digits: nothing changes for them.
def _cnpj_matrix(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(mask of rows that are a well-formed CNPJ, numeric or alphanumeric, ``int64`` matrix
    of those rows' values, ASCII minus 48). Vectorized like :func:`_matrix`: the rows of
    length 14 are joined and encoded once (a non-ASCII character becomes ``?``)."""
    obj = pd.Series(values, copy=False).to_numpy(dtype=object)
    try:
        fmt, joined = _joined(obj, 14)
    except TypeError:     # not all str: None, NaN, numbers
        obj = pd.Series(values, copy=False).astype("string").fillna("").to_numpy(dtype=object)
        fmt, joined = _joined(obj, 14)
    if not joined:
        return fmt, np.zeros((0, 14), dtype=np.int64)
    b = np.frombuffer(joined.encode("ascii", "replace"), dtype=np.uint8).reshape(-1, 14)
    digit = (b >= 48) & (b <= 57)
    upper = (b >= 65) & (b <= 90)
    ok = (digit[:, :12] | upper[:, :12]).all(axis=1) & digit[:, 12:].all(axis=1)
    fmt[fmt] = ok
    return fmt, b[ok].astype(np.int64) - 48


def _cnpj_rows(m: np.ndarray) -> np.ndarray:
    s1 = (m[:, :12] @ _CNPJ_W1) % 11
    dv1 = np.where(s1 < 2, 0, 11 - s1)
    s2 = (m[:, :13] @ _CNPJ_W2) % 11
    dv2 = np.where(s2 < 2, 0, 11 - s2)
    return (m[:, 12] == dv1) & (m[:, 13] == dv2) & ~_repeated(m)


def cnpj_valid_series(values: pd.Series) -> pd.Series:
    fmt, m = _cnpj_matrix(values)
    return _result(values.index, fmt, _cnpj_rows(m))


# --------------------------------------------------------------------------- IBGE
def _ibge_rows(m: np.ndarray) -> np.ndarray:
    p = m[:, :6] * _IBGE_W
    total = (p // 10 + p % 10).sum(axis=1)
    return m[:, 6] == (10 - total % 10) % 10


def ibge_valid(value: object) -> bool:
    """A 7-digit municipality code with a valid check digit (or one of the nine
    official exceptions)."""
    if isinstance(value, str) and value in IBGE_EXCEPTIONS:
        return True
    d = _scalar_digits(value, 7)
    return d is not None and bool(_ibge_rows(d[None, :])[0])


def ibge_valid_series(values: pd.Series) -> pd.Series:
    fmt, m = _matrix(values, 7)
    out = _result(values.index, fmt, _ibge_rows(m))
    exc = pd.Series(values, copy=False).astype("string").isin(IBGE_EXCEPTIONS)
    return out | exc.fillna(False).astype(bool)


def ibge6(value: object) -> str | None:
    """The 6-digit form used by files and SUS datasets (compare municipalities on it);
    None unless ``value`` is 6 or 7 ASCII digits (an int is read as its decimal text)."""
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    return text[:6] if len(text) in (6, 7) and text.isascii() and text.isdigit() else None


# --------------------------------------------------------------------------- CNES / INE
def _mod11_zero(m: np.ndarray, w: np.ndarray) -> np.ndarray:
    r = 11 - (m[:, : len(w)] @ w) % 11
    return np.where(r >= 10, 0, r)


def cnes_format(value: object) -> bool:
    return _scalar_digits(value, 7) is not None


def cnes_dv_valid_series(values: pd.Series) -> pd.Series:
    fmt, m = _matrix(values, 7)
    return _result(values.index, fmt, m[:, 6] == _mod11_zero(m, _CNES_W))


def ine_dv_valid_series(values: pd.Series) -> pd.Series:
    fmt, m = _matrix(values, 10)
    return _result(values.index, fmt, m[:, 9] == _mod11_zero(m, _INE_W))


def digits_format_series(values: pd.Series, n: int) -> pd.Series:
    """True where the value is exactly ``n`` ASCII digits."""
    fmt, _ = _matrix(values, n)
    return pd.Series(fmt, index=values.index, dtype=bool)


# --------------------------------------------------------------------------- check digits
def with_dv(base: str, kind: str) -> str:
    """Append the check digit(s) of ``kind`` to ``base`` (used by the example generator
    and tests). kind: cpf (9 digits in), cnpj (12), ibge (6), cnes (6), ine (9)."""
    d = np.frombuffer(base.encode("ascii"), dtype=np.uint8).astype(np.int64)[None, :] - 48
    if kind == "cpf":
        dv1 = int(_mod11_dv(d @ _CPF_W1)[0])
        d2 = np.append(d, [[dv1]], axis=1)
        return base + str(dv1) + str(int(_mod11_dv(d2 @ _CPF_W2)[0]))
    if kind == "cnpj":
        s1 = int((d @ _CNPJ_W1)[0] % 11)
        dv1 = 0 if s1 < 2 else 11 - s1
        d2 = np.append(d, [[dv1]], axis=1)
        s2 = int((d2 @ _CNPJ_W2)[0] % 11)
        return base + str(dv1) + str(0 if s2 < 2 else 11 - s2)
    if kind == "ibge":
        p = d[0] * _IBGE_W
        return base + str(int((10 - (p // 10 + p % 10).sum() % 10) % 10))
    if kind == "cnes":
        return base + str(int(_mod11_zero(d, _CNES_W)[0]))
    if kind == "ine":
        return base + str(int(_mod11_zero(d, _INE_W)[0]))
    raise ValueError(f"unknown identifier kind {kind!r}")


# --------------------------------------------------------------------------- masking
def mask_cpf(value: object) -> str:
    """``***.456.789-**`` for a CPF; a value that is not 11 digits shows no digit."""
    text = "" if value is None else str(value).strip()
    if len(text) == 11 and text.isascii() and text.isdigit():
        return f"***.{text[3:6]}.{text[6:9]}-**"
    return "***.***.***-**" if text else ""


def mask_cns(value: object) -> str:
    """``*** **** **** 1234`` for a CNS; a value that is not 15 digits shows no digit."""
    text = "" if value is None else str(value).strip()
    if len(text) == 15 and text.isascii() and text.isdigit():
        return f"*** **** **** {text[11:]}"
    return "*** **** **** ****" if text else ""


def _masked_series(values: pd.Series, n: int, template: bytes,
                   parts: tuple[tuple[slice, int], ...], invalid: str) -> pd.Series:
    """Vectorized masking: rows of ``n`` digits become ``template`` with, for each
    ``(digits, offset)`` of ``parts``, those digits copied at ``offset``; other non-blank rows
    become ``invalid``; blank rows stay blank."""
    s = pd.Series(values, copy=False).astype("string").fillna("").str.strip()
    fmt, m = _matrix(s, n)
    out = np.where(s.to_numpy(dtype=object) == "", "", invalid).astype(object)
    if len(m):
        width = len(template)
        buf = np.frombuffer(template * len(m), dtype=np.uint8).reshape(-1, width).copy()
        for digits, at in parts:
            kept = m[:, digits]
            buf[:, at:at + kept.shape[1]] = (kept + 48).astype(np.uint8)
        out[fmt] = np.frombuffer(buf.tobytes(), dtype=f"S{width}").astype(str).astype(object)
    return pd.Series(out, index=values.index, dtype="str")


def mask_cpf_series(values: pd.Series) -> pd.Series:
    """:func:`mask_cpf` for a whole column (numpy, no per-row Python)."""
    return _masked_series(values, 11, b"***.000.000-**", ((slice(3, 6), 4), (slice(6, 9), 8)),
                          "***.***.***-**")


def mask_cns_series(values: pd.Series) -> pd.Series:
    """:func:`mask_cns` for a whole column (numpy, no per-row Python)."""
    return _masked_series(values, 15, b"*** **** **** 0000", ((slice(11, 15), 14),),
                          "*** **** **** ****")


# A CPF written with any of the usual separators (ddd.ddd.ddd-dd, ddddddddd-dd,
# ddd ddd ddd dd) and a CNS in groups (898 0010 0000 0005, 898.0010.0000.0005).
_CPF_FORMATTED = re.compile(r"(?<![\d.])(\d{3})[.\s](\d{3})[.\s](\d{3})[-.\s/](\d{2})(?![\d.])"
                            r"|(?<![\d.])(\d{3})(\d{3})(\d{3})-(\d{2})(?!\d)")
_CNS_FORMATTED = re.compile(r"(?<!\d)\d{3}[ .-]\d{4}[ .-]\d{4}[ .-](\d{4})(?!\d)")
_LONG_DIGITS = re.compile(r"(?<!\d)(\d{11}|\d{15})(?!\d)")


def _cpf_sub(m: re.Match) -> str:
    g = m.groups()
    mid = (g[1], g[2]) if g[0] is not None else (g[5], g[6])
    return f"***.{mid[0]}.{mid[1]}-**"


def scrub(text: str) -> str:
    """Mask every CPF-like (11 digits, plain or with the usual separators) and CNS-like
    (15 digits, plain or grouped) number in free text: exception messages and logs pass
    through here. Conservative: an unrelated 11- or 15-digit number is masked too."""
    text = _CNS_FORMATTED.sub(lambda m: f"*** **** **** {m[1]}", text)
    text = _CPF_FORMATTED.sub(_cpf_sub, text)
    return _LONG_DIGITS.sub(lambda m: mask_cpf(m[1]) if len(m[1]) == 11 else mask_cns(m[1]),
                            text)
