"""Writing files atomically: readers see the old file or the whole new one, never a part.

Every file the tool writes (stage results, reports, run folders, the catalog's exports) goes
through :func:`write_bytes_atomic`: a temporary file in the same folder, fsync, then
``os.replace``. A crash or Ctrl-C leaves at most a hidden ``.<name>.*.tmp`` beside it.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new
    one: a temporary file in the same folder, fsync, then ``os.replace``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:   # a file where the folder should be: say so, not "exists"
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR),
                                 str(path.parent)) from None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def json_text(data: Any) -> str:
    """The JSON text of every file this package writes (UTF-8, indented, newline-ended)."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    write_text_atomic(path, json_text(data))
