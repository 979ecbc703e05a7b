"""``esus-runbook inspecionar``: the parameters a notebook takes (papermill's inspection)."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

from .errors import InputError


def notebook_parameters(path: str | Path) -> dict[str, dict]:
    path = Path(path)
    if not path.exists():
        raise InputError("notebook não encontrado", file=str(path), remedy="confira o caminho")
    if not path.is_file():   # a folder, or a FIFO that would block the reader
        raise InputError("é uma pasta" if path.is_dir() else "não é um arquivo comum",
                         file=str(path), remedy="informe um arquivo .ipynb")
    # Lazy: papermill and the batch's executor cost 0.4 s (measured with `python -X
    # importtime`); a path refused above answers without them. import_papermill skips the
    # grammar compiled by rfc3987_syntax (0.7 s of the 1.3 s this command took).
    from .batch.execution import import_papermill

    pm = import_papermill()

    try:
        with warnings.catch_warnings():   # papermill warns in English about the extension
            warnings.simplefilter("ignore")
            return pm.inspect_notebook(str(path))
    except Exception:  # nbformat validation, JSON errors (their text is English)
        raise InputError("não é um notebook válido (o conteúdo não é um notebook Jupyter)",
                         file=str(path), remedy="informe um arquivo .ipynb") from None


def _literal_type(default: str | None) -> str:
    """The Python type of a parameter's literal default (papermill infers only annotated
    ones)."""
    try:
        value = ast.literal_eval(default or "")
    except (ValueError, SyntaxError):
        return "?"
    return "None" if value is None else type(value).__name__


def describe_parameters(path: str | Path) -> str:
    params = notebook_parameters(path)
    if not params:
        return f"{path}: o notebook não tem célula 'parameters'."
    width = max(len(n) for n in params)
    lines = [f"Parâmetros de {Path(path).name}:"]
    for name, p in params.items():
        kind = _literal_type(p.get("default"))
        help_ = f"  # {p['help']}" if p.get("help") else ""
        lines.append(f"  {name:<{width}}  {kind:<8} = {p.get('default')}{help_}")
    return "\n".join(lines)
