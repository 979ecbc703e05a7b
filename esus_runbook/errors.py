"""Error hierarchy.

Every expected failure is a :class:`RunbookError`. The CLI turns it into a pt-BR message on
stderr and an exit code, never a traceback. :class:`InputError` (exit 2) carries structured
fields so that a message always names the file, the key and the fix.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass


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
    """Root of every esus-runbook error. ``exit_code`` is what the CLI returns."""

    exit_code = 1

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

    exit_code = 2

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


_OS_REASONS = {
    errno.EROFS: "sistema de arquivos somente leitura",
    errno.EACCES: "permissão negada",
    errno.EPERM: "operação não permitida",
    errno.ENOSPC: "sem espaço livre no disco",
    errno.EDQUOT: "cota de disco esgotada",
    errno.ENOENT: "caminho não encontrado",
    errno.ENOTDIR: "um trecho do caminho não é uma pasta",
    errno.EISDIR: "é uma pasta",
    errno.EEXIST: "já existe um arquivo com esse nome",
    errno.ENAMETOOLONG: "nome longo demais",
    errno.ELOOP: "laço de links simbólicos",
}


def os_reason(exc: OSError) -> str:
    """A pt-BR reason for an ``OSError`` (``strerror`` is English on most systems)."""
    return _OS_REASONS.get(exc.errno or -1) or exc.strerror or exc.__class__.__name__
