"""Site reports (``relatorio.html``) and the roll-up of a run, both self-contained HTML."""

from .rollup import build_rollup, write_rollup
from .site import render_checks_html, render_site_report, site_verdict

__all__ = ["build_rollup", "render_checks_html", "render_site_report", "site_verdict",
           "write_rollup"]
