"""The site model: one package for what a site is and where its files are.

* :mod:`.fields` — the site file's fields (type, pt-BR label and help, bounds, validator),
  read by the loader, the form, the guide and the published JSON Schema;
* :mod:`.loading` — loading and validating a site file, an inventory or a run's snapshot;
* :mod:`.folders` — which entries of a folder are site files and where an inventory item is.
"""
