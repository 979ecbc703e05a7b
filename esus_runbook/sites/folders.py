"""Where site files are: the one rule the CLI (``run``, ``check``, ``batch``), the form and
``lab`` use to list a folder of sites and to find the file an inventory item names.

The rule (tested once, table-driven, in ``tests/test_site_files.py``):

* a folder of sites holds its site files directly (no recursion); a site file is an entry
  whose name ends in ``.yaml`` or ``.yml`` (any case) and does not start with a dot, so
  editor backups (``.ubs.yaml.swp``), ``.git`` and other hidden entries are never sites;
* everything else in the folder (README, ``.json`` snapshots, sub-folders without the suffix)
  is ignored;
* an entry that passes the name rule but cannot be read as a regular file (a FIFO, a symlink
  loop or a dangling symlink, a folder named ``x.yaml``) is *listed*, so that reading it says
  what is wrong in pt-BR (:func:`esus_runbook.files.reading.read_bounded`) instead of the site
  silently disappearing;
* a string item of an inventory's ``sites:`` list is a path relative to the inventory's
  folder, resolved without raising on a symlink loop (:func:`files.reading.resolved`).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from ..files.reading import resolved

SITE_SUFFIXES = (".yaml", ".yml")


def is_site_file_name(name: str) -> bool:
    """Whether an entry named ``name`` in a folder of sites is a site file."""
    return not name.startswith(".") and name.lower().endswith(SITE_SUFFIXES)


def folder_site_files(folder: str | os.PathLike) -> list[Path]:
    """The site files of a folder of sites, sorted by name (empty if it is not a folder)."""
    folder = Path(folder)
    try:
        entries = list(os.scandir(folder))
    except (NotADirectoryError, FileNotFoundError):
        return []
    except PermissionError:
        raise InputError("pasta de sites: sem permissão de leitura", file=str(folder),
                         remedy="confira as permissões da pasta") from None
    return sorted(folder / e.name for e in entries if is_site_file_name(e.name))


def inventory_item(inventory: str | os.PathLike, item: str) -> Path:
    """The absolute path of a site file named by an inventory's ``sites:`` item."""
    return resolved(Path(inventory).parent / item)
