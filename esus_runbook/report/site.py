"""The per-site audit report: verdict, stage table, every check, stage charts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from .. import run_folder, stages
from ..files.atomic import write_text_atomic
from ..render.env import environment
from ..render.places import municipality_name
from ..results import STAGES, StageResult, now_iso
from ..status import Status, worst

VERDICTS = {
    Status.OK: "Pronto para produção",
    Status.ALERTA: "Pronto, com alertas a tratar",
    Status.PENDENTE: "Em andamento: há etapas pendentes",
    Status.FALHA: "Não pronto: há falhas a corrigir",
    Status.ERRO: "Não pronto: uma etapa não pôde ser executada",
}


TRAINING_VERDICTS = {
    Status.OK: "Pronto (treinamento): nada chega ao SISAB",
    Status.ALERTA: "Pronto (treinamento), com alertas a tratar: nada chega ao SISAB",
}
TRAINING_NOTE = ("Instalação de treinamento (instalacao.modo: treinamento): o que for registrado "
                 "nela fica só nesta instalação e nada chega ao SISAB. Para atender de verdade, "
                 "instale em produção (sem -treinamento) e ative com a contra-chave.")


def site_verdict(statuses: list[Status | str], training: bool = False) -> tuple[Status, str]:
    """Overall status of a site (the worst stage; no stage at all is pendente) and its
    pt-BR verdict; a ready training installation reads "Pronto (treinamento)"."""
    status = worst(statuses) or Status.PENDENTE
    if training and status in TRAINING_VERDICTS:
        return status, TRAINING_VERDICTS[status]
    return status, VERDICTS[status]


def is_training(site: dict[str, Any] | None) -> bool:
    """Whether a site snapshot (:func:`.run_folder.read_site_snapshot`) is a training
    installation."""
    return ((site or {}).get("instalacao") or {}).get("modo") == "treinamento"


def _snapshot(run_site_dir: Path) -> dict[str, Any] | None:
    if not run_folder.site_file(run_site_dir).exists():
        return None
    return run_folder.read_site_snapshot(run_site_dir)


def load_site_results(run_site_dir: Path) -> dict[str, StageResult | None]:
    """Each stage's result in the site folder (None: not run)."""
    out: dict[str, StageResult | None] = {}
    for s in STAGES:
        path = run_folder.stage_result_path(run_site_dir, s)
        out[s] = StageResult.load(path) if path.exists() else None
    return out


NOT_RUN = "Etapa ainda não executada nesta rodada."
# Próximos passos: what blocks first (falha, erro), then what is missing, then what to review
STEP_GROUP = {Status.FALHA: 0, Status.ERRO: 0, Status.PENDENTE: 1, Status.ALERTA: 2}


def _stage_rows(results: dict[str, StageResult | None]) -> list[dict[str, Any]]:
    rows = []
    for stage, r in results.items():
        if r is None:
            rows.append({"stage": stage, "title": stages.title(stage), "status": "pendente",
                         "counts": {}, "open": 1, "result": None})
            continue
        counts = Counter(c.status.value for c in r.checks)
        rows.append({"stage": stage, "title": stages.title(stage), "status": r.status.value,
                     "counts": dict(counts), "result": r,
                     "open": sum(c.status is not Status.OK for c in r.checks)})
    return rows


def next_steps(results: dict[str, StageResult | None]) -> list[dict[str, Any]]:
    """One ordered list for the whole site: falhas (and erros), then pendentes, then
    alertas, each group in stage order; a remedy shared by several checks (the same fix in
    two stages) appears once, at its most urgent place, naming every check it settles."""
    found: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    for i, (stage, r) in enumerate(results.items()):
        title = stages.title(stage)
        if r is None:
            notebook = stages.get(stage).notebook
            found.append(((STEP_GROUP[Status.PENDENTE], i, 0), {
                "status": Status.PENDENTE.value, "stage": stage, "stage_title": title,
                "code": None, "title": NOT_RUN,
                "remedy": f"Execute a etapa {title}: o notebook `{notebook}` no JupyterLab "
                          "ou o local inteiro com esus-runbook executar."}))
            continue
        if r.status is Status.ERRO and not any(c.status is not Status.OK for c in r.checks):
            found.append(((0, i, 0), {
                "status": Status.ERRO.value, "stage": stage, "stage_title": title,
                "code": None, "title": "A etapa não pôde ser executada",
                "remedy": r.error or "Veja o notebook executado da etapa na pasta da execução."}))
        for j, c in enumerate(r.checks):
            if c.status is Status.OK:
                continue
            found.append(((STEP_GROUP[c.status], i, j + 1), {
                "status": c.status.value, "stage": stage, "stage_title": title,
                "code": c.id, "title": c.title, "remedy": c.remedy or ""}))
    steps: list[dict[str, Any]] = []
    by_remedy: dict[str, dict[str, Any]] = {}
    for _, item in sorted(found, key=lambda x: x[0]):
        key = " ".join(item["remedy"].split()).casefold()
        if key and key in by_remedy:
            by_remedy[key]["also"].append(item)
            continue
        item["also"] = []
        steps.append(item)
        if key:
            by_remedy[key] = item
    return steps


def _charts(results: dict[str, StageResult | None],
            run_site_dir: Path | None = None) -> dict[str, list[tuple[str, str]]]:
    """Each stage's charts as SVG, reusing those its notebook drew (see stages.chart_svgs)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for stage, r in results.items():
        if r is not None:
            out[stage] = stages.chart_svgs(r, run_site_dir)
    return out


def _sections(results: dict[str, StageResult | None]) -> dict[str, str]:
    """Extra HTML of each stage (see stages.report_sections), e.g. "Depois da importação"."""
    out = {}
    for stage, r in results.items():
        if r is not None:
            html = "".join(stages.report_sections(r))
            if html:
                out[stage] = html
    return out


def summary_html(run_site_dir: str | Path) -> str:
    """The verdict and the stage table of a site (what notebook 07 shows)."""
    run_site_dir = Path(run_site_dir)
    results = load_site_results(run_site_dir)
    rows = _stage_rows(results)
    training = is_training(_snapshot(run_site_dir))
    status, verdict = site_verdict([row["status"] for row in rows], training)
    return environment().get_template("summary.html.j2").render(
        status=status.value, verdict=verdict, rows=rows, steps=next_steps(results),
        training_note=TRAINING_NOTE if training else None)


def render_site_report(run_site_dir: str | Path, run_id: str | None = None) -> Path:
    """Write the site report (:func:`.run_folder.report_path`) from the snapshot and the
    stage results in ``run_site_dir`` and return its path."""
    run_site_dir = Path(run_site_dir)
    site = run_folder.read_site_snapshot(run_site_dir)
    results = load_site_results(run_site_dir)
    rows = _stage_rows(results)
    training = is_training(site)
    status, verdict = site_verdict([row["status"] for row in rows], training)
    html = environment().get_template("site.html.j2").render(
        site=site, run_id=run_id or run_site_dir.parent.name, generated_at=now_iso(),
        status=status.value, verdict=verdict, rows=rows, steps=next_steps(results),
        training_note=TRAINING_NOTE if training else None,
        charts=_charts(results, run_site_dir), sections=_sections(results),
        municipio=municipality_name(site.get("municipio_ibge")))
    out = run_folder.report_path(run_site_dir)
    write_text_atomic(out, html)
    return out


def terminal_lines(run_site_dir: str | Path, steps_shown: int = 3,
                   compact: bool = False) -> list[str]:
    """What ``run``/``batch`` print for one site: its verdict, its first next steps and the
    path of its report; ``compact`` (large batches) fits it on one line."""
    run_site_dir = Path(run_site_dir)
    results = load_site_results(run_site_dir)
    status, verdict = site_verdict([r.status if r else Status.PENDENTE
                                    for r in results.values()],
                                   is_training(_snapshot(run_site_dir)))
    steps = next_steps(results)
    report = run_folder.report_path(run_site_dir)
    where = str(report) if report.exists() else "relatório não gerado"
    name = run_site_dir.name

    def step_text(s: dict[str, Any]) -> str:
        code = f"{s['code']} " if s["code"] else ""
        return f"[{s['status']}] {code}{s['stage_title']}: {s['remedy'].replace('`', '')}"

    if compact:
        first = f"; 1º passo: {steps[0]['code'] or steps[0]['title']} " \
                f"({steps[0]['stage_title']})" if steps else ""
        return [f"{name}: {verdict}{first}; {where}"]
    lines = [f"{name}: {verdict}"]
    lines += [f"  {i}. {step_text(s)}" for i, s in enumerate(steps[:steps_shown], 1)]
    if len(steps) > steps_shown:
        lines.append(f"  … e mais {len(steps) - steps_shown} no relatório")
    lines.append(f"  Relatório: {where}")
    return lines
