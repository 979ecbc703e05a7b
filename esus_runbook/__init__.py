"""esus-runbook: implantação do e-SUS APS PEC, site a site, com evidências.

Public API::

    load_sites(path)            -> list[Site]        site file, inventory or folder
    evaluate(stage, site)       -> StageResult       one stage, in Python
    run_batch(inventory, opts)  -> BatchSummary      notebooks for every site (papermill)
    audit_xml(path, ibge=None)  -> AuditReport       CNES XML/ZIP audit (cnes.audit)
"""

from .errors import InputError, RunbookError
from .results import Check, StageResult, Status
from .sites import Site, load_site, load_sites
from .stages import evaluate


def run_batch(inventory, options=None):
    """Execute every stage notebook for every site of ``inventory`` (see batch.run_batch)."""
    from .batch import run_batch as _run

    return _run(inventory, options)


def audit_xml(path, ibge=None):
    """Audit a CNES XML or ZIP (see esus_runbook.cnes.audit.audit)."""
    from .cnes.audit import audit

    return audit(path, ibge)


__all__ = ["Check", "InputError", "RunbookError", "Site", "StageResult", "Status", "audit_xml",
           "evaluate",
           "load_site", "load_sites", "run_batch"]
