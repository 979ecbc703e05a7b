"""The per-site audit report: verdict, stage table, every check, stage charts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from .. import stages
from ..render.charts import status_bars_svg
from ..render.env import environment
from ..results import SEVERITY, STAGES, StageResult, Status, now_iso, worst, write_text_atomic

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
    """Whether a site snapshot (``site.json``) is a training installation."""
    return ((site or {}).get("instalacao") or {}).get("modo") == "treinamento"


def _snapshot(run_site_dir: Path) -> dict[str, Any] | None:
    path = run_site_dir / "site.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def load_site_results(run_site_dir: Path) -> dict[str, StageResult | None]:
    return {s: (StageResult.load(run_site_dir / f"{s}.json")
                if (run_site_dir / f"{s}.json").exists() else None) for s in STAGES}


def _stage_rows(results: dict[str, StageResult | None]) -> list[dict[str, Any]]:
    rows = []
    for stage, r in results.items():
        if r is None:
            rows.append({"stage": stage, "title": stages.title(stage), "status": "pendente",
                         "counts": {}, "remedies": ["Etapa ainda não executada nesta rodada."],
                         "result": None})
            continue
        counts = Counter(c.status.value for c in r.checks)
        bad = sorted((c for c in r.checks if c.status is not Status.OK),
                     key=lambda c: -SEVERITY[c.status])
        rows.append({"stage": stage, "title": stages.title(stage), "status": r.status.value,
                     "counts": dict(counts), "remedies": [c.remedy for c in bad[:3]],
                     "result": r})
    return rows


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
    rows = _stage_rows(load_site_results(run_site_dir))
    training = is_training(_snapshot(run_site_dir))
    status, verdict = site_verdict([row["status"] for row in rows], training)
    return environment().get_template("summary.html.j2").render(
        status=status.value, verdict=verdict, rows=rows,
        training_note=TRAINING_NOTE if training else None)


def render_site_report(run_site_dir: str | Path, run_id: str | None = None) -> Path:
    """Write ``<run_site_dir>/relatorio.html`` from the stage results there and return it."""
    run_site_dir = Path(run_site_dir)
    site = json.loads((run_site_dir / "site.json").read_text(encoding="utf-8"))
    results = load_site_results(run_site_dir)
    rows = _stage_rows(results)
    training = is_training(site)
    status, verdict = site_verdict([row["status"] for row in rows], training)
    overview = status_bars_svg([(row["title"], row["counts"]) for row in rows],
                               "Verificações por etapa")
    html = environment().get_template("site.html.j2").render(
        site=site, run_id=run_id or run_site_dir.parent.name, generated_at=now_iso(),
        status=status.value, verdict=verdict, rows=rows,
        training_note=TRAINING_NOTE if training else None,
        charts=_charts(results, run_site_dir), sections=_sections(results),
        overview_svg=overview)
    out = run_site_dir / "relatorio.html"
    write_text_atomic(out, html)
    return out
