"""The CNES XML ("XML-ESUS-APS") from e-Gestor AB: read, audit, summarize.

- :mod:`.parser` — ``parse(path) -> CnesFile`` (header + DataFrames), streaming and hardened;
  :mod:`.archive` — the single XML of a ZIP as a stream, with zip-bomb/zip-slip limits.
- :mod:`.rules` — the audit rules (codes and severities in README, "Regras da auditoria"), vectorized.
- :mod:`.summary` — pandas summaries; :mod:`.charts` — the data of their charts (drawn by
  :mod:`esus_runbook.render.charts`).
- :mod:`.audit` — ``audit(path, ibge=None) -> AuditReport`` (JSON ``esus-runbook/xml-audit/1``,
  HTML, bounded ``compact()`` for stage results).
- :mod:`.diff` — ``diff(old, new) -> DiffReport``: what importing the new file changes in PEC
  (JSON ``esus-runbook/xml-diff/1``, HTML, confirmation code for the stage).
- :mod:`.jsontext` — JSON text of large tables written column by column (audit and diff).
- :mod:`.catalog` — CBO and team-type catalogues (CSV in ``esus_runbook/data``).

The generator of realistic files (demo, tests, benchmark) is demo tooling:
:mod:`esus_runbook.demo.cnes_xml`.
"""
