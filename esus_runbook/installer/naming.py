"""Installer names: the portal's ``eSUS-AB-PEC-<versão>-(Linux64|Win64).(jar|exe)``, parsed and
built, and the name a download gets from its URL or its ``Content-Disposition`` header.
Standard library only: the installation stage looks names up without the network stack."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import unquote, urlsplit

PLATFORM_TAG = {"linux": "Linux64", "windows": "Win64"}
TAG_PLATFORM = {v: k for k, v in PLATFORM_TAG.items()}
INSTALLER_NAME = re.compile(
    r"^eSUS-AB-PEC-(?P<versao>\d+\.\d+\.\d+)-(?P<tag>Linux64|Win64)\.(?P<ext>jar|exe)$")
PATTERN = "eSUS-AB-PEC-<versão>-(Linux64|Win64).(jar|exe)"


@dataclass(frozen=True)
class InstallerName:
    name: str
    versao: str
    plataforma: str  # linux | windows
    ext: str  # jar | exe

    @property
    def shown(self) -> str:
        """``Linux64.jar``: the platform tag and the extension, as checks show them."""
        return f"{PLATFORM_TAG[self.plataforma]}.{self.ext}"

    def fits(self, plataforma: str) -> bool:
        """Whether this installer runs on ``plataforma`` (Linux takes only the ``.jar``)."""
        return self.plataforma == plataforma and not (plataforma == "linux"
                                                      and self.ext != "jar")


def parse_installer_name(name: str | None) -> InstallerName | None:
    m = INSTALLER_NAME.match(name or "")
    if not m:
        return None
    return InstallerName(name, m["versao"], TAG_PLATFORM[m["tag"]], m["ext"])


def expected_name(versao: str, plataforma: str, ext: str = "jar") -> str:
    return f"eSUS-AB-PEC-{versao}-{PLATFORM_TAG[plataforma]}.{ext}"


def name_from_url(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def name_from_disposition(value: str | None) -> str | None:
    """The file name of a ``Content-Disposition`` header, without any folder part."""
    if not value:
        return None
    msg = Message()
    msg["content-disposition"] = value
    name = msg.get_filename()
    return Path(name).name if name else None
