"""A site's rollout dossier from the catalog: the latest result of each stage, the timeline of
its status changes, the evidence behind each ``ok``, what is still open and a signature block.
Self-contained HTML (the report templates); the PDF is printed by headless Chromium
(:mod:`.pdf`). See docs/catalogo.md."""

from __future__ import annotations

import difflib
import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..files.atomic import write_text_atomic
from ..render.dates import parse as parse_time
from ..render.env import environment
from ..report.site import site_verdict
from ..results import STAGES, now_iso
from ..run_folder import RUN_STATUS_LABELS
from ..stages import title
from ..status import Status
from .history import READY, latest, output_error, stage_results, status_changes, to_time, when
from .operations import site_operations

EVIDENCE_LABELS = {
    ("arquivo", "ambiente.probe"): "Arquivo da sondagem (SHA-256)",
    ("arquivo", "instalador.arquivo"): "Arquivo do instalador (SHA-256)",
    ("arquivo", "xml.arquivo"): "XML do CNES (SHA-256 do arquivo)",
    ("arquivo", "xml.anterior"): "XML anterior (SHA-256 do arquivo)",
    ("sondagem", "origem"): "Sondagem usada",
    ("sondagem", "coletada_em"): "Sondagem coletada em",
    ("sondagem", "servidor"): "Servidor sondado",
    ("instalador", "versao"): "Versão do instalador",
    ("instalador", "plataforma"): "Plataforma",
    ("instalador", "arquivo"): "Instalador",
    ("instalador", "tamanho_bytes"): "Tamanho (bytes)",
    ("instalador", "sha256"): "SHA-256 do instalador",
    ("pec", "versao"): "Versão do PEC em execução",
    ("pec", "endereco"): "Endereço do PEC",
    ("pec", "instalador"): "Instalador usado",
    ("contra_chave", "gerada_por"): "Contra-chave gerada por",
    ("contra_chave", "gerada_em"): "Contra-chave gerada em",
    ("contra_chave", "origem"): "Contra-chave lida de (referência)",
    ("xml", "arquivo"): "XML importado",
    ("xml", "sha256"): "SHA-256 do XML",
    ("xml", "layout"): "Layout do XML",
    ("xml", "data"): "Data do XML",
    ("xml", "anterior_sha256"): "SHA-256 do XML anterior",
    ("xml", "codigo_confirmacao"): "Código de confirmação das alterações",
    ("xml", "alteracoes_confirmadas"): "Alterações revisadas e confirmadas",
}
CHANGE_LABELS = {"inicio": "primeira execução", "ok": "ficou pronta", "melhorou": "melhorou",
                 "regrediu": "regrediu"}


def _site(conn: sqlite3.Connection, site_id: str, source: str) -> dict[str, Any]:
    row = conn.execute("SELECT site_id, nome, municipio_ibge, cnes FROM sites "
                       "WHERE site_id = ?", (site_id,)).fetchone()
    if row is None:
        known = [r[0] for r in conn.execute("SELECT site_id FROM sites")]
        close = difflib.get_close_matches(site_id, known, n=1)
        hint = f"você quis dizer '{close[0]}'?" if close else (
            f"sites no catálogo: {', '.join(sorted(known)[:8])}" if known else
            "o catálogo está vazio: execute um lote ou 'esus-runbook catalogo importar'")
        raise InputError(f"o site '{site_id}' não está no catálogo", file=source,
                         key="SITE_ID", remedy=hint)
    return dict(zip(("site_id", "nome", "municipio_ibge", "cnes"), row, strict=True))


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def build_dossier(conn: sqlite3.Connection, site_id: str, source: str = "catálogo"
                  ) -> dict[str, Any]:
    """Everything the dossier shows, as plain values."""
    site = _site(conn, site_id, source)
    results = stage_results(conn, site_id)
    changes = status_changes(results)
    last = latest(results).set_index("stage")
    runs = pd.read_sql_query(
        "SELECT r.run_id, r.status, r.interrupted, r.started_at, r.finished_at, "
        "rs.status AS site_status FROM run_sites rs JOIN runs r USING (run_pk) "
        "WHERE rs.site_id = ? ORDER BY r.started_at, r.run_id", conn, params=(site_id,))
    stages = []
    training = False   # a training installation's stage 05 (docs/dominio.md, "Contra-chave")
    for stage in STAGES:
        row: dict[str, Any] = {"stage": stage, "title": title(stage)}
        if stage not in last.index:
            row.update(status=Status.PENDENTE.value, run_id=None, date=None, executed=False,
                       timeline=[], evidence=[], ok_checks=[], open=[])
            stages.append(row)
            continue
        r = last.loc[stage]
        key = (int(r["result_pk"]),)
        checks = conn.execute(
            "SELECT check_id, title, status, expected, observed, remedy FROM checks "
            "WHERE result_pk = ? ORDER BY seq", key).fetchall()
        checks = [{"id": c[0], "title": c[1], "status": c[2], "expected": _json(c[3]),
                   "observed": _json(c[4]), "remedy": c[5]} for c in checks]
        training = training or any(c["id"] == "CC_TREINAMENTO" for c in checks)
        evidence = []
        if r["status"] in READY:
            evidence = [{"label": EVIDENCE_LABELS.get((k, n), f"{k}: {n}"), "value": v}
                        for k, n, v in conn.execute(
                            "SELECT kind, name, value FROM evidence WHERE result_pk = ? "
                            "ORDER BY kind, name", key)]
        timeline = [{"date": x["finished_at"] or x["run_started"], "run_id": x["run_id"],
                     "previous": x["previous"] if isinstance(x["previous"], str) else None,
                     "status": x["status"], "kind": x["kind"],
                     "label": CHANGE_LABELS[x["kind"]]}
                    for x in changes[changes["stage"] == stage].to_dict("records")]
        row.update(status=r["status"], run_id=r["run_id"],
                   date=r["finished_at"] or r["run_started"], executed=True,
                   run_interrupted=bool(r["interrupted"]), timeline=timeline,
                   evidence=evidence,
                   ok_checks=[c for c in checks if c["status"] == Status.OK.value]
                   if r["status"] in READY else [],
                   open=[c for c in checks if c["status"] != Status.OK.value],
                   error=r["error"])
        stages.append(row)
    status, verdict = site_verdict([s["status"] for s in stages], training)
    ready_since = None
    if status.value in READY:
        starts = [_ready_streak_start(s["timeline"]) for s in stages]
        ready_since = max(starts, key=lambda v: parse_time(v) or datetime.min.replace(
            tzinfo=timezone.utc))
    open_count = sum(len(s["open"]) + (not s["executed"]) for s in stages)
    # in time order through each start's own offset: text order mixes -03:00 and +00:00
    runs = runs.assign(_t=to_time(runs["started_at"])).sort_values(
        ["_t", "run_id"], kind="stable", na_position="first").drop(columns="_t")
    return {"site": site, "status": status.value, "open_count": open_count,
            "verdict": verdict, "stages": stages, "runs": runs.to_dict("records"),
            "ready_since": ready_since,
            "first_run": runs["started_at"].iloc[0] if len(runs) else None}


def _ready_streak_start(timeline: list[dict[str, Any]]) -> str:
    """When a stage that is ready now became ready for the last time (the oldest of the
    trailing changes that are all ok/alerta)."""
    start = ""
    for change in reversed(timeline):
        if change["status"] not in READY:
            break
        start = change["date"]
    return start


def render_dossier(data: dict[str, Any]) -> str:
    return environment().get_template("dossie.html.j2").render(
        **data, when=when, generated_at=now_iso(),
        run_labels={s.value: label for s, label in RUN_STATUS_LABELS.items()})


def write_dossier(conn: sqlite3.Connection, site_id: str, out: str | Path,
                  source: str = "catálogo") -> Path:
    """Write the dossier HTML to ``out`` (atomically) and return it."""
    out = Path(out)
    html = render_dossier({**build_dossier(conn, site_id, source),
                           "operacoes": site_operations(conn, site_id)})
    try:
        write_text_atomic(out, html)
    except OSError as exc:
        raise output_error(exc, out) from None
    return out
