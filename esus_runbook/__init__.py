"""esus-runbook: implantação do e-SUS APS PEC, site a site, com evidências.

Public API::

    load_sites(path)            -> list[Site]        site file, inventory or folder
    evaluate(stage, site)       -> StageResult       one stage, in Python
    run_batch(inventory, opts)  -> BatchSummary      notebooks for every site (papermill)
    audit_xml(path, ibge=None)  -> AuditReport       CNES XML/ZIP audit (cnes.audit)

The names are loaded on first use (PEP 562), so that ``python -m esus_runbook download`` or
``verify-install`` does not pay for pandas, which site validation needs.
"""

from importlib import import_module

# Lazy imports: the facade loads each name on first use (the batch engine and the audit import
# papermill and pandas, 2.8 s and 0.7 s; a CLI command that needs neither must not pay them).

_LAZY = {"InputError": ".errors", "RunbookError": ".errors", "Check": ".results",
         "StageResult": ".results", "Status": ".results", "Site": ".sites",
         "load_site": ".sites", "load_sites": ".sites", "evaluate": ".stages"}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
