"""The error of everything SSH (its own module, so ``known_hosts`` and ``client`` share it)."""

from __future__ import annotations

from ..errors import RunbookError


class SshError(RunbookError):
    """The server could not be reached, authenticated or trusted. ``kind`` says which:
    ``host_desconhecido``, ``host_alterado``, ``host_revogado``, ``known_hosts``,
    ``autenticacao``, ``inacessivel``, ``tempo``, ``inundacao``, ``comando``."""

    def __init__(self, message: str, *, kind: str, remedy: str | None = None,
                 fingerprint: str | None = None):
        super().__init__(message, remedy=remedy)
        self.kind = kind
        self.fingerprint = fingerprint
