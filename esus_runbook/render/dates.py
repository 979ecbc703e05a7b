"""Dates as people read them, the one place for it: every page shows a stored ISO timestamp
(which always carries its UTC offset) as ``dd/mm/aaaa hh:mm`` in one time zone, the
machine's, and names that zone once on the page (``zone_label``). Converting through the
offset, never dropping it, keeps a document consistent whatever ``TZ`` says."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

FORMAT = "%d/%m/%Y %H:%M"
_UTC_NAMES = ("UTC", "GMT", "Etc/UTC", "Etc/GMT", "Universal", "Etc/Universal", "Zulu",
              "Etc/Zulu", "UCT", "Etc/UCT")


def parse(value: Any) -> datetime | None:
    """An ISO timestamp (text or datetime) as an aware datetime; a naive one is read as
    local time; None or unparseable is None."""
    if value is None or value == "":
        return None
    if value != value:  # NaN, NaT
        return None
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp, without importing pandas
        dt = value.to_pydatetime()
    elif isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return dt.astimezone() if dt.tzinfo is None else dt


def when(value: Any, missing: str = "—") -> str:
    """``value`` as ``dd/mm/aaaa hh:mm`` in the machine's time zone; ``missing`` when there is
    none; text that is not a timestamp is returned as given."""
    dt = parse(value)
    if dt is None:
        return missing if value is None or value == "" or str(value) == "NaT" else str(value)
    return dt.astimezone().strftime(FORMAT)


def day(value: Any, missing: str = "—") -> str:
    """A date (``aaaa-mm-dd`` or a timestamp) as ``dd/mm/aaaa``."""
    if value is None or value == "":
        return missing
    text = str(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return f"{text[8:10]}/{text[5:7]}/{text[0:4]}"
    dt = parse(value)
    return missing if dt is None else dt.astimezone().strftime("%d/%m/%Y")


@cache
def _zone_name() -> str:
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz in _UTC_NAMES:
        return "UTC"
    if tz and "/" in tz and not tz.startswith("/"):
        return tz
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            name = target.split("zoneinfo/", 1)[1]
            return "UTC" if name in _UTC_NAMES else name
    except OSError:
        pass
    return time.tzname[0]


def zone_label(now: datetime | None = None) -> str:
    """The zone the page's times are in, named and with its offset:
    ``America/Bahia (UTC−03:00)``."""
    off = (now or datetime.now(timezone.utc)).astimezone().utcoffset()
    minutes = int(off.total_seconds() // 60) if off is not None else 0
    sign = "+" if minutes >= 0 else "−"
    hh, mm = divmod(abs(minutes), 60)
    name = _zone_name()
    offset = f"UTC{sign}{hh:02d}:{mm:02d}"
    if name == "UTC" or (minutes == 0 and "/" not in name):
        return "UTC"
    return offset if name == offset else f"{name} ({offset})"
