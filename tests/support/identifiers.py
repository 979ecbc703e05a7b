"""Plain, one-value-at-a-time forms of the identifier rules (docs/dominio.md,
"Identificadores"), written independently of ``esus_runbook/ids.py``: the oracles the tests
compare the package's vectorized checks with, and the makers of valid test data. The
package itself only checks whole columns (``ids.check_column``, ``ids.*_valid_series``)."""

from __future__ import annotations

import re

_CNS_DEFINITIVE = re.compile(r"[12][0-9]{10}00[01][0-9]")
_CNS_PROVISIONAL = re.compile(r"[5789][0-9]{14}")
_CNPJ = re.compile(r"[0-9A-Z]{12}[0-9]{2}")


def _digits(value: object, n: int) -> list[int] | None:
    """The digits of ``value`` when it is a str of exactly ``n`` ASCII digits, else None."""
    if isinstance(value, str) and len(value) == n and re.fullmatch(r"[0-9]*", value):
        return [int(c) for c in value]
    return None


def _mod11(digits: list[int], first_weight: int) -> int:
    """``11 - sum mod 11`` over weights first_weight, first_weight - 1, ...; 0 when >= 10."""
    r = 11 - sum(d * (first_weight - i) for i, d in enumerate(digits)) % 11
    return 0 if r >= 10 else r


def cpf_valid(value: object) -> bool:
    d = _digits(value, 11)
    if d is None or len(set(d)) == 1:
        return False
    return _mod11(d[:9], 10) == d[9] and _mod11(d[:10], 11) == d[10]


def cns_valid(value: object) -> bool:
    if not isinstance(value, str) or not (_CNS_DEFINITIVE.fullmatch(value)
                                          or _CNS_PROVISIONAL.fullmatch(value)):
        return False
    return sum(int(c) * (15 - i) for i, c in enumerate(value)) % 11 == 0


def cnpj_check_digits(base: str) -> str:
    """The two check digits of a 12-character CNPJ base (numeric or, IN RFB 2.229/2024,
    alphanumeric: each character counts as its ASCII code minus 48)."""
    def dv(chars: str, weights: list[int]) -> int:
        r = sum((ord(c) - 48) * w for c, w in zip(chars, weights, strict=True)) % 11
        return 0 if r < 2 else 11 - r
    d1 = dv(base, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    d2 = dv(base + str(d1), [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    return f"{d1}{d2}"


def cnpj_valid(value: object) -> bool:
    """14 digits, or 12 characters [0-9A-Z] and 2 check digits; not one repeated character."""
    if not isinstance(value, str) or not _CNPJ.fullmatch(value) or len(set(value)) == 1:
        return False
    return value[12:] == cnpj_check_digits(value[:12])


def cnes_dv_valid(value: object) -> bool:
    """The undocumented mod-11 digit of a CNES code (weights 7..2 over the first six)."""
    d = _digits(value, 7)
    return d is not None and _mod11(d[:6], 7) == d[6]


def ine_dv_valid(value: object) -> bool:
    """The undocumented mod-11 digit of an INE code (weights 10..2 over the first nine)."""
    d = _digits(value, 10)
    return d is not None and _mod11(d[:9], 10) == d[9]


def cns_from_pis(pis: str) -> str:
    """The definitive CNS derived from an 11-digit base starting with 1 or 2 (the DATASUS
    algorithm): ``pis + 000 + dv``, or ``pis + 001 + dv`` when the digit would be 10."""
    d = _digits(pis, 11)
    if d is None or d[0] not in (1, 2):
        raise ValueError("CNS base must be 11 ASCII digits starting with 1 or 2")
    total = sum(x * (15 - i) for i, x in enumerate(d))
    dv = 11 - total % 11
    if dv == 11:
        dv = 0
    if dv == 10:
        return f"{pis}001{11 - (total + 2) % 11}"
    return f"{pis}000{dv}"
