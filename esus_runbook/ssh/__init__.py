"""Reach the PEC server over SSH with nothing installed there (paramiko, strict host keys).

``usuario@host[:porta]`` is parsed in :mod:`esus_runbook.ssh_target` (core: the site file
validates it without paramiko). Modules: ``client`` (connection, host keys, commands),
``remote_probe`` (the probe from standard commands), ``evidence`` (stage 04's server checks),
``tunnel`` (local port forward to the server's loopback). Facts relied on: docs/ssh.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ..ssh_target import Target, parse_target
from .errors import SshError

__all__ = ["SshError", "SshOptions", "SshSession", "Target", "accept_host_key", "accept_text",
           "connect",
           "fingerprint", "parse_target", "options_for", "site_db_url"]


def site_db_url(servidor: Mapping[str, Any] | None, db_url: str | None,
                env: Mapping[str, str] | None = None) -> AbstractContextManager[str | None]:
    """The database URL a stage uses for a validated site: through an SSH tunnel to the
    server's loopback when ``servidor.ssh`` is set and ``db_url`` points at localhost (closed
    on every exit path), else ``db_url`` itself. paramiko is imported only for the tunnel."""
    if not (servidor and servidor.get("ssh") and db_url):
        return nullcontext(db_url)
    # Lazy on purpose: stages 04 and 05 import this module at load time, and paramiko costs
    # more than those stages' whole import (python -X importtime: esus_runbook.ssh.client
    # 1.1-1.3 s cumulative, esus_runbook.stages.instalacao 0.16-0.47 s without it).
    from .client import options_for
    from .tunnel import db_url_via

    return db_url_via(parse_target(servidor["ssh"], file="site", key="servidor.ssh"),
                      options_for(servidor, env), db_url)


def __getattr__(name: str) -> Any:
    """Lazy (a measured facade): stages 04 and 05 and ``upkeep.commands`` import this package
    at load time for :func:`site_db_url`, so a plain ``from .client import ...`` here would
    put paramiko in every stage kernel (``python -X importtime``: esus_runbook.ssh.client
    0.19-0.51 s cumulative against 0.06-0.44 s for the whole esus_runbook.stages, Dec 2026 on
    the shared 2-core machine). The names serve the CLI and the tests."""
    if name in __all__:
        from . import client

        return getattr(client, name)
    raise AttributeError(name)
