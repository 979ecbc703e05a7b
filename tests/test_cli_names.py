"""One CLI language: pt-BR names, old names as hidden aliases, suggestions, help texts."""

from __future__ import annotations

import argparse
import ast
import inspect

import pytest

from esus_runbook import cli

from .support.project import EXAMPLES

PARSERS = [(path, sp) for path, sp in cli.subcommand_parsers(cli.build_parser())]
OLD_COMMANDS = [((*level, old), (*level, new)) for level, names in cli.COMMAND_ALIASES.items()
                for old, new in names.items()]
OLD_OPTIONS = [(path, old, new) for path, names in cli.OPTION_ALIASES.items()
               for old, new in names.items()]


def _takes_value(path: tuple[str, ...], option: str) -> bool:
    parser = dict(PARSERS)[path]
    action = next(a for a in parser._actions if option in a.option_strings)
    return action.nargs != 0


def _argv(path: tuple[str, ...], option: str) -> list[str]:
    """A complete command line for ``path`` using ``option`` (positionals filled in)."""
    parser = dict(PARSERS)[path]
    words = list(path)
    for action in parser._actions:
        if action.option_strings or isinstance(action, argparse._SubParsersAction):
            continue
        if action.nargs in (None, 1):
            words.append("x")
    for action in parser._actions:  # required options
        if action.required and action.option_strings and option not in action.option_strings:
            words += [action.option_strings[0], "1" if action.type else "x"]
    words.append(option)
    if _takes_value(path, option):
        choices = next(a.choices for a in parser._actions if option in a.option_strings)
        words.append(next(iter(choices)) if choices else "20")
    return words


def test_every_subcommand_help_has_a_description_and_an_example():
    assert len(PARSERS) >= 20
    for path, sp in PARSERS:
        text = sp.format_help()
        assert sp.description, path
        assert "Exemplo:" in text and "esus-runbook " + path[0] in text, path


@pytest.mark.parametrize("old,new", OLD_COMMANDS, ids=lambda p: " ".join(p))
def test_old_command_names_run_and_name_the_new_one(cli_main, old, new):
    proc = cli_main(*old, "--help")
    assert proc.returncode == 0
    assert f"uso: esus-runbook {' '.join(new)}" in " ".join(proc.stdout.split())
    notice = proc.stderr.strip().splitlines()
    assert notice == [f"aviso: '{old[-1]}' agora se chama '{new[-1]}' (o nome antigo "
                      "continua funcionando)"]


@pytest.mark.parametrize("path,old,new", OLD_OPTIONS, ids=lambda x: str(x))
def test_old_option_names_parse_as_the_new_ones(capsys, path, old, new):
    parser = cli.build_parser()
    argv = _argv(path, new)
    with_new = parser.parse_args(argv)
    old_argv = [old if w == new else w for w in argv]
    with_old = parser.parse_args(cli.translate_aliases(old_argv))
    assert vars(with_old) == vars(with_new)
    assert capsys.readouterr().err.strip() == (f"aviso: '{old}' agora se chama '{new}' (o nome "
                                               "antigo continua funcionando)")


def test_old_names_in_a_real_process(cli):
    proc = cli("check", EXAMPLES / "inventario.yaml")
    assert proc.returncode == 0, proc.stderr
    assert "3 site(s) válido(s)" in proc.stdout
    assert proc.stderr.strip() == ("aviso: 'check' agora se chama 'validar' (o nome antigo "
                                   "continua funcionando)")
    proc = cli("probe", "--read", EXAMPLES / "probes/ubs-centro.json")
    assert proc.returncode == 0 and "'--read' agora se chama '--ler'" in proc.stderr


def test_an_argument_spelled_like_an_old_name_is_kept(cli_main, tmp_path):
    (tmp_path / "run").mkdir()  # a folder named like the old command
    proc = cli_main("validar", "run", cwd=tmp_path)
    assert proc.returncode == 2 and "agora se chama" not in proc.stderr
    assert "run" in proc.stderr and "não tem arquivos de site" in proc.stderr


@pytest.mark.parametrize("argv,suggested", [
    (["sondra"], "sondar"), (["valdiar", "x"], "validar"), (["batchh", "x"], "lote"),
    (["xml", "audt", "x"], "auditar"), (["catalogo", "importa", "x"], "importar"),
    (["lote", "x", "--paralelo-s", "2"], "--paralelos"), (["lote", "x", "--worker", "2"],
                                                          "--paralelos"),
    (["painel", "--saída", "p.html"], "--saida"), (["dossie", "s", "--exceucoes", "e"],
                                                   "--execucoes"),
    (["sondar", "--velocidde-disco"], "--velocidade-disco"),
])
def test_typos_get_a_suggestion(cli_main, argv, suggested):
    proc = cli_main(*argv)
    assert proc.returncode == 2
    line, = proc.stderr.strip().splitlines()
    assert f"você quis dizer '{suggested}'?" in line


def test_a_word_far_from_every_name_gets_no_guess(cli_main):
    proc = cli_main("zzzzzz")
    assert proc.returncode == 2 and "você quis dizer" not in proc.stderr


def test_every_command_returns_from_the_exit_code_table():
    """No command returns a literal integer: each returns an ExitCode member (directly, from
    its report's ``exit_code`` through ``_report``, or from a RunbookError)."""
    tree = ast.parse(inspect.getsource(cli))
    literal = [f"{node.lineno}: return {node.value.value}" for node in ast.walk(tree)
               if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant)
               and isinstance(node.value.value, int) and not isinstance(node.value.value, bool)]
    assert not literal, literal
    # each (sub)command maps to one cmd_* function of this module
    commands = {f for name, f in vars(cli).items() if name.startswith("cmd_")}
    leaves = [(path, p) for path, p in cli.subcommand_parsers(cli.build_parser())
              if not any(isinstance(a, argparse._SubParsersAction) for a in p._actions)]
    assert len(leaves) >= 19
    for path, parser in leaves:
        assert parser.get_default("func") in commands, path
