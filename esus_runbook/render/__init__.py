"""Rendering: the Jinja2 environment and templates of every HTML output, and the matplotlib
charts as inline SVG. Knows nothing of stages or sites; the audit, the stages and the reports
hand it data (see docs/arquitetura.md)."""
