"""A synthetic rollout of many sites over many weekly runs, for the pages' browser test and
the painel benchmark: real IBGE municipality codes, check codes and titles shaped like the
stages' (long codes, remedies with commands), failures fixed and new ones appearing from run
to run. Written as run folders (:func:`write_state`, the layout a batch writes, with each
site's report) or, when files would cost more than what is measured, straight into a catalog
through the catalog's own writer (:func:`records`)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .. import run_folder
from ..catalog.store import RunRecord
from ..render.places import municipalities
from ..report.rollup import write_rollup
from ..report.site import render_site_report
from ..results import STAGES, Check, StageResult
from ..run_folder import RUN_SCHEMA
from ..status import RunStatus, Status, worst
from .rollout_history import SiteSpec, write_run_folder


def first_monday(n_runs: int) -> datetime:
    """08:00 at -03:00 on the Monday ``n_runs`` weeks ago: the last run falls in this week."""
    today = datetime.now(timezone(timedelta(hours=-3)))
    monday = (today - timedelta(days=today.weekday() + 7 * (n_runs - 1))).date()
    return datetime(monday.year, monday.month, monday.day, 8, 0,
                    tzinfo=timezone(timedelta(hours=-3)))

# stage -> (code, title, remedy); shaped like the stages' checks (docs/dominio.md)
CHECKS: dict[str, list[tuple[str, str, str]]] = {
    "cenario": [("CEN_PERFIL", "Perfil de uso definido", "Responda cenario.perfil no arquivo "
                 "do local de implantação."),
                ("CEN_BACKUP", "Backup automatizado previsto", "Responda "
                 "cenario.backup_automatizado (true/false) no arquivo do local.")],
    "ambiente": [("AMB_CPU_NUCLEOS", "Núcleos de CPU do servidor único", "Use um servidor com "
                  "pelo menos 4 núcleos para o perfil escolhido."),
                 ("AMB_RAM", "Memória RAM do servidor único", "Aumente a memória para pelo "
                  "menos 8 GB: o PostgreSQL divide a máquina com o PEC."),
                 ("AMB_LOCALE", "Locale pt_BR.UTF-8", "Gere o locale antes de instalar: "
                  "`sudo locale-gen pt_BR.UTF-8`."),
                 ("AMB_DISCO_LIVRE", "Disco livre onde o PEC instala", "Libere espaço em /opt "
                  "para pelo menos 100 GB livres."),
                 ("AMB_PORTAS", "Portas livres", "Descubra o processo com "
                  "`sudo ss -ltnp 'sport = :8080'` e pare-o.")],
    "download": [("DL_ARQUIVO", "Instalador baixado", "Baixe com `esus-runbook baixar "
                  "--url URL --versao-pec VERSAO`."),
                 ("DL_SHA256", "SHA-256 do instalador confere com o registro", "Baixe de novo: "
                  "o arquivo não confere com o registro de versões.")],
    "instalacao": [("INST_SERVICO", "Serviço e-SUS-PEC ativo", "Inicie o serviço: "
                    "`sudo systemctl start e-SUS-PEC`."),
                   ("PEC_TEMPO", "Tempo de resposta do PEC", "Confira a carga do servidor e a "
                    "memória da JVM."),
                   ("INST_PRE_REMOVEIPC", "RemoveIPC=no no systemd-logind", "Ponha RemoveIPC=no "
                    "em /etc/systemd/logind.conf e reinicie o systemd-logind.")],
    "contra_chave": [("CC_GERADA", "Contra-chave gerada e aplicada", "Gere a contra-chave no "
                      "portal e informe contra_chave.valor_env.")],
    "xml": [("XML_CNES_SITE", "XML do CNES do município certo", "Baixe o XML do município do "
             "local de implantação no SCNES."),
            ("XML_IMPORTADO", "XML importado no PEC", "Importe o XML no PEC: Administração, "
             "Importar CNES.")],
}
NAMES = ("UBS", "USF", "Unidade de Saúde da Família", "Centro de Saúde", "Policlínica")
PLACES = ("Centro", "Vila Nova", "São José", "Boa Vista", "Alto do Cruzeiro", "Jardim das "
          "Flores", "Nossa Senhora da Conceição", "Sede", "Zona Rural", "Bairro Novo")


def _municipalities(n: int, rng: random.Random) -> list[str]:
    codes = sorted(municipalities())
    return rng.sample(codes, k=min(n, len(codes)))


def rollout(n_sites: int, n_runs: int, seed: int = 25, n_municipalities: int | None = None
            ) -> Iterator[tuple[str, datetime, list[SiteSpec]]]:
    """``(run_id, started, sites)`` for each weekly run: every site's stages get ready at a
    random run (some never), one or two checks failing before that; a few sites regress."""
    rng = random.Random(seed)
    t0 = first_monday(n_runs)
    munis = _municipalities(n_municipalities or max(1, n_sites // 10), rng)
    ready_at = {(i, s): rng.randint(0, n_runs + 3) for i in range(n_sites) for s in STAGES}
    names = [f"{rng.choice(NAMES)} {rng.choice(PLACES)} {i + 1}" for i in range(n_sites)]
    for run in range(n_runs):
        started = t0 + timedelta(days=7 * run)
        sites = []
        for i in range(n_sites):
            stages: dict[str, list[tuple]] = {}
            for k, s in enumerate(STAGES):
                if run < ready_at[i, STAGES[0]] - 2 and k > 1:
                    break  # early on, later stages not run yet
                failing = run < ready_at[i, s] or (rng.random() < .01)
                status = ("pendente" if s in ("contra_chave", "xml") and (i + run) % 3 == 0
                          else "falha") if failing else ("alerta" if rng.random() < .05
                                                         else "ok")
                checks = CHECKS[s]
                bad = {rng.randrange(len(checks))} if failing else set()
                stages[s] = [(cid, title, status if j in bad or (status == "alerta" and j == 0)
                              else "ok", "esperado", "observado",
                              None if not (j in bad or status == "alerta" and j == 0) else rem)
                             for j, (cid, title, rem) in enumerate(checks)]
            sites.append(SiteSpec(f"local-{i + 1:05d}", names[i], munis[i % len(munis)],
                                  cnes=f"{2_000_000 + i:07d}", stages=stages))
        yield f"{started:%Y%m%d-%H%M%S}-{run:04x}", started, sites


def write_state(base: str | Path, n_sites: int, n_runs: int, seed: int = 25) -> list[Path]:
    """The rollout as run folders under ``base``, each with its roll-up; the last run also
    with every site's report (the painel links to the latest report); returns
    the run folders."""
    out = []
    for run_id, started, sites in rollout(n_sites, n_runs, seed):
        run_dir = write_run_folder(base, run_id, started, sites, stage_minutes=0.05)
        out.append(run_dir)
    for spec in sites:
        render_site_report(run_folder.site_dir(out[-1], spec.site_id), out[-1].name)
    write_rollup(out[-1], out[-1].name)
    return out


def records(base: str | Path, n_sites: int, n_runs: int, seed: int = 25
            ) -> Iterator[RunRecord]:
    """The rollout as catalog records (what :func:`esus_runbook.catalog.read_run` would read
    from the folders), without writing a file: for a catalog of 5 000 sites × 52 runs, whose
    260 000 site folders would cost far more than the painel being measured."""
    for run_id, started, sites in rollout(n_sites, n_runs, seed):
        rec = RunRecord(run_id, str(Path(base) / run_id), {
            "schema": RUN_SCHEMA, "run_id": run_id, "status": RunStatus.CONCLUIDO,
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": (started + timedelta(minutes=30)).isoformat(timespec="seconds")})
        for spec in sites:
            statuses = []
            for k, stage in enumerate(STAGES):
                checks = spec.stages.get(stage)
                if checks is None:
                    statuses.append(Status.PENDENTE)
                    continue
                at = started + timedelta(minutes=k + 1)
                r = StageResult(spec.site_id, stage, started_at=at.isoformat(timespec="seconds"))
                r.checks = [Check(c[0], c[1], Status(c[2]), c[3], c[4], c[5]) for c in checks]
                r.finish()
                r.finished_at = (at + timedelta(seconds=40)).isoformat(timespec="seconds")
                rec.results.append(r.to_dict())
                statuses.append(r.status)
            rec.sites.append({"site_id": spec.site_id, "nome": spec.nome,
                              "municipio_ibge": spec.municipio_ibge, "cnes": spec.cnes,
                              "status": worst(statuses).value, "snapshot": None})
        yield rec
