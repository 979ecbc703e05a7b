"""The documentation's generated reference pages (docs/gen_ref.py), read without MkDocs."""

from __future__ import annotations

import importlib.util
from functools import cache
from types import ModuleType

from .project import ROOT

DOCS = ROOT / "docs"


@cache
def gen_ref() -> ModuleType:
    """docs/gen_ref.py (a MkDocs hook script, not a package module) loaded as a module."""
    spec = importlib.util.spec_from_file_location("esus_runbook_gen_ref", DOCS / "gen_ref.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def reference_pages() -> dict[str, str]:
    """Path under docs/ → Markdown of every generated reference page."""
    return gen_ref().pages()


def user_docs() -> dict[str, str]:
    """The hand-written pages of docs/ by name (``docs/lote.md``...)."""
    return {f"docs/{p.name}": p.read_text("utf-8") for p in sorted(DOCS.glob("*.md"))}
