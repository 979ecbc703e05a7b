"""Windows facts: edition, CPU model, timezone and binaries, read from the registry and the
environment. ``winreg`` is imported only on Windows; every function takes a registry reader
and an environment mapping so tests run this branch on Linux with recorded values.

No administrator rights are needed: HKEY_LOCAL_MACHINE is readable by every user for these
keys.
"""

from __future__ import annotations

import ctypes
import glob
import ntpath
import os
from collections.abc import Mapping
from shutil import which
from typing import Any, Protocol

CURRENT_VERSION = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"
CPU0 = r"HARDWARE\DESCRIPTION\System\CentralProcessor\0"
TIMEZONE = r"SYSTEM\CurrentControlSet\Control\TimeZoneInformation"
BITS = {"amd64": 64, "arm64": 64, "ia64": 64, "x86_64": 64, "x86": 32, "i386": 32, "i686": 32}


class Registry(Protocol):
    def get(self, key: str, name: str) -> Any: ...


class WinRegistry:
    """HKEY_LOCAL_MACHINE values through ``winreg`` (Windows only)."""

    def get(self, key: str, name: str) -> Any:
        import winreg  # type: ignore[import-not-found]

        try:
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as k:
                return winreg.QueryValueEx(k, name)[0]
        except OSError:
            return None


def program_files(env: Mapping[str, str]) -> str:
    return env.get("ProgramW6432") or env.get("ProgramFiles") or r"C:\Program Files"


def install_path(env: Mapping[str, str]) -> str:
    return program_files(env)


def pec_dir(env: Mapping[str, str]) -> str:
    return ntpath.join(program_files(env), "e-SUS")


def arch(env: Mapping[str, str]) -> str | None:
    """The OS architecture, also from a 32-bit process on 64-bit Windows (WOW64)."""
    return env.get("PROCESSOR_ARCHITEW6432") or env.get("PROCESSOR_ARCHITECTURE")


def os_info(reg: Registry, env: Mapping[str, str], release: str | None = None) -> dict[str, Any]:
    machine = arch(env)
    product = reg.get(CURRENT_VERSION, "ProductName")
    build = reg.get(CURRENT_VERSION, "CurrentBuildNumber") or reg.get(CURRENT_VERSION,
                                                                       "CurrentBuild")
    kind = reg.get(CURRENT_VERSION, "InstallationType")  # Client | Server | Server Core
    display = reg.get(CURRENT_VERSION, "DisplayVersion") or reg.get(CURRENT_VERSION,
                                                                    "ReleaseId")
    # Windows 11 still says "Windows 10" in ProductName; build 22000+ is Windows 11.
    if (isinstance(product, str) and product.startswith("Windows 10") and kind == "Client"
            and str(build or "").isdigit() and int(build) >= 22000):
        product = "Windows 11" + product[len("Windows 10"):]
    return {"system": "Windows", "release": release, "version": str(build) if build else None,
            "arch": machine, "bits": BITS.get((machine or "").lower()),
            "distro": product, "distro_id": "windows", "distro_like": None,
            "distro_version": display, "edition": reg.get(CURRENT_VERSION, "EditionID"),
            "installation_type": kind}


def cpu_info(reg: Registry) -> dict[str, Any]:
    name = reg.get(CPU0, "ProcessorNameString")
    mhz = reg.get(CPU0, "~MHz")
    return {"model": " ".join(name.split()) if isinstance(name, str) else None,
            "max_mhz": float(mhz) if isinstance(mhz, int) and mhz > 0 else None,
            "current_mhz": None, "mhz_source": "registro do Windows" if mhz else None}


def timezone_info(reg: Registry) -> dict[str, Any]:
    name = reg.get(TIMEZONE, "TimeZoneKeyName")
    return {"name": name.strip("\x00 ") if isinstance(name, str) else None,
            "configured": True if name else None,
            "source": "registro do Windows" if name else None}


def is_admin() -> bool | None:
    try:
        return bool(ctypes.windll.shell32.IsUserAnAdmin())  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        return None


def java_candidates(env: Mapping[str, str]) -> list[str]:
    found = []
    if env.get("JAVA_HOME"):
        found.append(ntpath.join(env["JAVA_HOME"], "bin", "java.exe"))
    w = which("java")
    if w:
        found.append(w)
    pf = program_files(env)
    for vendor in ("Java", "Eclipse Adoptium", "Microsoft", "Zulu", "Amazon Corretto"):
        found.extend(sorted(glob.glob(ntpath.join(pf, vendor, "*", "bin", "java.exe")),
                            reverse=True))
    return found


def postgres_candidates(env: Mapping[str, str]) -> list[tuple[str, bool]]:
    pf = program_files(env)
    out = [(p, False) for p in glob.glob(ntpath.join(pf, "PostgreSQL", "*", "bin",
                                                     "postgres.exe"))]
    out.extend((p, True) for p in glob.glob(ntpath.join(pec_dir(env), "database",
                                                        "postgresql-*", "bin",
                                                        "postgres.exe")))
    return out


def environ() -> Mapping[str, str]:
    return os.environ
