"""What ``esus-runbook certificado``, ``backup`` and ``atualizacao`` do: load the site, measure,
record the evidence file (:mod:`.record`) and return it (the CLI only maps options here)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..errors import InputError
from ..installer.releases import Registry
from ..secret_refs import read_secret
from ..sites.fields import VERSION
from ..sites.loading import Site, load_site
from ..ssh import site_db_url
from ..ssh.client import connect, options_for
from ..ssh_target import parse_target
from ..status import Status
from .backup import evidence as backup_evidence
from .backup import restore_refused
from .certificate import TlsTarget, check_certificate, site_target
from .record import OpsRecord, latest, save
from .shell import LocalShell, RemoteShell
from .update import after as update_after
from .update import before as update_before


def load(site_file: str | os.PathLike, site_id: str | None) -> Site:
    return load_site(site_file, site_id)


def certificate(site: Site, executions: str | os.PathLike, *,
                timeout: float = 10.0) -> OpsRecord:
    """Check the certificate of the site's HTTPS link and record it."""
    rec = OpsRecord(site.site_id, "certificado", nome=site.nome)
    target = site_target(site.data)
    cert_cfg: Mapping = site.data.get("certificado") or {}
    if target is None:
        rec.checks.add("CRT_ALVO", "Link HTTPS do PEC", Status.PENDENTE,
                       "instalacao.https_dominio ou link_instalacao/pec_url com https",
                       "o site não tem link HTTPS",
                       "Informe instalacao.https_dominio (o domínio do HTTPS automático) ou o "
                       "link https em instalacao.link_instalacao e verifique de novo.")
    else:
        if cert_cfg.get("endereco"):
            target = TlsTarget(target.name, target.port, cert_cfg["endereco"], target.origin)
        checks, metrics = check_certificate(target, cafile=cert_cfg.get("ca_arquivo"),
                                            timeout=timeout)
        rec.checks.extend(checks)
        rec.metrics.update(metrics)
    save(rec, executions)
    return rec


@contextmanager
def server_shell(site: Site, env: Mapping[str, str] | None = None) -> Iterator[Any]:
    """The site's server: over SSH when ``servidor.ssh`` is set, else this machine."""
    servidor = site.data.get("servidor") or {}
    if not servidor.get("ssh"):
        yield LocalShell()
        return
    session = connect(parse_target(servidor["ssh"], file=site.source, key="servidor.ssh"),
                      options_for(servidor, env))
    shell = RemoteShell(session)
    try:
        yield shell
    finally:
        shell.close()


def backup(site: Site, executions: str | os.PathLike, *, restore: bool = False,
           env: Mapping[str, str] | None = None) -> OpsRecord:
    """Measure the site's backups (and, with ``restore``, restore the newest into a scratch
    database) and record it."""
    cfg = site.data.get("backup") or {}
    if restore:
        restore_refused(cfg, (site.data.get("instalacao") or {}).get("db_url"))
    rec = OpsRecord(site.site_id, "backup", nome=site.nome)
    if cfg.get("pasta"):
        with server_shell(site, env) as shell:
            rec.metrics.update(backup_evidence(shell, site.data, rec.checks, restore=restore,
                                               env=env))
    else:
        rec.metrics.update(backup_evidence(None, site.data, rec.checks))
    save(rec, executions)
    return rec


def update(site: Site, executions: str | os.PathLike, target: str, phase: str, *,
           installer: str | None = None, env: Mapping[str, str] | None = None) -> OpsRecord:
    """One half (``antes`` or ``depois``) of the update to ``target``, recorded."""
    if not VERSION.match(target or ""):
        raise InputError(f"versão '{target}' inválida", file="--para", remedy="use N.N.N, "
                         "ex.: 5.5.24")
    inst = site.data.get("instalacao") or {}
    password = read_secret(inst.get("db_password_env"), inst.get("db_password_file"),
                           what="senha do banco do PEC", env=env)
    if installer is None and (site.data.get("instalador") or {}).get("versao") == target:
        installer = site.data["instalador"].get("arquivo")
    kind = "atualizacao_antes" if phase == "antes" else "atualizacao_depois"
    rec = OpsRecord(site.site_id, kind, nome=site.nome)
    earlier = latest(executions, site.site_id, "atualizacao_antes", para=target)
    with server_shell(site, env) as shell, \
            site_db_url(site.data.get("servidor"), inst.get("db_url"), env) as db_url:
        data = {**site.data, "instalacao": {**inst, "db_url": db_url}}
        if phase == "antes":
            rec.metrics.update(update_before(
                data, target, shell=shell, registry=Registry(
                    site.extra.get("registro_instaladores")), installer=installer,
                db_password=password, checks=rec.checks, env=env))
        else:
            rec.metrics.update(update_after(data, target, shell=shell, before_rec=earlier,
                                            db_password=password, checks=rec.checks))
    rec.metrics["para"] = target
    save(rec, executions)
    return rec
