"""Result for a stage whose automated checks are not part of this version yet: honest
``pendente`` with a check that says what the analyst must verify by hand."""

from __future__ import annotations

from ..results import StageResult, Status
from ..sites import Site


def pending(site: Site, stage: str, manual: str) -> StageResult:
    r = StageResult(site.site_id, stage)
    r.add("ETAPA_NAO_AUTOMATIZADA", "Verificação automática desta etapa", Status.PENDENTE,
          "verificação automática", "ainda não disponível nesta versão", manual)
    return r.finish()
