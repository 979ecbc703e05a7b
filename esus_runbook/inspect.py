"""``esus-runbook inspect``: the parameters a notebook takes (papermill's inspection)."""

from __future__ import annotations

from pathlib import Path

from .errors import InputError


def notebook_parameters(path: str | Path) -> dict[str, dict]:
    import papermill as pm

    path = Path(path)
    if not path.exists():
        raise InputError("notebook não encontrado", file=str(path), remedy="confira o caminho")
    try:
        return pm.inspect_notebook(str(path))
    except Exception as exc:  # nbformat validation, JSON errors
        raise InputError(f"não é um notebook válido ({exc.__class__.__name__})",
                         file=str(path), remedy="informe um arquivo .ipynb") from None


def _literal_type(default: str | None) -> str:
    """The Python type of a parameter's literal default (papermill infers only annotated
    ones)."""
    import ast

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
