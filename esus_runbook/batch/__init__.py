"""Batch execution of the stage notebooks over an inventory of sites."""

from .options import BatchOptions
from .runner import BatchSummary, run_batch

__all__ = ["BatchOptions", "BatchSummary", "run_batch"]
