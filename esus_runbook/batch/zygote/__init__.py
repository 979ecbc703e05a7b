"""The kernel zygote: a pre-warmed kernel process that forks one kernel per site.

Starting a kernel the ordinary way is a new interpreter importing IPython, ipykernel, pandas,
lxml, Jinja and the package — about two seconds of CPU on the machines this runs on, paid
once per site. The zygote is one process, started with the kernel spec's interpreter and
environment, that imports all of that ONCE and then ``fork()``\\ s a ready-to-start kernel
for every site: a forked kernel costs ``fork()`` plus ipykernel's own initialisation
(sockets, the shell), the imported modules shared copy-on-write (``docs/batch-kernels.md``).

Two sides, two processes:

- :mod:`.client` runs in the batch process: :class:`~.client.Zygote` starts the server and
  asks it for kernels; :class:`~.client.ForkedProvisioner` is the jupyter_client
  provisioner that launches a kernel through it, so the kernel manager, nbclient and the
  watcher (:data:`esus_runbook.batch.kernels.WATCHER`) see an ordinary kernel. The kernel
  pool (:mod:`esus_runbook.batch.site_engine`) owns one zygote per pool.
- :mod:`.server` runs as ``python -m esus_runbook.batch.zygote.server REPLY_FD READY`` with
  the kernel's interpreter (never imported by the batch process).

How they talk: the client writes one JSON line per kernel on the server's stdin —
``{"argv": [...], "env": {...}, "cwd": "..."}``, where ``argv`` is what would follow
``-m ipykernel_launcher`` — and reads the answers as lines on the pipe ``REPLY_FD``: first
``READY`` once the imports are done, then for each request the new kernel's pid, or ``!``
and a reason. The server exits when its stdin closes (the batch process ended, even by
``kill -9``); the kernels it forked have it as parent and exit when it goes.
"""
