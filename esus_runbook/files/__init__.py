"""Files the user names and files the tool writes, in one place.

* :mod:`.reading` — bounded, regular-file-only reading of inputs (site files, probes, ...);
* :mod:`.atomic` — writing through a temporary file renamed into place;
* :mod:`.outputs` — the one validator of an output path (``--json``, ``--html``, ``--saida``)
  and the report writer every command uses;
* :mod:`.csvcells` — CSV cells safe to open in a spreadsheet.
"""
