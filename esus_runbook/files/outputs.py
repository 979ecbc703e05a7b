"""Output files a command writes (``--json``, ``--html``, ``--saida``, ``--pdf``...): one
validator, checked before the work, and an atomic writer.

A command that audits a capital's XML for a minute must not fail at the end because its
``--json`` names a folder or a missing folder, and a failed write must not leave half a file
under the final name. :func:`check_outputs` is the one rule every command applies to the
outputs the user names, before any work: each is not a folder nor a special file, its folder
exists and is writable, it is none of the command's own inputs and no other output; the
refusal is one pt-BR line naming the option (:class:`~esus_runbook.errors.InputError`,
exit 2). :func:`write_report` writes through a temporary file renamed into place
(:func:`esus_runbook.files.atomic.write_text_atomic`); see docs/cnes-xml-audit.md.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ..errors import InputError, describe_os_error
from .atomic import write_text_atomic


def _path_problem(text: str) -> str | None:
    """Why ``text`` cannot be an output file (pt-BR, one line), or None when it can: it must
    not be a folder or a special file, and its folder must exist and be writable. The file
    itself is created or replaced."""
    if not text or not text.strip():
        return "caminho vazio: informe o arquivo a gravar"
    p = Path(text).expanduser()
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as exc:
        return f"caminho inválido: {text} ({describe_os_error(exc)})"
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            return f"{text} é uma pasta: informe o caminho de um arquivo a gravar dentro dela"
        if not stat.S_ISREG(st.st_mode):
            return f"{text} não é um arquivo comum (FIFO ou dispositivo): informe um arquivo"
    parent = p.parent
    try:
        pst = parent.stat()
    except FileNotFoundError:
        return f"a pasta {parent} não existe: crie-a antes ou informe outro caminho"
    except OSError as exc:
        return f"não é possível gravar em {parent} ({describe_os_error(exc)})"
    if not stat.S_ISDIR(pst.st_mode):
        return f"{parent} não é uma pasta: informe o arquivo dentro de uma pasta existente"
    if not os.access(parent, os.W_OK | os.X_OK):
        return (f"sem permissão para gravar na pasta {parent} (ou ela é somente leitura): "
                "informe outra pasta")
    return None


def check_outputs(outputs: Iterable[tuple[str, str | os.PathLike | None]],
                  inputs: Iterable[str | os.PathLike | None] = ()) -> None:
    """Refuse, before any work, an output the command could not write or should not: the
    :func:`_path_problem` rule, one of the command's ``inputs`` (it would be overwritten by
    the report) or the same file as another output. ``outputs`` are ``(option, path or
    None)``; None (an option not given) and None inputs are skipped. Raises InputError."""
    seen: list[tuple[str, Path]] = []
    ins = [Path(i).expanduser() for i in inputs if i is not None and str(i)]
    for option, path in outputs:
        if path is None:
            continue
        problem = _path_problem(str(path))
        if problem:
            raise InputError(problem, file=option)
        p = Path(path).expanduser()
        for i in ins:
            if _same(p, i):
                raise InputError("o arquivo de saída é o próprio arquivo de entrada e seria "
                                 "sobrescrito", file=option,
                                 remedy=f"informe em {option} outro nome")
        for other, q in seen:
            if _same(p, q):
                raise InputError(f"o mesmo arquivo que {other}", file=option,
                                 remedy="use um nome diferente para cada saída")
        seen.append((option, p))


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def write_report(path: str | os.PathLike, text: str, *, what: str = "",
                 remedy: str = "confira o espaço livre e a permissão da pasta e tente de "
                               "novo") -> Path:
    """Write ``text`` atomically; an OS error becomes a pt-BR InputError naming the file
    (``what``: the thing written, e.g. "a sondagem"; ``remedy``: what to do)."""
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise InputError(f"não foi possível gravar{' ' + what if what else ''} "
                         f"({describe_os_error(exc)})", file=str(path), remedy=remedy) from None
    return Path(path)
