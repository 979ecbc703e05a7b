"""Stage — Instalação e configuração (automated checks arrive with this stage's own issue)."""

from __future__ import annotations

from ._pending import pending

TITLE = "Instalação e configuração"
INPUT_KEYS = ("cenario", "instalador", "instalacao")
INPUT_FILES = ()


def evaluate(site, ctx=None):
    return pending(site, "instalacao", "Instale com -console -continue e confira http://servidor:8080/api/public/info.")
