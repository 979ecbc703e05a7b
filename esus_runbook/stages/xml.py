"""Stage — Importação do XML do CNES (automated checks arrive with this stage's own issue)."""

from __future__ import annotations

from ._pending import pending

TITLE = "Importação do XML do CNES"
INPUT_KEYS = ("municipio_ibge", "cnes", "xml")
INPUT_FILES = ("xml.arquivo", "xml.anterior")


def evaluate(site, ctx=None):
    return pending(site, "xml", "Confira o XML do CNES antes de importá-lo no PEC.")
