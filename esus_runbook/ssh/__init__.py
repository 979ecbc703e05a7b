"""Reach the PEC server over SSH with nothing installed there (paramiko, strict host keys).

``usuario@host[:porta]`` is parsed in :mod:`esus_runbook.ssh_target` (core: the site file
validates it without paramiko). Modules: ``client`` (connection, host keys, commands),
``remote_probe`` (the probe from standard commands), ``evidence`` (stage 04's server checks),
``tunnel`` (local port forward to the server's loopback). Facts relied on: docs/ssh.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SshError", "SshOptions", "SshSession", "Target", "accept_host_key", "connect",
           "fingerprint", "parse_target", "options_for"]


def __getattr__(name: str) -> Any:
    """Lazy: validating a site file needs ``parse_target`` only, not paramiko."""
    if name in ("Target", "parse_target"):
        from .. import ssh_target

        return getattr(ssh_target, name)
    if name in __all__:
        from . import client

        return getattr(client, name)
    raise AttributeError(name)
