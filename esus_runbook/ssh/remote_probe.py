"""The server probe over SSH: standard commands on the server, parsing on the analyst's side.

Nothing is installed on the server and no Python runs there. One ``sh -s`` session reads a
script from stdin (nothing in the server's process list but ``sh -s``) that prints delimited
sections: command outputs and the text files the local probe's parsers read. The files are
mirrored into a temporary folder here, so ``probe.linux``'s parsers (which take a ``root``)
read them exactly as they read the local machine. A command that is missing or fails leaves
its field ``null`` with the reason in ``errors``. The result has the local probe's schema plus
``coletada_via: "ssh"`` and the host key fingerprint. Facts: docs/ssh.md.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import secrets
import shlex
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import RunbookError
from ..files.atomic import write_json_atomic
from ..probe import linux
from ..probe.facts import PORTS, SCHEMA, java_bits, java_properties, pg_major, tool_info
from ..results import now_iso
from ..ssh_target import parse_target
from .client import SshSession, connect, options_for, stderr_excerpt

# Text files the parsers of probe.linux read (cgroup files of the session are added by the
# script, which knows its own cgroup path).
FILES = ["/proc/cpuinfo", "/proc/meminfo", "/proc/self/cgroup", "/etc/os-release",
         "/usr/lib/os-release", "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq",
         "/sys/fs/cgroup/cgroup.controllers", "/sys/fs/cgroup/cpu.max",
         "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes",
         "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us",
         "/etc/timezone", "/etc/sysconfig/clock", "/proc/net/tcp", "/proc/net/tcp6",
         *linux.LOCALE_FILES,
         *(f"/{d}/logind.conf" for d in linux.LOGIND_DIRS)]
GLOBS = [f"/{d}/logind.conf.d/*.conf" for d in linux.LOGIND_DIRS]
EXISTS = ["/etc/localtime", "/etc", "/run/systemd/system", "/lib/systemd/systemd-logind",
          "/usr/lib/systemd/systemd-logind", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu",
          f"{linux.PEC_DIR}/webserver"]
PG_GLOBS = ["/usr/lib/postgresql/*/bin/postgres", "/usr/pgsql-*/bin/postgres",
            "/usr/local/pgsql/bin/postgres", "/opt/PostgreSQL/*/bin/postgres",
            f"{linux.PEC_DIR}/database/postgresql-*/bin/postgres"]
MAX_FILE = 1024 * 1024
WINDOWS = re.compile(r"not recognized as an internal|não é reconhecido|Windows_NT|MINGW|"
                     r"CYGWIN|MSYS|Microsoft Windows", re.I)

# Commands of the one remote session: name -> shell text (stdout and stderr kept).
COMMANDS = {
    "uname": "uname -s; uname -r; uname -m; uname -v; uname -n",
    "cpus": "getconf _NPROCESSORS_ONLN; nproc",
    "locale": "locale -a",
    "localectl": "localectl status",
    "utc_offset": "date +%z",
    "user": "id -un; id -u",
    "java": "java -XshowSettings:properties -version; command -v java; "
            "readlink -f \"$(command -v java)\"",
    "busctl": "busctl get-property org.freedesktop.login1 /org/freedesktop/login1 "
              "org.freedesktop.login1.Manager RemoveIPC",
    "df": "df -P -B1 -T",
}


def prelude(marker: str) -> list[str]:
    """Shell functions of the section protocol: ``sec NAME`` ... ``end RC`` around a
    command's output, ``file PATH`` for a file's contents (base64), link, folder or presence."""
    return ["LC_ALL=C; export LC_ALL", f"M={shlex.quote(marker)}",
             "sec() { printf '\\n%s S %s\\n' \"$M\" \"$1\"; }",
             "end() { printf '\\n%s R %s\\n' \"$M\" \"$1\"; }",
             "file() { if [ -L \"$1\" ]; then printf '\\n%s L %s %s\\n' \"$M\" \"$1\" "
             "\"$(readlink \"$1\")\"; fi; if [ -f \"$1\" ] && [ -r \"$1\" ]; then "
             "printf '\\n%s F %s\\n' \"$M\" \"$1\"; "
             f"head -c {MAX_FILE} \"$1\" | base64; elif [ -d \"$1\" ]; then "
             "printf '\\n%s D %s\\n' \"$M\" \"$1\"; elif [ -e \"$1\" ]; then "
             "printf '\\n%s E %s\\n' \"$M\" \"$1\"; fi; }"]


def _script(marker: str, install_path: str) -> str:
    q = shlex.quote
    lines = prelude(marker)
    for name, cmd in COMMANDS.items():
        lines.append(f"sec {name}; ( {cmd} ) 2>&1; end $?")
    lines += [f"file {q(f)}" for f in FILES + EXISTS]
    lines += [f"for f in {g}; do file \"$f\"; done" for g in GLOBS]
    # the session's own cgroup files (v2 unified path, v1 memory and cpu paths)
    lines += ["cg=$(sed -n 's/^0:://p' /proc/self/cgroup)",
              "[ -n \"$cg\" ] && for f in cpu.max memory.max; do file \"/sys/fs/cgroup$cg/$f\";"
              " done",
              "cg=$(sed -n 's/^[0-9]*:[^:]*memory[^:]*://p' /proc/self/cgroup)",
              "[ -n \"$cg\" ] && file \"/sys/fs/cgroup/memory$cg/memory.limit_in_bytes\"",
              "cg=$(sed -n 's/^[0-9]*:[^:]*cpu[,:][^:]*//p;s/^[0-9]*:cpu://p' /proc/self/cgroup"
              " | head -n 1)",
              "[ -n \"$cg\" ] && for f in cpu.cfs_quota_us cpu.cfs_period_us; do "
              "file \"/sys/fs/cgroup/cpu$cg/$f\"; done"]
    # the install path: its nearest existing folder, df of it, writable?
    lines += [f"p={q(install_path)}",
              "while [ ! -e \"$p\" ] && [ \"$p\" != / ]; do p=$(dirname \"$p\"); done",
              "sec install_path; echo \"$p\"; [ -w \"$p\" ] && echo gravavel || echo "
              "somente-leitura; df -P -B1 \"$p\" 2>&1 | tail -n 1; end $?"]
    pg = " ".join(PG_GLOBS)
    lines += [f"sec postgres; for p in {pg}; do [ -f \"$p\" ] && printf '%s|%s\\n' \"$p\" "
              "\"$(\"$p\" --version 2>&1 | head -n 1)\"; done; end 0",
              "command -v postgres >/dev/null 2>&1 && { sec postgres_path; "
              "p=$(command -v postgres); printf '%s|%s\\n' \"$p\" \"$(\"$p\" --version 2>&1 "
              "| head -n 1)\"; end 0; }"]
    return "\n".join(lines) + "\n"


SKIPPED = "\0ignorados"  # key of ``files``: how many forged paths were skipped
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def parse_output(text: str, marker: str) -> tuple[dict[str, tuple[int, str]], dict[str, Any]]:
    """(sections name -> (rc, text), files path -> ("F", bytes) / ("L", target) / ("D"|"E")).
    A path or link target with NUL or another control character (no real file the script
    reads has one: a forged answer) is skipped and counted in ``files[SKIPPED]``."""
    sections: dict[str, tuple[int, str]] = {}
    files: dict[str, Any] = {SKIPPED: 0}
    current: tuple[str, str] | None = None
    buf: list[str] = []

    def forged(*values: str) -> bool:
        if any(_CONTROL.search(v) for v in values):
            files[SKIPPED] += 1
            return True
        return False

    def close() -> None:
        if current and current[0] == "F":
            try:
                files[current[1]] = ("F", base64.b64decode("".join(buf)))
            except ValueError:
                pass

    for line in text.split("\n"):
        if not line.startswith(marker + " "):
            buf.append(line)
            continue
        kind, _, rest = line[len(marker) + 1:].partition(" ")
        if kind == "S":
            close()
            current, buf = ("S", rest), []
        elif kind == "R" and current and current[0] == "S":
            body = "\n".join(buf).strip("\n")
            sections[current[1]] = (int(rest) if rest.strip().isdigit() else 1, body)
            current, buf = None, []
        else:
            close()
            current, buf = None, []
            if kind == "F":
                current = None if forged(rest) else ("F", rest)
            elif kind == "L":
                path, _, target = rest.partition(" ")
                if not forged(path, target):
                    files.setdefault(path, ("L", target))
                    files[path + "\0link"] = target
            elif kind in ("D", "E") and not forged(rest):
                files.setdefault(rest, (kind,))
    close()
    return sections, files


def _mirror(files: dict[str, Any], root: Path) -> None:
    """Recreate the server's files under ``root`` for probe.linux's parsers. Whatever the
    server sends, nothing is written outside ``root``."""
    inside = root.resolve()
    for path, value in files.items():
        if "\0" in path or not path.startswith("/") or ".." in Path(path).parts:
            continue
        dest = root / path.lstrip("/")
        if not dest.parent.resolve().is_relative_to(inside) or (
                dest.is_symlink() and path != "/etc/localtime"):
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Only /etc/localtime is recreated as a link (its target names the zone); any other
        # link would point into the ANALYST's file system, so its server contents are used.
        link = files.get(path + "\0link") if path == "/etc/localtime" else None
        if link is not None:
            if not dest.exists() and not dest.is_symlink():
                dest.symlink_to(link)
        elif value[0] == "F":
            dest.write_bytes(value[1])
        elif value[0] == "D":
            dest.mkdir(parents=True, exist_ok=True)
        elif value[0] == "E" and not dest.exists():
            dest.touch()


def listening_ports(files: dict[str, Any]) -> dict[int, list[str]]:
    """Listening TCP ports -> bound addresses, from /proc/net/tcp and tcp6 (the kernel's
    socket table, the same one psutil reads)."""
    out: dict[int, list[str]] = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        value = files.get(name)
        if not value or value[0] != "F":
            continue
        for line in value[1].decode("ascii", "replace").splitlines()[1:]:
            cols = line.split()
            if len(cols) < 4 or cols[3] != "0A":  # 0A = TCP_LISTEN
                continue
            addr_hex, _, port_hex = cols[1].partition(":")
            try:
                port = int(port_hex, 16)
                out.setdefault(port, []).append(_addr(addr_hex))
            except ValueError:
                continue
    return out


def _addr(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    # the kernel prints each 32-bit word in host (little-endian) order
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def _meminfo(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[0].isdigit():
            out[key.strip()] = int(parts[0]) * (1024 if parts[1:2] == ["kB"] else 1)
    return out


def _file_text(files: dict[str, Any], path: str) -> str | None:
    value = files.get(path)
    return value[1].decode("utf-8", "replace") if value and value[0] == "F" else None


def _df(text: str) -> list[dict[str, Any]]:
    """``df -P -B1 -T`` rows of real file systems (device paths, not tmpfs/overlay/proc)."""
    disks, seen = [], set()
    for line in text.splitlines()[1:]:
        cols = line.split()
        if len(cols) < 7 or not cols[0].startswith("/") or not cols[2].isdigit():
            continue
        mount = " ".join(cols[6:])
        if mount in seen:
            continue
        seen.add(mount)
        disks.append({"mount": mount, "device": cols[0], "fstype": cols[1],
                      "total_bytes": int(cols[2]), "free_bytes": int(cols[4]),
                      "write_mb_s": None, "read_mb_s": None})
    return disks


def _section(sections, errors, name, what) -> str | None:
    """The text of a section that ran with exit code 0, else None with the reason."""
    if name not in sections:
        errors[name] = f"{what}: sem resposta do servidor"
        return None
    rc, text = sections[name]
    if rc != 0:
        first = text.strip().splitlines()[-1:] or [""]
        errors[name] = f"{what} falhou no servidor (código {rc}): {first[0][:200]}"
        return None
    return text


def build_probe(sections: dict[str, tuple[int, str]], files: dict[str, Any], *,
                install_path: str, fingerprint: str, host_key_type: str,
                target: str) -> dict[str, Any]:
    """The probe dict (schema esus-runbook/probe/1) from the server's outputs."""
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="esus-sondagem-ssh-") as tmp:
        root = Path(tmp)
        _mirror(files, root)
        uname = (_section(sections, errors, "uname", "uname") or "").splitlines()
        machine = uname[2] if len(uname) > 2 else None
        rel_text = _file_text(files, "/etc/os-release") or _file_text(files,
                                                                      "/usr/lib/os-release")
        if rel_text is None:
            errors["os"] = "/etc/os-release não encontrado no servidor"
        os_ = {"system": uname[0] if uname else None,
               "release": uname[1] if len(uname) > 1 else None,
               "version": uname[3] if len(uname) > 3 else None, "arch": machine,
               "bits": linux.arch_bits(machine),
               **linux.distro_fields(linux.parse_os_release(rel_text or ""))}
        cpu = _cpu(sections, files, root, errors)
        memory = _memory(files, root, errors)
        tz = linux.timezone_info(str(root))
        locale_text = _section(sections, errors, "locale", "locale -a")
        locale = {"pt_BR_utf8": None, "found": [], "lang": None, "source": None}
        if locale_text is not None:
            locale.update(linux.parse_locale_list(locale_text))
        # the system default the PEC service starts with: the mirrored locale files, else
        # `localectl status` (optional: no systemd, no D-Bus is not an error)
        ctl = sections.get("localectl")
        locale.update(linux.system_locale(str(root), ctl[1] if ctl and ctl[0] == 0 else None))
        systemd = {"running": (root / "run/systemd/system").is_dir(),
                   **linux.remove_ipc_from_config(str(root))}
        if systemd["running"] and "busctl" in sections and sections["busctl"][0] == 0:
            systemd.update(linux.busctl_remove_ipc(sections["busctl"][1]))
    df_text = _section(sections, errors, "df", "df -P -B1 -T")
    disks = _df(df_text) if df_text is not None else []
    inst = _install_path(sections, errors, install_path)
    listening = listening_ports(files)
    if not listening and "/proc/net/tcp" not in files:
        errors["ports"] = "/proc/net/tcp não pôde ser lido no servidor"
        ports = {str(p): "unknown" for p in PORTS}
    else:
        ports = {str(p): "in_use" if p in listening else "free" for p in PORTS}
    user = (_section(sections, errors, "user", "id") or "").splitlines()
    probe: dict[str, Any] = {
        "schema": SCHEMA, "collected_at": now_iso(), "coletada_via": "ssh",
        "ssh": {"target": target, "host_key_fingerprint": fingerprint,
                "host_key_type": host_key_type},
        "tool": tool_info(), "hostname": uname[4] if len(uname) > 4 else None,
        "user": {"name": user[0] if user else None,
                 "is_admin": (user[1] == "0") if len(user) > 1 else None},
        "os": os_, "cpu": cpu, "memory": memory, "disks": disks, "install_path": inst,
        "disk_speed": None, "locale": locale, "timezone": tz.get("name"),
        "timezone_info": {"configured": tz.get("configured"), "source": tz.get("source"),
                          "utc_offset": (_section(sections, errors, "utc_offset", "date")
                                         or "").strip() or None},
        "ports": ports,
        "port_owners": {},
        "port_method": "tabela de sockets do kernel (/proc/net/tcp, via SSH)",
        "java": _java(sections, errors), "postgres": _postgres(sections),
        "systemd": systemd,
        "pec": {"installed": f"{linux.PEC_DIR}/webserver" in files, "path": linux.PEC_DIR},
        "errors": errors,
    }
    if files.get(SKIPPED):
        errors["caminhos"] = (f"{files[SKIPPED]} caminho(s) com caracteres de controle na "
                              "resposta do servidor foram ignorados (resposta forjada?)")
    mount = inst.get("mount")
    if mount and not any(d["mount"] == mount for d in disks) and inst.get("total_bytes"):
        disks.append({"mount": mount, "device": None, "fstype": None,
                      "total_bytes": inst["total_bytes"], "free_bytes": inst["free_bytes"],
                      "write_mb_s": None, "read_mb_s": None})
    return probe


def _cpu(sections, files, root: Path, errors) -> dict[str, Any] | None:
    text = _file_text(files, "/proc/cpuinfo")
    if text is None:
        errors["cpu"] = "/proc/cpuinfo não pôde ser lido no servidor"
        return None
    info = linux.cpu_info(str(root))
    cores = set()
    phys, core = None, None
    for line in text.splitlines() + [""]:
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "physical id":
            phys = value.strip()
        elif key == "core id":
            core = value.strip()
        elif not line.strip():
            if core is not None:
                cores.add((phys, core))
            phys, core = None, None
    counts = (_section(sections, errors, "cpus", "getconf/nproc") or "").split()
    logical = int(counts[0]) if counts[:1] and counts[0].isdigit() else None
    usable = [int(counts[1])] if len(counts) > 1 and counts[1].isdigit() else []
    quota = linux.cgroup_limits(str(root)).get("cpu_quota")
    if quota:
        usable.append(max(1, int(quota + 0.999)))
    out = {"physical_cores": len(cores) or None, "logical_cores": logical,
           "usable_cores": min(usable) if usable else logical, **info,
           "cgroup_cpu_quota": quota}
    if out["max_mhz"] is None and out["model"]:
        m = re.search(r"@\s*([\d.]+)\s*GHz", out["model"], re.I)
        if m:
            out["max_mhz"], out["mhz_source"] = round(float(m.group(1)) * 1000, 1), "modelo"
    return out


def _memory(files, root: Path, errors) -> dict[str, Any] | None:
    text = _file_text(files, "/proc/meminfo")
    if text is None:
        errors["memory"] = "/proc/meminfo não pôde ser lido no servidor"
        return None
    mi = _meminfo(text)
    total = mi.get("MemTotal")
    limit = linux.cgroup_limits(str(root)).get("memory_limit_bytes")
    return {"total_bytes": total, "available_bytes": mi.get("MemAvailable", mi.get("MemFree")),
            "swap_bytes": mi.get("SwapTotal"),
            "cgroup_limit_bytes": limit if limit is not None and total and limit < total
            else None}


def _install_path(sections, errors, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {"path": path}
    text = _section(sections, errors, "install_path", "df da pasta de instalação")
    lines = (text or "").splitlines()
    if len(lines) < 3:
        return out
    cols = lines[2].split()
    if len(cols) >= 6 and cols[1].isdigit() and cols[3].isdigit():
        out.update(checked=lines[0], exists=lines[0] == path, mount=" ".join(cols[5:]),
                   total_bytes=int(cols[1]), free_bytes=int(cols[3]),
                   writable=lines[1] == "gravavel")
    return out


def _java(sections, errors) -> dict[str, Any]:
    out: dict[str, Any] = {"found": False, "version": None, "bits": None, "path": None,
                           "source": None}
    if "java" not in sections:
        errors["java"] = "java: sem resposta do servidor"
        return out
    rc, text = sections["java"]
    version, bits = java_properties(text)
    if version is None:  # an old or minimal java: the -version banner
        m = re.search(r'version "([^"]+)"', text)
        version = m.group(1) if m else None
        bits = bits or (64 if "64-Bit" in text else None)
    if version is None:
        if rc != 0 and "not found" not in text and "não encontrado" not in text:
            errors["java"] = f"java -version falhou no servidor (código {rc})"
        return out
    paths = [ln for ln in text.splitlines() if ln.startswith("/")]
    out.update(found=True, version=version, bits=bits or java_bits(None),
               path=paths[-1] if paths else None,
               source="java -XshowSettings:properties (via SSH)")
    return out


def _postgres(sections) -> dict[str, Any]:
    rows = []
    for name in ("postgres", "postgres_path"):
        for line in (sections.get(name, (1, ""))[1]).splitlines():
            path, sep, version_text = line.partition("|")
            if sep and (path, version_text) not in rows:
                rows.append((path, version_text))
    host = sorted((r for r in rows if not r[0].startswith(linux.PEC_DIR)),
                  key=lambda r: pg_major(r[0]), reverse=True)
    bundled = [r for r in rows if r[0].startswith(linux.PEC_DIR)]
    out: dict[str, Any] = {"found": bool(host), "version": None, "path": None,
                           "bundled_pec": {"found": bool(bundled), "version": None}}
    if host:
        out["path"] = host[0][0]
        m = re.search(r"\(PostgreSQL\)\s*(\d+(?:\.\d+)*)", host[0][1])
        out["version"] = m.group(1) if m else (str(pg_major(host[0][0])) or None)
    if bundled:
        m = re.search(r"postgresql-(\d+(?:\.\d+)*)", bundled[0][0])
        out["bundled_pec"]["version"] = m.group(1) if m else None
    return out


def collect_ssh(session: SshSession, install_path: str | None = None,
                disk_speed: bool = False, disk_speed_mb: int = 256) -> dict[str, Any]:
    """The probe of the server behind ``session``."""
    started = time.perf_counter()
    install_path = install_path or linux.INSTALL_PATH
    marker = "@@ESUS" + secrets.token_hex(8)
    rc, out, err = session.run("sh -s", input=_script(marker, install_path), sudo=False)
    if marker not in out:
        if WINDOWS.search(out + err):
            raise RunbookError(
                f"{session.target}: o servidor é Windows; a sondagem por SSH é só para Linux",
                remedy="rode a sondagem local no servidor (esus-runbook sondar --json "
                       "sondagem.json) e informe o arquivo em ambiente.probe")
        said = f": {stderr_excerpt(err)}" if err.strip() else ""
        raise RunbookError(f"{session.target}: o servidor não executou o shell 'sh' "
                           f"(código {rc}){said}", remedy="a sondagem por SSH precisa de um "
                           "servidor Linux com sh; use a sondagem local")
    sections, files = parse_output(out, marker)
    probe = build_probe(sections, files, install_path=install_path,
                        fingerprint=session.fingerprint, host_key_type=session.host_key_type,
                        target=str(session.target))
    if disk_speed:
        probe["disk_speed"] = _disk_speed(session, probe, disk_speed_mb)
    probe["duration_s"] = round(time.perf_counter() - started, 3)
    return probe


def _disk_speed(session: SshSession, probe: dict[str, Any], size_mb: int) -> dict | None:
    """Sequential write (dd conv=fdatasync) and uncached read (dd iflag=direct) of a
    temporary file where PEC installs (or /tmp), removed on every exit path."""
    inst = probe.get("install_path") or {}
    folder = inst.get("checked") if inst.get("writable") else "/tmp"
    script = ("LC_ALL=C; export LC_ALL; "
              f"f=$(mktemp -p {shlex.quote(folder or '/tmp')}) || "
              "exit 1; trap 'rm -f \"$f\"' EXIT INT TERM HUP; "
              f"dd if=/dev/zero of=\"$f\" bs=1M count={int(size_mb)} conv=fdatasync 2>&1 "
              "| tail -n 1; dd if=\"$f\" of=/dev/null bs=1M iflag=direct 2>&1 | tail -n 1; "
              "df -P \"$f\" | tail -n 1")
    rc, out, _ = session.run(script, timeout=300, sudo=False)
    lines = out.strip().splitlines()
    speeds = [_dd_mb_s(line) for line in lines[:2]]
    if rc != 0 or len(lines) < 3 or None in speeds:
        probe["errors"]["disk_speed"] = f"dd falhou no servidor: {(lines or [''])[0][:200]}"
        return None
    mount = " ".join(lines[2].split()[5:])
    for d in probe["disks"]:
        if d["mount"] == mount:
            d["write_mb_s"], d["read_mb_s"] = speeds
    return {"write_mb_s": speeds[0], "read_mb_s": speeds[1], "read_method": "dd iflag=direct",
            "size_mb": int(size_mb), "path": folder, "mount": mount,
            "same_disk_as_install": mount == inst.get("mount")}


def _dd_mb_s(line: str) -> float | None:
    """MB/s from dd's summary line ("N bytes (...) copied, S s, ...")."""
    m = re.match(r"(\d+) bytes.*copied, ([\d.,]+) s", line)
    if not m:
        return None
    seconds = float(m.group(2).replace(",", "."))
    return round(int(m.group(1)) / 1e6 / seconds, 1) if seconds > 0 else None


EVIDENCE_NAME = "sondagem-ssh.json"


def probe_site(servidor: dict[str, Any], folder: str | os.PathLike | None,
               env: Mapping[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Probe the server of a site's ``servidor`` section; the probe JSON is written to
    ``folder`` (the site's run folder) as evidence. Returns (probe, {"arquivo", "sha256",
    "host_key_fingerprint"})."""
    target = parse_target(servidor["ssh"], file="site", key="servidor.ssh")
    with connect(target, options_for(servidor, env)) as session:
        raw = collect_ssh(session)
    blob = json.dumps(raw, ensure_ascii=False, indent=2, sort_keys=True)
    evidence: dict[str, Any] = {"arquivo": None, "sha256": hashlib.sha256(
        blob.encode("utf-8")).hexdigest(), "host_key_fingerprint": session.fingerprint}
    if folder is not None:
        path = Path(folder) / EVIDENCE_NAME
        write_json_atomic(path, json.loads(blob))
        evidence["arquivo"] = str(path)
        evidence["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return raw, evidence
