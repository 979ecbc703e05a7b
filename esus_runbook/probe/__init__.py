"""The server probe: collect host facts on the target server, write and read probe files.

On the server (no root needed)::

    esus-runbook sondar --json sondagem.json [--pasta-instalacao /opt] [--velocidade-disco]

In Python::

    from esus_runbook import probe
    facts = probe.collect()                  # this machine, < 3 s
    probe.write_probe(facts, "sondagem.json")
    p = probe.load_probe("sondagem.json")     # normalized; InputError when missing/corrupt

Modules: ``facts`` (collect(): orchestration, psutil parts), ``linux`` and ``windows`` (what psutil
does not know), ``diskspeed`` (the bounded write/read measurement), ``loader`` (tolerant
reading of any probe file), ``summary`` (pt-BR text).
"""

from __future__ import annotations

import os
from typing import Any

from ..files.atomic import json_text
from ..files.outputs import write_report
from .diskspeed import DEFAULT_MB as DISK_SPEED_DEFAULT_MB
from .facts import PORTS, SCHEMA, collect
from .loader import load_probe, normalize
from .summary import lines as summary_lines


def write_probe(facts: dict[str, Any], path: str | os.PathLike) -> None:
    """Write a probe file atomically (a reader never sees half a file)."""
    write_report(path, json_text(facts), what="a sondagem",
                 remedy="escolha uma pasta em que este usuário possa gravar, ex.: "
                        "--json ~/sondagem.json")


__all__ = ["DISK_SPEED_DEFAULT_MB", "PORTS", "SCHEMA", "collect", "load_probe", "normalize",
           "summary_lines", "write_probe"]
