"""Next steps of a stage: what the analyst does now, computed from the site's inputs (the
exact command to run on the server, where to put its output, which key to fill). Each stage
module has ``next_steps(site, env) -> list[Step]``; ``guide`` shows them in JupyterLab."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..files.reading import resolved
from ..sites.loading import Site


@dataclass
class Step:
    """One thing to do, in pt-BR, optionally with the exact command to run."""

    text: str
    command: str | None = None


def site_folder(site: Site) -> Path:
    src = Path(site.source)
    return src.parent if src.suffix else src


def relative(site: Site, path: str) -> str:
    """``path`` as the site file would write it (relative to its folder when inside)."""
    try:
        return str(PurePosixPath(resolved(path).relative_to(resolved(site_folder(site)))))
    except ValueError:
        return path


def installer_name(site: Site) -> str:
    versao = site.instalador["versao"] or "<versão>"
    suffix = "Win64" if site.instalador["plataforma"] == "windows" else "Linux64"
    return f"eSUS-AB-PEC-{versao}-{suffix}.jar"


def file_step(site: Site, key: str, what: str) -> Step | None:
    """A step when the file named by ``section.key`` is set but does not exist."""
    section, name = key.split(".")
    path = site.data[section][name]
    if path and not Path(path).is_file():
        return Step(f"O arquivo de {key} não existe em {path}: copie {what} para lá ou "
                    f"corrija o caminho no arquivo do site.")
    return None
