"""Reach the PEC server over SSH with nothing installed there (paramiko, strict host keys).

Modules: ``target`` (``usuario@host[:porta]``), ``client`` (connection, host keys, commands),
``remote_probe`` (the probe from standard commands), ``evidence`` (stage 04's server checks),
``tunnel`` (local port forward to the server's loopback). Facts relied on: docs/ssh.md.
"""

from __future__ import annotations

from .client import SshError, SshOptions, SshSession, accept_host_key, connect, fingerprint
from .target import Target, parse_target

__all__ = ["SshError", "SshOptions", "SshSession", "Target", "accept_host_key", "connect",
           "fingerprint", "parse_target"]
