"""The Jinja2 environment shared by every HTML output (autoescaped, templates packaged)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from ..status import LABELS, Severity, Status
from .charts import STATUS_COLORS
from .dates import day, when, zone_label
from .numbers import number
from .places import municipality_name
from .words import plural

_TICKS = re.compile(r"`([^`]+)`")


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


def is_command(text: str) -> bool:
    """A backticked span that is a shell command to copy (has an argument), not a name."""
    return " " in text.strip()


def remedy(text: str | None, blocks: bool = False) -> Markup:
    """A remedy's text as HTML: the backticked spans as code, never as literal backticks;
    with ``blocks`` each command (a span with an argument) is repeated after the sentence in
    its own ``<pre><code>`` block, to copy whole."""
    if not text:
        return Markup("")
    out: list[str] = []
    commands: list[str] = []
    pos = 0
    for m in _TICKS.finditer(text):
        out.append(str(escape(text[pos:m.start()])))
        code = m.group(1)
        # a long command may wrap between its words, never inside one (e-SUS-PEC)
        words = " ".join(f'<span class="w">{escape(w)}</span>' for w in code.split(" "))
        out.append(f"<code>{words}</code>")
        if blocks and is_command(code) and code not in commands:
            commands.append(code)
        pos = m.end()
    out.append(str(escape(text[pos:])))
    html = "".join(out)
    if commands:
        html = f"<p>{html}</p>" + "".join(
            f'<pre class="comando"><code>{escape(c)}</code></pre>' for c in commands)
    return Markup(html)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("esus_runbook.render", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["fmt"] = fmt
    env.filters["number"] = number
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["remedy"] = remedy
    env.filters["plural"] = plural
    env.filters["municipio"] = municipality_name
    # a compound word in a header (Contra-chave) must not break at its hyphen
    env.filters["whole"] = lambda text: str(text).replace("-", "\u2011")
    env.filters["label"] = lambda s: LABELS[Status(s)]
    # a finding's severity (``error``/``warning``/``info``, an enum or its JSON value): its
    # pt-BR word, its CSS class (the status it gives: ``cell-falha``...) and its sort rank
    env.filters["severity_label"] = lambda s: Severity(s).label
    env.filters["severity_class"] = lambda s: Severity(s).status.value
    env.filters["severity_rank"] = lambda s: Severity(s).rank
    env.filters["tojson_compact"] = lambda v: json.dumps(v, ensure_ascii=False)
    env.globals["colors"] = STATUS_COLORS
    env.globals["order"] = [s.value for s in Status]
    env.globals["zone_label"] = zone_label
    return env


def scoped_html(html: str) -> str:
    """``html`` inside ``<div class="esus">`` with the report's component styles, for
    notebook outputs (JupyterLab keeps its own styles around them)."""
    css = environment().get_template("components.css.j2").render()
    return f'<div class="esus"><style>{css}</style>{html}</div>'
