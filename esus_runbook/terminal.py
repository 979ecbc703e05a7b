"""Text bound for a terminal, stripped of control characters.

Values read from a server or a database (host name, distribution, CPU model, time zone, PEC's
version, a remote error message) are attacker-controlled when the server is hostile, and a
terminal obeys escape sequences in what it prints: CSI clears the screen or moves the cursor,
OSC sets the window title or (OSC 52) writes the clipboard, a carriage return hides what came
before on the line. Every line the command line prints goes through :func:`say`, which writes
:func:`clean` text; ``tests/test_hostile_cli.py`` checks that no module prints another way.
Files (JSON, HTML, CSV, logs) keep the values as they are: their formats escape them.
"""

from __future__ import annotations

import re
import sys
from typing import IO

# C0 controls except tab and newline, DEL, C1 controls (0x80-0x9f: CSI is 0x9b, OSC 0x9d,
# ST 0x9c), and lone surrogates (undecodable bytes of a file name), which the terminal's
# encoder would refuse with a traceback.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: object) -> str:
    """``text`` as a string without control characters (newline and tab kept); a lone
    surrogate becomes U+FFFD."""
    out = _CONTROL.sub("", str(text))
    return _SURROGATE.sub("\ufffd", out)


def say(text: object = "", *, file: IO[str] | None = None, end: str = "\n",
        flush: bool = False) -> None:
    """``print`` for the terminal: writes :func:`clean` ``text`` and ``end`` to ``file``
    (standard output by default)."""
    stream = sys.stdout if file is None else file
    stream.write(clean(text) + end)
    if flush:
        stream.flush()
