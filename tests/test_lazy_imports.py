"""Imports live at module level (docs/arquitetura.md). An import inside a function is allowed
only where loading it lazily was measured to matter, and then says so: a comment with
"lazy" on the import or above it in the function, the function's docstring, or a module-level
``# Lazy imports: ...`` comment that gives the reason and the figures for the whole module."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

from .support.project import ROOT

PACKAGE = ROOT / "esus_runbook"
MODULE_NOTE = re.compile(r"^#\s*Lazy imports?:", re.I | re.M)


def unexplained_imports(path) -> list[int]:
    """The lines of ``path`` holding an import inside a function without its reason."""
    text = path.read_text(encoding="utf-8")
    if MODULE_NOTE.search(text):
        return []
    src = text.splitlines()
    out = []
    for fn in ast.walk(ast.parse(text)):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        doc = (ast.get_docstring(fn) or "").lower()
        for node in fn.body:
            for imp in ast.walk(node):
                if isinstance(imp, (ast.Import, ast.ImportFrom)):
                    above = src[fn.lineno - 1:imp.lineno]
                    if "lazy" not in doc and "lazily" not in doc and not any(
                            "#" in line and "lazy" in line.lower() for line in above):
                        out.append(imp.lineno)
    return sorted(set(out))


def test_every_import_inside_a_function_says_why():
    found = [f"{path.relative_to(ROOT)}:{line}" for path in sorted(PACKAGE.rglob("*.py"))
             for line in unexplained_imports(path)]
    assert not found, f"import inside a function without the reason (lazy: ...): {found}"


def test_the_check_sees_an_unexplained_import(tmp_path):
    mod = tmp_path / "m.py"
    mod.write_text("def f():\n    import json\n    return json\n\n\n"
                   "def g():\n    # lazy: pandas costs 0.7 s\n    import pandas\n",
                   encoding="utf-8")
    assert unexplained_imports(mod) == [2]
    mod.write_text("# Lazy imports: pandas 0.7 s\n" + mod.read_text(), encoding="utf-8")
    assert unexplained_imports(mod) == []


def test_the_package_root_gives_its_api_without_loading_the_stages():
    """``import esus_runbook`` (every CLI command does it first) resolves every name of its
    ``__all__`` and loads neither the stage registry nor pandas or papermill."""
    code = ("import sys, json, esus_runbook as e; [getattr(e, n) for n in e.__all__]; "
            "print(json.dumps(sorted(m for m in ('esus_runbook.stages', 'pandas', 'papermill')"
            " if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert json.loads(out.stdout) == []
