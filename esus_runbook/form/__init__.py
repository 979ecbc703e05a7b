"""The site form: create or edit a site file from JupyterLab.

* :mod:`.model` — where a site lives, its YAML in round-trip mode, validation (the CLI's)
  and the atomic save; no widget library.
* :mod:`.widgets` — the ipywidgets UI (:class:`SiteForm`) over that model.

``from esus_runbook import form`` gives both. Importing the package imports ipywidgets
(0.06-0.36 s, ``python -X importtime -c "import esus_runbook.form.widgets"``): only the site
form's callers import it (``notebook.site_form``, the tests); nothing else in the package
imports ``esus_runbook.form``.
"""

from __future__ import annotations

from .model import (
    ENV_NAME_STRICT,
    HEADER,
    SaveOutcome,
    SiteDocument,
    Target,
    dotted,
    fields,
    folder_sites,
    from_text,
    locate,
    to_text,
)
from .widgets import NEW_SITE, SECTION_TITLES, FieldWidget, SiteForm

__all__ = ["ENV_NAME_STRICT", "HEADER", "NEW_SITE", "SECTION_TITLES", "FieldWidget",
           "SaveOutcome", "SiteDocument", "SiteForm", "Target", "dotted", "fields",
           "folder_sites", "from_text", "locate", "to_text"]
