"""Imported inside a batch kernel or the kernel zygote, never in the batch process: what a
site kernel loads once and how it gives every notebook a clean start.

A site kernel runs the seven notebooks of one site in sequence (see
:mod:`esus_runbook.batch.site_engine`). The zygote (:mod:`.zygote.server`) imports this module
before forking kernels; a kernel started on its own imports it through
``--IPKernelApp.exec_lines`` (:func:`remember_start_state`). Either way the modules the
notebooks import (the package, pandas, the stage modules, the report) are loaded before the
site needs the kernel, and stay loaded for its seven notebooks. Before each notebook,
:func:`fresh_start` puts back what a new kernel would have: an empty user namespace with the
execution counter at 1 (``InteractiveShell.reset``, what ``%reset -f`` does plus a new
session), the kernel's environment variables and ``sys.path`` as they were at start, the
site's working folder, no open matplotlib figure. Modules stay imported: that is the point.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from pathlib import Path

import IPython

from .. import stages
from ..render import charts
from ..results import STAGES, StageResult

_ENV = dict(os.environ)
_SYS_PATH = list(sys.path)
# what the batch notebooks import lazily (esus_runbook.notebook, its show()/report helpers)
MODULES = ("esus_runbook.notebook", "esus_runbook.report", "esus_runbook.report.site",
           "esus_runbook.render.env", "esus_runbook.ids", "esus_runbook.secret_refs",
           "IPython.display", "pandas")


def remember_start_state() -> None:
    """Run by the kernel's ``exec_lines`` once ipykernel has set up (its own environment
    variables included): record the environment and ``sys.path`` that :func:`fresh_start`
    puts back. In a kernel forked from the zygote this module was imported earlier, with
    the zygote's environment, so the import alone would not do."""
    _ENV.clear()
    _ENV.update(os.environ)
    _SYS_PATH[:] = sys.path
    # what the kernel holds now (modules, IPython, ipykernel) lives as long as the kernel:
    # out of the garbage collector's sight, the collection that the reset before every
    # notebook runs takes ~3 ms instead of ~100 ms
    gc.collect()
    gc.freeze()


def warm() -> None:
    for name in MODULES:
        importlib.import_module(name)
    for stage in STAGES:
        stages.module(stage)


def warm_charts() -> None:
    """Load what drawing a stage chart loads (pyplot with the Agg backend, the SVG backend,
    the font list) by drawing one throw-away chart. Done in the zygote only (see
    :mod:`.zygote.server`): there it is paid once per run instead of once per site with charts;
    a kernel started on its own would pay it for sites that draw nothing."""
    charts.warm_up()


def fresh_start(cwd: str) -> None:
    """Give the next notebook the state of a new kernel (see the module docstring)."""
    charts.reset()  # drawn by draw_charts or a notebook: no figure, default rc
    if os.environ != _ENV:
        os.environ.clear()
        os.environ.update(_ENV)
    sys.path[:] = _SYS_PATH
    os.chdir(cwd)
    shell = IPython.get_ipython()
    if shell is not None:
        shell.reset(new_session=True)


def draw_charts(result_path: str) -> None:
    """Draw a stage's charts into the cache the site report reads, here in the site kernel
    (in parallel with the other sites, matplotlib imported once per site) instead of in
    the batch process; see ``site_task.draw_charts``."""
    result = StageResult.load(Path(result_path))
    if stages.has_charts(result):
        stages.chart_svgs(result, Path(result_path).parent)


try:
    warm()
except Exception:  # a broken import shows up, with its traceback, in the notebook that needs it
    pass
