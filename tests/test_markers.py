"""The test tiers are honest (docs/testes.md): a test carries the marker of what it needs, and
only that, as far as it can be read from the source without running anything.

Markers come from three places: ``pytestmark`` of the module, the test's decorators, and
tests/support/tiers.py's ``MARKER_OF_FIXTURE`` for every fixture the test uses, directly or through
other fixtures. What a test does in its body (and in the helpers of tests/ it calls) is read
from the syntax tree: running notebooks or JupyterLab needs ``notebooks``, ``psycopg`` needs
``postgres``, Playwright needs ``browser``; and a test marked ``notebooks``, ``postgres`` or
``browser`` must show a reason for it, so a cheap check is never hidden in a slow tier.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .support.project import ROOT
from .support.tiers import MARKER_OF_FIXTURE

TESTS = ROOT / "tests"
TIERS = ("notebooks", "postgres", "browser")

# What in a test's code (names, attributes, imported modules) needs a tier.
NEEDS = {
    "notebooks": {"execute_notebook", "papermill", "nbclient", "NotebookClient",
                  "KernelManager", "KernelPool", "lab_cli", "jupyter_env", "DaskCluster", "start_batch",
                  "KernelSampler", "demo_run", "demo_simulator"},
    "postgres": {"psycopg", "postgres", "pec_db"},
    "browser": {"playwright", "sync_playwright", "browser"},
}
# Also a reason to be marked `notebooks`: the commands that run notebooks, named as strings
# (`cli("lote", ...)`). Not a proof: a refused batch runs nothing.
MAY_RUN_NOTEBOOKS = {"lote", "executar", "lab", "batch", "run"}

# Known lies in files other work is changing now, each with the fix; empty this as they land.
PENDING: dict[tuple[str, str], str] = {}


@dataclass
class Module:
    path: Path
    tree: ast.Module
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    fixtures: dict[str, ast.FunctionDef] = field(default_factory=dict)
    imported: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (module, name)
    marks: dict[str, set[str]] = field(default_factory=dict)  # module-level `x = pytest.mark.y`
    scripts: dict[str, ast.Module] = field(default_factory=dict)  # `X = """python code"""`


def _mark_names(node: ast.AST, aliases: dict[str, set[str]]) -> set[str]:
    """``pytest.mark.x``, ``pytest.mark.x(...)``, a list of them, or an alias of one."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return set().union(*(_mark_names(e, aliases) for e in node.elts)) if node.elts else set()
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return aliases.get(node.id, set())
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "mark"):
        return {node.attr}
    return set()


def _is_fixture(fn: ast.FunctionDef) -> bool:
    for d in fn.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        if isinstance(target, ast.Attribute) and target.attr == "fixture":
            return True
    return False


def _params(fn: ast.FunctionDef) -> list[str]:
    return [a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
            if a.arg not in ("self", "cls")]


def load(path: Path) -> Module:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    mod = Module(path, tree)
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            names = _mark_names(node.value, mod.marks)
            if names:
                mod.marks[node.targets[0].id] = names
            elif isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                try:  # a script a test runs in a subprocess: what it uses counts too
                    mod.scripts[node.targets[0].id] = ast.parse(node.value.value)
                except SyntaxError:
                    pass
        elif isinstance(node, ast.ImportFrom) and node.level >= 1 and node.module:
            for alias in node.names:  # keyed by the module's own name (tests/ or tests/support/)
                mod.imported[alias.asname or alias.name] = (node.module.rsplit(".", 1)[-1],
                                                            alias.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            (mod.fixtures if _is_fixture(node) else mod.functions)[node.name] = node
    return mod


@pytest.fixture(scope="module")
def modules() -> dict[str, Module]:
    paths = sorted(TESTS.glob("*.py")) + sorted((TESTS / "support").glob("*.py"))
    return {p.stem: load(p) for p in paths if p.stem != "__init__"}


def _words(node: ast.AST) -> tuple[set[str], set[str], set[str]]:
    """Names, attributes and imported modules used in ``node``; its short string constants;
    the names it calls."""
    words, strings, calls = set(), set(), set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            words.add(n.id)
        elif isinstance(n, ast.Attribute):
            words.add(n.attr)
        elif isinstance(n, ast.Import):
            words.update(a.name.split(".")[0] for a in n.names)
        elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
            words.add(n.module.split(".")[0])
            words.update(a.name for a in n.names)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value) < 40:
            strings.add(n.value)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
            calls.add(n.func.id)
    return words, strings, calls


# fixtures of the plugins conftest.py loads, visible to every test module
PLUGINS = ("conftest", "servers", "browser", "sshd", "upkeep")


def _fixture(modules: dict[str, Module], mod: Module, name: str):
    if name in mod.fixtures:
        return mod, mod.fixtures[name]
    for plugin in PLUGINS:
        if name in modules[plugin].fixtures:
            return modules[plugin], modules[plugin].fixtures[name]
    return None


def fixture_closure(modules: dict[str, Module], mod: Module, names: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found = _fixture(modules, mod, name)
        if found:
            todo.extend(_params(found[1]))
    return seen


def code_words(modules: dict[str, Module], mod: Module, fn: ast.FunctionDef,
               fixtures: set[str]) -> tuple[set[str], set[str]]:
    """Everything the test's code uses: its body, the helpers of tests/ it calls (in its
    module or imported from another), and the bodies of the fixtures of its module."""
    words: set[str] = set(fixtures)
    strings: set[str] = set()
    todo = [(mod, fn)] + [(mod, mod.fixtures[f]) for f in fixtures if f in mod.fixtures]
    seen: set[int] = set()
    while todo:
        m, node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        found, text, calls = _words(node)
        words |= found
        todo += [(m, m.scripts[name]) for name in found & m.scripts.keys()]
        strings |= text
        for call in calls:
            if call in m.functions:
                todo.append((m, m.functions[call]))
            elif call in m.imported and m.imported[call][0] in modules:
                other = modules[m.imported[call][0]]
                if m.imported[call][1] in other.functions:
                    todo.append((other, other.functions[m.imported[call][1]]))
    return words, strings


@dataclass
class Case:
    nodeid: str
    markers: set[str]
    words: set[str]    # names, attributes, modules
    strings: set[str]  # string constants


def cases(modules: dict[str, Module]) -> list[Case]:
    out = []
    for stem, mod in modules.items():
        if not stem.startswith("test_"):
            continue
        module_marks: set[str] = set()
        for node in mod.tree.body:
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
                module_marks |= _mark_names(node.value, mod.marks)
        units = [(None, set(), n) for n in mod.tree.body]
        for node in mod.tree.body:
            if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                cls_marks = set().union(*(_mark_names(d, mod.marks)
                                          for d in node.decorator_list)) \
                    if node.decorator_list else set()
                units += [(node.name, cls_marks, n) for n in node.body]
        for cls, cls_marks, fn in units:
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    or not fn.name.startswith("test_") or _is_fixture(fn):
                continue
            used = _params(fn)
            for d in fn.decorator_list:  # @pytest.mark.usefixtures("x")
                if isinstance(d, ast.Call) and _mark_names(d, {}) == {"usefixtures"}:
                    used += [a.value for a in d.args if isinstance(a, ast.Constant)]
            fixtures = fixture_closure(modules, mod, used)
            markers = module_marks | cls_marks | {m for d in fn.decorator_list
                                                  for m in _mark_names(d, mod.marks)}
            markers |= {MARKER_OF_FIXTURE[f] for f in fixtures & MARKER_OF_FIXTURE.keys()}
            nodeid = f"{mod.path.relative_to(ROOT)}::{cls + '::' if cls else ''}{fn.name}"
            out.append(Case(nodeid, markers, *code_words(modules, mod, fn, fixtures)))
    return out


@pytest.fixture(scope="module")
def suite(modules) -> list[Case]:
    return cases(modules)


def test_the_source_reader_sees_the_suite(suite):
    found = {t.nodeid: t for t in suite}
    assert len(found) > 400
    # markers from each place: module, decorator, alias of a decorator, fixture
    assert "notebooks" in found["tests/test_batch.py::test_demo_run_folder_layout"].markers
    assert "postgres" in found[
        "tests/test_instalacao.py::test_training_database_in_production_site"].markers
    assert "ssh" in found["tests/test_ssh.py::test_connect_and_run"].markers
    assert found["tests/test_results.py::test_crashed_result"].markers == set()


@pytest.mark.parametrize("tier", TIERS)
def test_what_a_test_needs_is_marked(suite, tier):
    missing = [t.nodeid for t in suite
               if t.words & NEEDS[tier] and tier not in t.markers]
    assert not missing, f"needs '{tier}' but is not marked: {missing}"


@pytest.mark.parametrize("tier", TIERS)
def test_a_marked_test_needs_its_tier(suite, tier):
    idle = []
    for t in suite:
        reasons = t.words & NEEDS[tier]
        if tier == "notebooks":
            reasons |= t.strings & MAY_RUN_NOTEBOOKS
        if tier in t.markers and not reasons and (tier, t.nodeid) not in PENDING:
            idle.append(t.nodeid)
    assert not idle, f"marked '{tier}' without needing it (move to the fast tier): {idle}"


def test_pending_lies_are_still_there(suite):
    """An entry of PENDING that was fixed must leave the list (so it cannot hide a new lie)."""
    found = {t.nodeid: t for t in suite}
    fixed = [key for key in PENDING if key[1] not in found or key[0] not in found[key[1]].markers]
    assert not fixed, f"fixed, remove from PENDING: {fixed}"
