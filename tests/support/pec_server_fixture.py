"""File trees that stand in for a PEC server after the installer ran (used by tests/support/sshd.py).

``saudavel``: units active and enabled, /etc/pec.config with success and version 5.5.24, the
Java process with the JVM options of the recommendation, the database on 127.0.0.1 only,
credenciais.txt and the installer log mode 600, a clean installer log.
``quebrada``: each of those wrong (unit failed/disabled, success false and another version,
-Xmx above the recommendation, the database on 0.0.0.0, files world-readable, errors in the
log with a password on the same line).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from esus_runbook.net import free_port

VERSION = "5.5.24"
LEAKED = "segredo-no-log-771"  # must never appear in a check's output
# the external-database password /etc/pec.config holds in clear text: never leaves the server
PEC_CONFIG_SECRET = "senha-do-banco-externo-5521"
BROKEN_JVM = "-Xms512M -Xmx30720M -XX:MaxMetaspaceSize=128M"  # heap above any 16 GB plan

SYSTEMCTL = """#!/bin/sh
# stub systemctl: answers from $STATE/<unit> ("active enabled")
STATE="{state}"
cmd="$1"; shift
[ "$1" = "--quiet" ] && shift
unit="$1"
case "$unit" in *.service) ;; *) unit="$unit.service";; esac
if [ ! -f "$STATE/$unit" ]; then
  [ "$cmd" = "is-active" ] && echo inactive
  [ "$cmd" = "is-enabled" ] && echo "Failed to get unit file state for $unit: No such file" >&2
  exit 4
fi
read active enabled < "$STATE/$unit"
case "$cmd" in
  is-active) echo "$active"; [ "$active" = active ] ;;
  is-enabled) echo "$enabled"; [ "$enabled" = enabled ] ;;
  *) echo "stub systemctl: $cmd not supported" >&2; exit 1 ;;
esac
"""

JAVA = """#!/bin/sh
# stub java: -version answers like OpenJDK 17; anything else stays running like the PEC
case " $* " in *" -version "*)
  echo '    java.version = 17.0.13' >&2
  echo '    sun.arch.data.model = 64' >&2
  echo 'openjdk version "17.0.13" 2024-10-15' >&2
  echo 'OpenJDK 64-Bit Server VM (build 17.0.13+11, mixed mode, sharing)' >&2
  exit 0;;
esac
while :; do sleep 3600; done
"""


def build_installation(root: Path, kind: str, jvm_flags: list[str]) -> Path:
    """The fixture tree; the healthy Java process runs with ``jvm_flags`` (stage 02's plan)."""
    healthy = kind == "saudavel"
    root.mkdir(parents=True)
    pec = root / "opt" / "e-SUS"
    config = pec / "webserver" / "config"
    config.mkdir(parents=True)
    (pec / "webserver" / "logs").mkdir()
    (pec / "webserver" / "standalone.jar").write_bytes(b"PK\x03\x04")
    cred = config / "credenciais.txt"
    cred.write_text(f"usuario=postgres\nsenha={LEAKED}\n")
    os.chmod(cred, 0o600 if healthy else 0o644)
    log = pec / "log-instalacao.txt"
    lines = ["Instalando e-SUS APS PEC " + VERSION, "Banco de dados criado",
             "Instalação concluída com sucesso"]
    if not healthy:
        lines[1:1] = [f"ERRO: falha ao conectar com password={LEAKED} no banco",
                      "java.lang.IllegalStateException: Falha ao migrar a versão 5.5.23",
                      f"Exception in thread main: senha: {LEAKED}"]
    log.write_text("\n".join(lines) + "\n")
    os.chmod(log, 0o600 if healthy else 0o664)
    etc = root / "etc"
    etc.mkdir()
    # the keys and layout of /etc/pec.config after an installation with an external database,
    # as shown in the startup script of github.com/filiperochalopes/e-SUS-PEC (a comment
    # holding a real file: 'key" : value', two-space indent)
    (etc / "pec.config").write_text(json.dumps(
        {"success": healthy, "directory": "/opt/e-SUS",
         "version": VERSION if healthy else "5.5.23", "production": True,
         "customDatabase": True, "databaseUrl": "jdbc:postgresql://db.interno:5432/esus",
         "databaseUsername": "esus", "databasePassword": PEC_CONFIG_SECRET,
         "webserverVersion": VERSION if healthy else "5.5.23",
         "webserverDirectory": "/opt/e-SUS/webserver"}, indent=2, separators=(",", " : ")))
    os.chmod(etc / "pec.config", 0o600 if healthy else 0o644)
    state = root / "systemd"
    state.mkdir()
    units = {"e-SUS-PEC.service": "active enabled" if healthy else "failed enabled",
             "e-SUS-AB-PostgreSQL.service": "active enabled" if healthy else "active disabled"}
    for unit, line in units.items():
        (state / unit).write_text(line + "\n")
    bin_ = root / "bin"
    bin_.mkdir()
    (bin_ / "systemctl").write_text(SYSTEMCTL.format(state=state))
    (bin_ / "java").write_text(JAVA)
    for f in bin_.iterdir():
        os.chmod(f, 0o755)
    db_host = "127.0.0.1" if healthy else "0.0.0.0"
    (root / "processes.txt").write_text(
        f"{' '.join(jvm_flags) if healthy else BROKEN_JVM} -jar /opt/e-SUS/webserver/standalone.jar\n{db_host} {free_port()}\n")
    return root
