"""pt-BR number formatting, the one place for it: ``.`` groups thousands, ``,`` marks the
decimals (``1.234.567``, ``12,5``). Used by check texts, charts, tables and reports."""

from __future__ import annotations

_SWAP = str.maketrans(",.", ".,")


def number(x: float | None, digits: int = 0, *, trim: bool = False,
           unknown: str = "?") -> str:
    """``x`` with ``digits`` decimals in pt-BR (``number(1234.5, 1)`` is ``1.234,5``);
    ``trim`` drops trailing decimal zeros and a bare comma (``number(2.50, 2, trim=True)``
    is ``2,5``); None is ``unknown``."""
    if x is None:
        return unknown
    text = f"{x:,.{digits}f}".translate(_SWAP)
    if trim and "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def size_bytes(n: int | None) -> str:
    """A size in bytes, every digit shown (``1.048.576 bytes``): sizes compared against a
    registry must not be rounded; None is ``desconhecido``."""
    return "desconhecido" if n is None else f"{number(n)} bytes"
