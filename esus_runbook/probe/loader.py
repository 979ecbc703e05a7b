"""Read a probe file made on a server into one normalized dict.

Made on the server, read on the analyst's machine, possibly by a newer esus-runbook: the
loader accepts every ``esus-runbook/probe/N`` with N up to the current major version, reads
each field defensively (a field that is absent or of the wrong type becomes ``None`` and, when
present but wrong, a warning), and fills the same layout for Linux and Windows probes (a
Windows probe has no ``locale`` or ``systemd``: they are marked not applicable). What it
refuses, with an :class:`~esus_runbook.errors.InputError` naming the file and the fix: a
missing file, a file that is not JSON or not a JSON object, not a probe, a probe from a newer
major version, a file larger than 5 MB.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..data import read_csv
from ..errors import HostileFileError, InputError
from ..files.reading import read_bounded
from .facts import PORTS, SCHEMA

CURRENT_MAJOR = 1
MAX_BYTES = 5 * 1024 * 1024
MAX_TEXT = 1000  # one text field of a probe (a CPU model, a path...)
MAX_PORTS = 64  # ports listed in a probe
_SCHEMA = re.compile(r"^esus-runbook/probe/(\d+)$")
PORT_STATES = ("free", "in_use", "unknown")
_POSIX_PATH = re.compile(r"^/[A-Za-z0-9_./+-]{0,4095}$")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/][A-Za-z0-9_ .\\/()+-]{0,259}$")
REMEDY = ("gere o arquivo de novo no servidor com `esus-runbook sondar --json ARQUIVO` e "
          "copie-o sem editar")


class _Reader:
    """Typed access to a JSON object that records, instead of raising, what is wrong."""

    def __init__(self, warnings: list[str]):
        self.warnings = warnings

    def section(self, data: Any, key: str) -> dict[str, Any]:
        value = data.get(key) if isinstance(data, dict) else None
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.warnings.append(f"{key}: esperado um objeto; ignorado")
            return {}
        return value

    def get(self, data: dict[str, Any], key: str, kind: type | tuple, where: str) -> Any:
        value = data.get(key)
        if value is None:
            return None
        if kind in (int, float) and isinstance(value, bool):
            self.warnings.append(f"{where}.{key}: valor inválido {value!r}; ignorado")
            return None
        if kind is float and isinstance(value, int):
            return float(value)
        if kind is int and isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, kind):
            self.warnings.append(f"{where}.{key}: valor inválido {str(value)[:40]!r}; ignorado")
            return None
        if isinstance(value, str) and len(value) > MAX_TEXT:
            self.warnings.append(f"{where}.{key}: texto com {len(value)} caracteres (limite "
                                 f"{MAX_TEXT}); ignorado")
            return None
        if kind in (int, float) and value < 0:
            self.warnings.append(f"{where}.{key}: valor negativo {value!r}; ignorado")
            return None
        return value


_LOCALE_NAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,64}$")
_LOCALE_SOURCES = ("/etc/locale.conf", "/etc/default/locale", "localectl status")


def _system_locale(loc: dict[str, Any], r: Any, is_windows: bool) -> dict[str, Any]:
    """The system default locale (the PEC service's): ``system_known`` is False for a probe
    that did not collect it (older probes, Windows), so a check can tell "not collected"
    from "collected, none configured"."""
    if is_windows:
        return {}
    out: dict[str, Any] = {"system_known": "system_source" in loc,
                           "system_lang": None, "system_ctype": None, "system_source": None}
    if not out["system_known"]:
        return out
    for key in ("system_lang", "system_ctype"):
        value = r.get(loc, key, str, "locale")
        if value is not None and not _LOCALE_NAME.match(value):
            r.warnings.append(f"locale.{key}: nome de locale inválido; ignorado")
            value = None
        out[key] = value
    source = r.get(loc, "system_source", str, "locale")
    out["system_source"] = source if source in _LOCALE_SOURCES else None
    return out


def _major(version: str | None) -> int | None:
    """Java major version: "17.0.13" -> 17, "1.8.0_392" -> 8."""
    if not version:
        return None
    m = re.match(r"^(\d+)(?:\.(\d+))?", version)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


def pg_version_tuple(version: str | None) -> tuple[int, ...] | None:
    """PostgreSQL version as a tuple: "9.6.13" -> (9, 6, 13), "15.8" -> (15, 8)."""
    if not version:
        return None
    m = re.match(r"^(\d+(?:\.\d+)*)", version.strip())
    return tuple(int(x) for x in m.group(1).split(".")) if m else None


def distro_from_text(text: str | None) -> str | None:
    """The ``sistemas.csv`` id of a Linux distribution named in free text, for probes that
    hold only the core keys ("Debian GNU/Linux 12 (bookworm)" -> "debian"); None when no
    known name starts the text."""
    low = " ".join((text or "").lower().split())
    if not low:
        return None
    for row in read_csv("sistemas.csv"):
        sid, nome = str(row["id"]).lower(), str(row["nome"]).lower()
        if sid == "windows":
            continue
        if low == sid or low.startswith((sid + " ", nome)):
            return sid
    return None


def normalize(raw: Any, source: str = "<sondagem>") -> dict[str, Any]:
    """The probe in the normalized layout; raises InputError when ``raw`` is not a probe."""
    if not isinstance(raw, dict):
        raise InputError("o arquivo não é um objeto JSON de sondagem", file=source,
                         remedy=REMEDY)
    schema = raw.get("schema")
    m = _SCHEMA.match(schema) if isinstance(schema, str) else None
    if m is None:
        raise InputError("não é um arquivo de sondagem do esus-runbook", file=source,
                         key="schema", remedy=f"esperado '{SCHEMA}'; {REMEDY}")
    version = int(m.group(1))
    if version > CURRENT_MAJOR:
        raise InputError(f"sondagem de uma versão mais nova ({schema})", file=source,
                         key="schema", remedy="atualize o esus-runbook nesta máquina "
                         "(pip install -U esus-runbook) ou gere a sondagem com a mesma versão")
    warnings: list[str] = []
    r = _Reader(warnings)
    os_ = r.section(raw, "os")
    system = r.get(os_, "system", str, "os")
    low = (system or "").lower()
    is_windows = low.startswith("win")
    is_linux = low == "linux"
    cpu = r.section(raw, "cpu")
    mem = r.section(raw, "memory")
    inst = r.section(raw, "install_path")
    out: dict[str, Any] = {
        "schema": schema, "schema_version": version,
        "collected_at": r.get(raw, "collected_at", str, "probe"),
        "hostname": r.get(raw, "hostname", str, "probe"),
        "is_windows": is_windows, "is_linux": is_linux,
        "os": {"system": system,
               **{k: r.get(os_, k, str, "os") for k in
                  ("release", "distro", "distro_id", "distro_like", "distro_version", "arch",
                   "edition", "installation_type")},
               "bits": r.get(os_, "bits", int, "os")},
        "cpu": {**{k: r.get(cpu, k, int, "cpu") for k in
                   ("physical_cores", "logical_cores", "usable_cores")},
                **{k: r.get(cpu, k, float, "cpu") for k in
                   ("max_mhz", "current_mhz", "cgroup_cpu_quota")},
                "model": r.get(cpu, "model", str, "cpu"),
                "mhz_source": r.get(cpu, "mhz_source", str, "cpu")},
        "memory": {k: r.get(mem, k, int, "memory") for k in
                   ("total_bytes", "available_bytes", "cgroup_limit_bytes")},
        "install_path": {"path": r.get(inst, "path", str, "install_path"),
                         "mount": r.get(inst, "mount", str, "install_path"),
                         "free_bytes": r.get(inst, "free_bytes", int, "install_path"),
                         "total_bytes": r.get(inst, "total_bytes", int, "install_path"),
                         "writable": r.get(inst, "writable", bool, "install_path")},
    }
    path = out["install_path"]["path"]
    if path is not None and not (_WINDOWS_PATH if is_windows else _POSIX_PATH).match(path):
        # it goes into the JVM drop-in and the commands shown: no shell or systemd syntax
        warnings.append("install_path.path: caracteres não permitidos num caminho de "
                        "instalação; ignorado")
        out["install_path"]["path"] = None
    if out["os"]["distro_id"] is None and is_linux:
        out["os"]["distro_id"] = distro_from_text(out["os"]["distro"])
    if out["os"]["bits"] not in (None, 32, 64):
        warnings.append(f"os.bits: valor inválido {out['os']['bits']!r}; ignorado")
        out["os"]["bits"] = None
    out["disks"] = _disks(raw, r)
    out["disk_speed"] = _disk_speed(raw, r, out)
    loc = r.section(raw, "locale")
    out["locale"] = {"pt_BR_utf8": None if is_windows else r.get(loc, "pt_BR_utf8", bool,
                                                                   "locale"),
                     "found": [x for x in loc.get("found") or [] if isinstance(x, str)][:10]
                     if isinstance(loc.get("found"), list) else [],
                     "applicable": not is_windows, **_system_locale(loc, r, is_windows)}
    tzi = r.section(raw, "timezone_info")
    tz = raw.get("timezone")
    if isinstance(tz, dict):  # tolerate {"name": ...}
        tz = tz.get("name")
    out["timezone"] = tz.strip() if isinstance(tz, str) and tz.strip() else None
    out["timezone_configured"] = r.get(tzi, "configured", bool, "timezone_info")
    out["utc_offset"] = r.get(tzi, "utc_offset", str, "timezone_info")
    out["ports"], out["port_owners"] = _ports(raw, r)
    java = r.section(raw, "java")
    jv = r.get(java, "version", str, "java")
    out["java"] = {"found": r.get(java, "found", bool, "java") if java else None,
                   "version": jv, "major": _major(jv), "bits": r.get(java, "bits", int, "java"),
                   "path": r.get(java, "path", str, "java")}
    pg = r.section(raw, "postgres")
    pv = r.get(pg, "version", str, "postgres")
    bundled = r.section(pg, "bundled_pec")
    out["postgres"] = {"found": r.get(pg, "found", bool, "postgres") if pg else None,
                       "version": pv, "version_tuple": pg_version_tuple(pv),
                       "path": r.get(pg, "path", str, "postgres"),
                       "bundled_pec": {"found": r.get(bundled, "found", bool, "bundled_pec"),
                                       "version": r.get(bundled, "version", str,
                                                        "bundled_pec")}}
    sd = r.section(raw, "systemd")
    ipc = r.get(sd, "remove_ipc", str, "systemd")
    if ipc is not None and ipc.lower() not in ("yes", "no"):
        warnings.append(f"systemd.remove_ipc: valor inválido {ipc!r}; ignorado")
        ipc = None
    out["systemd"] = None if is_windows else {
        "running": r.get(sd, "running", bool, "systemd"),
        "remove_ipc": ipc.lower() if ipc else None,
        "source": r.get(sd, "source", str, "systemd")}
    pec = r.section(raw, "pec")
    out["pec"] = {"installed": r.get(pec, "installed", bool, "pec"),
                  "path": r.get(pec, "path", str, "pec")}
    errs = raw.get("errors")
    out["errors"] = {str(k): str(v)[:300] for k, v in errs.items()} \
        if isinstance(errs, dict) else {}
    via = r.get(raw, "coletada_via", str, "probe")
    ssh = r.section(raw, "ssh")
    out["coletada_via"] = via if via in ("ssh", "local") else "local"
    out["host_key_fingerprint"] = r.get(ssh, "host_key_fingerprint", str, "ssh")
    out["warnings"] = warnings
    return out


def _disks(raw: dict[str, Any], r: _Reader) -> list[dict[str, Any]]:
    disks = raw.get("disks")
    if disks is None:
        return []
    if not isinstance(disks, list):
        r.warnings.append("disks: esperado uma lista; ignorado")
        return []
    out = []
    for i, d in enumerate(disks[:64]):
        if not isinstance(d, dict):
            continue
        where = f"disks[{i}]"
        out.append({"mount": r.get(d, "mount", str, where),
                    "total_bytes": r.get(d, "total_bytes", int, where),
                    "free_bytes": r.get(d, "free_bytes", int, where),
                    "write_mb_s": r.get(d, "write_mb_s", float, where),
                    "read_mb_s": r.get(d, "read_mb_s", float, where)})
    return out


def _disk_speed(raw: dict[str, Any], r: _Reader, out: dict[str, Any]) -> dict[str, Any] | None:
    ds = r.section(raw, "disk_speed")
    if ds:
        speed = {"write_mb_s": r.get(ds, "write_mb_s", float, "disk_speed"),
                 "read_mb_s": r.get(ds, "read_mb_s", float, "disk_speed"),
                 "read_method": r.get(ds, "read_method", str, "disk_speed"),
                 "size_mb": r.get(ds, "size_mb", int, "disk_speed"),
                 "mount": r.get(ds, "mount", str, "disk_speed"),
                 "same_disk_as_install": r.get(ds, "same_disk_as_install", bool,
                                               "disk_speed")}
        if speed["write_mb_s"] is not None or speed["read_mb_s"] is not None:
            return speed
    # older/minimal probes: speeds recorded only on the disk entries
    mount = out["install_path"]["mount"]
    disks = sorted(out["disks"], key=lambda d: d["mount"] != mount)
    for d in disks:
        if d["write_mb_s"] is not None or d["read_mb_s"] is not None:
            return {"write_mb_s": d["write_mb_s"], "read_mb_s": d["read_mb_s"],
                    "read_method": None, "size_mb": None, "mount": d["mount"],
                    "same_disk_as_install": d["mount"] == mount if mount else None}
    return None


def _ports(raw: dict[str, Any], r: _Reader) -> tuple[dict[str, str], dict[str, str]]:
    ports = r.section(raw, "ports")
    out = {}
    numbers = {k for k in map(str, ports) if _is_port(k)}
    if len(numbers) < len(ports):
        r.warnings.append("ports: chaves que não são números de porta; ignoradas")
    for key in sorted({*map(str, PORTS), *numbers}, key=int)[:MAX_PORTS]:
        value = ports.get(key)
        if value is None:
            out[key] = "unknown"
        elif value in PORT_STATES:
            out[key] = value
        else:
            r.warnings.append(f"ports.{key}: valor inválido {str(value)[:40]!r}; ignorado")
            out[key] = "unknown"
    owners = r.section(raw, "port_owners")
    return (out, {str(k): str(v)[:100] for k, v in owners.items() if str(k) in out})


def _is_port(key: str) -> bool:
    return key.isdigit() and len(key) <= 5 and 1 <= int(key) <= 65535


def load_probe(path: str | os.PathLike) -> dict[str, Any]:
    """Read and normalize a probe file; InputError (exit 2) when it is missing or corrupt."""
    p = Path(path)
    try:
        p.stat()
    except FileNotFoundError:
        raise InputError("arquivo de sondagem não encontrado", file=str(p),
                         remedy="rode `esus-runbook sondar --json ARQUIVO` no servidor, copie o "
                         "arquivo e confira o caminho em ambiente.probe") from None
    except OSError:
        pass  # a symlink loop, a long name...: read_bounded says which
    # a regular file (a FIFO would block), at most MAX_BYTES, checked before reading
    data = read_bounded(p, MAX_BYTES, "arquivo de sondagem",
                        "informe o arquivo .json gerado por `esus-runbook sondar`")
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("o arquivo de sondagem não está em UTF-8", file=str(p),
                         remedy=REMEDY) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"JSON inválido na linha {exc.lineno} (arquivo corrompido ou "
                         "truncado)", file=str(p), remedy=REMEDY) from None
    except RecursionError:
        raise HostileFileError("JSON aninhado demais", file=str(p), remedy=REMEDY) from None
    return normalize(raw, str(p))
