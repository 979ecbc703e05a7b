"""The roll-up of a run: one row per (site, stage), as CSV, JSON and a colored HTML matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import run_folder, stages
from ..files.atomic import write_json_atomic, write_text_atomic
from ..files.csvcells import safe_cell
from ..render.env import environment
from ..render.places import municipality_name
from ..results import STAGES, now_iso
from ..status import SEVERITY, Status
from .site import TRAINING_VERDICTS, VERDICTS, is_training, load_site_results, next_steps

COLUMNS = ["site_id", "nome", "municipio_ibge", "stage", "status", "n_ok", "n_alerta",
           "n_pendente", "n_falha", "n_erro", "principal_pendencia"]


def build_rollup(run_dir: str | Path) -> pd.DataFrame:
    """Collect every ``<site>/<stage>.json`` of a run (a missing result is ``pendente``).
    ``df.attrs["treinamento"]`` lists the training installations' site ids."""
    return _collect(run_dir)[0]


def _collect(run_dir: str | Path
             ) -> tuple[pd.DataFrame, dict[str, tuple[dict[str, Any] | None, int]]]:
    """:func:`build_rollup`'s frame and, per site, its first next step and how many there
    are (read with the results, so the roll-up page does not load them again)."""
    run_dir = Path(run_dir)
    training: set[str] = set()
    steps: dict[str, tuple[dict[str, Any] | None, int]] = {}
    rows: list[dict[str, Any]] = []
    for site_dir in run_folder.site_dirs(run_dir):
        site = run_folder.read_site_snapshot(site_dir)
        if is_training(site):
            training.add(site["site_id"])
        results = load_site_results(site_dir)
        todo = next_steps(results)
        steps[site["site_id"]] = (todo[0] if todo else None, len(todo))
        for stage in STAGES:
            row = {"site_id": site["site_id"], "nome": site["nome"],
                   "municipio_ibge": site["municipio_ibge"], "stage": stage}
            counts = dict.fromkeys(Status, 0)
            r = results[stage]
            if r is not None:
                row["status"] = r.status.value
                for c in r.checks:
                    counts[c.status] += 1
                bad = sorted((c for c in r.checks if c.status is not Status.OK),
                             key=lambda c: -SEVERITY[c.status])
                row["principal_pendencia"] = bad[0].remedy if bad else ""
            else:
                row["status"] = Status.PENDENTE.value
                row["principal_pendencia"] = "Etapa não executada nesta rodada."
            row.update({f"n_{s.value}": n for s, n in counts.items()})
            rows.append(row)
    df = pd.DataFrame(rows, columns=COLUMNS)
    df.attrs["treinamento"] = sorted(training)
    return df, steps


def site_statuses(df: pd.DataFrame) -> pd.Series:
    """Overall status per site: the worst of its stages."""
    sev = df["status"].map(lambda s: SEVERITY[Status(s)])
    worst_idx = sev.groupby(df["site_id"]).idxmax()
    return df.loc[worst_idx, ["site_id", "status"]].set_index("site_id")["status"]


def write_rollup(run_dir: str | Path, run_id: str | None = None) -> dict[str, Path]:
    """Write the roll-up's CSV, JSON and HTML at the top of the run
    (:func:`.run_folder.rollup_paths`) and return their paths."""
    return write_rollup_with_statuses(run_dir, run_id)[0]


def write_rollup_with_statuses(run_dir: str | Path, run_id: str | None = None
                               ) -> tuple[dict[str, Path], dict[str, str]]:
    """:func:`write_rollup`, and each site's overall status (:func:`site_statuses`), which
    the batch records in ``run.json``."""
    run_dir = Path(run_dir)
    df, steps = _collect(run_dir)
    paths = run_folder.rollup_paths(run_dir)
    write_text_atomic(paths["csv"], df.map(safe_cell).to_csv(index=False))
    overall = site_statuses(df) if len(df) else pd.Series(dtype=object)
    totals = {stage: df.loc[df["stage"] == stage, "status"].value_counts().to_dict()
              for stage in STAGES}
    by_verdict = overall.value_counts().to_dict() if len(overall) else {}
    training = df.attrs.get("treinamento", [])
    ready_training = sorted(sid for sid in training
                            if Status(overall[sid]) in TRAINING_VERDICTS)
    write_json_atomic(paths["json"], {
        "schema": run_folder.ROLLUP_SCHEMA, "run_id": run_id or run_dir.name,
        "generated_at": now_iso(), "sites": int(df["site_id"].nunique()),
        "site_status": overall.to_dict(), "treinamento": training,
        "prontos_treinamento": ready_training, "totals_by_stage": totals,
        "rows": df.to_dict(orient="records")})
    matrix = df.pivot(index="site_id", columns="stage", values="status") \
        .reindex(columns=list(STAGES)) if len(df) else pd.DataFrame()
    first = df.drop_duplicates("site_id").set_index("site_id") if len(df) else pd.DataFrame()
    rows = []
    for sid in matrix.index:
        first_step, n_steps = steps.get(sid, (None, 0))
        rows.append({"site_id": sid, "nome": first.loc[sid, "nome"],
                     "municipio": municipality_name(first.loc[sid, "municipio_ibge"]),
                     "status": overall[sid], "cells": [matrix.loc[sid, s] for s in STAGES],
                     "step": first_step, "open": n_steps})
    # worst first, then the most to do, then by id
    rows.sort(key=lambda r: (-SEVERITY[Status(r["status"])], -r["open"], r["site_id"]))
    html = environment().get_template("consolidado.html.j2").render(
        run_id=run_id or run_dir.name, generated_at=now_iso(), stages=STAGES,
        titles={name: stage.title for name, stage in stages.STAGES.items()},
        matrix=rows, totals=totals, by_verdict=by_verdict,
        verdicts={s.value: v for s, v in VERDICTS.items()},
        ready_training=set(ready_training), training=set(training),
        report_file=run_folder.REPORT_FILE)
    write_text_atomic(paths["html"], html)
    return paths, overall.to_dict()
