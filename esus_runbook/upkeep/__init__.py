"""After go-live: the evidence a site keeps producing once PEC is running.

Modules: ``certificate`` (TLS handshake to the site's PEC link: expiry, name, chain, .gov.br),
``backup`` (the dumps on the server, read over SSH without copying them; an optional restore
into a scratch database), ``update`` (the two halves of a version update) and ``record`` (the
versioned JSON each of them writes under ``<execucoes>/operacoes/<site_id>/``). Facts:
docs/certificado.md, docs/backup.md, docs/atualizacao.md.
"""
