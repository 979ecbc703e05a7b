"""What ``esus-runbook certificado``, ``backup`` and ``atualizacao`` do: load the site, measure,
record the evidence file (:mod:`.record`) and return it (the CLI only maps options here)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..results import Status
from ..sites import Site, load_site
from .certificate import TlsTarget, check_certificate, site_target
from .record import OpsRecord, save


def load(site_file: str | os.PathLike, site_id: str | None) -> Site:
    return load_site(site_file, site_id)


def certificate(site: Site, executions: str | os.PathLike, *,
                timeout: float = 10.0) -> OpsRecord:
    """Check the certificate of the site's HTTPS link and record it."""
    rec = OpsRecord(site.site_id, "certificado")
    target = site_target(site.data)
    cert_cfg: Mapping = site.data.get("certificado") or {}
    if target is None:
        rec.checks.add("CRT_ALVO", "Link HTTPS do PEC", Status.PENDENTE,
                       "instalacao.https_dominio ou link_instalacao/pec_url com https",
                       "o site não tem link HTTPS",
                       "Informe instalacao.https_dominio (o domínio do HTTPS automático) ou o "
                       "link https em instalacao.link_instalacao e verifique de novo.")
    else:
        if cert_cfg.get("endereco"):
            target = TlsTarget(target.name, target.port, cert_cfg["endereco"], target.origin)
        checks, metrics = check_certificate(target, cafile=cert_cfg.get("ca_arquivo"),
                                            timeout=timeout)
        rec.checks.extend(checks)
        rec.metrics.update(metrics)
    save(rec, executions)
    return rec
