"""The documentation: the MkDocs site builds with --strict and its generated reference lists
every check code, XML rule, site-file key, command and flag; the README stays short, its links
resolve, and its "7 passos", followed literally against the demo's simulator, end in a dossier.
"""

from __future__ import annotations

import argparse
import ast
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from esus_runbook import cli, errors
from esus_runbook.cnes import diff as cnes_diff
from esus_runbook.cnes import rules as cnes_rules
from esus_runbook.reconcile import compare as reconcile_compare
from esus_runbook.sites.fields import FIELDS

from .support.docs_ref import gen_ref
from .support.project import EXAMPLES, ROOT, demo_env, require, require_tool

README = ROOT / "README.md"
CHECK_CODE = re.compile(r"(CEN|AMB|DL|INST|PEC|DB|SRV|CC|XML)_[A-Z0-9_]*[A-Z0-9]")
# Literals shaped like a check code that are not one (checked to still exist, so this list
# cannot rot): the default NAME of the database password variable.
NOT_CHECK_CODES = {"PEC_DB_SENHA": "esus_runbook/stages/instalacao.py"}
SEVERITY = {"error": "erro", "warning": "alerta", "info": "informação"}


def _string_literals(path: Path) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(path.read_text("utf-8")))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def source_check_codes() -> set[str]:
    """Every check code the product can emit, found independently of docs/gen_ref.py: each
    string literal shaped like a code, plus the codes built from the XML rule tables."""
    codes: set[str] = set()
    for path in (ROOT / "esus_runbook").rglob("*.py"):
        if "demo" not in path.relative_to(ROOT / "esus_runbook").parts:
            codes |= {s for s in _string_literals(path) if CHECK_CODE.fullmatch(s)}
    for name, where in NOT_CHECK_CODES.items():
        assert name in _string_literals(ROOT / where), (name, where)
        codes.discard(name)
    codes |= {f"XML_{c}" for c in cnes_rules.RULES}
    codes |= {f"XML_PEC_{c}" for c in reconcile_compare.KINDS}
    return codes


def parser_commands() -> dict[str, argparse.ArgumentParser]:
    """'xml audit' → its parser, for every (sub)command (aliases included)."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found[" ".join(path + (name,))] = sub
                    walk(sub, path + (name,))

    walk(cli.build_parser(), ())
    return found


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page.read_text("utf-8")))


def _rows(page: Path) -> list[str]:
    return [_text_of(r) for r in re.findall(r"<tr>(.*?)</tr>", page.read_text("utf-8"), re.S)]


def _text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_docs_site_builds_strict_and_the_reference_lists_everything(tmp_path):
    require(importlib.util.find_spec("mkdocs") is not None
            and importlib.util.find_spec("material") is not None,
            "mkdocs e mkdocs-material (pip install -e '.[docs]')")
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--site-dir", str(site)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert not (ROOT / "docs" / "referencia").exists()  # generated in memory, never committed
    ref = site / "referencia"

    checks = _text(ref / "verificacoes.html")
    missing = sorted(c for c in source_check_codes() if not re.search(rf"\b{c}\b", checks))
    assert not missing, missing
    stage_of = {"CEN": "1", "AMB": "2", "DL": "3", "INST": "4", "PEC": "4", "DB": "4",
                "SRV": "4", "CC": "5", "XML": "6"}
    sections = re.split(r"Etapa (\d) ·", checks)[1:]
    by_stage = dict(zip(sections[::2], sections[1::2], strict=True))
    for code in source_check_codes():
        assert re.search(rf"\b{code}\b", by_stage[stage_of[code.split('_')[0]]]), code

    rows = _rows(ref / "regras-xml.html")
    for table in (cnes_rules.RULES, cnes_diff.KINDS, reconcile_compare.KINDS):
        for code, rule in table.items():
            row = next((r for r in rows if r.startswith(f"{code} ")), None)
            assert row is not None, code
            assert row.split()[1] == SEVERITY[rule.severity].split()[0], (code, row)

    fields = _text(ref / "arquivo-do-site.html")
    for section, items in FIELDS.items():
        for f in items:
            key = f"{section}.{f.key}" if section else f.key
            assert re.search(rf"(?<![\w.]){re.escape(key)}(?![\w.])", fields), key

    commands = _text(ref / "comandos.html")
    for path, parser in parser_commands().items():
        assert f"esus-runbook {path}" in commands, path
        for action in parser._actions:
            for flag in action.option_strings:
                assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", commands), (path, flag)

    exit_rows = {r.split()[0]: r for r in _rows(ref / "codigos-de-saida.html")[1:]}
    assert {"0", "1", "2", "130"} <= set(exit_rows), exit_rows
    for cls in vars(errors).values():
        if isinstance(cls, type) and issubclass(cls, errors.RunbookError):
            assert cls.__name__ in exit_rows[str(cls.exit_code)], cls

    home = _text(site / "index.html")
    assert "Por onde começar" in home and (site / "img" / "relatorio.png").is_file()


def test_readme_is_short_installs_only_what_works_and_links_resolve():
    text = README.read_text("utf-8")
    assert len(text.encode("utf-8")) <= 10 * 1024
    for needed in ("make setup", "make demo", "make test", "make wheel",
                   "## Sua primeira implantação em 7 passos"):
        assert needed in text, needed
    # The package is on no index: no instruction may install it by name.
    assert not re.search(r"pip install ['\"]?esus-runbook", text)
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    assert len(links) > 20
    for link in links:
        if "://" not in link:
            assert (ROOT / link).exists(), link


def _seven_steps() -> tuple[str, list[str]]:
    text = README.read_text("utf-8")
    section = text.split("## Sua primeira implantação em 7 passos", 1)[1].split("\n## ", 1)[0]
    for n in range(1, 8):
        assert f"**{n}. " in section, n
    return section, re.findall(r"```bash\n(.*?)```", section, re.S)


def test_readme_seven_steps_end_in_a_signed_dossier(tmp_path, demo_simulator, http_server):
    """The README's 7 steps, run as written from a copy of the checkout's examples against
    the demo's simulator; only the edits the README asks for in step 1 and the installer link
    of its step-4 note are applied by the test (each is checked to be in the README)."""
    require_tool("chromium")
    section, blocks = _seven_steps()
    assert len(blocks) == 7, blocks
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    installers = http_server(folder=EXAMPLES / "installers")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("ESUS_CC_UBS_CENTRO", None)

    def step(i: int, script: str, ok=(0,), stdin: str = "") -> None:
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
                              input=stdin, capture_output=True, text=True, timeout=900)
        assert proc.returncode in ok, (i + 1, script, proc.stdout[-3000:], proc.stderr[-3000:])

    step(0, blocks[0])
    site = tmp_path / "implantacao" / "sites" / "ubs-norte.yaml"
    text = site.read_text("utf-8")
    edits = [  # (what the README asks in step 1, the edit)
        ("`site_id: ubs-norte`", "site_id: ubs-centro", "site_id: ubs-norte"),
        ("`nome`", "nome: UBS Centro", "nome: UBS Norte"),
        ("`contra_chave_env: ESUS_CC_UBS_NORTE`", "contra_chave_env: ESUS_CC_UBS_CENTRO",
         "contra_chave_env: ESUS_CC_UBS_NORTE"),
        ("`ambiente.probe: ../probes/ubs-norte.json`", "probe: ../probes/ubs-centro.json",
         "probe: ../probes/ubs-norte.json"),
        ("`instalador.arquivo: ../instaladores/<nome do instalador>`",
         "arquivo: ../installers/eSUS-AB-PEC-0.0.1-Linux64.jar",
         "arquivo: ../instaladores/eSUS-AB-PEC-0.0.1-Linux64.jar"),
    ]
    for asked, old, new in edits:
        assert asked in section and old in text, (asked, old)
        text = text.replace(old, new)
    for key in ("sha256", "anterior", "alteracoes_confirmadas"):  # "apague ..."
        assert re.search(rf"`(instalador|xml)\.{key}`", section), key
        text, n = re.subn(rf"(?m)^  {key}: .*\n", "", text)
        assert n == 1, key
    site.write_text(text, "utf-8")

    step(1, blocks[1])
    step(2, blocks[2])
    # Step 4's note for the demo: the team registry copied beside the installers, the local
    # link and version 0.0.1 (served here on a free port instead of 18090).
    assert "examples/installers/registro-instaladores.csv" in section
    assert "http://127.0.0.1:18090/eSUS-AB-PEC-0.0.1-Linux64.jar" in section
    shutil.copy(EXAMPLES / "installers" / "registro-instaladores.csv",
                tmp_path / "implantacao" / "instaladores")
    download, n_url = re.subn(r"(?m)^URL_DO_INSTALADOR=.*$",
                              f"URL_DO_INSTALADOR={installers.url}/eSUS-AB-PEC-0.0.1-Linux64.jar",
                              blocks[3])
    download, n_version = re.subn(r"(?m)^VERSAO=.*$", "VERSAO=0.0.1", download)
    assert n_url == n_version == 1, blocks[3]
    step(3, download)
    step(4, blocks[4])
    step(5, blocks[5], ok=(0, 1), stdin=demo_env()["ESUS_CC_UBS_CENTRO"] + "\n")
    step(6, blocks[6])

    runs = [p for p in (tmp_path / "implantacao" / "execucoes").iterdir()
            if (p / "run.json").is_file()]
    assert len(runs) == 1 and (runs[0] / "ubs-norte" / "relatorio.html").is_file()
    dossier = (tmp_path / "implantacao" / "execucoes" / "dossies" / "ubs-norte.html")
    page = dossier.read_text("utf-8")
    assert "ubs-norte" in page and "Assinaturas" in page
    # Stage 5 read the contra-chave from the variable typed at `read -rs`; it is never stored.
    stage5 = json.loads((runs[0] / "ubs-norte" / "contra_chave.json").read_text("utf-8"))
    assert {c["id"]: c["status"] for c in stage5["checks"]}["CC_CONTRA_CHAVE"] == "ok"
    assert demo_env()["ESUS_CC_UBS_CENTRO"] not in page
    assert (tmp_path / "implantacao" / "ubs-norte-dossie.pdf").read_bytes().startswith(b"%PDF")


def test_generated_commands_list_hidden_aliases_only_as_aliases():
    """What the CLI's hidden aliases (old names kept for scripts) look like in the reference:
    never a command or an option of their own."""
    def novo(args):  # the function both names run
        return 0

    parser = argparse.ArgumentParser(prog="esus-runbook")
    sub = parser.add_subparsers(dest="command")
    visible = sub.add_parser("novo", help="cria um arquivo de site", aliases=["criar"])
    visible.add_argument("--saida", help="pasta do arquivo")
    visible.add_argument("--out", dest="saida", help=argparse.SUPPRESS)
    visible.add_argument("--segredo", help=argparse.SUPPRESS)
    visible.set_defaults(func=novo)
    sub.add_parser("new").set_defaults(func=novo)  # hidden (no help), same function
    sub.add_parser("interno")  # hidden, runs nothing visible: still documented

    page = gen_ref().commands_page(parser)
    headings = re.findall(r"(?m)^## `esus-runbook ([^`]+)`", page)
    assert headings == ["novo", "interno"], headings
    assert "Também aceito como: `criar`, `new`." in page
    row = next(r for r in page.splitlines() if r.startswith("| `--saida`"))
    assert "Também: `--out`" in row
    assert not any(r.startswith("| `--out`") for r in page.splitlines())
    assert any(r.startswith("| `--segredo`") and "(oculta)" in r for r in page.splitlines())
    assert "(comando oculto)" in page.split("## `esus-runbook interno`")[1]


def _layer_rows() -> list[str]:
    """The rows of the layer table of docs/arquitetura.md ("## Camadas")."""
    text = (ROOT / "docs" / "arquitetura.md").read_text(encoding="utf-8")
    section = text.split("## Camadas", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ")
            and not line.startswith("| camada")]


def test_the_layer_table_names_every_module():
    """Every module of the package is in the architecture's layer table: a top-level module
    as `name`, a subpackage as `name/`, and each module of a subpackage as `module` in the
    row of its package."""
    rows = _layer_rows()
    missing = []
    package = ROOT / "esus_runbook"
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if "__pycache__" in rel.parts or rel.name == "__init__.py" and len(rel.parts) == 1:
            continue
        if len(rel.parts) == 1:
            if not any(f"`{path.stem}`" in row for row in rows):
                missing.append(str(rel))
            continue
        top = f"`{rel.parts[0]}/`"
        own = [row for row in rows if top in row]
        if not own or (rel.name != "__init__.py"
                       and not any(f"`{'/'.join(rel.parts[1:])[:-3]}`" in row for row in own)):
            missing.append(str(rel))
    assert not missing, f"modules missing from docs/arquitetura.md's layer table: {missing}"
    assert len(rows) >= 10


def test_the_glossary_gives_one_code_name_per_domain_word():
    text = (ROOT / "docs" / "arquitetura.md").read_text(encoding="utf-8")
    glossary = text.split("## Língua e glossário", 1)[1].split("\n## ", 1)[0]
    for word, name in (("painel", "dashboard"), ("dossiê", "dossier"), ("relatório", "report"),
                       ("lote", "batch"), ("execução", "run"), ("etapa", "stage"),
                       ("verificação", "check"), ("consolidado", "rollup")):
        assert re.search(rf"^\| {word}\b[^|]*\| `{name}`", glossary, re.M), word
    assert "Uma palavra\npor conceito" in glossary or "Uma palavra por conceito" in glossary
