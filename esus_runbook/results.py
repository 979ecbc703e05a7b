"""Stage results: checks, statuses and the versioned JSON every stage writes.

Schema ``esus-runbook/stage-result/1``::

    {"schema", "site_id", "stage", "status", "started_at", "finished_at",
     "checks": [{"id", "title", "status", "expected", "observed", "remedy"}],
     "metrics": {...}, "inputs": {...}, "error": null | "message"}

``inputs`` maps input names to fingerprints (used to resume a batch); ``error`` is set only
for status ``erro`` (the stage itself crashed). Readers ignore unknown keys, so later minor
additions do not break older readers; a different major schema is refused.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import InputError
from .files.atomic import write_json_atomic
from .run_folder import stage_result_path
from .status import Status, worst

SCHEMA = "esus-runbook/stage-result/1"
STAGES = ("cenario", "ambiente", "download", "instalacao", "contra_chave", "xml")
"""The stage ids in the order they run: the one list of them (``stages.registry`` declares
each stage in this order and refuses any other)."""


_CHECK_ID = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")
CHECK_KEYS = ("id", "title", "status", "expected", "observed", "remedy")  # the JSON's order


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass
class Check:
    """One verification with its evidence.

    ``expected`` and ``observed`` are JSON values shown side by side in reports; ``remedy``
    (pt-BR) says what to do and is required for every status other than ``ok``.
    """

    id: str
    title: str
    status: Status
    expected: Any = None
    observed: Any = None
    remedy: str | None = None

    def __post_init__(self) -> None:
        self.status = Status(self.status)
        if not _CHECK_ID.match(self.id):
            raise ValueError(f"check id {self.id!r} must be an UPPER_SNAKE code")
        if self.status is not Status.OK and not self.remedy:
            raise ValueError(f"check {self.id} is {self.status} and needs a remedy")

    def to_dict(self) -> dict[str, Any]:
        """The check as every published schema writes it (``stage-result``, ``verify-install``)."""
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Check:
        return cls(**{k: d.get(k) for k in CHECK_KEYS})


def derive_status(checks: Iterable[Check]) -> Status:
    """A stage's status from its checks: the worst one; no checks at all is ``pendente``
    (a stage without evidence is never ``ok``)."""
    return worst(c.status for c in checks) or Status.PENDENTE


class Checks(list[Check]):
    """The one container of checks, used by stage results, ``verify-install`` and the
    installer's verification: an ordered list of :class:`Check` (so ``extend``/``insert``
    work as on any list) that adds checks, derives the status, writes and reads the JSON
    list and renders the text the command line prints."""

    def add(self, id: str, title: str, status: Status | str, expected: Any = None,
            observed: Any = None, remedy: str | None = None) -> Check:
        """Append a check and return it."""
        check = Check(id, title, Status(status), expected, observed, remedy)
        self.append(check)
        return check

    def judge(self, id: str, title: str, passed: bool, expected: Any, observed: Any,
              remedy: str, otherwise: Status = Status.FALHA) -> Check:
        """Append ``ok`` when ``passed``, else ``otherwise`` with ``remedy``: the usual
        comparison of an expected value with an observed one."""
        if passed:
            return self.add(id, title, Status.OK, expected, observed)
        return self.add(id, title, otherwise, expected, observed, remedy)

    @property
    def status(self) -> Status:
        """The worst status; ``pendente`` with no checks at all (:func:`derive_status`)."""
        return derive_status(self)

    @property
    def passed(self) -> bool:
        """Every check ``ok`` or ``alerta`` (and at least one check)."""
        return self.status in (Status.OK, Status.ALERTA)

    @property
    def pending(self) -> bool:
        return self.status is Status.PENDENTE

    def to_list(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self]

    @classmethod
    def from_list(cls, items: Iterable[dict[str, Any]]) -> Checks:
        return cls(Check.from_dict(d) for d in items)

    def text(self) -> str:
        """pt-BR lines for a terminal: one per check (the further lines of a multi-line
        ``observed`` indented under it), the remedy under each check that is not ok."""
        lines: list[str] = []
        for c in self:
            observed = c.observed if c.observed is not None else ""
            first, *rest = str(observed).splitlines() or [""]
            lines.append(f"[{c.status.value:^8}] {c.id:<22} {c.title}: {first}")
            lines.extend(f"{'':34}{line}" for line in rest)
            if c.remedy and c.status is not Status.OK:
                lines.append(f"{'':11}→ {c.remedy}")
        return "\n".join(lines)


@dataclass
class StageResult:
    site_id: str
    stage: str
    status: Status = Status.PENDENTE
    started_at: str = field(default_factory=now_iso)
    finished_at: str | None = None
    checks: Checks = field(default_factory=Checks)
    metrics: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "checks" and not isinstance(value, Checks):
            value = Checks(value)  # a plain list assigned or passed in becomes the container
        super().__setattr__(name, value)

    # -- building -------------------------------------------------------------------------
    def add(self, id: str, title: str, status: Status | str, expected: Any = None,
            observed: Any = None, remedy: str | None = None) -> Check:
        """Append a check and return it (:meth:`Checks.add`)."""
        return self.checks.add(id, title, status, expected, observed, remedy)

    def finish(self, **metrics: Any) -> StageResult:
        """Record metrics, stamp ``finished_at`` and derive the status from the checks."""
        self.metrics.update(metrics)
        self.finished_at = now_iso()
        if self.status is not Status.ERRO:
            self.status = self.checks.status
        return self

    @classmethod
    def crashed(cls, site_id: str, stage: str, message: str,
                started_at: str | None = None) -> StageResult:
        """The result of a stage whose notebook or code raised."""
        r = cls(site_id, stage, Status.ERRO, started_at or now_iso(), now_iso(), error=message)
        r.add("ETAPA_ERRO", "Execução da etapa", Status.ERRO, "etapa concluída", message,
              "Veja o notebook executado desta etapa para o erro completo, corrija a entrada e "
              "execute novamente.")
        return r

    # -- JSON -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)  # a deep copy of metrics and inputs
        d["status"] = self.status.value
        d["checks"] = self.checks.to_list()
        return {"schema": SCHEMA, **d}

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "<dict>") -> StageResult:
        schema = d.get("schema", "")
        if not str(schema).startswith("esus-runbook/stage-result/"):
            raise InputError("não é um resultado de etapa do esus-runbook", file=source,
                             key="schema", remedy="use um arquivo <etapa>.json de uma execução")
        if schema != SCHEMA:
            raise InputError(f"versão de esquema não suportada: {schema}", file=source,
                             key="schema", remedy="atualize o esus-runbook")
        try:
            checks = Checks.from_list(d.get("checks", []))
            return cls(site_id=d["site_id"], stage=d["stage"], status=Status(d["status"]),
                       started_at=d.get("started_at"), finished_at=d.get("finished_at"),
                       checks=checks, metrics=d.get("metrics") or {},
                       inputs=d.get("inputs") or {}, error=d.get("error"))
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"resultado de etapa inválido ({exc})", file=source,
                             remedy="execute a etapa novamente") from None

    def save(self, run_site_dir: str | os.PathLike) -> Path:
        """Write the stage's result into the site folder atomically and return its path
        (:func:`.run_folder.stage_result_path`)."""
        path = stage_result_path(run_site_dir, self.stage)
        write_json_atomic(path, self.to_dict())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> StageResult:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("resultado de etapa não encontrado", file=str(path),
                             remedy="execute a etapa antes") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"JSON inválido ({exc.__class__.__name__})", file=str(path),
                             remedy="apague o arquivo e execute a etapa novamente") from None
        return cls.from_dict(data, str(path))
