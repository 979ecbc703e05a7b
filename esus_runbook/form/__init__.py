"""The site form: create or edit a site file from JupyterLab.

* :mod:`.model` — where a site lives, its YAML in round-trip mode, validation (the CLI's)
  and the atomic save; no widget library.
* :mod:`.widgets` — the ipywidgets UI (:class:`SiteForm`) over that model.

``from esus_runbook import form`` gives both. The widget names are loaded on first use:
importing ipywidgets takes 0.6-0.9 s (measured with ``python -c "import time, ruamel.yaml;
t=time.perf_counter(); import ipywidgets; print(time.perf_counter()-t)"``), which the model's
users (``lab``, scripts, tests of the document) do not need to pay.
"""

from __future__ import annotations

import importlib
from typing import Any

from .model import (
    ENV_NAME_STRICT,
    HEADER,
    SaveOutcome,
    SiteDocument,
    Target,
    dotted,
    fields,
    folder_sites,
    from_text,
    locate,
    to_text,
)

_WIDGET_NAMES = ("SiteForm", "FieldWidget", "SECTION_TITLES", "NEW_SITE")

__all__ = ["ENV_NAME_STRICT", "HEADER", "SaveOutcome", "SiteDocument", "Target", "dotted",
           "fields", "folder_sites", "from_text", "locate", "to_text", *_WIDGET_NAMES]


def __getattr__(name: str) -> Any:
    if name in _WIDGET_NAMES:
        return getattr(importlib.import_module(".widgets", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
