"""Linux facts: distribution, CPU model and clock, cgroup limits, locales, timezone and the
systemd-logind ``RemoveIPC`` setting. Nothing here needs root: every file read is
world-readable and every command (``locale -a``, ``busctl``) runs as the calling user.

Functions that read configuration take ``root`` (default ``/``) so tests can point them at a
recorded file tree.
"""

from __future__ import annotations

import os
import platform
import re
import shlex
from glob import glob
from pathlib import Path
from shutil import which
from typing import Any

from ._parts import run_command

INSTALL_PATH = "/opt"
PEC_DIR = "/opt/e-SUS"
BITS_64 = {"x86_64", "amd64", "aarch64", "arm64", "ppc64le", "ppc64", "s390x", "riscv64",
           "loongarch64", "mips64"}
BITS_32 = {"i386", "i486", "i586", "i686", "x86", "armv7l", "armv6l", "armhf", "arm", "mips"}
UNLIMITED = 1 << 60  # cgroup "no limit" values are close to 2**63


def arch_bits(machine: str | None) -> int | None:
    m = (machine or "").lower()
    return 64 if m in BITS_64 else 32 if m in BITS_32 else None


def os_info() -> dict[str, Any]:
    machine = platform.machine()
    info: dict[str, Any] = {"system": "Linux", "release": platform.release(),
                            "version": platform.version(), "arch": machine,
                            "bits": arch_bits(machine), "distro": None, "distro_id": None,
                            "distro_like": None, "distro_version": None}
    try:
        rel = platform.freedesktop_os_release()
    except OSError:
        rel = {}
    info.update(distro_fields(rel))
    return info


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value pairs of an os-release file (shell quoting, comments skipped)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and re.fullmatch(r"[A-Za-z0-9_]+", key):
            try:
                words = shlex.split(value)
            except ValueError:
                continue
            fields[key] = " ".join(words)
    return fields


def distro_fields(rel: dict[str, str]) -> dict[str, Any]:
    """The probe's distro fields from os-release key/values."""
    return {"distro": rel.get("PRETTY_NAME") or rel.get("NAME") or None,
            "distro_id": rel.get("ID"), "distro_like": rel.get("ID_LIKE"),
            "distro_version": rel.get("VERSION_ID")}


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def cpu_info(root: str = "/") -> dict[str, Any]:
    """Model name and clock from /proc/cpuinfo and cpufreq (the caller adds psutil's)."""
    base = Path(root)
    out: dict[str, Any] = {"model": None, "max_mhz": None, "current_mhz": None,
                           "mhz_source": None}
    text = _read(base / "proc/cpuinfo") or ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key in ("model name", "hardware", "cpu model") and out["model"] is None and value:
            out["model"] = value
        elif key == "cpu mhz" and out["current_mhz"] is None:
            try:
                out["current_mhz"] = round(float(value), 1)
            except ValueError:
                pass
    khz = _read(base / "sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    if khz and khz.strip().isdigit() and int(khz) > 0:
        out["max_mhz"] = round(int(khz) / 1000, 1)
        out["mhz_source"] = "cpufreq"
    return out


def _cgroup_paths(base: Path) -> dict[str, str]:
    """controller -> cgroup path of this process ("" key for cgroup v2)."""
    paths: dict[str, str] = {}
    for line in (_read(base / "proc/self/cgroup") or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for ctrl in parts[1].split(",") if parts[1] else [""]:
                paths[ctrl] = parts[2]
    return paths


def _first_existing(candidates: list[Path]) -> str | None:
    for p in candidates:
        text = _read(p)
        if text is not None:
            return text.strip()
    return None


def cgroup_limits(root: str = "/") -> dict[str, Any]:
    """CPU quota (in CPUs) and memory limit (bytes) of this process's cgroup, None when
    unlimited. Containers (LXC, Docker, Kubernetes) often give less than the host has."""
    base = Path(root)
    cg = base / "sys/fs/cgroup"
    paths = _cgroup_paths(base)
    out: dict[str, Any] = {"cpu_quota": None, "memory_limit_bytes": None, "version": None}
    v2 = (cg / "cgroup.controllers").exists()
    if v2:
        out["version"] = 2
        own = cg / paths.get("", "/").lstrip("/")
        cpu = _first_existing([own / "cpu.max", cg / "cpu.max"])
        mem = _first_existing([own / "memory.max", cg / "memory.max"])
        if cpu and not cpu.startswith("max"):
            quota, _, period = cpu.partition(" ")
            if quota.isdigit() and period.strip().isdigit() and int(period) > 0:
                out["cpu_quota"] = round(int(quota) / int(period), 2)
        if mem and mem.isdigit() and int(mem) < UNLIMITED:
            out["memory_limit_bytes"] = int(mem)
        return out
    if (cg / "memory").exists() or (cg / "cpu").exists():
        out["version"] = 1
        mem_own = cg / "memory" / paths.get("memory", "/").lstrip("/")
        mem = _first_existing([mem_own / "memory.limit_in_bytes",
                               cg / "memory/memory.limit_in_bytes"])
        if mem and mem.isdigit() and int(mem) < UNLIMITED:
            out["memory_limit_bytes"] = int(mem)
        ctrl = next((k for k in paths if "cpu" in k.split(",") or k == "cpu,cpuacct"), "cpu")
        cpu_own = cg / "cpu" / paths.get(ctrl, "/").lstrip("/")
        quota = _first_existing([cpu_own / "cpu.cfs_quota_us", cg / "cpu/cpu.cfs_quota_us"])
        period = _first_existing([cpu_own / "cpu.cfs_period_us", cg / "cpu/cpu.cfs_period_us"])
        if quota and period and quota.lstrip("-").isdigit() and period.isdigit():
            if int(quota) > 0 and int(period) > 0:
                out["cpu_quota"] = round(int(quota) / int(period), 2)
    return out


def _norm_locale(name: str) -> str:
    return name.strip().lower().replace("-", "")


def parse_locale_list(text: str) -> dict[str, Any]:
    """The locale fields from the output of ``locale -a``."""
    names = [n.strip() for n in text.splitlines() if n.strip()]
    return {"found": sorted(n for n in names if n.lower().startswith("pt_br"))[:10],
            "pt_BR_utf8": any(_norm_locale(n) == "pt_br.utf8" for n in names),
            "source": "locale -a"}


# Where the system's default locale is configured, in the order systemd's PID 1 reads it for
# the services it starts (e-SUS-PEC.service among them): /etc/locale.conf, then Debian's
# /etc/default/locale (docs/dominio.md, "Ambiente").
LOCALE_FILES = ("/etc/locale.conf", "/etc/default/locale")
_ASSIGN = re.compile(r"^\s*(?:export\s+)?(LANG|LC_[A-Z]+)=(.*)$")


def parse_locale_conf(text: str) -> dict[str, str]:
    """``LANG``/``LC_*`` assignments of a locale.conf-style file (quotes removed, comments
    and other lines ignored; the last assignment wins, as in a shell)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _ASSIGN.match(line)
        if not m:
            continue
        try:
            words = shlex.split(m.group(2), comments=True)
        except ValueError:
            continue
        out[m.group(1)] = words[0] if words else ""
    return out


def parse_localectl(text: str) -> dict[str, str]:
    """The "System Locale" assignments of ``localectl status`` (empty when it has none, e.g.
    "System Locale: n/a" or systemd not running)."""
    out: dict[str, str] = {}
    in_block = False
    for line in text.splitlines():
        head, sep, rest = line.partition(":")
        if sep and head.strip() == "System Locale":
            in_block, line = True, rest
        elif sep and head.strip():
            in_block = False
        if in_block:
            m = _ASSIGN.match(line.strip())
            if m:
                out[m.group(1)] = m.group(2).strip()
    return out


def system_locale(root: str = "/", localectl_text: str | None = None) -> dict[str, Any]:
    """The system's default locale, the one PEC's service starts with: ``system_lang``
    (``LANG``, None when not set), ``system_ctype`` (``LC_CTYPE`` if set) and
    ``system_source`` (the file, ``localectl status``, or None when none was found)."""
    for name in LOCALE_FILES:
        path = Path(root) / name.lstrip("/")
        if path.is_file():
            try:
                values = parse_locale_conf(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
            return {"system_lang": values.get("LANG") or None,
                    "system_ctype": values.get("LC_CTYPE") or None, "system_source": name}
    if localectl_text is not None:
        values = parse_localectl(localectl_text)
        if values:
            return {"system_lang": values.get("LANG") or None,
                    "system_ctype": values.get("LC_CTYPE") or None,
                    "system_source": "localectl status"}
    return {"system_lang": None, "system_ctype": None, "system_source": None}


def locale_info(root: str = "/") -> dict[str, Any]:
    """Whether pt_BR.UTF-8 is generated (``locale -a``), with the pt_BR locales found, and the
    system's default locale (:func:`system_locale`). ``lang`` is the probing shell's own
    ``LANG``, kept for older readers: it is not what the PEC service starts with."""
    out: dict[str, Any] = {"pt_BR_utf8": None, "found": [], "lang": os.environ.get("LANG"),
                           "source": None}
    localectl = None
    if root == "/" and which("localectl"):
        try:
            localectl = run_command(["localectl", "status"])
        except Exception:  # noqa: BLE001 - no D-Bus, no systemd, timeout: the files decide
            localectl = None
    out.update(system_locale(root, localectl))
    try:
        text = run_command(["locale", "-a"])
    except FileNotFoundError:
        text = None
    if text is not None:
        out.update(parse_locale_list(text))
        return out
    # no `locale` binary (musl, minimal images): look for a compiled locale folder
    for folder in ("/usr/lib/locale/pt_BR.utf8", "/usr/lib/locale/pt_BR.UTF-8"):
        if os.path.isdir(folder):
            out.update(pt_BR_utf8=True, found=[os.path.basename(folder)], source=folder)
            return out
    return out


def timezone_info(root: str = "/") -> dict[str, Any]:
    """The system timezone as systemd sees it: the /etc/localtime link, /etc/timezone
    (Debian) or /etc/sysconfig/clock (old RHEL). ``configured`` is False when there is no
    /etc/localtime at all (glibc then silently uses UTC)."""
    base = Path(root)
    localtime = base / "etc/localtime"
    out: dict[str, Any] = {"name": None, "configured": None, "source": None}
    if localtime.is_symlink():
        target = os.readlink(localtime)
        m = re.search(r"zoneinfo/(.+)$", target)
        if m:
            name = m.group(1)
            name = name[len("posix/"):] if name.startswith("posix/") else name
            out.update(name=name, configured=True, source="/etc/localtime")
            return out
    exists = localtime.exists()
    debian = _read(base / "etc/timezone")
    if debian and debian.strip():
        out.update(name=debian.strip().splitlines()[0].strip(), configured=exists or None,
                   source="/etc/timezone")
        return out
    clock = _read(base / "etc/sysconfig/clock") or ""
    m = re.search(r'^\s*ZONE="?([^"\n]+)"?', clock, re.M)
    if m:
        out.update(name=m.group(1).strip(), configured=exists or None,
                   source="/etc/sysconfig/clock")
        return out
    if not exists and (base / "etc").is_dir():
        out.update(configured=False, source="/etc/localtime ausente")
    elif exists:
        out.update(configured=True, source="/etc/localtime (arquivo sem nome de fuso)")
    return out


# --------------------------------------------------------------------------- RemoveIPC
_TRUE = {"1", "yes", "y", "true", "t", "on"}
_FALSE = {"0", "no", "n", "false", "f", "off"}
LOGIND_DIRS = ("etc/systemd", "run/systemd", "usr/local/lib/systemd", "usr/lib/systemd")


def _logind_files(base: Path) -> list[Path]:
    """logind.conf and its drop-ins in the order systemd applies them: the main file (the
    first found in /etc, /run, /usr/local/lib, /usr/lib), then every ``logind.conf.d/*.conf``
    sorted by file name, a name in /etc hiding the same name in the later folders."""
    files: list[Path] = []
    main = next((base / d / "logind.conf" for d in LOGIND_DIRS
                 if (base / d / "logind.conf").is_file()), None)
    if main is not None:
        files.append(main)
    dropins: dict[str, Path] = {}
    for d in LOGIND_DIRS:
        folder = base / d / "logind.conf.d"
        if folder.is_dir():
            for f in folder.glob("*.conf"):
                dropins.setdefault(f.name, f)
    files.extend(dropins[name] for name in sorted(dropins))
    return files


def remove_ipc_from_config(root: str = "/") -> dict[str, Any]:
    """RemoveIPC as the configuration files set it (default ``yes`` since systemd 212)."""
    base = Path(root)
    files = _logind_files(base)
    value, source = None, None
    for f in files:
        section = None
        for line in (_read(f) or "").splitlines():
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1].strip()
                continue
            key, sep, val = line.partition("=")
            if sep and section == "Login" and key.strip() == "RemoveIPC":
                v = val.strip().lower()
                if v in _TRUE or v in _FALSE:
                    value, source = ("yes" if v in _TRUE else "no"), "/" + str(
                        f.relative_to(base))
    installed = any((base / p).exists() for p in
                    ("lib/systemd/systemd-logind", "usr/lib/systemd/systemd-logind")) \
        or bool(files)
    if value is None and installed:
        value, source = "yes", "padrão do systemd: RemoveIPC não definido nos arquivos"
    return {"remove_ipc": value, "source": source, "logind_installed": installed}


def systemd_info(root: str = "/") -> dict[str, Any]:
    """Whether systemd runs (PID 1) and the effective RemoveIPC: asked to logind over D-Bus
    when it runs (``busctl``, no root needed), read from the files otherwise."""
    running = Path(root, "run/systemd/system").is_dir()
    out = {"running": running, **remove_ipc_from_config(root)}
    if running and root == "/":
        try:
            text = run_command(["busctl", "get-property", "org.freedesktop.login1",
                                "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                                "RemoveIPC"], timeout=1.0).strip()
        except Exception:  # noqa: BLE001 - no busctl, no D-Bus, timeout: use the files
            text = ""
        out.update(busctl_remove_ipc(text))
    return out


def busctl_remove_ipc(text: str) -> dict[str, Any]:
    """RemoveIPC from ``busctl get-property ... RemoveIPC`` output ({} when not an answer)."""
    text = text.strip()
    if text not in ("b true", "b false"):
        return {}
    return {"remove_ipc": "yes" if text == "b true" else "no",
            "source": "systemd-logind (D-Bus)"}


# --------------------------------------------------------------------------- binaries
def java_candidates() -> list[str]:
    found = []
    home = os.environ.get("JAVA_HOME")
    if home:
        found.append(os.path.join(home, "bin", "java"))
    w = which("java")
    if w:
        found.append(w)
    return found


def postgres_candidates() -> list[tuple[str, bool]]:
    """(path of a `postgres` server binary, bundled-with-PEC?)."""
    paths = []
    for pattern in ("/usr/lib/postgresql/*/bin/postgres", "/usr/pgsql-*/bin/postgres",
                    "/usr/local/pgsql/bin/postgres", "/opt/PostgreSQL/*/bin/postgres"):
        paths.extend(glob(pattern))
    w = which("postgres")
    if w:
        paths.append(w)
    out = [(p, False) for p in paths]
    out.extend((p, True) for p in glob(f"{PEC_DIR}/database/postgresql-*/bin/postgres"))
    return out
