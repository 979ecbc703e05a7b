"""Statuses, severities and exit codes: declared once, used by every layer.

* :class:`Status` — a check's and a stage's verdict, from best to worst (``ok`` < ``alerta`` <
  ``pendente`` < ``falha`` < ``erro``); :func:`worst` is the one way to combine them.
* :class:`Severity` — a finding's severity in the CNES audit, the month-to-month comparison
  and the reconciliation (``error``/``warning`` in their JSON), with its pt-BR label and the
  status it maps to.
* :class:`RunStatus` — the state of a batch run in ``run.json``.
* :class:`ExitCode` — what every command returns (the table of the command reference,
  ``referencia/codigos-de-saida.md``, is generated from it), and :class:`CommandReport`, what
  every command hands the command line: text for the terminal, notices, an exit code and,
  for some, JSON and HTML files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from enum import Enum, IntEnum
from pathlib import Path
from typing import Protocol, runtime_checkable


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


def worst(statuses: Iterable[Status | str]) -> Status | None:
    """The most severe status of ``statuses`` (None for an empty iterable)."""
    found = [Status(s) for s in statuses]
    return max(found, key=SEVERITY.__getitem__) if found else None


class Severity(str, Enum):
    """A finding's severity, from worst to mildest. The values are the ones the JSON reports
    carry (``schemas/xml-*.schema.json``); ``info`` is only the month-to-month comparison's
    (an expected change, nothing to review)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        """The pt-BR word shown to readers (terminal, HTML, charts)."""
        return _SEVERITY_WORDS[self]

    @property
    def status(self) -> Status:
        """The check status a finding of this severity gives (also its CSS ``cell-`` class)."""
        return _SEVERITY_STATUS[self]

    @property
    def rank(self) -> int:
        """0 for the worst severity: the order of tables and lists."""
        return list(Severity).index(self)


_SEVERITY_WORDS = {Severity.ERROR: "erro", Severity.WARNING: "alerta",
                   Severity.INFO: "informação"}
_SEVERITY_STATUS = {Severity.ERROR: Status.FALHA, Severity.WARNING: Status.ALERTA,
                    Severity.INFO: Status.OK}
# severity → pt-BR word, for code that takes a mapping (chart legends, templates)
SEVERITY_LABELS = {s: s.label for s in Severity}


class RunStatus(str, Enum):
    """The state of a run folder (``run.json``'s ``status``)."""

    EM_ANDAMENTO = "em_andamento"   # started and not finished (or killed)
    CONCLUIDO = "concluido"         # every site was run
    INTERROMPIDO = "interrompido"   # stopped by the user (Ctrl-C); resumable

    def __str__(self) -> str:
        return self.value


class ExitCode(IntEnum):
    """The exit codes of every command (one table, generated into the command reference)."""

    OK = 0            # done, nothing failed (alerts allowed)
    FINDINGS = 1      # done, and something failed: a check, an XML error, a difference
    REFUSED = 2       # an input was refused or unusable: nothing was decided
    UNDECIDED = 3     # done, but evidence is missing to decide (pendente)
    INTERRUPTED = 130  # stopped by Ctrl-C (128 + SIGINT); the run can be resumed

    @property
    def meaning(self) -> str:
        """What the code means, in pt-BR (the ``--help`` epilog and the reference)."""
        return _EXIT_MEANINGS[self]

    @classmethod
    def for_status(cls, status: Status | str | None) -> ExitCode:
        """The exit code of a verdict: ok/alerta 0, falha/erro 1, pendente (or none) 3."""
        if status is None:
            return cls.UNDECIDED
        s = Status(status)
        if s in (Status.FALHA, Status.ERRO):
            return cls.FINDINGS
        if s is Status.PENDENTE:
            return cls.UNDECIDED
        return cls.OK


_EXIT_MEANINGS = {
    ExitCode.OK: "concluído sem falhas (pode haver alertas)",
    ExitCode.FINDINGS: "concluído com achados: uma verificação falhou, uma etapa ou um notebook "
                       "deu erro, um erro no XML, uma diferença a revisar",
    ExitCode.REFUSED: "entrada recusada ou inutilizável: nada foi decidido",
    ExitCode.UNDECIDED: "concluído, mas faltam evidências para decidir (pendente)",
    ExitCode.INTERRUPTED: "interrompido pelo usuário (Ctrl-C); uma execução pode ser retomada",
}


@runtime_checkable
class CommandReport(Protocol):
    """What a command hands the command line, which prints :meth:`text` on standard output,
    :meth:`notices` (if any) on standard error, and returns :attr:`exit_code`. The options
    that shape the text (how many examples, the inventory to resume) are the report's own
    fields, so every report prints the same way."""

    @property
    def exit_code(self) -> ExitCode: ...

    def text(self) -> str:
        """The pt-BR lines for the terminal (standard output)."""
        ...

    def notices(self) -> str:
        """Warnings for standard error, one per line ("" when none)."""
        ...


@runtime_checkable
class JsonReport(CommandReport, Protocol):
    """A report that also writes itself as JSON (``--json``)."""

    def write_json(self, path: str | os.PathLike) -> Path:
        """Write the JSON atomically (an OS error is an InputError naming the file)."""
        ...


@runtime_checkable
class HtmlReport(JsonReport, Protocol):
    """A report that also writes itself as JSON and HTML (``--json``, ``--html``)."""

    def write_html(self, path: str | os.PathLike) -> Path:
        """Write the HTML page atomically."""
        ...
