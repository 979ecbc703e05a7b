"""Stage 2 — ambiente: the server probe checked against the official profile (docs/dominio.md).

Inputs: the profile chosen by the cenário stage (``ctx.previous("cenario").metrics["perfil"]``,
or the official table when cenário has not run) and the site's probe file
(``ambiente.probe``), else a probe over SSH (``servidor.ssh``), else the machine running the
stage only when the site says so (``ambiente.sondar_esta_maquina: true``, JupyterLab on the
server itself); with none of them it is ``pendente`` with the commands to run, in JupyterLab
as under papermill (the analyst's own computer is never the site's evidence). The probe's
origin is recorded (``origem``, ``origem_tipo``) and shown in the AMB_SONDAGEM line. A missing
or corrupt probe file is ``falha``.

On a two-server profile the probe describes the application server: the checks say so and the
database server is reported as not verified here (``AMB_POSTGRES``), never assumed.

Thresholds and tables live in ``data/`` (profiles.csv, ambiente.csv, jvm.csv, sistemas.csv,
fusos.csv, uf_fuso.csv) with their confidence marks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..commands import join, sh
from ..errors import InputError, RunbookError
from ..jvm import recommend
from ..results import StageResult
from ..sites.loading import Site
from .ambiente_charts import charts, jvm_html
from .ambiente_checks import (
    ALERTA,
    CHECK_FUSO,
    CHECK_LOCALE,
    CHECK_LOCALE_SISTEMA,
    CHECK_PORTAS,
    CHECK_REMOVEIPC,
    FALHA,
    OK,
    PENDENTE,
    Checks,
    municipality_zone,
    timezone_command,
)
from .base import Stage
from .cenario import select_profile
from .context import StageContext
from .steps import Step, file_step, site_folder
from .view import show_charts, show_checks, show_plain_html

__all__ = ["CHECK_FUSO", "CHECK_LOCALE", "CHECK_LOCALE_SISTEMA", "CHECK_PORTAS",
           "CHECK_REMOVEIPC", "charts", "evaluate", "jvm_html", "municipality_zone", "next_steps", "probe_command",
           "timezone_command", "view"]

# Lazy imports: the local probe (psutil) and the SSH probe (paramiko 1.1-1.3 s) only when the
# stage collects instead of reading a probe file.

# --------------------------------------------------------------------------- inputs
def _profile(site: Site, ctx: StageContext) -> tuple[dict[str, Any] | None, str]:
    try:
        prev = ctx.previous("cenario")
    except InputError:
        prev = None
    if prev is not None:
        return prev.metrics.get("perfil"), "etapa 1 (cenário)"

    c = site.cenario
    return (select_profile(c["tipo_instalacao"], c["usuarios_simultaneos"]),
            "tabela oficial (etapa 1 não executada nesta rodada)")


def probe_command(site: Site) -> str:
    return f"esus-runbook sondar --json {sh(site.site_id + '-sondagem.json')} --velocidade-disco"


def probe_ssh_command(site: Site) -> str:
    return (f"esus-runbook sondar --ssh usuario@servidor --json "
            f"{sh(site.site_id + '-sondagem.json')} --velocidade-disco")


def _load(site: Site, ctx: StageContext, r: StageResult) -> tuple[dict | None, str | None]:
    """The normalized probe and where it came from, adding the AMB_SONDAGEM check."""
    # probe (psutil and the platform readers, 0.1 to 0.3 s with python -X importtime) only
    # here: the instalacao stage imports this module for its check ids and time zones
    from ..probe import collect, load_probe, normalize

    path = site.ambiente.get("probe")
    title = "Sondagem do servidor"
    if path:
        try:
            p = load_probe(path)
        except InputError as exc:
            r.add("AMB_SONDAGEM", title, FALHA, "arquivo de sondagem válido "
                  "(esus-runbook/probe/1)", str(exc),
                  f"Gere a sondagem de novo no servidor: `{probe_command(site)}` (não precisa "
                  "de root), copie o arquivo sem editar e confira ambiente.probe.")
            return None, None
        origin, r.metrics["origem_tipo"] = f"arquivo {path}", "arquivo"
    elif (site.data.get("servidor") or {}).get("ssh"):
        p = _probe_ssh(site, ctx, r, title)
        if p is None:
            return None, None
        origin = f"sondagem por SSH ({site.servidor['ssh']})"
        r.metrics["origem_tipo"] = "ssh"
    elif site.ambiente.get("sondar_esta_maquina"):
        p = normalize(collect())
        origin = "sondagem desta máquina (ambiente.sondar_esta_maquina: true)"
        r.metrics["origem_tipo"] = "esta_maquina"
    else:
        r.add("AMB_SONDAGEM", title, PENDENTE, "arquivo gerado por esus-runbook sondar",
              "sem sondagem: ambiente.probe e servidor.ssh não informados",
              f"No servidor onde o PEC será instalado, rode `{probe_command(site)}` (não "
              "precisa de root), copie o arquivo para a pasta do site e informe o caminho em "
              f"ambiente.probe; ou, daqui, `{probe_ssh_command(site)}`; ou informe "
              "servidor.ssh. Só se esta máquina for o próprio servidor, informe "
              "ambiente.sondar_esta_maquina: true.")
        return None, None
    observed = f"{p['hostname'] or 'servidor ?'}, coletada em {p['collected_at'] or '?'} " \
        f"(origem: {origin})"
    if p["errors"]:
        observed += f"; não medido no servidor: {', '.join(sorted(p['errors']))}"
    if p["warnings"]:
        r.add("AMB_SONDAGEM", title, ALERTA, "sondagem completa e legível",
              observed + "; campos ignorados: " + "; ".join(p["warnings"][:5]),
              "Alguns campos da sondagem estavam em formato inesperado e foram ignorados: "
              f"gere o arquivo de novo com `{probe_command(site)}` e não o edite à mão.")
    else:
        r.add("AMB_SONDAGEM", title, OK, "sondagem do servidor", observed)
    return p, origin


def _probe_ssh(site: Site, ctx: StageContext, r: StageResult, title: str) -> dict | None:
    """Probe the server over SSH (servidor.ssh); the probe JSON is kept in the site's run
    folder as evidence and its sha256 recorded. Unreachable/refused: AMB_SONDAGEM falha."""
    # paramiko (~0.2 s, and cryptography) only for a site probed over SSH
    from ..probe import normalize
    from ..ssh.remote_probe import probe_site

    try:
        raw, evidence = probe_site(site.servidor, ctx.run_site_dir, ctx.env)
    except RunbookError as exc:
        p = exc.problems[0]
        r.add("AMB_SONDAGEM", title, FALHA, "sondagem por SSH", p.message,
              p.remedy or "Confira servidor.ssh e o acesso SSH ao servidor.")
        return None
    r.metrics["sondagem_ssh"] = evidence
    return normalize(raw, f"ssh {site.servidor['ssh']}")


# --------------------------------------------------------------------------- stage
def evaluate(site: Site, ctx: StageContext | None = None) -> StageResult:
    ctx = ctx or StageContext()
    r = StageResult(site.site_id, "ambiente")
    profile, profile_src = _profile(site, ctx)
    p, origin = _load(site, ctx, r)
    if p is None:
        return r.finish(perfil=profile, perfil_origem=profile_src, sondagem=None, jvm=None,
                        comando_sondagem=probe_command(site), comparativo=[])
    ch = Checks(site, r, p, profile)
    plan = None
    if profile is None:
        r.add("AMB_PERFIL", "Perfil de servidor", PENDENTE, "perfil definido na etapa 1",
              "sem perfil", "Informe cenario.usuarios_simultaneos (e o tipo de instalação) "
              "para que a RAM, a CPU e o disco possam ser conferidos.")
    else:
        ch.ram()
        ch.cores()
        ch.passmark()
        ch.disk_free()
        ch.disk_speed()
    ch.bits()
    ch.os_supported()
    ch.locale()
    ch.timezone()
    ch.ports()
    ch.remove_ipc()
    ch.java()
    if profile is not None:
        ch.postgres()
        mem = p["memory"]
        ram = min(x for x in (mem["total_bytes"], mem["cgroup_limit_bytes"]) if x) \
            if mem["total_bytes"] else None
        plan = recommend(profile, ram, windows=p["is_windows"],
                         install_path=p["install_path"]["path"])
        ch.jvm(plan)
    return r.finish(
        perfil=profile, perfil_origem=profile_src, origem=origin,
        alvo=ch.target, servidores=profile.get("servers") if profile else None,
        sondagem=p, comparativo=ch.rows, nao_aplicavel=ch.not_applicable, jvm=plan,
        comando_sondagem=probe_command(site))


def view(stage: Stage, result: StageResult) -> None:
    """Checks, charts and the JVM parameters recommended for this server."""
    show_checks(stage, result)
    show_charts(stage, result)
    show_plain_html(jvm_html(result))


# --------------------------------------------------------------------------- next steps
def next_steps(site: Site, env: Mapping[str, str] | None = None) -> list[Step]:
    probe = site.ambiente["probe"]
    windows = site.instalador["plataforma"] == "windows"
    install = "C:\\Program Files" if windows else "/opt"
    steps = []
    if not probe:
        name = f"sondagem-{site.site_id}.json"
        steps.append(Step("No servidor onde o PEC vai rodar (não precisa de root), instale o "
                          "esus-runbook e faça a sondagem:",
                          "esus-runbook sondar " + join(["--json", name, "--pasta-instalacao",
                                                        install], windows) + " --velocidade-disco"))
        steps.append(Step(f"Copie o {name} para a pasta do site "
                          f"({site_folder(site)}/probes/) e informe no arquivo do site "
                          f"ambiente.probe: probes/{name}"))
    else:
        missing = file_step(site, "ambiente.probe", "o JSON gerado pela sondagem")
        if missing:
            steps.append(missing)
    if site.ambiente["passmark"] is None:
        steps.append(Step("Opcional: informe ambiente.passmark (pontuação PassMark da CPU "
                          "do servidor, em cpubenchmark.net) para conferir o processador."))
    return steps
