"""Statuses, severities and exit codes: declared once, used by every layer.

* :class:`Status` — a check's and a stage's verdict, from best to worst (``ok`` < ``alerta`` <
  ``pendente`` < ``falha`` < ``erro``); :func:`worst` is the one way to combine them.
* :class:`Severity` — a finding's severity in the CNES audit, the month-to-month comparison
  and the reconciliation (``error``/``warning`` in their JSON), with its pt-BR label and the
  status it maps to.
* :class:`RunStatus` — the state of a batch run in ``run.json``.
* :class:`ExitCode` — what every command returns (table in ``docs/comandos.md``).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum, IntEnum


class Status(str, Enum):
    """Stage and check statuses, from best to worst."""

    OK = "ok"              # passed, with evidence
    ALERTA = "alerta"      # passes with warnings
    PENDENTE = "pendente"  # input not yet available
    FALHA = "falha"        # a check failed
    ERRO = "erro"          # the stage itself crashed

    def __str__(self) -> str:
        return self.value


SEVERITY = {Status.OK: 0, Status.ALERTA: 1, Status.PENDENTE: 2, Status.FALHA: 3, Status.ERRO: 4}
LABELS = {Status.OK: "OK", Status.ALERTA: "Alerta", Status.PENDENTE: "Pendente",
          Status.FALHA: "Falha", Status.ERRO: "Erro"}


SEVERITY = {Status.OK: 0, Status.ALERTA: 1, Status.PENDENTE: 2, Status.FALHA: 3, Status.ERRO: 4}
LABELS = {Status.OK: "OK", Status.ALERTA: "Alerta", Status.PENDENTE: "Pendente",
          Status.FALHA: "Falha", Status.ERRO: "Erro"}


def worst(statuses: Iterable[Status | str]) -> Status | None:
    """The most severe status of ``statuses`` (None for an empty iterable)."""
    found = [Status(s) for s in statuses]
    return max(found, key=SEVERITY.__getitem__) if found else None


class Severity(str, Enum):
    """A finding's severity. The values are the ones the JSON reports carry."""

    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        """The pt-BR word shown to readers."""
        return "Erro" if self is Severity.ERROR else "Alerta"

    @property
    def status(self) -> Status:
        """The check status a finding of this severity gives."""
        return Status.FALHA if self is Severity.ERROR else Status.ALERTA


class RunStatus(str, Enum):
    """The state of a run folder (``run.json``'s ``status``)."""

    EM_ANDAMENTO = "em_andamento"   # started and not finished (or killed)
    CONCLUIDO = "concluido"         # every site was run
    INTERROMPIDO = "interrompido"   # stopped by the user (Ctrl-C); resumable

    def __str__(self) -> str:
        return self.value


class ExitCode(IntEnum):
    """The exit codes of every command (one table: ``docs/comandos.md``)."""

    OK = 0            # done, nothing failed (alerts allowed)
    FINDINGS = 1      # done, and something failed: a check, an XML error, a difference
    REFUSED = 2       # an input was refused or unusable: nothing was decided
    UNDECIDED = 3     # done, but evidence is missing to decide (pendente)
    INTERRUPTED = 130  # stopped by Ctrl-C (128 + SIGINT); the run can be resumed

    @classmethod
    def for_status(cls, status: Status | str | None) -> ExitCode:
        """The exit code of a verdict: ok/alerta 0, falha/erro 1, pendente 3."""
        if status is None:
            return cls.UNDECIDED
        s = Status(status)
        if s in (Status.FALHA, Status.ERRO):
            return cls.FINDINGS
        if s is Status.PENDENTE:
            return cls.UNDECIDED
        return cls.OK
