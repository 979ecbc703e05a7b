"""JVM sizing for PEC: heap, metaspace and code cache for a server profile, capped to what the
measured machine can give, and where to set them.

The profile's values come from ``data/jvm.csv`` (the stock start script for up to 100 users;
the manual's table for 1 000+ users and centralizers, with its two defects left out: the stray
space in ``MetaspaceSize =512M`` and an ``-Xmx10240M`` on an app server specified with 8 GB).
The cap comes from ``data/ambiente.csv``::

    heap_max = RAM - OS reserve - PostgreSQL reserve (single server only)
               - (MaxMetaspaceSize + ReservedCodeCacheSize + JVM native overhead)

rounded down to ``heap_passo_mb``. ``-Xmx`` is the smaller of the profile's value and that cap,
so it is never above what the machine has; below ``heap_minimo_mb`` the machine cannot take
PEC and no flags are recommended. Every flag is built from integers and checked against
``FLAG`` before it leaves this module.

Where: on Linux PEC's ``webserver/standalone.sh`` sets ``JAVA_OPTS`` on its first line and
the installer rewrites the file on every update, so an environment variable cannot override it
and a hand edit is lost. The recommendation is a systemd drop-in for ``e-SUS-PEC.service``
whose ``ExecStartPre`` rewrites the five flags in ``standalone.sh`` before every start:
idempotent, kept across updates, removable by deleting one file.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from .data import read_csv

FLAG = re.compile(r"^(-X(ms|mx)\d+[MG]|-XX:\w+=\d+[MG])$")
MIB = 1024 * 1024
SERVICE = "e-SUS-PEC.service"
DROPIN_PATH = f"/etc/systemd/system/{SERVICE}.d/esus-runbook-jvm.conf"
# flag name in the JVM, key in jvm.csv
FIELDS = (("-Xms", "xms_mb"), ("-Xmx", "xmx_mb"), ("-XX:MetaspaceSize=", "metaspace_mb"),
          ("-XX:MaxMetaspaceSize=", "max_metaspace_mb"),
          ("-XX:ReservedCodeCacheSize=", "code_cache_mb"))


@cache
def settings() -> dict[str, Any]:
    """``data/ambiente.csv`` as {chave: valor}."""
    return {row["chave"]: row["valor"] for row in read_csv("ambiente.csv")}


def table(profile_id: str) -> dict[str, Any] | None:
    return next((r for r in read_csv("jvm.csv") if r["profile_id"] == profile_id), None)


def flag(prefix: str, mb: int) -> str:
    """One JVM flag, refused unless well formed (no spaces, integer size, unit)."""
    if not isinstance(mb, int) or isinstance(mb, bool) or mb <= 0:
        raise ValueError(f"invalid size for {prefix}: {mb!r}")
    text = f"{prefix}{mb}M"
    if not FLAG.match(text):
        raise ValueError(f"malformed JVM flag {text!r}")
    return text


def pec_dir(install_path: str | None, windows: bool) -> str:
    if windows:
        base = install_path or r"C:\Program Files"
        return base if base.rstrip("\\/").endswith("e-SUS") else base.rstrip("\\/") + r"\e-SUS"
    base = install_path or "/opt"
    return base if base.rstrip("/").endswith("e-SUS") else base.rstrip("/") + "/e-SUS"


def dropin(values: dict[str, int], script: str, header: str = "") -> str:
    """The systemd drop-in that applies ``values`` to PEC's start script before each start.

    ``sed -E`` replaces each flag's number wherever it is (``MetaspaceSize *=`` also fixes the
    manual's stray space if someone copied it); the leading ``-`` keeps the service starting
    if the script is ever missing."""
    exprs = []
    for prefix, key in FIELDS:
        pattern = prefix.rstrip("=") + (" *= *" if prefix.endswith("=") else "")
        exprs.append(f"-e 's/{pattern}[0-9]+[MmGg]/{flag(prefix, values[key])}/'")
    lines = [f"# {DROPIN_PATH}"]
    lines += [f"# {h}" for h in header.splitlines() if h.strip()]
    lines += ["[Service]", f"ExecStartPre=-/bin/sed -i -E {' '.join(exprs)} {script}", ""]
    return "\n".join(lines)


def recommend(profile: dict[str, Any], ram_bytes: int | None, *, windows: bool = False,
              single_server: bool | None = None,
              install_path: str | None = None) -> dict[str, Any]:
    """The JVM recommendation for ``profile`` on a machine with ``ram_bytes`` (JSON-able)."""
    s = settings()
    row = table(profile["profile_id"])
    if row is None:
        return {"situacao": "sem_tabela", "perfil": profile["profile_id"], "flags": [],
                "mensagem": "Sem valores de JVM para este perfil em data/jvm.csv."}
    single = profile.get("servers") == 1 if single_server is None else single_server
    base = {key: int(row[key]) for _, key in FIELDS}
    out: dict[str, Any] = {
        "perfil": profile["profile_id"], "tabela": base, "confianca": row["confidence"],
        "fonte": row["source"], "servidor_unico": single, "flags": [], "java_opts": None,
        "valores": None, "reduzido": False, "orcamento": None,
    }
    if not ram_bytes:
        out.update(situacao="sem_ram", mensagem="RAM do servidor não medida: sem ela não há "
                   "como garantir que o -Xmx caiba na máquina.")
        return out
    ram_mb = int(ram_bytes // MIB)
    os_res = int(s["reserva_so_windows_mb" if windows else "reserva_so_linux_mb"])
    db_res = int(s["reserva_banco_mb"]) if single else 0
    non_heap = base["max_metaspace_mb"] + base["code_cache_mb"] + int(s["jvm_sobrecarga_mb"])
    step = int(s["heap_passo_mb"])
    budget = ram_mb - os_res - db_res - non_heap
    heap_cap = max(0, budget // step * step)
    out["orcamento"] = {"ram_mb": ram_mb, "reserva_so_mb": os_res, "reserva_banco_mb": db_res,
                        "nao_heap_mb": non_heap, "heap_disponivel_mb": heap_cap}
    if heap_cap < int(s["heap_minimo_mb"]):
        out.update(situacao="insuficiente", mensagem=(
            f"Com {ram_mb} MB de RAM sobram {max(budget, 0)} MB para o heap depois do sistema"
            + (", do PostgreSQL" if single else "") + f" e da memória não heap da JVM: menos "
            f"que o mínimo de {int(s['heap_minimo_mb'])} MB. Aumente a RAM do servidor."))
        return out
    values = dict(base)
    values["xmx_mb"] = min(base["xmx_mb"], heap_cap)
    values["xms_mb"] = min(base["xms_mb"], values["xmx_mb"])
    values["metaspace_mb"] = min(base["metaspace_mb"], base["max_metaspace_mb"])
    flags = [flag(prefix, values[key]) for prefix, key in FIELDS]
    reduced = values["xmx_mb"] < base["xmx_mb"]
    out.update(situacao="reduzido" if reduced else "tabela", valores=values, flags=flags,
               java_opts=" ".join(flags), reduzido=reduced)
    out["mensagem"] = (
        f"-Xmx reduzido de {base['xmx_mb']}M para {values['xmx_mb']}M: é o que cabe em "
        f"{ram_mb} MB de RAM" + (" com o PostgreSQL na mesma máquina" if single else "")
        + "." if reduced else "Valores do perfil; cabem na RAM medida.")
    out["onde"] = _where(values, flags, windows, install_path, profile, ram_mb)
    return out


def _where(values: dict[str, int], flags: list[str], windows: bool, install_path: str | None,
           profile: dict[str, Any], ram_mb: int) -> dict[str, Any]:
    home = pec_dir(install_path, windows)
    if windows:
        return {"sistema": "windows", "confianca": "L", "texto": (
            f"No Windows o PEC roda como o serviço e-SUS-PEC; os parâmetros da JVM ficam no "
            f"script de inicialização da pasta {home}\\webserver. Localize a linha com -Xmx, "
            f"troque pelos valores {' '.join(flags)}, salve uma cópia do original e reinicie o "
            "serviço. Esta orientação não foi verificada numa instalação Windows: confira com "
            "o suporte e-SUS APS antes de alterar.")}
    script = f"{home}/webserver/standalone.sh"
    header = (f"Gerado pelo esus-runbook: perfil {profile.get('label', profile['profile_id'])},"
              f" servidor com {ram_mb} MB de RAM.\n"
              "O standalone.sh do PEC define JAVA_OPTS na 1a linha e é reescrito a cada "
              "atualização;\neste drop-in reaplica os valores antes de cada início do serviço.")
    return {
        "sistema": "linux", "confianca": "M", "script": script, "servico": SERVICE,
        "dropin_path": DROPIN_PATH, "dropin": dropin(values, script, header),
        "comandos": [
            f"sudo mkdir -p /etc/systemd/system/{SERVICE}.d",
            f"sudo nano {DROPIN_PATH}   # cole o conteúdo acima",
            "sudo systemctl daemon-reload && sudo systemctl restart e-SUS-PEC",
            "ps -o args= -C java | grep -o -- '-Xm[sx][0-9]*[MG]'   # confira os valores",
        ],
        "alternativa": (f"Ou edite a 1a linha de {script} (JAVA_OPTS=\"{' '.join(flags)}\"); a "
                        "próxima atualização do PEC desfaz a edição."),
    }
