"""Stage — Contra-chave (automated checks arrive with this stage's own issue)."""

from __future__ import annotations

from ._pending import pending

TITLE = "Contra-chave"
INPUT_KEYS = ("contra_chave",)
INPUT_FILES = ()


def evaluate(site, ctx=None):
    return pending(site, "contra_chave", "Gere a contra-chave no e-Gestor AB e ative o PEC.")
