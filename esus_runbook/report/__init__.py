"""The site report and the roll-up of a run, both self-contained HTML (their places in the
run folder: :mod:`esus_runbook.run_folder`).

Names are imported on first use: the roll-up needs pandas, which a stage notebook that only
shows its checks should not pay for.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_NAMES = {"build_rollup": "rollup", "write_rollup": "rollup",
          "render_site_report": "site", "site_verdict": "site"}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(name)
    value = getattr(import_module(f"{__name__}.{_NAMES[name]}"), name)
    globals()[name] = value
    return value
