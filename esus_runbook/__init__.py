"""esus-runbook: implantação do e-SUS APS PEC, site a site, com evidências.

Public API::

    load_sites(path)            -> list[Site]        site file, inventory or folder
    evaluate(stage, site)       -> StageResult       one stage, in Python
    run_batch(inventory, opts)  -> BatchSummary      notebooks for every site (papermill)
    audit_xml(path, ibge=None)  -> AuditReport       CNES XML/ZIP audit (cnes.audit)

Every ``python -m esus_runbook`` command imports this module first, so it imports only what
the CLI loads anyway (errors, the site loader, results: ``python -X importtime``, ~3 ms more);
the stages, the batch engine and the audit are imported when their function is called.
"""

from .errors import InputError, RunbookError
from .results import Check, StageResult
from .sites.loading import Site, load_site, load_sites
from .status import Status

# Lazy imports: the stage registry (every stage module: 20-120 ms measured with
# `python -X importtime -c "import esus_runbook.cli, esus_runbook.stages"`, as much as the CLI
# itself), the batch engine (papermill 2.8 s) and the audit (pandas 0.7 s) load only when
# their function is called.


def evaluate(stage, site, ctx=None):
    """Evaluate one stage for a validated site (see esus_runbook.stages.evaluate)."""
    from .stages import evaluate as _evaluate

    return _evaluate(stage, site, ctx)


def run_batch(inventory, options=None):
    """Execute every stage notebook for every site of ``inventory`` (see batch.run_batch)."""
    from .batch import run_batch as _run

    return _run(inventory, options)


def audit_xml(path, ibge=None):
    """Audit a CNES XML or ZIP (see esus_runbook.cnes.audit.audit)."""
    from .cnes.audit import audit

    return audit(path, ibge)


__all__ = ["Check", "InputError", "RunbookError", "Site", "StageResult", "Status", "audit_xml",
           "evaluate", "load_site", "load_sites", "run_batch"]
