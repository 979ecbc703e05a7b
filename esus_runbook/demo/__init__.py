"""Demo and test tooling — NOT part of the product: no product module imports it (the
``ferramentas-da-demo`` contract in ``.importlinter``).

- :mod:`.pec_simulator` — local HTTP servers that answer like e-SUS PEC and a download portal
  (``make demo``, the tests, the download benchmark).
- :mod:`.cnes_xml` — deterministic generator of realistic CNES XMLs (``examples/xml``, the
  tests, the benchmark), with its command line.
- :mod:`.cnes_next_month` — a generated file's next/previous month with an exact number of
  changes of each kind (for ``xml diff``).
- :mod:`.cnes_model` — what both CNES generators share: Spec, Changes, Model, names, roles
  and valid identifiers.
- :mod:`.rollout_history` — synthetic run folders with controlled dates (weeks of rollout
  history for the catalog's tests and benchmark).
"""
