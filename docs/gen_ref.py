"""MkDocs hook: writes the reference pages from the code at build time (nothing is committed).

Sources, one per page, so the reference cannot drift from what the program does:

- ``referencia/arquivo-do-site.md``: the field table ``esus_runbook.sites.fields.FIELDS``;
- ``referencia/comandos.md``: the argparse parser ``esus_runbook.cli.build_parser()``, walked
  (hidden flags and subcommands that share a parser/dest with a visible one are shown only as
  aliases of it);
- ``referencia/verificacoes.md``: the stage checks. There is no declared registry of check
  codes: every check is created by a call ``<checks>.add(ID, TITLE, STATUS, ..., remedy)``,
  ``<checks>.judge(ID, TITLE, passed, ..., remedy, otherwise=STATUS)`` or
  ``Check(ID, TITLE, STATUS, ..., remedy)``. This module reads those calls from the source
  (AST, no import of the stage modules): the code, the title, every status a call can give and
  its literal remedy (``…`` where the text is computed). Codes built from a table
  (``XML_<regra>``, ``XML_PEC_<tipo>``) are expanded from the rule tables they come from;
- ``referencia/regras-xml.md``: ``cnes.rules.RULES``, ``cnes.diff.KINDS`` and
  ``reconcile.KINDS``;
- ``referencia/codigos-de-saida.md``: ``esus_runbook.status.ExitCode`` (the one table), each
  code's cases per command and the ``exit_code`` of the error classes in
  ``esus_runbook.errors``.

``python docs/gen_ref.py OUT_DIR`` writes the same pages to a folder (to read them without
MkDocs); tests import :func:`pages`.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "esus_runbook"
if str(ROOT) not in sys.path:  # `mkdocs build` from the checkout without an installed package
    sys.path.insert(0, str(ROOT))

from esus_runbook import cli, errors  # noqa: E402
from esus_runbook.cnes import diff as cnes_diff  # noqa: E402
from esus_runbook.cnes import rules as cnes_rules  # noqa: E402
from esus_runbook.reconcile import compare as reconcile_compare  # noqa: E402
from esus_runbook.sites.fields import FIELDS  # noqa: E402
from esus_runbook.status import ExitCode  # noqa: E402

CODE = re.compile(r"^(CEN|AMB|DL|INST|PEC|DB|SRV|CC|XML)_[A-Z0-9_]+$")
"""What a check code looks like: the prefix says the stage (see ``PREFIX_STAGE``)."""

PREFIX_STAGE = {
    "CEN": "1 · cenário", "AMB": "2 · ambiente", "DL": "3 · download",
    "INST": "4 · instalação", "PEC": "4 · instalação", "DB": "4 · instalação",
    "SRV": "4 · instalação", "CC": "5 · contra-chave", "XML": "6 · XML do CNES",
}
STAGE_ORDER = ("1 · cenário", "2 · ambiente", "3 · download", "4 · instalação",
               "5 · contra-chave", "6 · XML do CNES")
STATUS_ORDER = ("ok", "alerta", "pendente", "falha", "erro")
KIND_LABEL = {"str": "texto", "int": "inteiro", "float": "número", "bool": "true/false",
              "date": "data AAAA-MM-DD", "path": "caminho", "env": "nome de variável"}
DYNAMIC = {  # f-string prefix of a check code → the table whose codes complete it
    "XML_PEC_": lambda: {k: (v.title, v.severity.status.value, v.action)
                         for k, v in reconcile_compare.KINDS.items()},
    "XML_": lambda: {k: (v.title, v.severity.status.value, v.remedy)
                     for k, v in cnes_rules.RULES.items()},
}
NOTE = ("!!! note \"Página gerada do código\"\n    Esta página é escrita a cada `make docs` "
        "a partir do código ({src}); não a edite à mão.\n\n")


def _cell(text: object) -> str:
    return " ".join(str(text if text is not None else "").split()).replace("|", "\\|")


# --------------------------------------------------------------------------- site file
def site_fields_page() -> str:
    out = ["# Arquivo do site: todas as chaves\n",
           "Com esta página você confere o nome, o tipo, o padrão e o significado de cada "
           "chave do arquivo YAML de um site. Como escrever o arquivo: "
           "[Arquivo do site](../arquivo-do-site.md).\n",
           NOTE.format(src="`esus_runbook/sites/fields.py`")]
    for section, fields in FIELDS.items():
        out.append(f"## {'Chaves de topo' if section is None else f'`{section}:`'}\n")
        out.append("| chave | tipo | obrigatória | padrão | o que é |\n|---|---|---|---|---|")
        for f in fields:
            key = f"{section}.{f.key}" if section else f.key
            kind = (f"opção: {', '.join(f.choices)}" if f.kind == "enum"
                    else KIND_LABEL.get(f.kind, f.kind))
            if f.minimum is not None or f.maximum is not None:
                kind += f" ({_num(f.minimum)} a {_num(f.maximum)})"
            default = "" if f.default is None else str(f.default).lower() \
                if isinstance(f.default, bool) else f.default
            out.append(f"| `{key}` | {_cell(kind)} | {'sim' if f.required else 'não'} | "
                       f"{_cell(default)} | **{_cell(f.label)}.** {_cell(f.help)} |")
        out.append("")
    return "\n".join(out)


def _num(v: float | None) -> str:
    if v is None:
        return "…"
    return f"{int(v):_}".replace("_", " ") if float(v).is_integer() else str(v)


# --------------------------------------------------------------------------- commands
def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...]):
    """(command path, parser, aliases, help) for every (sub)command under ``parser``.

    Names of one parser object are one command (the name with help first). A hidden
    subcommand (no help) whose parser runs the same ``func`` as a visible one is listed only
    as an alias of it; any other hidden subcommand is still documented, as a command."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        shown = {a.dest: a.help for a in action._choices_actions}
        groups: dict[int, list[str]] = {}
        parsers: dict[int, argparse.ArgumentParser] = {}
        for name, sub in action.choices.items():
            groups.setdefault(id(sub), []).append(name)
            parsers[id(sub)] = sub
        visible = {k: g for k, g in groups.items() if any(n in shown for n in g)}
        extra: dict[int, list[str]] = defaultdict(list)
        for k, g in groups.items():
            if k in visible:
                continue
            func = parsers[k].get_default("func")
            target = next((v for v in visible if func is not None
                           and parsers[v].get_default("func") is func), None)
            if target is None:
                visible[k] = g
            else:
                extra[target] += g
        for k, g in visible.items():
            primary = next((n for n in g if n in shown), g[0])
            aliases = [n for n in g if n != primary] + extra[k]
            yield path + (primary,), parsers[k], aliases, shown.get(primary, "(comando oculto)")
            yield from _walk(parsers[k], path + (primary,))


def _option_rows(parser: argparse.ArgumentParser) -> list[str]:
    """One table row per option; a hidden option (``help=SUPPRESS``) with the ``dest`` of a
    visible one is shown only as an alias of it, any other hidden option as "(oculta)"."""
    actions = [a for a in parser._actions if not isinstance(a, argparse._SubParsersAction)]
    visible_dests = {a.dest for a in actions if a.help != argparse.SUPPRESS}
    aliases: dict[str, list[str]] = defaultdict(list)
    for a in actions:
        if a.help == argparse.SUPPRESS and a.dest in visible_dests:
            aliases[a.dest].extend(a.option_strings)
    rows = []
    for a in actions:
        hidden = a.help == argparse.SUPPRESS
        if hidden and a.dest in visible_dests:
            continue
        if a.option_strings:
            longs = [o for o in a.option_strings if o.startswith("--")] or a.option_strings
            name = f"`{longs[0]}`"
            others = [o for o in a.option_strings if o != longs[0]]
            if not hidden:
                others += aliases.pop(a.dest, [])
        else:
            name, others = f"`{a.metavar or a.dest}`", []
        if a.nargs == 0:
            value = ""
        elif a.choices:
            value = " \\| ".join(f"`{c}`" for c in a.choices)
        else:
            value = f"`{a.metavar or a.dest.upper()}`" if a.option_strings else ""
        default = a.default if a.default not in (None, False, argparse.SUPPRESS) else ""
        required = "sim" if a.required or not a.option_strings and a.nargs is None else ""
        text = "(oculta)" if hidden else _cell(a.help).rstrip(".")
        if others:
            text += ". Também: " + ", ".join(f"`{o}`" for o in others)
        rows.append(f"| {name} | {value} | {required} | {_cell(default)} | {text} |")
    return rows


def commands_page(parser: argparse.ArgumentParser | None = None) -> str:
    parser = parser or cli.build_parser()
    out = ["# Comandos e opções\n",
           "Com esta página você encontra cada comando do `esus-runbook`, o que ele faz e "
           "todas as suas opções, com o valor padrão. `python -m esus_runbook` funciona igual. "
           "Códigos de saída: [Códigos de saída](codigos-de-saida.md).\n",
           NOTE.format(src="`esus_runbook/cli.py` (`build_parser`)"),
           "## `esus-runbook`\n", _cell(parser.description) + "\n",
           "| opção | valor | obrigatória | padrão | o que faz |\n|---|---|---|---|---|",
           *_option_rows(parser), ""]
    for path, sub, aliases, help_text in _walk(parser, ()):
        title = " ".join(path)
        out.append(f"## `esus-runbook {title}`\n")
        if help_text:
            out.append(_cell(help_text).rstrip(".") + ".\n")
        if aliases:
            out.append("Também aceito como: " + ", ".join(f"`{a}`" for a in aliases) + ".\n")
        if sub.description:
            out.append(_cell(sub.description) + "\n")
        usage = " ".join(sub.format_usage().split())
        out.append(f"```\n{usage}\n```\n")
        rows = _option_rows(sub)
        has_sub = any(isinstance(a, argparse._SubParsersAction) for a in sub._actions)
        if has_sub:
            out.append("Subcomandos: " + ", ".join(
                f"`{' '.join(p)}`" for p, *_ in _walk(sub, path) if len(p) == len(path) + 1)
                + ".\n")
        if rows:
            out.append("| opção | valor | obrigatória | padrão | o que faz |\n"
                       "|---|---|---|---|---|")
            out.extend(rows)
            out.append("")
    return "\n".join(out)


def cli_flags() -> set[str]:
    """Every option string the parser accepts (visible or not), for the tests."""
    parser = cli.build_parser()
    flags = {o for a in parser._actions for o in a.option_strings}
    for _path, sub, _aliases, _help in _walk(parser, ()):
        flags |= {o for a in sub._actions for o in a.option_strings}
    return flags


def cli_commands() -> set[str]:
    return {" ".join(p) for p, *_ in _walk(cli.build_parser(), ())}


# --------------------------------------------------------------------------- checks
class _Module:
    """The check-creating calls of one module, read from its AST."""

    def __init__(self, path: Path):
        self.path = path
        self.tree = ast.parse(path.read_text("utf-8"))
        self.consts: dict[str, object] = {}
        for node in self.tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    self._bind(target, node.value)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                self._bind(node.target, node.value)
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(self.tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent

    def _bind(self, target: ast.AST, value: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.consts[target.id] = value
        elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            for t, v in zip(target.elts, value.elts, strict=False):
                self._bind(t, v)

    def values(self, name: ast.Name, env: dict[str, ast.AST]) -> list[ast.AST]:
        """What a name can hold: a loop row's value, the assignments in its function, else
        the module-level constant."""
        if name.id in env:
            return [env[name.id]]
        func = self._enclosing(name, (ast.FunctionDef, ast.AsyncFunctionDef))
        found: list[ast.AST] = []
        if func is not None:
            for node in ast.walk(func):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        found += self._assigned(target, node.value, name.id)
        if found:
            return found
        bound = self.consts.get(name.id)
        return [bound] if isinstance(bound, ast.AST) else []

    def _assigned(self, target: ast.AST, value: ast.AST, wanted: str) -> list[ast.AST]:
        if isinstance(target, ast.Name):
            return [value] if target.id == wanted else []
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            return [v for t, v2 in zip(target.elts, value.elts, strict=False)
                    for v in self._assigned(t, v2, wanted)]
        return []

    def _enclosing(self, node: ast.AST, kinds) -> ast.AST | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, kinds):
                return node
        return None

    def text(self, node: ast.AST | None, env: dict[str, ast.AST], depth: int = 0) -> list[str]:
        """The literal texts a node can be (f-string parts as ``…``, ``+`` joined)."""
        if node is None or depth > 6:
            return []
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.JoinedStr):
            return ["".join(self._part(v, env) for v in node.values)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.text(node.left, env, depth + 1) or ["…"]
            right = self.text(node.right, env, depth + 1) or ["…"]
            return [] if left == right == ["…"] else [left[0] + right[0]]
        if isinstance(node, ast.Name):
            return [t for v in self.values(node, env) for t in self.text(v, env, depth + 1)]
        return []

    def _part(self, value: ast.AST, env: dict[str, ast.AST]) -> str:
        """One piece of an f-string: its text, a loop row's constant, else ``…``."""
        if isinstance(value, ast.Constant):
            return str(value.value)
        inner = getattr(value, "value", None)
        if isinstance(inner, ast.Name) and isinstance(env.get(inner.id), ast.Constant):
            return str(env[inner.id].value)
        return "…"

    def statuses(self, node: ast.AST | None, env: dict[str, ast.AST], depth: int = 0) -> set[str]:
        if node is None or depth > 6:
            return set()
        if isinstance(node, ast.IfExp):
            return self.statuses(node.body, env, depth + 1) | self.statuses(node.orelse, env,
                                                                            depth + 1)
        if isinstance(node, ast.Name):
            if node.id.lower() in STATUS_ORDER:
                return {node.id.lower()}
            return {s for v in self.values(node, env) for s in self.statuses(v, env, depth + 1)}
        if isinstance(node, ast.Attribute) and node.attr.lower() in STATUS_ORDER:
            return {node.attr.lower()}
        if isinstance(node, ast.Constant) and str(node.value).lower() in STATUS_ORDER:
            return {str(node.value).lower()}
        return set()

    def codes(self, node: ast.AST, env: dict[str, ast.AST]) -> list[str]:
        """The code(s) the first argument of a call can be."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value] if CODE.match(node.value) else []
        if isinstance(node, ast.JoinedStr) and node.values \
                and isinstance(node.values[0], ast.Constant):
            return [f"{node.values[0].value}*"]
        if isinstance(node, ast.Name):
            found = [c for v in self.values(node, env) for c in self.codes(v, env)]
            return found or self._param_codes(node)
        return []

    def _loop_rows(self, name: ast.Name) -> list[dict[str, ast.AST]]:
        """For a loop variable over a module-level table: one name → value map per row."""
        node = name
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.For, ast.comprehension)) \
                    and isinstance(node.target, ast.Tuple):
                names = [getattr(e, "id", None) for e in node.target.elts]
                table = self.consts.get(node.iter.id) if isinstance(node.iter, ast.Name) \
                    else node.iter
                if name.id in names and isinstance(table, (ast.Tuple, ast.List)):
                    return [dict(zip(names, row.elts, strict=False)) for row in table.elts
                            if isinstance(row, ast.Tuple)]
        return []

    def _param_envs(self, name: ast.Name) -> list[dict[str, ast.AST]]:
        """For a parameter of the enclosing function: one parameter → argument map per call
        of that function in the module."""
        func = self._enclosing(name, (ast.FunctionDef, ast.AsyncFunctionDef))
        params = [a.arg for a in func.args.args] if func is not None else []
        if name.id not in params:
            return []
        envs = []
        for call in ast.walk(self.tree):
            if isinstance(call, ast.Call) and getattr(
                    call.func, "id", getattr(call.func, "attr", None)) == func.name:
                env = dict(zip(params, call.args, strict=False))
                env.update({k.arg: k.value for k in call.keywords if k.arg})
                envs.append(env)
        return envs

    def _param_codes(self, name: ast.Name) -> list[str]:
        func = self._enclosing(name, (ast.FunctionDef, ast.AsyncFunctionDef))
        params = [a.arg for a in func.args.args] if func is not None else []
        if name.id not in params:
            return []
        i = params.index(name.id)
        return [c for call in ast.walk(self.tree) if isinstance(call, ast.Call)
                and getattr(call.func, "id", getattr(call.func, "attr", None)) == func.name
                and len(call.args) > i for c in self.codes(call.args[i], {})]

    def calls(self):
        """(code, titles, statuses, remedies) for every check-creating call."""
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name not in ("add", "judge", "Check"):
                continue
            first = node.args[0]
            rows = (self._loop_rows(first) or self._param_envs(first)) \
                if isinstance(first, ast.Name) else []
            for env in rows or [{}]:
                codes = self.codes(first, env)
                if not codes:
                    continue
                kw = {k.arg: k.value for k in node.keywords}
                args = node.args + [None] * 7
                titles = self.text(args[1] or kw.get("title"), env)
                remedies = self.text(args[5] or kw.get("remedy"), env)
                if name == "judge":
                    statuses = {"ok"} | (self.statuses(args[6] or kw.get("otherwise"), env)
                                         or {"falha"})
                else:
                    statuses = self.statuses(args[2] or kw.get("status"), env) \
                        or {"(calculada)"}
                for code in codes:
                    yield code, titles, statuses, remedies


def check_catalog() -> dict[str, dict]:
    """Check code → {stage, titles, statuses: {status: [remedies]}, source} from the code."""
    found: dict[str, dict] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "demo" in path.relative_to(PACKAGE).parts:
            continue
        module = _Module(path)
        for code, titles, statuses, remedies in module.calls():
            expanded = [(code, titles, statuses, remedies)]
            if code.endswith("*"):
                prefix = code[:-1]
                table = DYNAMIC[prefix]() if prefix in DYNAMIC else {}
                expanded = [(prefix + k, [t], {s}, [r])
                            for k, (t, s, r) in table.items()]
            for c, ts, ss, rs in expanded:
                entry = found.setdefault(c, {"stage": PREFIX_STAGE[c.split("_")[0]],
                                             "titles": [], "statuses": defaultdict(list),
                                             "sources": set()})
                entry["titles"] += [t for t in ts if t not in entry["titles"]]
                for s in ss:
                    known = entry["statuses"][s]
                    if s != "ok":
                        known += [r for r in rs if r not in known]
                entry["sources"].add(str(path.relative_to(ROOT)))
    return found


def checks_page() -> str:
    catalog = check_catalog()
    out = ["# Códigos das verificações\n",
           "Com esta página você descobre, a partir do código que aparece num relatório, num "
           "JSON ou no consolidado, o que a verificação confere, em que etapa, que situações "
           "ela pode dar e o que fazer. Cada verificação tem um código estável.\n",
           NOTE.format(src="as chamadas que criam verificações em `esus_runbook/`"),
           "A coluna *situações* lista o que a verificação pode dar; *o que fazer* traz o "
           "texto da correção como está no código (`…` marca a parte preenchida na hora, "
           "por exemplo o valor medido). `XML_<regra>` e `XML_PEC_<tipo>` vêm das tabelas de "
           "[regras do XML](regras-xml.md).\n"]
    for stage in STAGE_ORDER:
        codes = sorted((c for c, e in catalog.items() if e["stage"] == stage),
                       key=lambda c: (c.split("_")[0], c))
        out.append(f"## Etapa {stage}\n")
        out.append("| código | o que confere | situações | o que fazer |\n|---|---|---|---|")
        for code in codes:
            e = catalog[code]
            statuses = [s for s in (*STATUS_ORDER, "(calculada)") if s in e["statuses"]]
            remedies = "<br>".join(f"**{s}**: {_cell(r)}" for s in statuses
                                   for r in e["statuses"][s])
            out.append(f"| `{code}` | {_cell(' / '.join(e['titles'][:2]))} | "
                       f"{', '.join(statuses)} | {remedies} |")
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- XML rules
def xml_rules_page() -> str:
    out = ["# Regras do XML do CNES\n",
           "Com esta página você entende cada código que `esus-runbook xml audit`, "
           "`xml diff` e `xml reconcile` (e a etapa 6) mostram, com a gravidade e o que "
           "fazer. Como usar os comandos: [XML do CNES](../xml.md).\n",
           NOTE.format(src="`esus_runbook/cnes/rules.py`, `cnes/diff.py` e `reconcile/compare.py`")]
    tables = (
        ("Auditoria (`xml audit`)", "Na etapa 6 cada regra com ocorrências vira a "
         "verificação `XML_<código>` (erro → falha, alerta → alerta).",
         {k: (r.severity, r.title, r.remedy) for k, r in cnes_rules.RULES.items()}),
        ("Comparação (`xml diff`)", "O que a importação do XML novo vai mudar no PEC.",
         {k: (r.severity, r.title, r.consequence) for k, r in cnes_diff.KINDS.items()}),
        ("Depois da importação (`xml reconcile`)", "Na etapa 6 cada tipo encontrado vira a "
         "verificação `XML_PEC_<código>`.",
         {k: (r.severity, r.title, r.action) for k, r in reconcile_compare.KINDS.items()}),
    )
    for title, intro, table in tables:
        out += [f"## {title}\n", intro + "\n",
                "| código | gravidade | significado | consequência / o que fazer |\n|---|---|---|---|"]
        out += [f"| `{k}` | {s.label} | {_cell(t)} | {_cell(r)} |"
                for k, (s, t, r) in table.items()]
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- exit codes
EXIT_CASES = {
    ExitCode.OK: "`executar`/`lote`: todas as etapas ok ou com alerta; `conferir-instalacao`, "
                 "`certificado`, `backup`, `atualizacao`: nenhuma verificação falhou nem ficou "
                 "pendente; `xml auditar`: nenhum erro (alertas permitidos); `xml comparar`: "
                 "nada a revisar; `xml reconciliar`: o PEC confere com o XML; `baixar`: "
                 "instalador verificado; `validar`, `sondar`, `novo`, `esquema`, `catalogo "
                 "importar`, `painel`, `dossie`, `ssh aceitar`: feito",
    ExitCode.FINDINGS: "`executar`/`lote`: alguma etapa com falha ou erro, ou um notebook "
                       "quebrou (mesmo que outra etapa esteja pendente); verificações com falha "
                       "em `conferir-instalacao`, `certificado`, `backup`, `atualizacao`; "
                       "`xml auditar`: um achado de erro; `xml comparar`: alterações a revisar; "
                       "`xml reconciliar`: diferenças; `baixar`: arquivo rejeitado (quarentena); "
                       "e um erro que impediu o comando de terminar (`RunbookError`: a chave "
                       "SSH do servidor desconhecida, o Chromium que falhou)",
    ExitCode.REFUSED: "entrada recusada: uma linha em português por problema (arquivo, chave, "
                      "correção), sem traceback, nada gravado com o nome final — arquivo de "
                      "site ou XML inválido, opção inválida, arquivo de saída impossível "
                      "(pasta, pasta inexistente ou sem permissão, a própria entrada), senha "
                      "ausente, servidor que não responde a uma conexão que o comando exige",
    ExitCode.UNDECIDED: "faltam evidências para decidir (pendente), nunca um veredito "
                        "adivinhado: `executar`/`lote` com alguma etapa pendente e nenhuma "
                        "falha; `conferir-instalacao`, `certificado`, `backup`, `atualizacao` "
                        "com uma verificação pendente e nenhuma falha; `xml reconciliar` com "
                        "esquema do banco desconhecido ou XML ainda não importado; `baixar` "
                        "com o primeiro uso de uma versão aguardando `--confiar-primeiro-uso`",
    ExitCode.INTERRUPTED: "Ctrl-C (ou SIGTERM): `lote` mostra o comando que retoma a execução",
}
"""Per exit code, the commands' cases; the build fails if a code of the enum is missing."""


def exit_codes_page() -> str:
    classes: dict[int, list[str]] = defaultdict(list)
    for cls in (c for c in vars(errors).values() if inspect.isclass(c)
                and issubclass(c, errors.RunbookError)):
        classes[cls.exit_code].append(cls.__name__)
    missing = set(ExitCode) - set(EXIT_CASES)
    if missing:
        raise RuntimeError(f"exit codes without their cases in docs/gen_ref.py: {sorted(missing)}")
    rows = [f"| **{code.value}** | {code.meaning} | {EXIT_CASES[code]} | "
            + ", ".join(f"`{n}`" for n in sorted(classes.get(code, []))) + " |"
            for code in ExitCode]
    return "\n".join([
        "# Códigos de saída\n",
        "Com esta página você sabe o que significa o código de saída de um comando, para "
        "usá-lo num script, num hook de pre-commit ou na CI. A mesma tabela vale para todos "
        "os comandos (e aparece no fim de `esus-runbook --help`).\n",
        NOTE.format(src="`ExitCode` em `esus_runbook/status.py` e `esus_runbook/errors.py`"),
        "| código | significado | casos | erros do programa com este código |\n"
        "|---|---|---|---|", *rows, "",
        "Num script: `0` segue; `1` há o que corrigir; `2` a entrada foi recusada (corrija e "
        "repita); `3` falta uma evidência (informe-a e repita). `python -m esus_runbook` "
        "devolve os mesmos códigos.\n"])


# --------------------------------------------------------------------------- hook
def pages() -> dict[str, str]:
    """Path under docs/ → Markdown text of every generated page."""
    return {
        "referencia/arquivo-do-site.md": site_fields_page(),
        "referencia/comandos.md": commands_page(),
        "referencia/verificacoes.md": checks_page(),
        "referencia/regras-xml.md": xml_rules_page(),
        "referencia/codigos-de-saida.md": exit_codes_page(),
    }


def on_files(files, config):
    """MkDocs event: add the generated pages to the site's files (in memory)."""
    from mkdocs.structure.files import File  # lazy: only MkDocs runs this hook

    for src, text in pages().items():
        files.append(File.generated(config, src, content=text))
    return files


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "referencia-gerada")
    for src, text in pages().items():
        (target / src).parent.mkdir(parents=True, exist_ok=True)
        (target / src).write_text(text, encoding="utf-8")
        print(target / src)
