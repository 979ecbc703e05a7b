"""The evidence files of the operations after go-live, one per measurement:
``<execucoes>/operacoes/<site_id>/<tipo>-<AAAAMMDDTHHMMSS>-<n>.json``, schema
``esus-runbook/operacao/1`` (``schemas/operacao.schema.json``). A new measurement never
replaces an earlier one (each is a new file, written atomically); readers take the newest by
``finished_at``. Readers skip a file of another schema instead of guessing."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..files.atomic import write_json_atomic
from ..files.reading import read_json_bounded
from ..results import Checks, now_iso
from ..schemas import errors as schema_errors
from ..sites.fields import SLUG
from ..status import ExitCode, Status
from ..version import package_version

SCHEMA = "esus-runbook/operacao/1"
FOLDER = "operacoes"
KINDS = ("certificado", "backup", "atualizacao_antes", "atualizacao_depois")
MAX_RECORD_BYTES = 16 * 1024 * 1024  # a record is a few KB; the catalog's bound for a result
MAX_RECORD_DEPTH = 64


@dataclass
class OpsRecord:
    site_id: str
    tipo: str
    checks: Checks = field(default_factory=Checks)
    metrics: dict[str, Any] = field(default_factory=dict)
    started_at: str = field(default_factory=now_iso)
    finished_at: str | None = None
    path: Path | None = None
    nome: str | None = None  # the site's name, for a catalog that has no run of it yet

    def __post_init__(self) -> None:
        if self.tipo not in KINDS:
            raise ValueError(f"unknown record kind {self.tipo!r}")
        if not isinstance(self.checks, Checks):
            self.checks = Checks(self.checks)

    @property
    def status(self) -> Status:
        return self.checks.status

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "site_id": self.site_id, "nome": self.nome, "tipo": self.tipo,
                "status": self.status.value, "started_at": self.started_at,
                "finished_at": self.finished_at or now_iso(), "esus_runbook": package_version(),
                "checks": self.checks.to_list(), "metrics": self.metrics}

    @classmethod
    def from_dict(cls, d: dict[str, Any], path: Path | None = None) -> OpsRecord:
        return cls(d["site_id"], d["tipo"], Checks.from_list(d.get("checks") or []),
                   d.get("metrics") or {}, d.get("started_at") or "", d.get("finished_at"),
                   path, d.get("nome") if isinstance(d.get("nome"), str) else None)

    def text(self) -> str:
        """What ``certificado``/``backup``/``atualizacao`` print: the checks, the verdict, the
        evidence file and, for an update, the release notes and the exact command."""
        lines = [self.checks.text(), f"Situação: {self.status.value}"]
        if self.path is not None:
            lines.append(f"Evidência: {self.path}")
        for key, label in (("notas", "Notas da versão"),
                           ("comando", "Comando da atualização (no servidor, como root)")):
            if self.metrics.get(key):
                lines.append(f"{label}: {self.metrics[key]}")
        return "\n".join(lines)

    def notices(self) -> str:
        return ""

    @property
    def exit_code(self) -> ExitCode:
        """FINDINGS when a check failed, UNDECIDED when one is pendente, else OK."""
        return ExitCode.for_status(self.status)


def site_folder(executions: str | os.PathLike, site_id: str) -> Path:
    return Path(executions) / FOLDER / site_id


def save(record: OpsRecord, executions: str | os.PathLike) -> Path:
    """Write ``record`` as a new file in its site's folder and return the path."""
    record.finished_at = record.finished_at or now_iso()
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    path = site_folder(executions, record.site_id) / \
        f"{record.tipo}-{stamp}-{secrets.token_hex(2)}.json"
    write_json_atomic(path, record.to_dict())
    record.path = path
    return path


def _valid(data: Any) -> bool:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return False
    if data.get("tipo") not in KINDS or not isinstance(data.get("site_id"), str) \
            or not SLUG.fullmatch(data["site_id"]) or len(data["site_id"]) > 63:
        return False
    if schema_errors("operacao", data):
        return False
    try:
        Checks.from_list(data.get("checks") or [])
        Status(data.get("status"))
    except (TypeError, ValueError):
        return False
    return isinstance(data.get("metrics", {}), dict)


def read_folder(folder: str | os.PathLike) -> tuple[list[OpsRecord], list[str]]:
    """Every record under ``folder`` (``<execucoes>/operacoes`` or one site's folder), oldest
    first, and the files skipped (unreadable or of another schema)."""
    folder = Path(folder)
    records, skipped = [], []
    if not folder.is_dir():
        return records, skipped
    for path in sorted(folder.rglob("*.json")):
        try:  # bounded before parsing: the folder may hold a forged file
            data = read_json_bounded(path, MAX_RECORD_BYTES, "evidência depois da implantação",
                                     "refaça a medição", max_depth=MAX_RECORD_DEPTH)
        except InputError:
            skipped.append(str(path))
            continue
        if not _valid(data):
            skipped.append(str(path))
            continue
        records.append(OpsRecord.from_dict(data, path))
    records.sort(key=lambda r: (r.finished_at or "", str(r.path)))
    return records, skipped


def latest(executions: str | os.PathLike, site_id: str, tipo: str,
           **metrics: Any) -> OpsRecord | None:
    """The newest record of ``tipo`` for a site whose metrics hold every ``metrics`` pair."""
    records, _ = read_folder(site_folder(executions, site_id))
    found = [r for r in records if r.tipo == tipo and r.site_id == site_id
             and all(r.metrics.get(k) == v for k, v in metrics.items())]
    return found[-1] if found else None
