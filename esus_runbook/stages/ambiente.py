"""Stage — Preparação do ambiente (automated checks arrive with this stage's own issue)."""

from __future__ import annotations

from ._pending import pending

TITLE = "Preparação do ambiente"
INPUT_KEYS = ("cenario", "ambiente")
INPUT_FILES = ("ambiente.probe",)


def evaluate(site, ctx=None):
    return pending(site, "ambiente", "Confira manualmente RAM, CPU, disco, sistema de 64 bits, locale pt_BR.UTF-8, fuso horário e portas 8080/5433 livres conforme o Manual e-SUS APS.")
