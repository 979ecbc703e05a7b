"""Stage 4 — instalação e configuração: the exact installer command, the pre-install
checklist and, once PEC is up, the live checks of ``verify-install``.

Before installing (docs/dominio.md, "Instalação e banco do PEC"): the installer command for this site — Linux
``LANG=pt_BR.UTF-8 java -jar eSUS-AB-PEC-<v>-Linux64.jar -console -continue`` (the only
non-interactive switches), ``-treinamento`` only in training, ``-backup`` on an upgrade,
``-url/-username/-password`` for an external database with the password typed at run time
into a variable (never written in the command, the report or a log), ``-cert-domain`` (and
``-cert-port``) for automatic HTTPS; the Windows equivalent in PowerShell. The checklist
reuses the ambiente stage's result (locale, RemoveIPC, ports) instead of probing again, and
asks for a tested backup before an upgrade.

After installing: with ``instalacao.pec_url`` the stage runs
:func:`esus_runbook.pec.verify_install` (the same function as the CLI); without it the stage is
``pendente`` with the command to run. The database password comes from
``instalacao.db_password_env``/``db_password_file`` through :func:`secret_refs.read_secret`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from ..commands import ps_invoke, quote
from ..errors import InputError
from ..installer.naming import expected_name
from ..installer.releases import version_tuple
from ..render import charts as draw
from ..render.numbers import number
from ..results import Check, StageResult
from ..secret_refs import read_secret
from ..sites.fields import cert_domain_problem
from ..sites.loading import Site
from ..ssh import site_db_url
from ..status import Status, worst
from . import ambiente
from .base import Stage
from .steps import Step
from .steps import installer_name as planned_installer_name
from .view import show_charts, show_checks, show_markdown

# Lazy imports: pec (requests), the SSH client (paramiko 1.1-1.3 s) and the SSH evidence load only
# when the site names a PEC or a server to check; a site still being planned answers `pendente`
# without them.

HTTPS_SINCE = (5, 3)
DEFAULT_PASSWORD_VAR = "PEC_DB_SENHA"

# (check id, title, the ambiente stage's check it repeats, linux only, manual check)
CHECKLIST = (
    ("INST_PRE_LOCALE", "Locale pt_BR.UTF-8 antes da instalação", ambiente.CHECK_LOCALE, True,
     "locale -a | grep -i 'pt_BR.utf8' (se faltar: localedef -i pt_BR -f UTF-8 pt_BR.UTF-8, "
     "ou dpkg-reconfigure locales)"),
    ("INST_PRE_LOCALE_SISTEMA", "Locale padrão do sistema pt_BR.UTF-8 (o do serviço do PEC)",
     ambiente.CHECK_LOCALE_SISTEMA, True,
     "localectl status ou cat /etc/default/locale /etc/locale.conf (deve ser "
     "LANG=pt_BR.UTF-8; se não: update-locale LANG=pt_BR.UTF-8 ou localectl set-locale "
     "LANG=pt_BR.UTF-8, e reinicie o servidor)"),
    ("INST_PRE_FUSO", "Fuso horário configurado", ambiente.CHECK_FUSO, False,
     "{fuso}"),
    ("INST_PRE_REMOVEIPC", "RemoveIPC=no no systemd-logind", ambiente.CHECK_REMOVEIPC, True,
     "grep -i RemoveIPC /etc/systemd/logind.conf (deve ser RemoveIPC=no; depois "
     "systemctl restart systemd-logind)"),
    ("INST_PRE_PORTAS", "Portas do PEC livres", ambiente.CHECK_PORTAS, False,
     "ss -ltnp | grep -E ':(8080|5433|80|443) ' (Linux) ou "
     "Get-NetTCPConnection -LocalPort 8080,5433,80,443 (Windows)"),
)


# --------------------------------------------------------------------------- command
def installer_name(site: Site, download: StageResult | None) -> str:
    """The installer file: the one the download stage verified, else the expected name."""
    if download is not None:
        name = download.metrics.get("nome")
        if name and download.status in (Status.OK, Status.ALERTA):
            return str(name)
    return expected_name(site.instalador["versao"], site.instalador["plataforma"])


def installer_command(site: Site, name: str) -> dict[str, Any]:
    """The exact command lines for this site. Returns ``{"linhas", "texto", "opcoes",
    "problemas", "avisos"}``; ``problemas`` (pt-BR) make the command unusable as is."""
    from ..pec import check_db_url, is_external  # lazily: see evaluate

    inst, cfg = site.instalacao, site.instalador
    windows = cfg["plataforma"] == "windows"
    q = functools.partial(quote, windows=windows)  # every site value quoted: docs/limites-de-entrada.md
    problems: list[str] = []
    notes: list[str] = []
    options = ["-console", "-continue"]
    if inst["modo"] == "treinamento":
        options.append("-treinamento")
    if inst["atualizacao"]:
        options.append("-backup")
    var = inst["db_password_env"] or DEFAULT_PASSWORD_VAR
    external = False
    if inst["db_url"]:
        info = check_db_url(inst["db_url"], "instalacao.db_url")
        external = is_external(info)
        if external:
            host, port = info.get("host"), info.get("port") or "5432"
            dbname, user = info.get("dbname"), info.get("user")
            if not host or not dbname or not user:
                problems.append("a URL do banco externo precisa de usuário, servidor e banco "
                                "(postgresql://usuario@servidor:5432/esus)")
            options.append(q(f"-url=jdbc:postgresql://{host}:{port}/{dbname}"))
            options.append(q(f"-username={user}"))
            options.append(f'"-password=$env:{var}"' if windows else f'-password="${var}"')
            notes.append("A senha do banco é digitada na hora (não aparece na tela nem no "
                         "histórico) e passada por variável; durante a instalação ela fica "
                         "visível na lista de processos do servidor: instale sem outros "
                         "usuários logados.")
    domain_problem = cert_domain_problem(inst["https_dominio"]) if inst["https_dominio"] \
        else None
    if domain_problem:   # a snapshot edited by hand: never put it in the command
        problems.append(f"instalacao.https_dominio: {domain_problem}")
    elif inst["https_dominio"]:
        if version_tuple(cfg["versao"]) < HTTPS_SINCE:
            problems.append(f"o HTTPS automático (-cert-domain) só existe a partir do PEC "
                            f"5.3; a versão {cfg['versao']} não tem essa opção")
        options.append(q(f"-cert-domain={inst['https_dominio']}"))
        if inst["https_porta"] and inst["https_porta"] != 443:
            options.append(q(f"-cert-port={int(inst['https_porta'])}"))
        notes.append("O HTTPS automático precisa de domínio público apontando para o servidor "
                      "e das portas 80 e 443 acessíveis da internet.")
    lines: list[str] = []
    if windows:
        lines.append("# PowerShell como Administrador, na pasta do instalador")
        if external:
            lines.append(f'$s = Read-Host "Senha do banco" -AsSecureString; '
                         f'$env:{var} = [System.Net.NetworkCredential]::new("", $s).Password')
        launcher = (ps_invoke(".\\" + name) if name.endswith(".exe")
                    else f"java -jar {q(name)}")
        lines.append(" ".join([launcher, *options]))
        if external:
            lines.append(f"Remove-Item Env:{var}")
        if name.endswith(".exe"):
            notes.append("Instalador .exe (versões antigas): confira as opções com -help.")
    else:
        lines.append("# como root, na pasta do instalador")
        if external:
            lines.append(f'read -rs -p "Senha do banco: " {var}; echo')
        lines.append(" ".join([f"LANG=pt_BR.UTF-8 java -jar {q(name)}", *options]))
        if external:
            lines.append(f"unset {var}")
        notes.append("Guarde a saída do instalador para a etapa 4 conferir erros pelo SSH (não "
                     "há log oficial): acrescente ao comando `2>&1 | tee "
                     "/opt/e-SUS/log-instalacao.txt` e depois rode `chmod 600 "
                     "/opt/e-SUS/log-instalacao.txt`.")
    return {"linhas": lines, "texto": "\n".join(lines), "opcoes": options,
            "problemas": problems, "avisos": notes, "banco_externo": external}


# --------------------------------------------------------------------------- checklist
def _matching(checks: Iterable[Check], check_id: str) -> list[Check]:
    return [c for c in checks if c.id == check_id]


def checklist(site: Site, amb: StageResult | None) -> list[Check]:
    """The pre-install checks (docs/dominio.md, "Instalação e banco do PEC"), from the ambiente stage's result."""
    linux = site.instalador["plataforma"] != "windows"
    zone = ambiente.timezone_command(ambiente.municipality_zone(site.data.get("municipio_ibge")),
                            windows=not linux).strip("`")
    out: list[Check] = []
    for cid, title, amb_id, linux_only, manual in CHECKLIST:
        if linux_only and not linux:
            continue
        manual = manual.replace("{fuso}", f"timedatectl ou tzutil /g; para o município: {zone}")
        found = _matching(amb.checks, amb_id) if amb is not None else []
        if amb is None:
            status, observed = Status.PENDENTE, "etapa ambiente ainda não executada"
            remedy = f"Execute a etapa ambiente (sondagem do servidor) ou confira à mão: {manual}"
        elif not found:
            status, observed = Status.PENDENTE, "não conferido na etapa ambiente"
            remedy = ("A etapa ambiente não trouxe esta verificação (falta a sondagem do "
                      f"servidor?). Gere a sondagem ou confira à mão: {manual}")
        else:
            status = worst(c.status for c in found) or Status.PENDENTE
            if status is Status.ERRO:
                status = Status.PENDENTE
            observed = "; ".join(f"{c.id}: {c.observed}" for c in found)
            bad = [c.remedy for c in found if c.status is not Status.OK and c.remedy]
            remedy = " ".join(bad) if bad else None
            if status is not Status.OK and not remedy:
                remedy = f"Confira à mão: {manual}"
        out.append(Check(cid, title, status, "conferido na etapa ambiente", observed, remedy))
    if site.instalacao["atualizacao"]:
        if site.cenario["backup_automatizado"] is True:
            out.append(Check("INST_PRE_BACKUP", "Backup antes da atualização", Status.OK,
                             "backup testado e -backup no comando",
                             "rotina automática de backup declarada; o comando inclui -backup"))
        else:
            out.append(Check(
                "INST_PRE_BACKUP", "Backup antes da atualização", Status.ALERTA,
                "backup testado e -backup no comando",
                "sem rotina automática de backup declarada (o comando inclui -backup)",
                "Antes de atualizar, faça e teste um backup: pare o PEC, "
                "pg_dump -Fc -p 5433 -U postgres esus > esus.backup, sha256sum esus.backup "
                "e pg_restore -l esus.backup."))
    return out


def settle_checklist(items: list[Check], installed_ok: bool, upgrade: bool) -> list[Check]:
    """Once the live checks show the installation done and right, a pre-install item that
    was never verified is history, not a pending input: it becomes ``alerta`` (a failed
    item stays ``falha``). Before an upgrade every item still matters."""
    if not installed_ok or upgrade:
        return items
    out = []
    for c in items:
        if c.status is Status.PENDENTE:
            c = Check(c.id, c.title, Status.ALERTA, c.expected,
                      f"{c.observed} (o PEC já está instalado e verificado)",
                      f"Não foi conferido antes da instalação; confira antes da próxima "
                      f"atualização. {c.remedy}")
        out.append(c)
    return out


# --------------------------------------------------------------------------- evaluate
def evaluate(site: Site, ctx=None) -> StageResult:
    # pec (through ids, numpy: ~1 s) and ssh.client (paramiko: ~0.2 s) are imported here:
    # guide imports this module for next_steps, and the instalacao notebook without
    # instalacao.pec_url never needs them
    from ..pec import command as verify_command
    from ..pec import verify_install
    from ..ssh.client import SshError

    r = StageResult(site.site_id, "instalacao")
    inst, cfg = site.instalacao, site.instalador
    previous = getattr(ctx, "previous", None)
    download = previous("download") if previous else None
    amb = previous("ambiente") if previous else None
    metrics: dict[str, Any] = {"modo": inst["modo"], "atualizacao": inst["atualizacao"],
                               "plataforma": cfg["plataforma"], "versao": cfg["versao"]}

    if not cfg["versao"]:
        r.add("INST_COMANDO", "Comando do instalador", Status.PENDENTE, "comando completo",
              "versão do PEC não informada",
              "Informe instalador.versao para montar o comando exato do instalador.")
    else:
        name = installer_name(site, download)
        try:
            cmd = installer_command(site, name)
        except InputError as exc:
            cmd = None
            r.add("INST_COMANDO", "Comando do instalador", Status.FALHA, "comando completo",
                  exc.problems[0].message, exc.problems[0].remedy or "Corrija instalacao.db_url.")
        if cmd is not None:
            metrics.update(instalador=name, comando=cmd["texto"], comando_linhas=cmd["linhas"],
                           comando_opcoes=cmd["opcoes"], comando_avisos=cmd["avisos"])
            if cmd["problemas"]:
                r.add("INST_COMANDO", "Comando do instalador", Status.FALHA, "comando completo",
                      cmd["texto"], _sentence("; ".join(cmd["problemas"])))
            else:
                r.add("INST_COMANDO", "Comando do instalador", Status.OK,
                      "-console -continue, modo e banco do site",
                      "; ".join(line for line in cmd["linhas"] if not line.startswith("#")))
    pre = checklist(site, amb)

    servidor = site.data.get("servidor") or {}
    srv: list[Check] = []
    if servidor.get("ssh"):  # evidence read on the server itself (docs/ssh.md)
        from ..ssh.evidence import server_checks

        srv = server_checks(servidor, expected_version=cfg["versao"],
                            ambiente_metrics=amb.metrics if amb else None,
                            env=getattr(ctx, "env", None))

    tipo = site.cenario["tipo_instalacao"]
    command = verify_command(inst["pec_url"], inst["db_url"], inst["db_password_env"],
                             inst["db_password_file"], cfg["versao"], inst["modo"], tipo,
                             inst["link_instalacao"])
    metrics["comando_verificacao"] = command
    if not inst["pec_url"]:
        r.checks.extend(pre)
        r.checks.extend(srv)
        r.add("INST_VERIFICACAO", "PEC instalado e no ar", Status.PENDENTE,
              "instalacao.pec_url", "não informado",
              "Depois de instalar, informe instalacao.pec_url (ex.: http://10.0.0.5:8080) "
              f"ou rode no servidor: {command}")
        return r.finish(**metrics, checklist=_rows(pre))

    password = None
    if inst["db_url"]:
        env = getattr(ctx, "env", None)
        try:
            password = read_secret(inst["db_password_env"], inst["db_password_file"],
                                   what="senha do banco do PEC", env=env)
        except InputError as exc:
            p = exc.problems[0]
            r.add("INST_DB_SENHA", "Senha do banco disponível", Status.PENDENTE,
                  "variável ou arquivo com a senha", p.message,
                  p.remedy or "Defina a variável ou o arquivo da senha do banco.")
        if password is not None:
            for warning in password.warnings:
                r.add("INST_DB_SENHA", "Arquivo da senha do banco protegido", Status.ALERTA,
                      "permissão 600", warning, "chmod 600 no arquivo da senha.")
    skip_db = any(c.id == "INST_DB_SENHA" and c.status is Status.PENDENTE for c in r.checks)
    try:
        with site_db_url(servidor, None if skip_db else inst["db_url"],
                     getattr(ctx, "env", None)) as db_url:
            report = verify_install(inst["pec_url"], db_url=db_url,
                                    password=password, expect_version=cfg["versao"],
                                    modo=inst["modo"], tipo_instalacao=tipo,
                                    link_instalacao=inst["link_instalacao"])
    except SshError as exc:  # no tunnel to the server's database: HTTP checks only
        p = exc.problems[0]
        srv.append(Check("INST_DB_TUNEL", "Túnel SSH até o banco do servidor", Status.FALHA,
                         f"túnel por {servidor['ssh']}", p.message, p.remedy))
        report = verify_install(inst["pec_url"], expect_version=cfg["versao"],
                                modo=inst["modo"], tipo_instalacao=tipo,
                                link_instalacao=inst["link_instalacao"])
    report.db_url = None if skip_db else inst["db_url"]
    password = None
    installed_ok = (report.status in (Status.OK, Status.ALERTA)
                    and any(c.id == "PEC_VERSAO" for c in report.checks))
    pre = settle_checklist(pre, installed_ok, bool(inst["atualizacao"]))
    r.checks.extend(pre)
    r.checks.extend(srv)
    r.checks.extend(report.checks)
    metrics["verificacao"] = report.metrics
    metrics["pec_url"] = report.pec_url
    return r.finish(**metrics, checklist=_rows(pre))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _rows(items: list[Check]) -> list[dict[str, Any]]:
    return [{"id": c.id, "status": c.status.value, "observado": c.observed} for c in items]


def charts(result: StageResult) -> list[tuple[str, str]]:
    """Response times measured by the live checks (from the result's metrics)."""
    times = (result.metrics.get("verificacao") or {}).get("tempos_ms") or {}
    info = [t for t in times.get("info") or [] if t is not None]
    if not info:
        return []
    labels = [f"info {i + 1}" for i in range(len(info))]
    values = list(info)
    if times.get("pagina") is not None:
        labels.append("página /")
        values.append(times["pagina"])
    from ..pec import SLOW_S  # lazy: requests (see the module note)

    limit = number(SLOW_S, 1, trim=True)
    return [("Tempo de resposta do PEC", draw.columns_with_limit(
        labels, values, value_labels=[f"{number(v, 1, trim=True)} ms" for v in values],
        limit=SLOW_S * 1000, limit_label=f"limite do runbook ({limit} s)",
        under_limit_title=f"todas abaixo do limite do runbook, {limit} s", ylabel="ms"))]


def view(stage: Stage, result: StageResult) -> None:
    """Checks, the response-time chart, the installer command and its notes, and the command
    that verifies the installed PEC."""
    show_checks(stage, result)
    show_charts(stage, result)
    m = result.metrics
    if m.get("comando"):
        lang = "powershell" if m.get("plataforma") == "windows" else "bash"
        show_markdown(f"**Comando do instalador:**\n\n```{lang}\n{m['comando']}\n```")
        for aviso in m.get("comando_avisos") or []:
            show_markdown(f"> {aviso}")
    if m.get("comando_verificacao"):
        show_markdown(f"**Conferir o PEC instalado:** `{m['comando_verificacao']}`")


def next_steps(site: Site, env: Mapping[str, str] | None = None) -> list[Step]:
    inst = site.instalacao
    steps = []
    if not inst["pec_url"]:
        if inst["atualizacao"]:
            steps.append(Step("É uma atualização: faça e teste um backup do banco antes "
                              "(com o PEC parado):",
                              "pg_dump -Fc -p 5433 -U postgres esus > esus-antes.backup && "
                              "pg_restore -l esus-antes.backup > /dev/null"))
        try:  # the stage's own command, every value quoted
            lines = installer_command(site, planned_installer_name(site))["linhas"]
        except InputError:
            lines = []
        where = ("No servidor Windows, num PowerShell de administrador:"
                 if site.instalador["plataforma"] == "windows" else
                 "No servidor Linux, como root:")
        if lines:
            steps.append(Step(where, "\n".join(x for x in lines if not x.startswith("#"))))
        steps.append(Step("Quando o PEC responder no navegador, informe instalacao.pec_url "
                          "(ex.: http://IP-DO-SERVIDOR:8080) e execute esta etapa de novo."))
    else:
        from ..pec import command  # lazily: see evaluate

        steps.append(Step("Confira a instalação também a partir do servidor:",
                          command(inst["pec_url"], inst["db_url"], inst["db_password_env"],
                                  inst["db_password_file"])))
    if inst["db_url"] and not (inst["db_password_env"] or inst["db_password_file"]):
        steps.append(Step("Informe instalacao.db_password_env (NOME da variável com a senha "
                          "do banco) ou db_password_file; nunca a senha na URL."))
    return steps
