"""Stage — Download do instalador (automated checks arrive with this stage's own issue)."""

from __future__ import annotations

from ._pending import pending

TITLE = "Download do instalador"
INPUT_KEYS = ("instalador",)
INPUT_FILES = ("instalador.arquivo",)


def evaluate(site, ctx=None):
    return pending(site, "download", "Baixe o instalador no portal SISAPS e registre o SHA-256 (sha256sum) do arquivo.")
