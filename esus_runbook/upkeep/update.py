"""A PEC version update in two halves, each recorded (docs/atualizacao.md).

*Before* (``atualizacao_antes``): the target is in the release registry and its installer
passes stage 03's verification; it is newer than what runs; free disk ≥ 2× the database;
a backup inside the declared window, verified (:mod:`.backup`); no Liquibase lock held;
``RemoveIPC=no``; the services' state; and the exact command to run. It also keeps what the
after half compares with: ``LINKINSTALACAO`` and the SHA-256 of ``ssl.properties``.

*After* (``atualizacao_depois``): ``/api/public/info``'s ``versao`` and ``VERSAOBANCODADOS``
equal the target; both services active; the PEC log free of migration failures since the
before half; ``LINKINSTALACAO`` and ``ssl.properties`` unchanged.

The database is read in READ ONLY transactions with a statement timeout; the server only
by reading commands. Nothing here writes to either.
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import requests

from ..commands import sh
from ..data import read_csv
from ..installer.naming import expected_name
from ..installer.releases import Registry, version_tuple
from ..installer.verify import verify_file
from ..pec import INFO_PATH
from ..pec import connect as pec_connect
from ..results import Checks
from ..ssh.evidence import mask_line
from ..ssh.evidence import value as server_fact
from ..status import Status
from .backup import evidence as backup_evidence

DB_TIMEOUT_MS = 15000
LOG_TAIL_BYTES = 8 * 1024 * 1024
MAX_LOG_LINES = 5
UNIT_STATES = ("active", "inactive", "failed", "activating", "deactivating", "reloading")
_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})")


@cache
def facts() -> dict[str, Any]:
    return {row["chave"]: row["valor"] for row in read_csv("atualizacao.csv")}


# ------------------------------------------------------------------ facts gathering
def read_database(db_url: str | None, password: Any, timeout: float = 10.0
                  ) -> dict[str, Any]:
    """VERSAOBANCODADOS, LINKINSTALACAO, the database size and the Liquibase lock, in one
    READ ONLY transaction. ``{"erro": text}`` when the database cannot be read."""
    if not db_url:
        return {"erro": "instalacao.db_url não informado"}
    try:
        conn = pec_connect(db_url, password, timeout=timeout,
                           application_name="esus-runbook atualizacao",
                           options=f"-c default_transaction_read_only=on "
                                   f"-c statement_timeout={DB_TIMEOUT_MS}",
                           where="instalacao.db_url")
    except Exception as exc:  # InputError with a pt-BR message and no password
        problems = getattr(exc, "problems", None)
        return {"erro": problems[0].message if problems else exc.__class__.__name__}
    out: dict[str, Any] = {}
    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION READ ONLY")
            rows = dict(conn.execute(
                "SELECT co_config_sistema, ds_texto FROM tb_config_sistema WHERE "
                "co_config_sistema IN ('VERSAOBANCODADOS', 'LINKINSTALACAO')").fetchall())
            out["versao_banco"] = rows.get("VERSAOBANCODADOS")
            out["link_instalacao"] = rows.get("LINKINSTALACAO")
            out["tamanho_banco"] = conn.execute(
                "SELECT pg_database_size(current_database())").fetchone()[0]
            lock = conn.execute("SELECT to_regclass(%s)", (facts()["trava_liquibase"],)
                                ).fetchone()[0]
            if lock is None:
                out["trava"] = None
            else:
                row = conn.execute("SELECT locked, lockgranted, lockedby FROM "
                                   "databasechangeloglock WHERE locked ORDER BY id LIMIT 1"
                                   ).fetchone()
                out["trava"] = {"locked": bool(row), "desde": str(row[1]) if row else None,
                                "por": str(row[2]) if row else None}
    except Exception as exc:
        out["erro"] = " ".join(str(exc).split())[:200]
    finally:
        conn.close()
    return out


def read_http(pec_url: str | None, timeout: float = 10.0) -> dict[str, Any]:
    if not pec_url:
        return {"erro": "instalacao.pec_url não informado"}
    try:
        resp = requests.get(pec_url.rstrip("/") + INFO_PATH, timeout=timeout)
        info = resp.json() if resp.status_code == 200 else None
    except (requests.RequestException, ValueError) as exc:
        return {"erro": exc.__class__.__name__}
    if not isinstance(info, dict) or not isinstance(info.get("versao"), str):
        return {"erro": f"HTTP {resp.status_code} sem o campo versao"}
    return {"versao": info["versao"].strip()}


def server_script(marker: str, pec_dir: str, ssl_path: str, logind_dir: str) -> str:
    q = shlex.quote
    units = (server_fact("unidade_pec"), server_fact("unidade_banco"))
    lines = [f"echo '{marker} agora'; date '+%Y-%m-%dT%H:%M:%S'",
             f"echo '{marker} disco'; df -P -B1 {q(pec_dir)} 2>/dev/null | tail -n 1"]
    for i, unit in enumerate(units):
        lines.append(f"echo '{marker} unit{i}'; if command -v systemctl >/dev/null; then "
                     f"systemctl is-active {q(unit)} 2>&1; else echo sem-systemctl; fi")
    lines += [
        f"echo '{marker} removeipc'; busctl get-property org.freedesktop.login1 "
        "/org/freedesktop/login1 org.freedesktop.login1.Manager RemoveIPC 2>/dev/null || "
        f"{{ echo conf; cat {q(logind_dir)}/logind.conf {q(logind_dir)}/logind.conf.d/*.conf "
        "2>/dev/null | grep -E '^[[:space:]]*RemoveIPC[[:space:]]*=' | tail -n 1; }",
        f"echo '{marker} ssl'; [ -e {q(ssl_path)} ] && sha256sum {q(ssl_path)} | "
        "cut -d' ' -f1 || echo ausente",
        "",
    ]
    return "\n".join(lines)


def read_server(shell: Any, cfg: Mapping[str, Any]) -> dict[str, Any]:
    marker = "@@ATU" + secrets.token_hex(6)
    rc, out, err = shell.run("sh -s", input=server_script(
        marker, cfg.get("pasta_pec") or server_fact("pec_dir"),
        cfg.get("ssl_properties") or facts()["ssl_properties"],
        cfg.get("logind") or "/etc/systemd"), timeout=120)
    sections: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        if line.startswith(marker + " "):
            current = line[len(marker) + 1:].strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(line.strip())
    facts_: dict[str, Any] = {}
    clock = (sections.get("agora") or [""])[0]
    facts_["hora_servidor"] = clock if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", clock) \
        else None
    disk = (sections.get("disco") or [""])[0].split()
    facts_["disco_livre"] = int(disk[3]) if len(disk) >= 4 and disk[3].isdigit() else None
    for i, unit in enumerate((server_fact("unidade_pec"), server_fact("unidade_banco"))):
        state = (sections.get(f"unit{i}") or [""])[0]
        facts_.setdefault("servicos", {})[unit] = state if state in UNIT_STATES else None
    ipc = [x for x in sections.get("removeipc") or [] if x]
    if ipc and ipc[0].startswith("b "):
        facts_["removeipc"] = ipc[0].split()[1] == "true"
        facts_["removeipc_origem"] = "systemd-logind (busctl)"
    elif ipc and ipc[0] == "conf":
        value = ipc[1].split("=", 1)[1].strip().lower() if len(ipc) > 1 else ""
        facts_["removeipc"] = value not in ("no", "false", "0", "off")  # systemd default: yes
        facts_["removeipc_origem"] = "logind.conf" + ("" if value else " (padrão do systemd)")
    else:
        facts_["removeipc"] = None
    ssl = (sections.get("ssl") or ["ausente"])[0]
    facts_["ssl_sha256"] = ssl if re.fullmatch(r"[0-9a-f]{64}", ssl) else None
    return facts_


# ------------------------------------------------------------------ checks
def _services(checks: Checks, services: Mapping[str, str | None], after: bool) -> None:
    title = "Serviços do PEC e do banco"
    observed = ", ".join(f"{u}: {s or 'desconhecido'}" for u, s in services.items())
    if any(s is None for s in services.values()):
        checks.add("ATU_SERVICOS", title, Status.PENDENTE, "active / active", observed,
                   "Sem systemctl no servidor: confira à mão com systemctl status e-SUS-PEC "
                   "e-SUS-AB-PostgreSQL.")
        return
    ok = all(s == "active" for s in services.values())
    checks.judge("ATU_SERVICOS", title, ok, "active / active", observed,
                 "Depois da atualização os dois serviços devem estar ativos: systemctl start "
                 "e-SUS-AB-PostgreSQL e-SUS-PEC; veja journalctl -u e-SUS-PEC -n 50."
                 if after else
                 "Antes de atualizar, o PEC e o banco devem estar no ar (o instalador migra o "
                 "banco em execução): systemctl start e-SUS-AB-PostgreSQL e-SUS-PEC.")


def layouts_note(de: str | None, para: str) -> str:
    """The XML layouts the target accepts (data/xml_layouts.csv), and which are new."""
    rows = read_csv("xml_layouts.csv")

    def accepted(v: str | None) -> list[str]:
        if not v:
            return []
        return [str(r["layout"]) for r in rows
                if not r["pec_minimo"] or version_tuple(str(r["pec_minimo"])) <= version_tuple(v)]

    now, before = accepted(para), accepted(de)
    new = [x for x in now if x not in before] if de else []
    return f"layouts do XML do CNES aceitos: {', '.join(now) or 'nenhum conhecido'}" + \
        (f" (novos nesta versão: {', '.join(new)})" if new else "")


def install_command(installer: str, backup: bool) -> str:
    words = ["java", "-jar", installer, "-console", "-continue"] + (["-backup"] if backup else [])
    return "LANG=pt_BR.UTF-8 " + " ".join(sh(w) for w in words)


def before(site_data: Mapping[str, Any], target: str, *, shell: Any, registry: Registry,
           installer: str | None, db_password: Any, checks: Checks,
           env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The before half's checks; the metrics to record."""
    inst = site_data.get("instalacao") or {}
    plataforma = (site_data.get("instalador") or {}).get("plataforma") or "linux"
    cfg = site_data.get("atualizacao") or {}
    metrics: dict[str, Any] = {"para": target, "plataforma": plataforma}
    known = registry.known_versions(plataforma)
    checks.judge("ATU_REGISTRO", "Versão alvo no registro de versões", target in known,
                 f"{target} ({plataforma}) no registro", "presente" if target in known else
                 f"ausente (conhecidas: {', '.join(known[-5:]) or 'nenhuma'})",
                 "Confira o número no portal SISAPS e registre a versão no registro da equipe "
                 "(esus-runbook baixar ... registra ao verificar o instalador).")
    if installer is None:
        checks.add("ATU_INSTALADOR", "Instalador da versão alvo verificado (etapa 03)",
                   Status.PENDENTE, expected_name(target, plataforma), "não informado",
                   f"Baixe e verifique com esus-runbook baixar --versao-pec {sh(target)} ... e "
                   "informe o arquivo em --instalador.")
    elif not Path(installer).is_file():
        checks.add("ATU_INSTALADOR", "Instalador da versão alvo verificado (etapa 03)",
                   Status.FALHA, expected_name(target, plataforma), f"{installer}: não encontrado",
                   "Confira o caminho do instalador (--instalador).")
    else:
        v = verify_file(installer, target, plataforma, registry=registry, record=False)
        bad = [c.id for c in v.checks if c.status not in (Status.OK, Status.ALERTA)]
        metrics.update(instalador=str(installer), instalador_sha256=v.sha256)
        if v.passed:
            checks.add("ATU_INSTALADOR", "Instalador da versão alvo verificado (etapa 03)",
                       Status.OK, "verificações da etapa 03", f"{v.name}: SHA-256 {v.sha256}")
        else:
            checks.add("ATU_INSTALADOR", "Instalador da versão alvo verificado (etapa 03)",
                       v.status if v.status is Status.PENDENTE else Status.FALHA,
                       "verificações da etapa 03", f"{v.name}: {', '.join(bad)}",
                       "Rode a etapa 03 (download) para esta versão e resolva o que ela "
                       "aponta antes de atualizar.")
        metrics["comando"] = install_command(str(installer), bool(cfg.get("backup_instalador")))
    http = read_http(inst.get("pec_url"))
    db = read_database(inst.get("db_url"), db_password)
    de = http.get("versao") or db.get("versao_banco")
    metrics.update(de=de, versao_app=http.get("versao"), versao_banco=db.get("versao_banco"),
                   link_instalacao=db.get("link_instalacao"),
                   tamanho_banco=db.get("tamanho_banco"), notas=layouts_note(de, target))
    if de is None:
        checks.add("ATU_VERSAO_ATUAL", "Versão em execução anterior à alvo", Status.PENDENTE,
                   f"< {target}", http.get("erro") or db.get("erro") or "desconhecida",
                   "Informe instalacao.pec_url (ou db_url) e confira que o PEC está no ar.")
    else:
        checks.judge("ATU_VERSAO_ATUAL", "Versão em execução anterior à alvo",
                     version_tuple(de) < version_tuple(target), f"< {target}", de,
                     "A versão alvo não é mais nova que a instalada: o instalador não volta "
                     "versões. Confira --para.")
    server = read_server(shell, cfg)
    metrics.update(ssl_sha256=server["ssl_sha256"], servicos=server["servicos"],
                   disco_livre=server["disco_livre"], hora_servidor=server["hora_servidor"])
    size, free = db.get("tamanho_banco"), server["disco_livre"]
    if size is None or free is None:
        checks.add("ATU_DISCO", "Espaço livre ≥ 2× o banco", Status.PENDENTE,
                   "disco livre ≥ 2 × pg_database_size",
                   f"banco: {db.get('erro') or size}; disco livre: "
                   + (f"{free / 1e9:.1f} GB".replace(".", ",") if free is not None else
                      "não lido"),
                   "Informe instalacao.db_url (e a senha) e confira o acesso ao servidor.")
    else:
        checks.judge("ATU_DISCO", "Espaço livre ≥ 2× o banco", free >= 2 * size,
                     f"≥ {2 * size / 1e9:.1f} GB".replace(".", ","),
                     f"{free / 1e9:.1f} GB livres; banco {size / 1e9:.2f} GB".replace(".", ","),
                     "A migração e o backup do instalador precisam de espaço: libere disco "
                     "(logs antigos, backups já copiados para fora) antes de atualizar.")
    lock = db.get("trava", "erro")
    if "erro" in db or lock == "erro":
        checks.add("ATU_LIQUIBASE", "Sem trava de migração (Liquibase)", Status.PENDENTE,
                   "databasechangeloglock.locked = false", db.get("erro") or "não lido",
                   "Informe instalacao.db_url e a senha (db_password_env) para ler o banco.")
    elif lock is None:
        checks.add("ATU_LIQUIBASE", "Sem trava de migração (Liquibase)", Status.ALERTA,
                   "databasechangeloglock.locked = false", "tabela databasechangeloglock ausente",
                   "O banco não tem a tabela do Liquibase: confira se db_url aponta para o "
                   "banco do PEC.")
    else:
        checks.judge("ATU_LIQUIBASE", "Sem trava de migração (Liquibase)", not lock["locked"],
                     "databasechangeloglock.locked = false",
                     "livre" if not lock["locked"] else
                     f"travada desde {lock['desde']} por {lock['por']}",
                     "Uma migração anterior parou no meio e deixou a trava. Com o PEC parado e "
                     "nenhum instalador rodando, restaure o backup ou peça ao suporte para "
                     "liberar a trava (UPDATE databasechangeloglock SET locked = false) "
                     "antes de atualizar.")
    if server["removeipc"] is None:
        checks.add("ATU_REMOVEIPC", "RemoveIPC=no no systemd-logind", Status.PENDENTE,
                   "RemoveIPC=no", "não lido", "Confira /etc/systemd/logind.conf no servidor.")
    else:
        checks.judge("ATU_REMOVEIPC", "RemoveIPC=no no systemd-logind", not server["removeipc"],
                     "RemoveIPC=no", f"RemoveIPC={'yes' if server['removeipc'] else 'no'} "
                     f"({server.get('removeipc_origem')})",
                     "Com RemoveIPC=yes o PostgreSQL embutido perde os semáforos e a migração "
                     "falha ('Falha ao migrar o Banco de Dados'): ponha RemoveIPC=no em "
                     "/etc/systemd/logind.conf e rode systemctl restart systemd-logind.")
    _services(checks, server["servicos"], after=False)
    bkp = Checks()
    bkp_metrics = backup_evidence(shell, site_data, bkp, env=env)
    needed = {c.id: c for c in bkp if c.id in ("BKP_PASTA", "BKP_RECENTE", "BKP_LISTA",
                                                 "BKP_TABELAS", "BKP_COMPLETO")}
    failing = [f"{k}: {c.observed}" for k, c in needed.items() if c.status is not Status.OK]
    metrics["backup"] = {k: bkp_metrics.get(k) for k in ("arquivo", "idade_horas",
                                                         "tamanho_bytes", "sha256")}
    if not needed or "BKP_PASTA" in needed and needed["BKP_PASTA"].status is Status.PENDENTE:
        checks.add("ATU_BACKUP", "Backup verificado dentro da janela", Status.PENDENTE,
                   "backup recente que restaura", "backup.pasta não informada",
                   "Informe a seção backup do site (esus-runbook backup) antes de atualizar; "
                   "ou use -backup (atualizacao.backup_instalador: true).")
    else:
        checks.judge("ATU_BACKUP", "Backup verificado dentro da janela", not failing and
                     len(needed) == 5, "BKP_RECENTE, BKP_LISTA, BKP_TABELAS, BKP_COMPLETO ok",
                     f"{bkp_metrics.get('arquivo')} (SHA-256 {bkp_metrics.get('sha256')})"
                     if not failing else "; ".join(failing)[:300],
                     "Não atualize sem um backup que restaura: rode esus-runbook backup SITE e "
                     "corrija o que ele aponta.")
    return metrics


def _log_failures(text: str, since: datetime | None) -> tuple[list[str], bool]:
    """Migration failure lines of the log written after ``since`` (lines without a time stamp
    belong to the stamped line above them); whether any stamped line was after ``since``."""
    pattern = re.compile(facts()["erros_migracao"])
    found, seen, current = [], False, since is None
    for line in text.splitlines():
        m = _STAMP.match(line)
        if m:
            try:
                when = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}")
            except ValueError:
                when = None
            current = since is None or (when is not None and when >= since)
            seen = seen or current
        if current and pattern.search(line):
            found.append(mask_line(line.strip()))
    return found, seen


def after(site_data: Mapping[str, Any], target: str, *, shell: Any, before_rec: Any,
          db_password: Any, checks: Checks) -> dict[str, Any]:
    """The after half's checks; the metrics to record."""
    inst = site_data.get("instalacao") or {}
    cfg = site_data.get("atualizacao") or {}
    metrics: dict[str, Any] = {"para": target,
                               "de": before_rec.metrics.get("de") if before_rec else None}
    http = read_http(inst.get("pec_url"))
    db = read_database(inst.get("db_url"), db_password)
    metrics.update(versao_app=http.get("versao"), versao_banco=db.get("versao_banco"),
                   link_instalacao=db.get("link_instalacao"))
    if "versao" not in http:
        checks.add("ATU_VERSAO_APP", "Versão da aplicação (/api/public/info)", Status.FALHA,
                   target, http.get("erro"),
                   "O PEC não respondeu: ele leva minutos para subir depois da atualização; "
                   "aguarde e repita. Se não subir, veja o log (webserver/logs/pec.log).")
    else:
        checks.judge("ATU_VERSAO_APP", "Versão da aplicação (/api/public/info)",
                     http["versao"] == target, target, http["versao"],
                     "A aplicação não é a versão alvo: o instalador não terminou ou o serviço "
                     "não reiniciou. Veja a saída do instalador e o log do PEC.")
    if db.get("versao_banco") is None:
        checks.add("ATU_VERSAO_BANCO", "Versão do banco (VERSAOBANCODADOS)", Status.PENDENTE,
                   target, db.get("erro") or "não lido",
                   "Informe instalacao.db_url e a senha para ler o banco.")
    else:
        checks.judge("ATU_VERSAO_BANCO", "Versão do banco (VERSAOBANCODADOS)",
                     db["versao_banco"] == target, target, db["versao_banco"],
                     "'O PEC e o seu banco de dados não estão na mesma versão': a migração não "
                     "terminou. Veja 'Falha ao migrar' no log; restaure o backup verificado "
                     "antes e rode o instalador de novo.")
    server = read_server(shell, cfg)
    _services(checks, server["servicos"], after=True)
    log_path = cfg.get("log_pec") or facts()["log_pec"]
    rc, out, err = shell.run(f"tail -c {LOG_TAIL_BYTES} {shlex.quote(log_path)}", timeout=120)
    since = None  # the server's own clock at the before half: the log is in its local time
    if before_rec is not None and before_rec.metrics.get("hora_servidor"):
        since = datetime.fromisoformat(before_rec.metrics["hora_servidor"])
    elif before_rec is not None and before_rec.finished_at:
        since = datetime.fromisoformat(before_rec.finished_at).replace(tzinfo=None)
    if rc != 0:
        checks.add("ATU_LOG", "Log do PEC sem falha de migração", Status.PENDENTE,
                   f"nenhum '{facts()['erros_migracao'].split('|')[0]}' desde a atualização",
                   f"{log_path}: não lido", "Informe atualizacao.log_pec (o caminho do "
                   "pec.log) ou libere a leitura (servidor.sudo: true).")
    else:
        found, seen = _log_failures(out, since)
        if found:
            checks.add("ATU_LOG", "Log do PEC sem falha de migração", Status.FALHA,
                       "nenhuma falha de migração desde a atualização",
                       f"{len(found)} linha(s): " + " | ".join(found[:MAX_LOG_LINES]),
                       "A migração falhou: não use o PEC. Restaure o backup verificado na "
                       "metade 'antes' (-restore=) e rode o instalador de novo; com RemoveIPC "
                       "corrigido se for o caso.")
        elif not seen:
            checks.add("ATU_LOG", "Log do PEC sem falha de migração", Status.PENDENTE,
                       "linhas do log depois da atualização", "nenhuma linha nova no log",
                       "O PEC ainda não escreveu no log desde a metade 'antes': aguarde a "
                       "subida e repita.")
        else:
            checks.add("ATU_LOG", "Log do PEC sem falha de migração", Status.OK,
                       "nenhuma falha de migração desde a atualização", "nenhuma")
    if before_rec is None:
        for cid, title in (("ATU_LINK", "LINKINSTALACAO igual ao de antes"),
                           ("ATU_HTTPS", "Configuração HTTPS (ssl.properties) igual à de antes")):
            checks.add(cid, title, Status.PENDENTE, "a metade 'antes' registrada",
                       "sem registro da metade 'antes' para esta versão",
                       f"Rode esus-runbook atualizacao SITE --para {sh(target)} --fase antes "
                       "antes de atualizar.")
        return metrics
    old_link = before_rec.metrics.get("link_instalacao")
    if "erro" in db or old_link is None:
        checks.add("ATU_LINK", "LINKINSTALACAO igual ao de antes", Status.PENDENTE,
                   old_link or "LINKINSTALACAO lido na metade 'antes'",
                   db.get("erro") or "não lido na metade 'antes'",
                   "Informe instalacao.db_url e a senha para comparar o link da instalação.")
    else:
        checks.judge("ATU_LINK", "LINKINSTALACAO igual ao de antes",
                     db.get("link_instalacao") == old_link, old_link,
                     db.get("link_instalacao"),
                     "O link da instalação mudou: corrija-o no PEC (Administração → "
                     "Configurações da instalação) para o valor de antes; sem ele os links e o "
                     "login externo quebram.")
    old_ssl = before_rec.metrics.get("ssl_sha256")
    shown = lambda v: f"SHA-256 {v[:16]}…" if v else "ausente"  # noqa: E731
    checks.judge("ATU_HTTPS", "Configuração HTTPS (ssl.properties) igual à de antes",
                 server["ssl_sha256"] == old_ssl, shown(old_ssl), shown(server["ssl_sha256"]),
                 "A configuração do HTTPS mudou na atualização: confira o acesso por https e "
                 "rode esus-runbook certificado SITE; se quebrou, reaplique a de antes.")
    metrics["ssl_sha256"] = server["ssl_sha256"]
    return metrics
