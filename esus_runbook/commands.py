"""Quoting for the command lines the runbook shows users to paste (often as root).

Every value that comes from a site file, an inventory or a probe and goes into a command is
validated where it is read (sites.py) *and* quoted here, in one place: :func:`sh` for POSIX
shells (``shlex.quote``), :func:`ps` for PowerShell (single quotes, the only PowerShell string
form with no expansion, where a quote is escaped by doubling it; PowerShell also treats the
typographic quotes ‘ ’ ‚ ‛ as quotes, so they are doubled too). A plain value (letters,
digits, ``-_./:=@%+,``) is left as is, so usual commands stay readable.
See ``docs/limites-de-entrada.md``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable

_PLAIN = re.compile(r"^[A-Za-z0-9_./\\:=@%+,-]+$")
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def sh(value: object) -> str:
    """``value`` as one POSIX shell word."""
    return shlex.quote(str(value))


def ps(value: object) -> str:
    """``value`` as one PowerShell word (a literal, no variable or subexpression expansion)."""
    text = str(value)
    if _PLAIN.match(text) and not text.startswith("@"):
        return text
    return "'" + "".join(c + c if c in _PS_QUOTES else c for c in text) + "'"


def ps_invoke(path: str) -> str:
    """Run the program at ``path`` in PowerShell (``& 'path'`` when it needs quotes: a
    quoted path alone is just a string)."""
    word = ps(path)
    return word if word == path else f"& {word}"


def quote(value: object, windows: bool = False) -> str:
    """:func:`ps` on Windows, :func:`sh` otherwise."""
    return ps(value) if windows else sh(value)


def join(words: Iterable[object], windows: bool = False) -> str:
    """A command line from words that are all user values or fixed words (each quoted)."""
    return " ".join(quote(w, windows) for w in words)


def option(name: str, value: object | None, placeholder: str | None = None,
           windows: bool = False) -> str:
    """``--name VALUE`` with VALUE quoted; with no value, ``--name <placeholder>`` (a fixed
    text the user replaces, shown unquoted), or "" when there is no placeholder either."""
    if value is None or value == "":
        return f"{name} {placeholder}" if placeholder else ""
    return f"{name} {quote(value, windows)}"
