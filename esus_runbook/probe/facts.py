"""Collect the host facts of the probe file (schema ``esus-runbook/probe/1``).

``collect()`` runs on the target server, as any user: psutil for CPU, memory, disks and
listening sockets; the Linux or Windows module for what psutil does not know. Each part runs
guarded and in parallel under one deadline (2.5 s): whatever cannot be measured is ``null``
in the file and named in ``errors``, never a crash. ``--velocidade-disco`` adds the disk measurement
(seconds to a minute, outside the deadline).
"""

from __future__ import annotations

import getpass
import os
import platform
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import psutil

from ..results import now_iso
from ..version import package_version
from . import diskspeed, linux, windows
from ._parts import guarded, run_command, run_parallel

SCHEMA = "esus-runbook/probe/1"
PORTS = (80, 443, 5433, 8080)
DEADLINE_S = 2.5


def tool_info() -> dict[str, Any]:
    """The tool that collected a probe (its ``tool`` key): name, version, Python."""
    return {"name": "esus-runbook", "version": package_version(),
            "python": platform.python_version()}


# --------------------------------------------------------------------------- parts
def _cpu(system: str, reg: Any) -> dict[str, Any]:
    info = windows.cpu_info(reg) if system == "Windows" else linux.cpu_info()
    out: dict[str, Any] = {"physical_cores": psutil.cpu_count(logical=False),
                           "logical_cores": os.cpu_count(), "usable_cores": None, **info}
    try:
        freq = psutil.cpu_freq()
    except Exception:  # noqa: BLE001 - some VMs expose no frequency at all
        freq = None
    if freq is not None:
        if out["max_mhz"] is None and freq.max and freq.max > 0:
            out["max_mhz"], out["mhz_source"] = round(freq.max, 1), "psutil"
        if out["current_mhz"] is None and freq.current and freq.current > 0:
            out["current_mhz"] = round(freq.current, 1)
    if out["max_mhz"] is None and out["model"]:
        m = re.search(r"@\s*([\d.]+)\s*GHz", out["model"], re.I)
        if m:
            out["max_mhz"], out["mhz_source"] = round(float(m.group(1)) * 1000, 1), "modelo"
    usable = []
    if hasattr(os, "sched_getaffinity"):
        usable.append(len(os.sched_getaffinity(0)))
    if system == "Linux":
        quota = linux.cgroup_limits().get("cpu_quota")
        out["cgroup_cpu_quota"] = quota
        if quota:
            usable.append(max(1, int(quota + 0.999)))
    out["usable_cores"] = min(usable) if usable else out["logical_cores"]
    return out


def _memory(system: str) -> dict[str, Any]:
    vm = psutil.virtual_memory()
    out = {"total_bytes": int(vm.total), "available_bytes": int(vm.available),
           "swap_bytes": None, "cgroup_limit_bytes": None}
    try:
        out["swap_bytes"] = int(psutil.swap_memory().total)
    except Exception:  # noqa: BLE001
        pass
    if system == "Linux":
        limit = linux.cgroup_limits().get("memory_limit_bytes")
        if limit is not None and limit < vm.total:
            out["cgroup_limit_bytes"] = int(limit)
    return out


def _mount_of(path: Path, system: str) -> str:
    if system == "Windows":
        drive = os.path.splitdrive(str(path))[0]
        return (drive + "\\") if drive else str(path.anchor)
    path = path.resolve()
    dev = path.stat().st_dev
    while path.parent != path and path.parent.stat().st_dev == dev:
        path = path.parent
    return str(path)


def _existing_ancestor(path: Path) -> Path:
    p = path
    while not p.exists() and p.parent != p:
        p = p.parent
    return p


def _install_path(path: str, system: str) -> dict[str, Any]:
    target = Path(path).expanduser()
    checked = _existing_ancestor(target)
    usage = shutil.disk_usage(checked)
    return {"path": str(target), "checked": str(checked), "exists": target.exists(),
            "mount": _mount_of(checked, system), "total_bytes": int(usage.total),
            "free_bytes": int(usage.free), "writable": os.access(checked, os.W_OK)}


def _disks() -> list[dict[str, Any]]:
    disks, seen = [], set()
    for part in psutil.disk_partitions(all=False)[:32]:
        if part.mountpoint in seen or "cdrom" in (part.opts or ""):
            continue
        seen.add(part.mountpoint)
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except Exception:  # noqa: BLE001 - removable drive without media, stale mount
            continue
        disks.append({"mount": part.mountpoint, "device": part.device, "fstype": part.fstype,
                      "total_bytes": int(usage.total), "free_bytes": int(usage.free),
                      "write_mb_s": None, "read_mb_s": None})
    return disks


def _ports(ports: tuple[int, ...]) -> dict[str, Any]:
    """TCP ports with a listening socket (psutil reads the kernel's socket table; no root
    needed on Linux and Windows). Without that table, a connection attempt to localhost."""
    status = {str(p): "unknown" for p in ports}
    owners: dict[str, str] = {}
    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, PermissionError, RuntimeError):  # RuntimeError: unsupported OS
        conns = None
    if conns is not None:
        listening: dict[int, int | None] = {}
        for c in conns:
            if c.status == psutil.CONN_LISTEN and c.laddr:
                listening.setdefault(c.laddr.port, c.pid)
        for p in ports:
            status[str(p)] = "in_use" if p in listening else "free"
            pid = listening.get(p)
            if pid:
                try:
                    owners[str(p)] = f"{psutil.Process(pid).name()} (pid {pid})"
                except Exception:  # noqa: BLE001 - another user's process
                    owners[str(p)] = f"pid {pid}"
        return {"ports": status, "owners": owners, "method": "tabela de sockets (psutil)"}
    for p in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.3)
            code = s.connect_ex(("127.0.0.1", p))
        status[str(p)] = "in_use" if code == 0 else "free" if code in (111, 10061) else \
            "unknown"
    return {"ports": status, "owners": owners, "method": "conexão em 127.0.0.1"}


_JAVA_PROPS = re.compile(r"^\s*(java\.version|sun\.arch\.data\.model|os\.arch)\s*=\s*(\S+)",
                         re.M)


def java_bits(arch: str | None) -> int | None:
    a = (arch or "").lower()
    return 64 if a in ("x86_64", "amd64", "aarch64", "arm64", "ppc64le", "s390x") else \
        32 if a in ("i386", "i586", "i686", "x86", "arm") else None


def java_properties(text: str) -> tuple[str | None, int | None]:
    """(version, bits) from ``java -XshowSettings:properties -version`` output."""
    props = dict(_JAVA_PROPS.findall(text))
    model = props.get("sun.arch.data.model")
    bits = int(model) if model in ("32", "64") else java_bits(props.get("os.arch"))
    return props.get("java.version"), bits


def _java(candidates: list[str]) -> dict[str, Any]:
    for cand in candidates:
        if not os.path.isfile(cand):
            continue
        real = os.path.realpath(cand)
        out = {"found": True, "version": None, "bits": None, "path": real, "source": None}
        release = Path(real).parent.parent / "release"
        try:
            text = release.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        fields = dict(re.findall(r'^(\w+)="?([^"\n]*)"?', text, re.M))
        if fields.get("JAVA_VERSION"):
            out.update(version=fields["JAVA_VERSION"], bits=java_bits(fields.get("OS_ARCH")),
                       source=str(release))
        if out["version"] is None or out["bits"] is None:
            version, bits = java_properties(
                run_command([real, "-XshowSettings:properties", "-version"], timeout=2.0))
            out["version"] = out["version"] or version
            out["bits"] = bits
            out["source"] = "java -XshowSettings:properties"
        return out
    return {"found": False, "version": None, "bits": None, "path": None, "source": None}


def pg_major(path: str) -> float:
    m = re.search(r"(?:postgresql|pgsql|PostgreSQL)[/\\-](\d+(?:\.\d+)?)", path)
    return float(m.group(1)) if m else 0.0


def _postgres(candidates: list[tuple[str, bool]]) -> dict[str, Any]:
    host = sorted((p for p, bundled in candidates if not bundled and os.path.isfile(p)),
                  key=pg_major, reverse=True)
    bundled = [p for p, b in candidates if b and os.path.isfile(p)]
    out: dict[str, Any] = {"found": bool(host), "version": None, "path": None,
                           "bundled_pec": {"found": bool(bundled), "version": None}}
    if host:
        out["path"] = os.path.realpath(host[0])
        text = run_command([host[0], "--version"])
        m = re.search(r"\(PostgreSQL\)\s*(\d+(?:\.\d+)*)", text) or \
            re.search(r"(\d+\.\d+(?:\.\d+)?)", text)
        out["version"] = m.group(1) if m else (str(pg_major(host[0])) or None)
    if bundled:
        m = re.search(r"postgresql-(\d+(?:\.\d+)*)", bundled[0])
        out["bundled_pec"]["version"] = m.group(1) if m else None
    return out


def _user(system: str) -> dict[str, Any]:
    try:
        name = getpass.getuser()
    except Exception:  # noqa: BLE001
        name = None
    admin = windows.is_admin() if system == "Windows" else (
        os.geteuid() == 0 if hasattr(os, "geteuid") else None)
    return {"name": name, "is_admin": admin}


# --------------------------------------------------------------------------- collect
def collect(install_path: str | None = None, disk_speed: bool = False,
            disk_speed_mb: int = diskspeed.DEFAULT_MB, *, deadline_s: float = DEADLINE_S,
            progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The probe of this machine as a JSON-able dict (schema ``esus-runbook/probe/1``)."""
    started = time.perf_counter()
    system = platform.system() or sys.platform
    errors: dict[str, str] = {}
    env: Mapping[str, str] = os.environ
    reg = windows.WinRegistry() if system == "Windows" else None
    win = system == "Windows"
    path = install_path or (windows.install_path(env) if win else linux.INSTALL_PATH)
    pec_dir = windows.pec_dir(env) if win else linux.PEC_DIR

    parts: dict[str, Callable[[], Any]] = {
        "os": (lambda: windows.os_info(reg, env, platform.release())) if win else linux.os_info,
        "cpu": lambda: _cpu(system, reg),
        "memory": lambda: _memory(system),
        "disks": _disks,
        "install_path": lambda: _install_path(path, system),
        "ports": lambda: _ports(PORTS),
        "java": lambda: _java(windows.java_candidates(env) if win else linux.java_candidates()),
        "postgres": lambda: _postgres(windows.postgres_candidates(env) if win
                                      else linux.postgres_candidates()),
        "timezone": (lambda: windows.timezone_info(reg)) if win else linux.timezone_info,
        "user": lambda: _user(system),
    }
    if not win:
        parts["locale"] = linux.locale_info
        parts["systemd"] = linux.systemd_info
    got = run_parallel(parts, deadline_s, errors)

    tz = got.get("timezone") or {}
    ports = got.get("ports") or {}
    probe: dict[str, Any] = {
        "schema": SCHEMA,
        "collected_at": now_iso(),
        "tool": guarded(tool_info, errors, "tool"),
        "hostname": guarded(socket.gethostname, errors, "hostname"),
        "user": got.get("user"),
        "os": got.get("os") or {"system": system},
        "cpu": got.get("cpu"),
        "memory": got.get("memory"),
        "disks": got.get("disks") or [],
        "install_path": got.get("install_path") or {"path": path},
        "disk_speed": None,
        "locale": got.get("locale") if not win else {"pt_BR_utf8": None, "applicable": False},
        "timezone": tz.get("name"),
        "timezone_info": {"configured": tz.get("configured"), "source": tz.get("source"),
                          "utc_offset": time.strftime("%z") or None},
        "ports": ports.get("ports") or {str(p): "unknown" for p in PORTS},
        "port_owners": ports.get("owners") or {},
        "port_method": ports.get("method"),
        "java": got.get("java"),
        "postgres": got.get("postgres"),
        "systemd": got.get("systemd") if not win else None,
        "pec": {"installed": os.path.isdir(os.path.join(pec_dir, "webserver")),
                "path": pec_dir},
        "errors": errors,
    }
    mount = (probe["install_path"] or {}).get("mount")
    if mount and not any(d["mount"] == mount for d in probe["disks"]) \
            and probe["install_path"].get("total_bytes") is not None:
        probe["disks"].append({"mount": mount, "device": None, "fstype": None,
                               "total_bytes": probe["install_path"]["total_bytes"],
                               "free_bytes": probe["install_path"]["free_bytes"],
                               "write_mb_s": None, "read_mb_s": None})
    if disk_speed:
        if progress:
            progress(f"medindo a velocidade do disco ({disk_speed_mb} MB)...")
        probe["disk_speed"] = _disk_speed(probe, disk_speed_mb, system, errors)
    probe["duration_s"] = round(time.perf_counter() - started, 3)
    return probe


def _disk_speed(probe: dict[str, Any], size_mb: int, system: str,
                errors: dict[str, str]) -> dict[str, Any] | None:
    """Measure where PEC installs when this user can write there, else in the temporary
    folder (the result says which disk was measured)."""
    inst = probe.get("install_path") or {}
    folders = [inst["checked"]] if inst.get("checked") and inst.get("writable") else []
    folders.append(tempfile.gettempdir())
    result = None
    for folder in folders:
        try:
            result = diskspeed.measure(folder, size_mb)
            break
        except OSError as exc:  # not writable after all (Windows' os.access), no space...
            errors["disk_speed"] = f"{folder}: {exc}"
    if result is None:
        return None
    errors.pop("disk_speed", None)
    result["mount"] = guarded(lambda: _mount_of(Path(result["path"]), system), errors,
                              "disk_speed")
    result["same_disk_as_install"] = result["mount"] == inst.get("mount")
    for d in probe["disks"]:
        if d["mount"] == result["mount"]:
            d["write_mb_s"], d["read_mb_s"] = result["write_mb_s"], result["read_mb_s"]
    return result
