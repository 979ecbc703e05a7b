"""The Jinja2 environment shared by every HTML output (autoescaped, templates packaged)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ..results import LABELS, Status
from .charts import STATUS_COLORS
from .numbers import number


def fmt(value: Any) -> str:
    """A JSON value as short pt-BR text for a table cell."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "sim" if value else "não"
    if isinstance(value, float):
        return number(value, 2, trim=True)
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {fmt(v)}" for k, v in value.items())
    return str(value)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("esus_runbook.render", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["fmt"] = fmt
    env.filters["number"] = number
    env.filters["label"] = lambda s: LABELS[Status(s)]
    env.filters["tojson_compact"] = lambda v: json.dumps(v, ensure_ascii=False)
    env.globals["colors"] = STATUS_COLORS
    env.globals["order"] = [s.value for s in Status]
    return env


def scoped_html(html: str) -> str:
    """``html`` inside ``<div class="esus">`` with the report's component styles, for
    notebook outputs (JupyterLab keeps its own styles around them)."""
    css = environment().get_template("components.css.j2").render()
    return f'<div class="esus"><style>{css}</style>{html}</div>'
