"""Error hierarchy.

Every expected failure is a :class:`RunbookError`. The CLI turns it into a pt-BR message on
stderr and an exit code (:class:`esus_runbook.status.ExitCode`), never a traceback.
:class:`InputError` (exit 2, refused) carries structured fields so that a message always names
the file, the key and the fix.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from .status import ExitCode


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what is wrong, how to fix it."""

    file: str
    key: str | None
    message: str
    remedy: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.key}" if self.key else self.file
        text = f"{where}: {self.message}"
        if self.remedy:
            text += f" — {self.remedy}"
        return " ".join(text.split())  # always one line


class RunbookError(Exception):
    """Root of every esus-runbook error. ``exit_code`` is what the CLI returns: something
    failed and the command could not finish (FINDINGS, 1)."""

    exit_code: ExitCode = ExitCode.FINDINGS

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 remedy: str | None = None):
        super().__init__(message)
        self.problems: list[Problem] = [Problem(str(file or ""), key, message, remedy)]

    def __str__(self) -> str:
        return "\n".join(_render(p) for p in self.problems)


def _render(p: Problem) -> str:
    if p.file:
        return str(p)
    text = p.message + (f" — {p.remedy}" if p.remedy else "")
    return " ".join(text.split())


class InputError(RunbookError):
    """An input was rejected or is unusable (exit 2). May hold several problems."""

    exit_code = ExitCode.REFUSED

    @classmethod
    def from_problems(cls, problems: list[Problem]) -> InputError:
        if not problems:
            raise ValueError("InputError needs at least one problem")
        err = cls(problems[0].message, file=problems[0].file, key=problems[0].key,
                  remedy=problems[0].remedy)
        err.problems = list(problems)
        return err


class HostileFileError(InputError):
    """A file refused for safety: DOCTYPE/entities, zip bomb, zip-slip, oversize."""


class SecretError(InputError):
    """A secret reference (environment variable or file) is missing or unusable."""


class StageError(RunbookError):
    """A stage crashed (status ``erro``). Its message is already free of personal data and
    secrets, because it ends up in executed notebooks, results and logs."""


# errno → pt-BR, for messages about files and connections (``OSError.strerror`` is English).
_OS_ERRORS = {
    "ENOENT": "não existe", "ENOTDIR": "parte do caminho não é uma pasta",
    "EISDIR": "é uma pasta", "EACCES": "sem permissão", "EPERM": "operação não permitida",
    "EROFS": "sistema de arquivos somente leitura", "ENOSPC": "disco cheio",
    "EDQUOT": "cota de disco esgotada", "ENAMETOOLONG": "nome longo demais",
    "ELOOP": "links simbólicos em ciclo", "EEXIST": "já existe", "EBUSY": "em uso",
    "EIO": "erro de leitura/gravação no disco", "EMFILE": "arquivos abertos demais",
    "ETXTBSY": "arquivo em uso", "EXDEV": "em outro sistema de arquivos",
    "ECONNREFUSED": "conexão recusada (nada escuta nesta porta)",
    "ECONNRESET": "conexão encerrada pelo outro lado", "ECONNABORTED": "conexão abortada",
    "ETIMEDOUT": "sem resposta no prazo", "EHOSTUNREACH": "servidor inalcançável",
    "ENETUNREACH": "rede inalcançável", "EHOSTDOWN": "servidor fora do ar",
    "EADDRINUSE": "porta já em uso", "EADDRNOTAVAIL": "endereço local indisponível",
    "EPIPE": "conexão encerrada pelo outro lado",
}


def describe_os_error(exc: OSError) -> str:
    """A short pt-BR description of an ``OSError`` (never its English ``strerror``)."""
    if isinstance(exc, socket.gaierror):
        return "nome não encontrado no DNS"
    if isinstance(exc, TimeoutError) and not exc.errno:
        return "sem resposta no prazo"
    name = errno.errorcode.get(exc.errno or -1, "")
    return _OS_ERRORS.get(name) or (f"erro do sistema {name}" if name
                                    else "erro do sistema de arquivos")
