"""Synthetic run folders with controlled dates, in the layout a batch writes
(:mod:`esus_runbook.run_folder`: the run's json, each site's snapshot and stage results, the
roll-up's json): for the catalog's tests and benchmark, which need weeks of history without
running notebooks for weeks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from .. import run_folder
from ..results import STAGES, Check, StageResult
from ..run_folder import ROLLUP_SCHEMA, RUN_SCHEMA
from ..status import RunStatus, Status, worst


@dataclass
class SiteSpec:
    site_id: str
    nome: str
    municipio_ibge: str = "2927408"
    cnes: str | None = None
    # stage -> checks as (id, title, status) or (id, title, status, expected, observed,
    # remedy); a stage left out was not run
    stages: dict[str, list[tuple]] = field(default_factory=dict)


def _dump(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _full(check: tuple) -> tuple:
    cid, title, status = check[:3]
    if len(check) == 6:
        return tuple(check)
    return (cid, title, Status(status), "esperado", "observado",
            None if status == "ok" else f"Corrija {cid}.")


def write_run_folder(base: str | Path, run_id: str, started: datetime,
                     sites: list[SiteSpec], status: RunStatus | str = RunStatus.CONCLUIDO,
                     stage_minutes: float = 1.0) -> Path:
    """Write run ``run_id`` under ``base``; stage ``i`` finishes ``i * stage_minutes`` minutes
    after ``started`` (an aware datetime)."""
    status = RunStatus(status)
    run_dir = Path(base) / run_id
    site_status = {}
    for spec in sites:
        site_dir = run_folder.site_dir(run_dir, spec.site_id)
        _dump(run_folder.site_file(site_dir), {"site_id": spec.site_id, "nome": spec.nome,
                                      "municipio_ibge": spec.municipio_ibge,
                                      "cnes": spec.cnes})
        statuses = []
        for i, stage in enumerate(STAGES):
            checks = spec.stages.get(stage)
            if checks is None:
                statuses.append(Status.PENDENTE)
                continue
            r = StageResult(spec.site_id, stage,
                            started_at=(started + timedelta(minutes=i * stage_minutes))
                            .isoformat(timespec="seconds"))
            r.checks = [Check(*_full(c)) for c in checks]
            r.finish()
            r.finished_at = (started + timedelta(minutes=(i + 1) * stage_minutes)) \
                .isoformat(timespec="seconds")
            r.inputs = {"site": f"sha256:{spec.site_id}-{stage}"}
            _dump(run_folder.stage_result_path(site_dir, stage), r.to_dict())
            statuses.append(r.status)
        site_status[spec.site_id] = worst(statuses).value
    finished = started + timedelta(minutes=(len(STAGES) + 1) * stage_minutes)
    _dump(run_folder.rollup_path(run_dir, "json"),
          {"schema": ROLLUP_SCHEMA, "run_id": run_id, "site_status": site_status})
    _dump(run_folder.run_file(run_dir), {
        "schema": RUN_SCHEMA, "run_id": run_id, "status": status,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": None if status is RunStatus.EM_ANDAMENTO else
        finished.isoformat(timespec="seconds"),
        "inventory": {"path": "inventario.yaml", "files": {}},
        # the other keys the run schema requires (the catalog validates the run's json)
        "site_snapshots": {}, "notebooks": {}, "versions": {}, "options": {"engine": "local"},
        "passes": [{"started_at": started.isoformat(timespec="seconds"), "status": status}],
        "sites": {s: {"status": st, "host": "sintetico", "notebooks": []}
                  for s, st in site_status.items()}})
    return run_dir
