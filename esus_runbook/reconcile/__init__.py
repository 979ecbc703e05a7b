"""After the import: reconcile what PEC's PostgreSQL holds with the CNES XML (read only).

``reconcile(xml, db_url, password)`` → :class:`ReconcileReport`; see ``docs/reconciliacao.md``
for the schema assumptions, the scope and the difference kinds.
"""

from .compare import KINDS
from .report import DIFFERENCES, OK, PENDING, SCHEMA, ReconcileReport, reconcile

__all__ = ["DIFFERENCES", "KINDS", "OK", "PENDING", "SCHEMA", "ReconcileReport", "reconcile"]
