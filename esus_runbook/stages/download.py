"""Stage 3 — download do instalador: the installer file, verified.

Input: ``instalador.arquivo`` (a file already downloaded) or ``instalador.url`` (the link
copied from the SISAPS portal). A URL is downloaded into the *shared installers folder*
(``$ESUS_RUNBOOK_INSTALADORES``, default ``~/.cache/esus-runbook/instaladores``), never into the
run folder: a 700 MB installer is fetched once and every site and run of that version reuses it
(a lock file stops two sites of a batch from downloading the same file at once; the second one
waits and then verifies the finished file).

Checks (:func:`esus_runbook.installer.verify.verify_file`): name, version, platform, format (a ZIP
with every CRC right, a PE), size against the registry (and ``Content-Length``; a ceiling when
no registry knows it), SHA-256 against ``instalador.sha256`` and against the team's release
registry (trust on first use). Neither file nor URL: ``pendente`` with the download command; a
declared ``instalador.arquivo`` that does not exist: ``falha`` (as for every declared file).
A file that passed everything but whose first use nobody vouches for (no registry knows the
size, no ``instalador.sha256``): ``pendente`` until confirmed (docs/download.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..commands import option
from ..errors import InputError
from ..installer.releases import Registry, default_team_file
from ..installer.trust import TRUST_FLAG
from ..installer.verify import size_ceiling, verify_file
from ..results import Check, StageResult
from ..sites.loading import Site
from ..status import Status
from .base import Stage
from .context import file_fingerprint
from .steps import Step, file_step, installer_name, site_folder
from .view import show_charts, show_checks, show_markdown

# Lazy imports: the downloader (requests, tqdm, filelock) only when the site asks for a download.

CACHE_ENV = "ESUS_RUNBOOK_INSTALADORES"


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """The shared folder where downloaded installers live."""
    env = os.environ if env is None else env
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV]).expanduser()
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "esus-runbook" / "instaladores"


def team_registry_file(site: Site, folder: Path) -> Path:
    """The inventory's ``registro_instaladores``, else ``registro-instaladores.csv`` in the
    installers folder."""
    named = site.extra.get("registro_instaladores") if site.extra else None
    return Path(named) if named else default_team_file(folder)


def extra_fingerprint(site: Site) -> dict[str, Any]:
    """A change in the inventory's registry re-runs this stage on resume."""
    named = site.extra.get("registro_instaladores") if site.extra else None
    return {"registro_instaladores": file_fingerprint(named)} if named else {}


def download_command(site: Site, dest: Path | str) -> str:
    inst = site.instalador
    cmd = (f'esus-runbook baixar --url "<link copiado do portal SISAPS>" '
           f"{option('--versao-pec', inst['versao'], '<versão>')} {option('--pasta', dest)}")
    if inst["plataforma"] == "windows":
        cmd += " --plataforma windows"
    if site.extra and site.extra.get("registro_instaladores"):
        cmd += " " + option("--registro", site.extra["registro_instaladores"])
    return cmd


def evaluate(site: Site, ctx=None) -> StageResult:
    env = getattr(ctx, "env", None)
    interactive = bool(getattr(ctx, "interactive", False))
    inst = site.instalador
    r = StageResult(site.site_id, "download")
    versao, plataforma = inst["versao"], inst["plataforma"]
    arquivo, url, sha = inst["arquivo"], inst["url"], inst["sha256"]
    metrics: dict[str, Any] = {"versao": versao, "plataforma": plataforma}
    dest = Path(arquivo).parent if arquivo else cache_dir(env)

    if not versao:
        r.add("DL_ARQUIVO", "Instalador disponível", Status.PENDENTE, "instalador.versao",
              "versão do PEC não informada",
              "Informe instalador.versao (ex.: 5.5.24), a versão do portal SISAPS, e baixe com: "
              f"{download_command(site, dest)}")
        return r.finish(**metrics, comando=download_command(site, dest))

    local = Path(arquivo) if arquivo else None
    if local is not None and not local.is_file() and not url:
        r.add("DL_ARQUIVO", "Instalador disponível", Status.FALHA, str(local),
              "é uma pasta, não um arquivo" if local.is_dir() else "não encontrado",
              "Confira instalador.arquivo no arquivo do site (caminhos relativos valem a partir "
              "da pasta dele) ou baixe o instalador para esse caminho com: "
              f"{download_command(site, local.parent)}")
        return r.finish(**metrics, origem="arquivo", comando=download_command(site, local.parent))
    if local is None and not url:
        r.add("DL_ARQUIVO", "Instalador disponível", Status.PENDENTE,
              "instalador.arquivo ou instalador.url", "nenhum informado",
              "Copie o link do instalador no portal SISAPS para instalador.url, ou baixe com: "
              f"{download_command(site, dest)} e informe o arquivo em instalador.arquivo.")
        return r.finish(**metrics, comando=download_command(site, dest))

    folder = local.parent if local is not None and local.is_file() else cache_dir(env)
    try:
        ceiling = size_ceiling(env)
    except InputError as exc:
        p = exc.problems[0]
        r.add("DL_TAMANHO", "Tamanho do arquivo", Status.FALHA, "teto em MiB, inteiro > 0",
              f"{p.file}: {p.message}", p.remedy or "Corrija a variável de ambiente.")
        return r.finish(**metrics)
    try:
        registry = Registry(team_registry_file(site, folder))
        registry.team_releases()  # a broken registry file is reported before any transfer
    except InputError as exc:
        p = exc.problems[0]
        r.add("DL_REGISTRO", "Registro de versões", Status.FALHA, "CSV válido",
              f"{p.file}:{p.key}: {p.message}" if p.key else f"{p.file}: {p.message}",
              p.remedy or "Corrija o arquivo do registro de instaladores.")
        return r.finish(**metrics)
    metrics["registro"] = str(registry.team_file)

    if local is not None and local.is_file():
        v = verify_file(local, versao, plataforma, expected_sha256=sha, registry=registry,
                        max_bytes=ceiling)
        r.checks.extend(v.checks)
        return r.finish(**metrics, origem="arquivo", arquivo=str(local), nome=local.name,
                        tamanho_bytes=v.size, sha256=v.sha256, registro_acao=v.recorded)

    # the transfer (requests, urllib3, tqdm: 0.2 to 0.4 s with python -X importtime) only
    # for an installer still to be downloaded
    from ..installer.downloader import DownloadError, download

    metrics.update(origem="url", pasta=str(folder))
    try:
        out = download(url, folder, versao, plataforma=plataforma, expected_sha256=sha,
                       registry=registry, progress=interactive, max_bytes=ceiling)
    except (DownloadError, InputError) as exc:
        p = exc.problems[0]
        r.add("DL_DOWNLOAD", "Download do instalador", Status.FALHA, "arquivo baixado",
              p.message, p.remedy or "Confira o link e a rede e execute a etapa de novo.")
        return r.finish(**metrics)
    r.checks.extend(out.checks)
    m = out.metrics()
    if out.ok:
        how = ("reaproveitado da pasta compartilhada" if out.reused else
               f"{out.downloaded_bytes / 1e6:.1f} MB em {out.seconds:.1f} s"
               + (f", retomado de {out.resumed_from / 1e6:.1f} MB" if out.resumed_from else "")
               + (f", {out.attempts} tentativas" if out.attempts > 1 else ""))
        r.checks.insert(0, _ok_check(how, out.path))
    elif out.pending:
        r.checks.insert(0, Check(
            "DL_DOWNLOAD", "Download do instalador", Status.PENDENTE, "arquivo baixado",
            f"{out.kept} (verificado; aguardando a confirmação do primeiro uso)",
            f"Confira o SHA-256 {out.verification.sha256} com outra equipe que baixou a mesma "
            f"versão e confirme com: {download_command(site, folder)} {TRUST_FLAG} (o arquivo "
            "já baixado é reaproveitado)"))
    elif out.quarantined is not None:
        r.add("DL_QUARENTENA", "Arquivo rejeitado em quarentena", Status.FALHA,
              "arquivo verificado", str(out.quarantined),
              "O arquivo baixado não passou na verificação e foi movido para a quarentena "
              "(não tem o nome do instalador). Baixe de novo; se repetir, avise a equipe.")
    return r.finish(**metrics, **{k: v for k, v in m.items() if k not in metrics})


def _ok_check(how: str, path: Path | None):
    return Check("DL_DOWNLOAD", "Download do instalador", Status.OK, "arquivo baixado",
                 f"{path} ({how})")


def view(stage: Stage, result: StageResult) -> None:
    """Checks and, when the installer is still to be fetched, the command that does it."""
    show_checks(stage, result)
    show_charts(stage, result)
    if result.metrics.get("comando"):
        show_markdown(f"**Para baixar e verificar:**\n\n```bash\n{result.metrics['comando']}\n```")


def next_steps(site: Site, env: Mapping[str, str] | None = None) -> list[Step]:
    inst = site.instalador
    versao = inst["versao"]
    steps = []
    if not versao:
        steps.append(Step("Informe instalador.versao: a versão publicada no portal SISAPS "
                          "(sisaps.saude.gov.br/esus → Download), ex.: 5.5.24."))
    if not inst["arquivo"]:
        steps.append(Step("Baixe o instalador (o download continua de onde parou e confere o "
                          "SHA-256):",
                          "esus-runbook baixar "
                          + option("--url", inst["url"], '"<link copiado do portal SISAPS>"')
                          + " " + option("--versao-pec", versao, "<versão>") + " "
                          + option("--pasta", f"{site_folder(site)}/instaladores")))
        steps.append(Step(f"Informe instalador.arquivo: instaladores/{installer_name(site)}"))
    else:
        missing = file_step(site, "instalador.arquivo", "o instalador baixado")
        if missing:
            steps.append(missing)
    return steps
