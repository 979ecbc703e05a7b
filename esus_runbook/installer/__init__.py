"""The PEC installer, one module per concern (docs/download.md):

* :mod:`.naming`: installer names, parsed and built; the name from a URL or a header;
* :mod:`.releases`: the release registry (packaged table and the team's CSV);
* :mod:`.trust`: the team's trust policy, what the registry records and when;
* :mod:`.verify`: the verification of one installer file;
* :mod:`.network`: the request, its settings and network errors in pt-BR;
* :mod:`.transfer`: the ``.part`` file and the resumable request loop;
* :mod:`.downloader`: :func:`~.downloader.download`, the verified download as a whole.

Nothing is imported here: importing one module (a name, a version) does not load the network
stack.
"""
