"""A short pt-BR text summary of a (normalized) probe, for the terminal."""

from __future__ import annotations

from typing import Any

from ..render.numbers import number

GIB = 1024 ** 3
PORT_LABEL = {"free": "livre", "in_use": "em uso", "unknown": "não verificada"}


def gib(n: int | float | None) -> str:
    return "não medido" if n is None else f"{number(n / GIB, 1)} GiB"


def _yes(v: bool | None, yes: str = "sim", no: str = "não") -> str:
    return "não medido" if v is None else yes if v else no


def lines(p: dict[str, Any]) -> list[str]:
    """Summary lines of a normalized probe (see :func:`loader.normalize`)."""
    o, c, m, inst = p["os"], p["cpu"], p["memory"], p["install_path"]
    system = " ".join(x for x in (o["system"], o["distro"], o["arch"]) if x) or "sistema ?"
    bits = f"{o['bits']} bits" if o["bits"] else "bits ?"
    out = [f"Servidor {p['hostname'] or '?'} — {system}, {bits}"]
    mhz = c["max_mhz"] or c["current_mhz"]
    out.append(f"  CPU: {c['model'] or 'modelo ?'} — núcleos físicos {c['physical_cores'] or '?'}"
               f", lógicos {c['logical_cores'] or '?'}"
               + (f", {mhz:.0f} MHz" if mhz else ""))
    ram = gib(m["total_bytes"])
    if m["cgroup_limit_bytes"]:
        ram += f" (limite do contêiner: {gib(m['cgroup_limit_bytes'])})"
    out.append(f"  RAM: {ram}")
    out.append(f"  Disco onde o PEC instala ({inst['path'] or '?'}, partição "
               f"{inst['mount'] or '?'}): {gib(inst['free_bytes'])} livres de "
               f"{gib(inst['total_bytes'])}")
    ds = p["disk_speed"]
    if ds:
        out.append(f"  Velocidade do disco {ds['mount'] or ''}: gravação {ds['write_mb_s']} MB/s, "
                   f"leitura {ds['read_mb_s']} MB/s (leitura via {ds['read_method'] or '?'})")
    if p["locale"]["applicable"]:
        out.append(f"  Locale pt_BR.UTF-8: {_yes(p['locale']['pt_BR_utf8'], 'instalado', 'AUSENTE')}")
        loc = p["locale"]
        if loc.get("system_known"):
            where = f" ({loc['system_source']})" if loc["system_source"] else ""
            out.append("  Locale padrão do sistema (o do serviço do PEC): "
                       + (f"LANG={loc['system_lang']}" if loc["system_lang"]
                          else "nenhum LANG configurado") + where)
    out.append(f"  Fuso horário: {p['timezone'] or 'não identificado'}")
    out.append("  Portas: " + ", ".join(
        f"{k} {PORT_LABEL[v]}" + (f" ({p['port_owners'][k]})" if k in p["port_owners"] else "")
        for k, v in p["ports"].items()))
    j = p["java"]
    out.append("  Java no sistema: " + (
        f"{j['version'] or 'versão ?'} ({j['bits'] or '?'} bits)" if j["found"] else
        "não encontrado" if j["found"] is False else "não verificado"))
    pg = p["postgres"]
    out.append("  PostgreSQL no sistema: " + (
        f"{pg['version'] or 'versão ?'}" if pg["found"] else
        "não encontrado" if pg["found"] is False else "não verificado"))
    if p["systemd"] is not None:
        sd = p["systemd"]
        out.append(f"  systemd-logind RemoveIPC: {sd['remove_ipc'] or 'não verificado'}"
                   + (f" ({sd['source']})" if sd["source"] else ""))
    if p["errors"]:
        out.append("  Não medido: " + "; ".join(f"{k} ({v})" for k, v in p["errors"].items()))
    for w in p["warnings"]:
        out.append(f"  Aviso: {w}")
    return out
