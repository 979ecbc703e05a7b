"""Stage 04's evidence from the server after the installer ran, collected over SSH.

One ``sh -s`` session (the section protocol of ``remote_probe``) gathers: the systemd units'
state, ``/etc/pec.config``, the command lines of Java processes, the kernel's listening
sockets, the mode and owner of ``credenciais.txt`` and the installer log, free and used disk,
and the first error lines of the installer log. Paths and unit names come from
``data/servidor_pec.csv`` with their confidence; a path that does not exist gives ``pendente``
naming what was looked for. Log lines are masked (password-like values, CPF/CNS) before they
leave this module. Facts: docs/ssh.md.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
from collections.abc import Mapping
from functools import cache
from typing import Any

from ..data import read_csv
from ..errors import RunbookError
from ..ids import scrub
from ..results import Check
from ..ssh_target import parse_target
from ..status import Status
from .client import SshSession, connect, options_for, stderr_excerpt
from .remote_probe import listening_ports, parse_output, prelude

MAX_LOG_LINES = 5
_SECRETISH = re.compile(r"(?i)\b(senha|password|passwd|pwd|secret|segredo|token|"
                        r"credencia\w*)(\s*[:=]\s*|\s+)(\S+)")
PEC_CONFIG_KEYS = ("success", "version", "versao", "pecVersion")
_JVM = re.compile(r"(?<!\S)(-Xms\S+|-Xmx\S+|-XX:MetaspaceSize=\S+|-XX:MaxMetaspaceSize=\S+)")


@cache
def facts() -> dict[str, dict[str, Any]]:
    """``data/servidor_pec.csv`` as {chave: row}."""
    return {row["chave"]: row for row in read_csv("servidor_pec.csv")}


def value(key: str) -> Any:
    return facts()[key]["valor"]


def mask_line(line: str) -> str:
    """A log line fit for a report: password-like values and CPF/CNS masked, length capped."""
    return scrub(_SECRETISH.sub(lambda m: f"{m.group(1)}{m.group(2)}****", line))[:300]


def _script(marker: str, log_paths: list[str]) -> str:
    q = shlex.quote
    pec = q(value("pec_dir"))
    lines = prelude(marker)
    for i, unit in enumerate((value("unidade_pec"), value("unidade_banco"))):
        lines.append(f"sec unit{i}; if command -v systemctl >/dev/null; then "
                     f"systemctl is-active {q(unit)} 2>&1; systemctl is-enabled {q(unit)} 2>&1;"
                     " end 0; else echo sem-systemctl; end 127; fi")
    config = q(value("pec_config"))
    # /etc/pec.config holds the database user and password in clear text when the database is
    # external: only the keys the check reads leave the server (grep there, not here).
    keys = "|".join(PEC_CONFIG_KEYS)
    lines += [f"[ -e {config} ] && {{ sec pecconfig; if [ -r {config} ]; then "
              f"grep -o -E '\"({keys})\"[[:space:]]*:[[:space:]]*(\"[^\"]*\"|true|false|null|"
              f"-?[0-9][0-9.]*)' {config} | head -n 20; end 0; else end 13; fi; }}",
              f"[ -e {config} ] && {{ sec stat_pecconfig; stat -L -c '%a %U' {config}; "
              "end $?; }", f"file {pec}",
              "sec procs; for p in /proc/[0-9]*; do c=$(tr '\\000' ' ' < \"$p/cmdline\" "
              "2>/dev/null) || continue; case \"$c\" in *java*) echo \"$c\";; esac; done; end 0",
              "file /proc/net/tcp", "file /proc/net/tcp6"]
    for i, path in enumerate([value("credenciais"), *log_paths]):
        lines.append(f"[ -e {q(path)} ] && {{ sec stat{i}; stat -c '%a %U' {q(path)}; "
                     "end $?; }")
    lines.append(f"[ -d {pec} ] && {{ sec disk; df -P -B1 {pec} | tail -n 1; "
                 f"du -sb {pec} 2>/dev/null | cut -f1; end 0; }}")
    pattern = q(value("erros_log"))
    for i, path in enumerate(log_paths):
        lines.append(f"[ -e {q(path)} ] && {{ sec log{i}; grep -c -E {pattern} {q(path)}; "
                     f"grep -n -E {pattern} {q(path)} | head -n {MAX_LOG_LINES}; end 0; }}")
    return "\n".join(lines) + "\n"


def collect(session: SshSession, *, expected_version: str | None,
            jvm_plan: dict[str, Any] | None, profile: dict[str, Any] | None,
            db_port: int | None = None) -> list[Check]:
    """The server checks of stage 04 (each with expected and observed values)."""
    log_paths = [p for p in str(value("log_instalador")).split(";") if p]
    marker = "@@ESUS" + secrets.token_hex(8)
    rc, out, err = session.run("sh -s", input=_script(marker, log_paths))
    if marker not in out:
        if session.options.sudo and "sudo" in err:
            return [Check("SRV_COLETA", "Evidências do servidor", Status.FALHA,
                          "leitura por SSH com sudo -n", mask_line(stderr_excerpt(err)),
                          "O sudo pediu senha ou terminal: libere sudo sem senha para este "
                          "usuário (NOPASSWD) ou use servidor.sudo: false com um usuário que "
                          "leia os arquivos.")]
        said = f": {mask_line(stderr_excerpt(err))}" if err.strip() else ""
        return [Check("SRV_COLETA", "Evidências do servidor", Status.FALHA,
                      "leitura por SSH", f"o servidor não executou sh (código {rc}){said}",
                      "A coleta por SSH precisa de um servidor Linux com sh.")]
    sections, files = parse_output(out, marker)
    pec_dir = value("pec_dir")
    if pec_dir not in files and "pecconfig" not in sections:
        return [Check("SRV_INSTALACAO", "PEC instalado no servidor", Status.PENDENTE,
                      f"{pec_dir} e {value('pec_config')}", "nenhum dos dois existe",
                      "Rode o instalador no servidor e execute esta etapa de novo.")]
    checks = [_unit(sections, "unit0", value("unidade_pec"), "SRV_UNIDADE_PEC"),
              _unit(sections, "unit1", value("unidade_banco"), "SRV_UNIDADE_BANCO"),
              _pec_config(sections, expected_version),
              _mode(sections, "stat_pecconfig", value("pec_config"), "SRV_PEC_CONFIG_MODO",
                    "/etc/pec.config só para root (pode conter a senha do banco)"),
              _jvm(sections, jvm_plan),
              _db_port(files, int(db_port or value("porta_banco"))),
              _mode(sections, "stat0", value("credenciais"), "SRV_CREDENCIAIS_MODO",
                    "credenciais.txt só para root")]
    found_logs = [(i, p) for i, p in enumerate(log_paths) if f"stat{i + 1}" in sections]
    if found_logs:
        i, path = found_logs[0]
        checks.append(_mode(sections, f"stat{i + 1}", path, "SRV_LOG_MODO",
                            "Log do instalador só para root"))
        checks.append(_log_errors(sections, f"log{i}", path))
    else:
        looked = ", ".join(log_paths)
        for cid, title in (("SRV_LOG_MODO", "Log do instalador só para root"),
                           ("SRV_LOG_ERROS", "Erros no log do instalador")):
            checks.append(Check(cid, title, Status.PENDENTE, f"log em {looked}",
                                "log do instalador não encontrado",
                                f"Capture a saída do instalador em {log_paths[0]} (… | tee "
                                f"{log_paths[0]}; chmod 600 {log_paths[0]}) ou copie-a para lá."))
    checks.append(_disk(sections, profile))
    return checks


def _unit(sections, name: str, unit: str, cid: str) -> Check:
    title = f"Serviço {unit} ativo e habilitado"
    expected = "active / enabled"
    rc, text = sections.get(name, (1, ""))
    if rc == 127 or not text:
        return Check(cid, title, Status.PENDENTE, expected, "systemctl indisponível",
                     f"Confira à mão no servidor: systemctl status {unit}")
    lines = text.splitlines()
    active = lines[0].strip() if lines else ""
    enabled = lines[1].strip() if len(lines) > 1 else ""
    if "No such file" in enabled or "not-found" in enabled or not enabled:
        enabled = "não encontrada"
    observed = f"{active} / {enabled}"
    if active == "active" and enabled == "enabled":
        return Check(cid, title, Status.OK, expected, observed)
    return Check(cid, title, Status.FALHA, expected, observed,
                 f"No servidor: systemctl enable --now {unit}; se não subir, veja "
                 f"journalctl -u {unit} -n 50 e {value('pec_dir')}/webserver/logs/pec.log.")


def pec_config_fields(text: str) -> dict[str, Any]:
    """The ``"key": value`` pairs the server's grep let through (first of each key)."""
    data: dict[str, Any] = {}
    for line in text.splitlines():
        try:
            pair = json.loads("{" + line.strip() + "}")
        except ValueError:
            continue
        for k, v in pair.items():
            if k in PEC_CONFIG_KEYS and k not in data and not isinstance(v, (dict, list)):
                data[k] = v
    return data


def _pec_config(sections, expected_version: str | None) -> Check:
    path = value("pec_config")
    title = "Instalador concluído (/etc/pec.config)"
    expected = f"success: true; versão {expected_version or '(não informada)'}"
    if "pecconfig" not in sections:
        return Check("SRV_PEC_CONFIG", title, Status.PENDENTE, expected,
                     f"{path} não encontrado",
                     "O instalador grava esse arquivo ao terminar: rode-o ou confira se "
                     "terminou.")
    rc, text = sections["pecconfig"]
    if rc != 0:
        return Check("SRV_PEC_CONFIG", title, Status.PENDENTE, expected,
                     f"{path} sem permissão de leitura",
                     "Use um usuário que leia o arquivo ou servidor.sudo: true.")
    data = pec_config_fields(text)
    if "success" not in data:
        return Check("SRV_PEC_CONFIG", title, Status.FALHA, expected,
                     "sem o campo success (não é o JSON do instalador?)",
                     "Rode o instalador de novo e confira a saída dele.")
    success = data.get("success")
    version = next((str(data[k]) for k in ("version", "versao", "pecVersion") if k in data),
                   None)
    observed = f"success: {json.dumps(success)}; versão {version}"
    problems = []
    if success is not True:
        problems.append("o instalador não registrou sucesso: veja o log do instalador")
    if expected_version and version != expected_version:
        problems.append(f"versão instalada {version}, esperada {expected_version}")
    if problems:
        return Check("SRV_PEC_CONFIG", title, Status.FALHA, expected, observed,
                     "; ".join(problems).capitalize() + ".")
    return Check("SRV_PEC_CONFIG", title, Status.OK, expected, observed)


def _mb(flag: str) -> int | None:
    m = re.search(r"(\d+)([kKmMgG]?)$", flag)
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2).lower()
    return {"k": n // 1024, "m": n, "g": n * 1024}.get(unit, n // (1024 * 1024))


def jvm_options(cmdline: str) -> dict[str, int]:
    """{"-Xms": MB, "-Xmx": MB, "-XX:MetaspaceSize=": MB, ...} from a Java command line."""
    out = {}
    for flag in _JVM.findall(cmdline):
        prefix = flag.split("=")[0] + "=" if flag.startswith("-XX:") else flag[:4]
        mb = _mb(flag)
        if mb is not None:
            out[prefix] = mb
    return out


def _jvm(sections, plan: dict[str, Any] | None) -> Check:
    title = "JVM do PEC conforme a recomendação da etapa 2"
    flags = (plan or {}).get("flags") or []
    want = {k: v for k, v in (jvm_options(" ".join(flags))).items()}
    expected = " ".join(flags) or "recomendação da etapa 2"
    marker = value("java_jar")
    procs = [ln for ln in sections.get("procs", (1, ""))[1].splitlines()
             if "-jar" in ln and marker in ln]
    if not procs:
        return Check("SRV_JVM", title, Status.FALHA, expected,
                     f"nenhum processo Java com -jar {marker}…",
                     "O PEC não está rodando: systemctl start e-SUS-PEC e veja "
                     "webserver/logs/pec.log.")
    got = jvm_options(procs[0])
    observed = " ".join(f"{k}{v}M" for k, v in got.items()) or "sem -Xms/-Xmx/Metaspace"
    if not want:
        return Check("SRV_JVM", title, Status.PENDENTE, expected, observed,
                     "Execute a etapa 2 (ambiente) com a sondagem para ter a recomendação.")
    problems = []
    if "-Xmx" in got and "-Xmx" in want and got["-Xmx"] > want["-Xmx"]:
        problems.append(f"-Xmx{got['-Xmx']}M acima do máximo para esta máquina "
                        f"(-Xmx{want['-Xmx']}M)")
    differ = [k for k in want if got.get(k) != want[k]]
    if problems:
        return Check("SRV_JVM", title, Status.FALHA, expected, observed,
                     "; ".join(problems) + ". Aplique o drop-in da etapa 2 e reinicie o "
                     "e-SUS-PEC.")
    if differ:
        return Check("SRV_JVM", title, Status.ALERTA, expected, observed,
                     f"Diferente da recomendação em {', '.join(differ)}: aplique o drop-in da "
                     "etapa 2 e reinicie o e-SUS-PEC.")
    return Check("SRV_JVM", title, Status.OK, expected, observed)


def _db_port(files, port: int) -> Check:
    title = f"Banco (porta {port}) só em 127.0.0.1"
    expected = "escuta só no loopback"
    if "/proc/net/tcp" not in files:
        return Check("SRV_BANCO_PORTA", title, Status.PENDENTE, expected,
                     "tabela de sockets ilegível", f"Confira à mão: ss -ltn 'sport = :{port}'")
    addrs = listening_ports(files).get(port)
    if not addrs:
        return Check("SRV_BANCO_PORTA", title, Status.PENDENTE, expected,
                     "nada escuta nessa porta",
                     "Se o banco é o embutido, inicie e-SUS-AB-PostgreSQL; se é externo, "
                     "confira-o no servidor do banco.")
    observed = ", ".join(sorted(set(addrs)))
    if all(a in ("127.0.0.1", "::1") or a.startswith("127.") for a in addrs):
        return Check("SRV_BANCO_PORTA", title, Status.OK, expected, observed)
    return Check("SRV_BANCO_PORTA", title, Status.FALHA, expected, observed,
                 "Segurança: o banco está aberto à rede. Em postgresql.conf use "
                 "listen_addresses = 'localhost' e reinicie e-SUS-AB-PostgreSQL; acesse-o "
                 "por túnel SSH.")


def _mode(sections, name: str, path: str, cid: str, title: str) -> Check:
    expected = "modo 600 (ou mais restrito), dono root"
    if name not in sections:
        return Check(cid, title, Status.PENDENTE, expected, f"{path} não encontrado",
                     f"Confira se o PEC foi instalado em {value('pec_dir')}.")
    rc, text = sections[name]
    parts = text.split()
    if rc != 0 or len(parts) != 2 or not re.fullmatch(r"[0-7]{3,4}", parts[0]):
        return Check(cid, title, Status.PENDENTE, expected, f"{path}: stat falhou",
                     f"Confira à mão: stat {shlex.quote(path)}")
    mode, owner = int(parts[0], 8), parts[1]
    observed = f"{path}: modo {parts[0][-3:]}, dono {owner}"
    if mode & 0o077 == 0 and owner == "root":
        return Check(cid, title, Status.OK, expected, observed)
    return Check(cid, title, Status.FALHA, expected, observed,
                 f"No servidor: chown root {shlex.quote(path)} && chmod 600 "
                 f"{shlex.quote(path)} (contém dados sensíveis).")


def _log_errors(sections, name: str, path: str) -> Check:
    title = "Erros no log do instalador"
    expected = "nenhuma linha com " + value("erros_log").replace("|", ", ")
    rc, text = sections.get(name, (1, ""))
    lines = text.splitlines()
    if not lines or not lines[0].strip().isdigit():
        return Check("SRV_LOG_ERROS", title, Status.PENDENTE, expected,
                     f"{path} sem permissão de leitura",
                     "Use servidor.sudo: true (sudo -n) ou um usuário que leia o log.")
    count = int(lines[0])
    if count == 0:
        return Check("SRV_LOG_ERROS", title, Status.OK, expected, f"{path}: nenhuma")
    shown = "\n".join(mask_line(ln) for ln in lines[1:MAX_LOG_LINES + 1])
    return Check("SRV_LOG_ERROS", title, Status.FALHA, expected,
                 f"{path}: {count} linha(s); primeiras:\n{shown}",
                 "Leia o log completo no servidor; 'Falha ao migrar' pede restaurar o backup "
                 "e rodar o instalador de novo.")


def _disk(sections, profile: dict[str, Any] | None) -> Check:
    title = "Disco livre depois da instalação"
    need_gb = (profile or {}).get("app_disk_gb")
    if profile and profile.get("servers") == 1 and profile.get("db_disk_gb"):
        need_gb = (need_gb or 0) + profile["db_disk_gb"]
    expected = (f"livre + usado pelo PEC ≥ {need_gb} GB (perfil)" if need_gb
                else "perfil da etapa 1")
    lines = sections.get("disk", (1, ""))[1].splitlines()
    cols = lines[0].split() if lines else []
    if len(cols) < 6 or not cols[3].isdigit():
        return Check("SRV_DISCO", title, Status.PENDENTE, expected, "df falhou no servidor",
                     f"Confira à mão: df -h {value('pec_dir')}")
    free = int(cols[3])
    used = int(lines[1]) if len(lines) > 1 and lines[1].strip().isdigit() else 0
    observed = f"livre {free / 1e9:.1f} GB; PEC usa {used / 1e9:.1f} GB"
    if not need_gb:
        return Check("SRV_DISCO", title, Status.PENDENTE, expected, observed,
                     "Informe o perfil (etapa 1) para comparar o disco.")
    if free + used >= need_gb * 1e9:
        return Check("SRV_DISCO", title, Status.OK, expected, observed)
    return Check("SRV_DISCO", title, Status.FALHA, expected, observed,
                 f"Faltam {(need_gb * 1e9 - free - used) / 1e9:.1f} GB para o perfil: "
                 "amplie o disco de /opt antes de o banco crescer.")


def server_checks(servidor: dict[str, Any], *, expected_version: str | None,
                  ambiente_metrics: dict[str, Any] | None,
                  env: Mapping[str, str] | None = None) -> list[Check]:
    """Stage 04's server checks for a site's ``servidor`` section; an unreachable, refused
    or untrusted server is one SRV_CONEXAO falha (with the pt-BR remedy)."""
    metrics = ambiente_metrics or {}
    try:
        target = parse_target(servidor["ssh"], file="site", key="servidor.ssh")
        with connect(target, options_for(servidor, env)) as session:
            return collect(session, expected_version=expected_version,
                           jvm_plan=metrics.get("jvm"), profile=metrics.get("perfil"))
    except RunbookError as exc:
        p = exc.problems[0]
        return [Check("SRV_CONEXAO", "Acesso SSH ao servidor", Status.FALHA,
                      f"sessão SSH com {servidor['ssh']}", p.message,
                      p.remedy or "Confira servidor.ssh e o acesso SSH ao servidor.")]
