"""Command line: each subcommand maps its options to one package function and returns an
:class:`~esus_runbook.status.ExitCode` (the one table, printed at the end of ``--help``).

A command that decides something gets a :class:`~esus_runbook.status.CommandReport` back and
:func:`_report` prints it the one way (files, text, notices) and returns its exit code. A
refused input is an :class:`~esus_runbook.errors.InputError`: one pt-BR line per problem on
stderr, no traceback, exit 2.
"""

from __future__ import annotations

import argparse
import difflib
import math
import os
import re
import sys
from contextlib import nullcontext
from pathlib import Path

from . import run_folder
from .errors import RunbookError
from .files.atomic import json_text
from .files.outputs import check_outputs
from .secret_refs import read_secret
from .sites.loading import check as check_sites
from .status import CommandReport, ExitCode
from .terminal import say
from .version import package_version

# argparse's English messages (Python 3.11-3.13) → pt-BR, applied in order to the whole
# message; the types below already raise pt-BR text (``ArgumentTypeError``).
_TRANSLATIONS = [(re.compile(en), pt) for en, pt in (
    (r"^argument ([^:]+): ", r"argumento \1: "),
    (r"invalid choice: (.+?) \(choose from (.+)\)$", r"opção inválida: \1 (escolha entre \2)"),
    (r"invalid \S+ value: (.+)$", r"valor inválido: \1"),
    (r"the following arguments are required: ", "faltam os argumentos: "),
    (r"one of the arguments (.+) is required", r"informe um dos argumentos \1"),
    (r"not allowed with argument (.+)", r"não pode ser usado junto com \1"),
    (r"unrecognized arguments: ", "argumentos desconhecidos: "),
    (r"expected one argument", "a opção precisa de um valor"),
    (r"expected at most one argument", "a opção aceita no máximo um valor"),
    (r"expected at least one argument", "a opção precisa de ao menos um valor"),
    (r"expected (\d+) arguments?", r"a opção precisa de \1 valor(es)"),
    (r"ambiguous option: (\S+) could match (.+)", r"opção ambígua: \1 pode ser \2"),
    (r"ignored explicit argument (.+)", r"a opção não aceita valor: \1"),
    (r"unexpected option string: (.+)", r"opção inesperada: \1"),
    (r"unknown parser (.+) \(choices: (.+)\)", r"comando desconhecido: \1 (escolha entre \2)"),
    (r"cannot have multiple subparser arguments", "subcomandos demais"),
)]


def translate_argparse(message: str) -> str:
    """pt-BR text for an argparse error message (unknown messages are kept as they are)."""
    for en, pt in _TRANSLATIONS:
        message = en.sub(pt, message)
    return message


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups,
                                 "uso: " if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse with pt-BR help headings and errors on one line (exit 2)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("add_help", False)
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = "argumentos"
        self._optionals.title = "opções"
        self.add_argument("-h", "--help", action="help", help="mostra esta ajuda e sai")

    def _print_message(self, message: str, file=None) -> None:
        """Help, usage and errors go through the terminal filter like every other line."""
        if message:
            try:
                say(message, file=file or sys.stderr, end="")
            except (AttributeError, OSError):
                pass

    def error(self, message: str):  # noqa: D401
        message = " ".join(translate_argparse(message).split())  # one line, always
        message += self._hint(message)
        self.exit(ExitCode.REFUSED, f"{self.prog}: erro: {message} — veja '{self.prog} --help'\n")

    def _hint(self, message: str) -> str:
        """"você quis dizer" for a mistyped subcommand or option (difflib over the current
        names and the old ones, always answering with a current name)."""
        argv = getattr(self, "_argv", None) or []
        parsers = getattr(self, "_subparsers_by_path", {})
        choice = re.search(r"opção inválida: '([^']*)' \(escolha entre (.+)\)$", message)
        if choice:
            path = command_path(argv)
            level = path[:-1] if path and path[-1] == choice.group(1) else path
            names = {c: c for c in re.findall(r"'([^']+)'", choice.group(2))}
            names.update(COMMAND_ALIASES.get(level, {}))
            return _suggestion(choice.group(1), names)
        unknown = re.search(r"argumentos desconhecidos: (\S+)", message)
        if unknown:
            path = command_path(argv)
            names = {o: o for o in _visible_options(parsers.get(path, self))}
            names.update(OPTION_ALIASES.get(path, {}))
            return _suggestion(unknown.group(1).partition("=")[0], names)
        return ""


# Argument types: each raises ArgumentTypeError with pt-BR text (argparse shows it after
# "argumento --opção:"), so no English "invalid ... value" reaches users; every number has a
# range (documented in README, "Opções numéricas da linha de comando").
MAX_SECONDS = 7 * 24 * 3600
MAX_RETRIES = 100
MAX_WORKERS = 1024
MAX_COUNT = 1_000_000
_INT = re.compile(r"[+-]?[0-9]{1,18}")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _integer(text: str, low: int, high: int, unit: str = "") -> int:
    """An integer in ``[low, high]``."""
    if not _INT.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"número inteiro inválido: {_shown(text)} (use de "
                                         f"{low} a {high}{unit})")
    value = int(text.strip())
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{value} fora do intervalo: use de {low} a "
                                         f"{high}{unit}")
    return value


def _positive_int(text: str) -> int:
    return _integer(text, 1, MAX_WORKERS)


def _non_negative_int(text: str) -> int:
    return _integer(text, 0, MAX_COUNT)


def _retries(text: str) -> int:
    return _integer(text, 0, MAX_RETRIES)


def _port(text: str) -> int:
    return _integer(text, 1, 65535)


def _disk_mb(text: str) -> int:
    return _integer(text, 16, 16384, " MB")


def _seconds(text: str) -> float:
    """Seconds: a finite number, > 0 and at most a week."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"número inválido: {_shown(text)} (segundos, "
                                         "ex.: 30 ou 2.5)") from None
    if not (math.isfinite(value) and 0 < value <= MAX_SECONDS):
        raise argparse.ArgumentTypeError(f"{text.strip()[:40]} fora do intervalo: use mais de 0 "
                                         f"e até {MAX_SECONDS} segundos")
    return value


# --------------------------------------------------------------------------- commands
def _report(report: CommandReport, json: str | None = None,
            html: str | None = None) -> ExitCode:
    """Print a command's report the one way and return its exit code: its ``--json`` and
    ``--html`` written first (atomically), then its text on standard output with the files
    written, then its notices on standard error."""
    written = []
    if json:
        report.write_json(json)
        written.append(f"JSON gravado: {json}")
    if html:
        report.write_html(html)
        written.append(f"Página gravada: {html}")
    text = "\n".join(x for x in (report.text(), *written) if x)
    if text:
        say(text)
    notices = report.notices()
    if notices:
        say(notices, file=sys.stderr)
    return report.exit_code


# Lazy imports: each handler imports its command's module when it runs; importing them all
# would cost every command, even `--help` and `check`, 1.5-3.3 s (measured: `python -c "import time,
# importlib; t=time.perf_counter(); importlib.import_module('esus_runbook.reconcile');
# print(time.perf_counter()-t)"` → reconcile 3.3 s, catalog.commands 3.3 s, cnes.audit 2.6 s,
# lab 1.7 s, batch 1.5 s, ssh.client 1.4 s; cli itself 0.7 s).
def cmd_run(args: argparse.Namespace) -> ExitCode:
    from .batch import BatchOptions, run_batch

    opts = BatchOptions(out=Path(args.out), timeout=args.timeout, retries=args.retries,
                        progress=not args.no_progress,
                        kernel_per_notebook=args.kernel_por_notebook)
    if args.command == "lote":
        opts.workers = args.workers
        opts.scheduler = args.scheduler
        opts.resume = Path(args.resume) if args.resume else None
    else:
        opts.workers = 1
        opts.one_site = True
    return _report(run_batch(args.inventory, opts))


def cmd_check(args: argparse.Namespace) -> ExitCode:
    say(check_sites(args.path))  # the same validation (and lines, exit 2) as run and batch
    return ExitCode.OK


def cmd_inspect(args: argparse.Namespace) -> ExitCode:
    from .notebook_params import describe_parameters

    say(describe_parameters(args.notebook))
    return ExitCode.OK


def cmd_probe(args: argparse.Namespace) -> ExitCode:
    from .probe import collect, load_probe, normalize, summary_lines, write_probe

    if args.read:
        say("\n".join(summary_lines(load_probe(args.read))))
        return ExitCode.OK
    to_stdout = args.json == "-"
    if not to_stdout:
        check_outputs([("--json", args.json)], inputs=[args.identity, args.known_hosts])
    if args.ssh:
        facts = _probe_ssh(args)
    else:
        facts = collect(install_path=args.install_path, disk_speed=args.disk_speed,
                        disk_speed_mb=args.disk_speed_mb,
                        progress=lambda msg: say(msg, file=sys.stderr))
    text = "\n".join(summary_lines(normalize(facts)))
    say(text, file=sys.stderr if to_stdout else sys.stdout)
    if to_stdout:
        say(json_text(facts), end="")
    elif args.json:
        write_probe(facts, args.json)
        say(f"Sondagem gravada em {args.json} ({facts['duration_s']:.1f} s). Copie o arquivo "
              "para a pasta do site e informe o caminho em ambiente.probe.")
    return ExitCode.OK

def _probe_ssh(args: argparse.Namespace) -> dict:
    from .ssh import SshOptions, connect, parse_target
    from .ssh.remote_probe import collect_ssh

    target = parse_target(args.ssh)
    opts = SshOptions(identity=args.identity, known_hosts=args.known_hosts,
                      password_env=args.password_env, command_timeout=args.ssh_timeout)
    with connect(target, opts) as session:
        if args.disk_speed:
            say(f"medindo a velocidade do disco ({args.disk_speed_mb} MB)...",
                  file=sys.stderr)
        return collect_ssh(session, args.install_path, args.disk_speed, args.disk_speed_mb)


def cmd_xml_audit(args: argparse.Namespace) -> ExitCode:
    from .cnes.audit import audit

    check_outputs([("--json", args.json), ("--html", args.html)], inputs=[args.path])
    return _report(audit(args.path, args.ibge, display_name=args.path), args.json, args.html)


def cmd_download(args: argparse.Namespace) -> ExitCode:
    from .installer.downloader import download
    from .installer.releases import Registry, default_team_file

    dest = Path(args.dest).expanduser()
    out = download(args.url, dest, args.version, plataforma=args.platform,
                   expected_sha256=args.sha256,
                   registry=Registry(args.registry or default_team_file(dest)),
                   progress=not args.no_progress, retries=args.retries,
                   timeout=(args.timeout, args.timeout),
                   trust_first_use=args.confiar_primeiro_uso)
    return _report(out)


def _db_password(args: argparse.Namespace):
    """The database password from --db-password-env/--db-password-file, else PGPASSWORD."""
    if args.db_password_env or args.db_password_file:
        return read_secret(args.db_password_env, args.db_password_file, what="senha do banco")
    if os.environ.get("PGPASSWORD"):
        return read_secret("PGPASSWORD", what="senha do banco")
    return None


def _db_tunnel(args: argparse.Namespace):
    """The database URL to use: through an SSH tunnel when --ssh is given and --db-url
    points at the server's loopback (closed on every exit path), else --db-url itself."""
    if not (args.ssh and args.db_url):
        return nullcontext(args.db_url)
    from .pec import check_db_url
    from .ssh import SshOptions, parse_target
    from .ssh.tunnel import db_url_via

    check_db_url(args.db_url)
    opts = SshOptions(identity=args.identity, known_hosts=args.known_hosts,
                      password_env=args.password_env)
    return db_url_via(parse_target(args.ssh), opts, args.db_url)


def cmd_verify_install(args: argparse.Namespace) -> ExitCode:
    from .pec import verify_install

    check_outputs([("--json", args.json)],
                  inputs=[args.db_password_file, args.identity, args.known_hosts])
    password = _db_password(args) if args.db_url else None
    with _db_tunnel(args) as db_url:
        report = verify_install(args.pec_url, db_url=db_url, password=password,
                                expect_version=args.expect_version, modo=args.modo,
                                tipo_instalacao=args.tipo_instalacao, timeout=args.timeout,
                                link_instalacao=args.link_instalacao)
    report.db_url = args.db_url  # the server's address, not the tunnel's local end
    password = None
    return _report(report, args.json)


def cmd_xml_reconcile(args: argparse.Namespace) -> ExitCode:
    from .reconcile import reconcile

    check_outputs([("--json", args.json), ("--html", args.html)],
                  inputs=[args.path, args.db_password_file])
    password = _db_password(args)
    report = reconcile(args.path, args.db_url, password, ibge=args.ibge,
                       display_name=args.path, limit=args.max_per_kind or None)
    password = None
    report.shown = args.examples
    return _report(report, args.json, args.html)


def cmd_ssh_accept(args: argparse.Namespace) -> ExitCode:
    from .ssh import accept_text, parse_target

    say(accept_text(parse_target(args.target), args.fingerprint, args.known_hosts,
                    timeout=args.timeout))
    return ExitCode.OK

def cmd_lab(args: argparse.Namespace) -> ExitCode:
    from .lab import run_lab

    if args.out:  # the old --out named the interactive folder itself
        say("aviso: '--out' agora é '--execucoes' (a pasta das execuções; o trabalho "
            "interativo fica em PASTA/interativo)", file=sys.stderr)
    out = Path(args.out) if args.out else run_folder.interactive_dir(args.execucoes)
    return ExitCode(run_lab(args.target, out=out, port=args.port,
                            open_browser=not args.no_browser))

def cmd_xml_diff(args: argparse.Namespace) -> ExitCode:
    from .cnes.diff import diff

    check_outputs([("--json", args.json), ("--html", args.html)], inputs=[args.old, args.new])
    report = diff(args.old, args.new, display_names=(args.old, args.new))
    report.shown = args.examples
    return _report(report, args.json, args.html)


def cmd_novo(args: argparse.Namespace) -> ExitCode:
    from .new_site import new_site

    for line in new_site(args.site_id, args.pasta, args.inventario):
        say(line)
    return ExitCode.OK


def cmd_esquema(args: argparse.Namespace) -> ExitCode:
    from .new_site import write_schema

    check_outputs([("--saida", args.saida)])
    say(write_schema(args.saida))
    return ExitCode.OK


def cmd_catalog_import(args: argparse.Namespace) -> ExitCode:
    from .catalog.commands import import_runs

    text, notices = import_runs(args.pasta, args.catalogo)
    if notices:
        say(notices, file=sys.stderr)
    say(text)
    return ExitCode.OK


def cmd_dossie(args: argparse.Namespace) -> ExitCode:
    from .catalog.commands import all_dossiers, dossier

    given = args.site_id is not None  # an empty SITE_ID is refused by the site-id rule
    problem = ("informe SITE_ID ou --todos" if not args.todos and not given else
               "SITE_ID ou --todos, não os dois" if args.todos and given else
               "--todos grava cada dossiê em PASTA/dossies: sem --out nem --pdf"
               if args.todos and (args.out or args.pdf) else None)
    if problem:
        say(f"dossie: {problem}", file=sys.stderr)
        return ExitCode.REFUSED
    lines = all_dossiers(args.execucoes) if args.todos else \
        dossier(args.site_id, args.execucoes, args.out, args.pdf)
    for line in lines:
        say(line)
    return ExitCode.OK


def cmd_painel(args: argparse.Namespace) -> ExitCode:
    from .catalog.commands import dashboard

    say(dashboard(args.execucoes, args.out, args.parado_dias))
    return ExitCode.OK


def _ops_output(rec, executions: str) -> ExitCode:
    from .catalog.operations import record_after_operation

    record_after_operation(executions, rec)
    return _report(rec)


def cmd_certificado(args: argparse.Namespace) -> ExitCode:
    from .upkeep import commands as ops

    return _ops_output(ops.certificate(ops.load(args.site, args.site_id), args.out,
                                       timeout=args.timeout), args.out)


def cmd_backup(args: argparse.Namespace) -> ExitCode:
    from .upkeep import commands as ops

    return _ops_output(ops.backup(ops.load(args.site, args.site_id), args.out,
                                  restore=args.restaurar_teste), args.out)


def cmd_atualizacao(args: argparse.Namespace) -> ExitCode:
    from .upkeep import commands as ops

    return _ops_output(ops.update(ops.load(args.site, args.site_id), args.out, args.para,
                                  args.fase, installer=args.instalador), args.out)


# --------------------------------------------------------------------------- parsers
# One function per subcommand adds its parser; each sets ``func`` to its cmd_* above.
def _common_run_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--execucoes", dest="out", default="execucoes", metavar="PASTA",
                    help="pasta das execuções (padrão: execucoes)")
    sp.add_argument("--prazo", dest="timeout", type=_seconds, default=None, metavar="SEGUNDOS",
                    help="tempo máximo de cada notebook; ao estourar, o kernel é encerrado e "
                         "a etapa fica com erro (padrão: 3600 nas etapas que falam com um "
                         "servidor — 02 a 06 —, sem limite nas outras)")
    sp.add_argument("--tentativas", dest="retries", type=_retries, default=0, metavar="N",
                    help="novas tentativas para uma etapa que deu erro (não para tempo "
                         "esgotado; padrão: 0)")
    sp.add_argument("--sem-progresso", dest="no_progress", action="store_true",
                    help="sem barra de progresso")
    sp.add_argument("--kernel-por-notebook", action="store_true",
                    help="cada notebook num kernel novo (mais lento; para depuração). Padrão: "
                         "um kernel por site, com o espaço de nomes limpo entre os notebooks")
    sp.set_defaults(func=cmd_run)


def add_run(sub) -> None:
    sp = sub.add_parser("executar", help="todas as etapas de um site", formatter_class=_Formatter,
                        description="Executa os notebooks das etapas de um site (papermill) e "
                                    "grava a pasta da execução com os resultados, o relatório "
                                    "e run.json. Antes, confere em segundos o que pode ser "
                                    "conferido (variáveis, arquivos, PEC e SSH).")
    sp.add_argument("inventory", metavar="SITE.yaml", help="arquivo do site")
    _common_run_options(sp)


def add_batch(sub) -> None:
    sp = sub.add_parser("lote", help="todas as etapas de todos os sites de um inventário",
                        formatter_class=_Formatter,
                        description="Executa todas as etapas de todos os sites, em paralelo "
                                    "(processos locais ou um cluster Dask), e grava uma pasta "
                                    "de execução com um consolidado (rollup).")
    sp.add_argument("inventory", metavar="INVENTARIO",
                    help="inventário YAML (lista sites:) ou pasta de arquivos de site")
    sp.add_argument("--paralelos", dest="workers", type=_positive_int, default=None, metavar="N",
                    help="sites em paralelo (padrão: número de CPUs); com --agendador, "
                         "máximo de sites ao mesmo tempo no cluster")
    sp.add_argument("--agendador", dest="scheduler", default=None, metavar="tcp://HOST:PORTA",
                    help="executa num cluster Dask (entradas e --execucoes num armazenamento "
                         "compartilhado com os workers)")
    sp.add_argument("--retomar", dest="resume", default=None, metavar="PASTA_DA_EXECUCAO",
                    help="continua uma execução interrompida: etapas completas com entradas "
                         "inalteradas são reaproveitadas")
    _common_run_options(sp)


def add_check(sub) -> None:
    sp = sub.add_parser("validar", help="valida arquivos de site sem executar nada",
                        formatter_class=_Formatter,
                        description="Valida um arquivo de site, um inventário ou uma pasta de "
                                    "arquivos de site com as mesmas regras de 'executar' e 'lote', "
                                    "sem executar nada: saída 0 se tudo é válido, 2 com uma "
                                    "linha por problema. Para hooks de pre-commit e CI.")
    sp.add_argument("path", metavar="SITE|INVENTARIO|PASTA")
    sp.set_defaults(func=cmd_check)


def add_inspect(sub) -> None:
    sp = sub.add_parser("inspecionar", help="parâmetros que um notebook recebe",
                        formatter_class=_Formatter,
                        description="Lista os parâmetros (célula 'parameters') que um notebook "
                                    "recebe do papermill, com tipo e valor padrão.")
    sp.add_argument("notebook", metavar="NOTEBOOK")
    sp.set_defaults(func=cmd_inspect)


def add_probe(sub) -> None:
    sp = sub.add_parser(
        "sondar", formatter_class=_Formatter,
        help="sondagem do servidor (rode no servidor; não precisa de root)",
        description="Coleta no servidor os dados que a etapa 2 confere: CPU, RAM, disco onde o "
                    "PEC instala, sistema, locale pt_BR.UTF-8, fuso, portas 80/443/5433/8080, "
                    "Java, PostgreSQL e RemoveIPC. Leva menos de 3 s; não precisa de root.")
    sp.add_argument("--json", metavar="ARQUIVO",
                    help="grava a sondagem neste arquivo JSON ('-' escreve na saída padrão)")
    sp.add_argument("--pasta-instalacao", dest="install_path", metavar="PASTA", default=None,
                    help="onde o PEC será instalado (padrão: /opt ou C:\\Program Files)")
    sp.add_argument("--velocidade-disco", dest="disk_speed", action="store_true",
                    help="mede gravação e leitura sequenciais com um arquivo temporário "
                         "(apagado ao final, mesmo se interrompido)")
    sp.add_argument("--velocidade-disco-mb", dest="disk_speed_mb", type=_disk_mb, default=256, metavar="MB",
                    help="tamanho do arquivo temporário da medição (padrão: 256)")
    sp.add_argument("--ler", dest="read", metavar="ARQUIVO", default=None,
                    help="em vez de sondar, lê e resume um arquivo de sondagem existente")
    sp.add_argument("--ssh", metavar="USUARIO@HOST[:PORTA]", default=None,
                    help="sonda um servidor Linux remoto por SSH, sem instalar nada nele")
    _ssh_options(sp)
    sp.add_argument("--prazo-ssh", dest="ssh_timeout", type=_seconds, default=60.0, metavar="SEGUNDOS",
                    help="com --ssh: prazo de cada comando remoto, do pedido ao fim da saída "
                         "(padrão: 60; a medição de --velocidade-disco tem 300)")
    sp.set_defaults(func=cmd_probe)

def _ssh_options(sp: argparse.ArgumentParser) -> None:
    """The SSH options of ``sondar --ssh`` and ``conferir-instalacao --ssh`` (one name each)."""
    sp.add_argument("--chave-ssh", dest="identity", metavar="ARQUIVO", default=None,
                    help="chave privada SSH (padrão: o agente SSH)")
    sp.add_argument("--hosts-conhecidos", dest="known_hosts", metavar="ARQUIVO", default=None,
                    help="hosts conhecidos (padrão: ~/.ssh/known_hosts)")
    sp.add_argument("--senha-env", dest="password_env", metavar="NOME", default=None,
                    help="variável de ambiente com a senha SSH (nunca a senha em si)")


def add_xml_audit(xsub) -> None:
    sp = xsub.add_parser("auditar", help="audita um XML (ou ZIP) do CNES antes da importação",
                         formatter_class=_Formatter,
                         description="Audita o XML do CNES gerado no e-Gestor AB. Saída: 0 sem "
                                     "erros (alertas permitidos), 1 com erros, 2 arquivo "
                                     "recusado.")
    sp.add_argument("path", metavar="ARQUIVO", help="XmlParaESUS*.zip ou .xml")
    sp.add_argument("--ibge", default=None, metavar="CODIGO",
                    help="município esperado (6 ou 7 dígitos)")
    sp.add_argument("--json", default=None, metavar="ARQUIVO",
                    help="grava o relatório completo em JSON")
    sp.add_argument("--html", default=None, metavar="ARQUIVO",
                    help="grava o relatório em HTML")
    sp.set_defaults(func=cmd_xml_audit)


def add_xml_diff(xsub) -> None:
    sp = xsub.add_parser(
        "comparar", help="o que a importação de um XML novo vai mudar no PEC",
        formatter_class=_Formatter,
        description="Compara o XML do CNES importado por último (ANTERIOR) com o novo (NOVO) "
                    "e lista o que a importação vai mudar no PEC: profissionais que perdem ou "
                    "ganham acesso, CNS alterado, lotações, equipes e unidades, layout mais "
                    "antigo e município trocado. CPF e CNS saem mascarados. Saída: 0 nada "
                    "exige atenção, 1 há alterações a revisar (remoções, CNS, layout, "
                    "município), 2 arquivo recusado.")
    sp.add_argument("old", metavar="ANTERIOR", help="o XML (ou ZIP) importado por último")
    sp.add_argument("new", metavar="NOVO", help="o XML (ou ZIP) que será importado")
    sp.add_argument("--json", default=None, metavar="ARQUIVO",
                    help="grava todas as alterações em JSON")
    sp.add_argument("--html", default=None, metavar="ARQUIVO",
                    help="grava o relatório em HTML")
    sp.add_argument("--exemplos", dest="examples", type=_non_negative_int, default=10, metavar="N",
                    help="quantas alterações a revisar mostrar na tela (padrão: 10)")
    sp.set_defaults(func=cmd_xml_diff)


def add_xml_reconcile(xsub) -> None:
    sp = xsub.add_parser(
        "reconciliar", help="depois da importação: o banco do PEC confere com o XML?",
        formatter_class=_Formatter,
        description="Lê o banco do PEC só para leitura (transação READ ONLY, só SELECT) e "
                    "compara com o XML do CNES: unidades, equipes, profissionais (CPF, CNS) e "
                    "lotações ativas. Antes confere o esquema do banco; se faltar uma tabela "
                    "ou coluna, o resultado é pendente. A senha vem de variável de ambiente "
                    "(padrão PGPASSWORD) ou arquivo, nunca da linha de comando. Saída: 0 o PEC "
                    "confere, 1 há diferenças, 2 entrada recusada (arquivo, conexão, senha), "
                    "3 pendente (esquema desconhecido ou XML ainda não importado).")
    sp.add_argument("path", metavar="XML", help="XmlParaESUS*.zip ou .xml importado no PEC")
    sp.add_argument("--db-url", required=True, metavar="URL",
                    help="postgresql://usuario@host:5433/esus (sem senha)")
    sp.add_argument("--db-password-env", default=None, metavar="NOME",
                    help="variável de ambiente com a senha (padrão: PGPASSWORD)")
    sp.add_argument("--db-password-file", default=None, metavar="ARQUIVO",
                    help="arquivo (chmod 600) com a senha")
    sp.add_argument("--ibge", default=None, metavar="CODIGO",
                    help="município esperado (6 ou 7 dígitos)")
    sp.add_argument("--json", default=None, metavar="ARQUIVO",
                    help="grava todas as diferenças em JSON")
    sp.add_argument("--html", default=None, metavar="ARQUIVO", help="grava o relatório em HTML")
    sp.add_argument("--exemplos", dest="examples", type=_non_negative_int, default=10, metavar="N",
                    help="quantas diferenças mostrar na tela (padrão: 10)")
    sp.add_argument("--maximo-por-tipo", dest="max_per_kind", type=_non_negative_int,
                    default=1000, metavar="N",
                    help="no JSON e no HTML, no máximo N diferenças de cada tipo (as contagens "
                         "são sempre completas; 0 = sem limite; padrão: 1000)")
    sp.set_defaults(func=cmd_xml_reconcile)


# Subcommands of ``xml``.
XML_SUBCOMMANDS = [
    add_xml_audit,
    add_xml_diff,
    add_xml_reconcile,
]


def add_xml(sub) -> None:
    sp = sub.add_parser("xml", help="XML do CNES: auditoria, comparação e reconciliação",
                        formatter_class=_Formatter,
                        description="O XML do CNES (e-Gestor AB): auditar antes de importar, "
                                    "comparar com o anterior, reconciliar com o banco do PEC.")
    xsub = sp.add_subparsers(dest="xml_command", required=True, metavar="SUBCOMANDO",
                             parser_class=_Parser)
    for add in XML_SUBCOMMANDS:
        add(xsub)


def _sha256(text: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text or ""):
        raise argparse.ArgumentTypeError("SHA-256 deve ter 64 dígitos hexadecimais")
    return text.lower()


def add_download(sub) -> None:
    sp = sub.add_parser("baixar", help="baixa o instalador do PEC, retomável e verificado",
                        formatter_class=_Formatter,
                        description="Baixa o instalador (retoma downloads interrompidos), "
                                    "confere nome, tamanho e SHA-256 e registra o hash do "
                                    "primeiro download verificado no registro da equipe.")
    sp.add_argument("--url", required=True, help="link do instalador copiado do portal SISAPS")
    sp.add_argument("--versao-pec", dest="version", required=True, metavar="VERSAO",
                    help="versão do PEC (do instalador), ex.: 5.5.24")
    sp.add_argument("--pasta", dest="dest", required=True, metavar="PASTA", help="pasta dos instaladores")
    sp.add_argument("--sha256", type=_sha256, default=None, metavar="HASH",
                    help="SHA-256 esperado (opcional)")
    sp.add_argument("--plataforma", dest="platform", choices=("linux", "windows"), default=None,
                    help="plataforma do servidor (confere com o nome do arquivo)")
    sp.add_argument("--registro", dest="registry", default=None, metavar="CSV",
                    help="registro de versões da equipe (padrão: "
                         "PASTA/registro-instaladores.csv)")
    sp.add_argument("--tentativas", dest="retries", type=_retries, default=5, metavar="N",
                    help="novas tentativas depois da primeira: no máximo N+1 pedidos ao "
                         "servidor (padrão: 5)")
    sp.add_argument("--prazo", dest="timeout", type=_seconds, default=60.0, metavar="SEGUNDOS",
                    help="segundos sem resposta antes de tentar de novo (padrão: 60)")
    sp.add_argument("--sem-progresso", dest="no_progress", action="store_true",
                    help="sem barra de progresso")
    sp.add_argument("--confiar-primeiro-uso", action="store_true",
                    help="registra o hash de uma versão cujo tamanho nenhum registro conhece "
                         "(primeiro uso), depois de conferi-lo com outra equipe")
    sp.set_defaults(func=cmd_download)


def add_verify_install(sub) -> None:
    sp = sub.add_parser("conferir-instalacao", help="confere o PEC instalado (HTTP e banco)",
                        formatter_class=_Formatter,
                        description="Confere se o PEC responde, a versão, os tempos de resposta "
                                    "e, com --db-url, o banco (versão, modo, tipo, link). A "
                                    "senha vem de variável de ambiente (padrão PGPASSWORD) ou "
                                    "arquivo, nunca da linha de comando.")
    sp.add_argument("--pec-url", required=True, metavar="URL", help="ex.: http://10.0.0.5:8080")
    sp.add_argument("--db-url", default=None, metavar="URL",
                    help="postgresql://usuario@host:5433/esus (sem senha)")
    sp.add_argument("--db-password-env", default=None, metavar="NOME",
                    help="variável de ambiente com a senha (padrão: PGPASSWORD)")
    sp.add_argument("--db-password-file", default=None, metavar="ARQUIVO",
                    help="arquivo (chmod 600) com a senha")
    sp.add_argument("--versao-pec", dest="expect_version", default=None, metavar="VERSAO",
                    help="versão do PEC que deve estar em execução")
    sp.add_argument("--modo", choices=("producao", "treinamento"), default=None,
                    help="modo esperado da instalação")
    sp.add_argument("--tipo-instalacao", default=None,
                    choices=("prontuario", "centralizador_municipal", "centralizador_estadual"),
                    help="tipo esperado (TIPOINSTALACAO)")
    sp.add_argument("--link-instalacao", default=None, metavar="URL",
                    help="link público esperado (LINKINSTALACAO; sem porta = 80)")
    sp.add_argument("--prazo", dest="timeout", type=_seconds, default=10.0, metavar="SEGUNDOS",
                    help="segundos por requisição (padrão: 10)")
    sp.add_argument("--json", default=None, metavar="ARQUIVO",
                    help="grava o resultado em JSON")
    sp.add_argument("--ssh", default=None, metavar="USUARIO@HOST[:PORTA]",
                    help="com --db-url em localhost/127.0.0.1: acessa o banco do servidor por "
                         "um túnel SSH")
    _ssh_options(sp)
    sp.set_defaults(func=cmd_verify_install)

def add_lab(sub) -> None:
    sp = sub.add_parser(
        "lab", help="abre o JupyterLab com os notebooks prontos para um site",
        formatter_class=_Formatter,
        description="Abre o JupyterLab em 127.0.0.1 (com token) e o kernel esus-runbook. "
                    "Sem argumento: na pasta atual (copia os notebooks para ./notebooks/; "
                    "o formulário grava ./sites/<site_id>.yaml). Com um site, inventário ou "
                    "pasta: cada site ganha a pasta PASTA/interativo/<site_id>/ com os "
                    "notebooks já configurados para ele. O trabalho feito lá é uma execução "
                    "(run.json) que o catálogo, o painel e o dossiê incluem.")
    sp.add_argument("target", nargs="?", default=None, metavar="SITE_OU_INVENTARIO",
                    help="arquivo do site (pode ainda não existir), inventário ou pasta")
    sp.add_argument("--execucoes", default="execucoes", metavar="PASTA",
                    help="pasta das execuções; o trabalho no JupyterLab fica em "
                         "PASTA/interativo/<site_id>/ (padrão: execucoes)")
    sp.add_argument("--out", default=None, help=argparse.SUPPRESS)  # old: the folder itself
    sp.add_argument("--porta", dest="port", type=_port, default=None, metavar="PORTA",
                    help="porta local, de 1 a 65535 (padrão: uma livre)")
    sp.add_argument("--sem-navegador", dest="no_browser", action="store_true",
                    help="não abre o navegador (só mostra o endereço)")
    sp.set_defaults(func=cmd_lab)


def add_catalogo(sub) -> None:
    sp = sub.add_parser("catalogo", help="catálogo de execuções (SQLite) da pasta execucoes",
                        formatter_class=_Formatter,
                        description="O catálogo (SQLite) das execuções: lido pelo painel e "
                                    "pelo dossiê.")
    csub = sp.add_subparsers(dest="catalogo_command", required=True, metavar="SUBCOMANDO",
                             parser_class=_Parser)
    ip = csub.add_parser(
        "importar", formatter_class=_Formatter,
        help="(re)constrói o catálogo a partir das pastas de execução",
        description=f"Lê cada pasta de execução ({run_folder.RUN_FILE}, <site>/<etapa>.json, "
                    f"{run_folder.rollup_name('json')}) e "
                    "grava no catálogo PASTA/catalogo.sqlite. Pode ser repetido: uma execução "
                    "é identificada pelo run_id (uma pasta movida ou copiada é a mesma).")
    ip.add_argument("pasta", metavar="PASTA",
                    help="pasta das execuções (ex.: execucoes) ou uma pasta de execução")
    ip.add_argument("--catalogo", default=None, metavar="ARQUIVO",
                    help="outro arquivo de catálogo (padrão: PASTA/catalogo.sqlite)")
    ip.set_defaults(func=cmd_catalog_import)


def add_dossie(sub) -> None:
    sp = sub.add_parser(
        "dossie", help="dossiê da implantação de um local (HTML e PDF)",
        formatter_class=_Formatter,
        description="O histórico do local de implantação em todas as execuções do catálogo: "
                    "a situação atual "
                    "de cada etapa, cada mudança de situação com a data, as evidências de "
                    "cada OK, o que falta e um bloco de assinaturas.")
    sp.add_argument("site_id", metavar="SITE_ID", nargs="?", default=None)
    sp.add_argument("--todos", action="store_true",
                    help="grava o dossiê de cada local do catálogo, de uma vez, em "
                         "PASTA/dossies (o painel aponta para eles)")
    sp.add_argument("--execucoes", default="execucoes", metavar="PASTA",
                    help="pasta das execuções com o catalogo.sqlite (padrão: execucoes)")
    sp.add_argument("--saida", dest="out", default=None, metavar="ARQUIVO",
                    help="HTML do dossiê (padrão: PASTA/dossies/SITE_ID.html)")
    sp.add_argument("--pdf", default=None, metavar="ARQUIVO",
                    help="grava também um PDF (A4) com o Chromium sem interface")
    sp.set_defaults(func=cmd_dossie)


def add_painel(sub) -> None:
    sp = sub.add_parser(
        "painel", help="painel da situação de todos os locais de implantação (HTML e CSV)",
        formatter_class=_Formatter,
        description="Os locais de implantação, o pior primeiro, com links para o relatório e "
                    "o dossiê de cada um; locais por situação semana a semana, dias até ficar "
                    "pronto, verificações que mais bloqueiam, locais parados e uma tabela por "
                    "município; as mesmas tabelas em CSV ao lado do HTML.")
    sp.add_argument("--execucoes", default="execucoes", metavar="PASTA",
                    help="pasta das execuções com o catalogo.sqlite (padrão: execucoes)")
    sp.add_argument("--saida", dest="out", default=None, metavar="ARQUIVO",
                    help="HTML do painel (padrão: PASTA/painel.html)")
    sp.add_argument("--parado-dias", type=_positive_int, default=14, metavar="N",
                    help="local parado: nenhuma etapa mudou de situação há N dias (padrão: 14)")
    sp.set_defaults(func=cmd_painel)


def add_ssh(sub) -> None:
    sp = sub.add_parser("ssh", help="acesso SSH ao servidor do PEC (chaves de host)",
                        formatter_class=_Formatter,
                        description="Acesso SSH ao servidor do PEC: registrar a chave de host "
                                    "conferida com o responsável pelo servidor.")
    ssub = sp.add_subparsers(dest="ssh_command", required=True, metavar="SUBCOMANDO",
                             parser_class=_Parser)
    ap = ssub.add_parser(
        "aceitar", formatter_class=_Formatter,
        help="registra a chave do servidor em known_hosts",
        description="Registra em known_hosts a chave de host do servidor, só se a impressão "
                    "digital dela for a informada em --impressao-digital (a que você conferiu com o "
                    "responsável pelo servidor). Se já houver qualquer chave registrada para o "
                    "servidor (de qualquer tipo), nada é gravado: pode ser um ataque.")
    ap.add_argument("target", metavar="USUARIO@HOST[:PORTA]", help="ex.: suporte@10.0.0.5")
    ap.add_argument("--impressao-digital", dest="fingerprint", required=True, metavar="SHA256:...",
                    help="impressão digital confirmada com o responsável pelo servidor "
                         "(obrigatória; a mensagem 'chave do servidor desconhecida' mostra o "
                         "comando completo)")
    ap.add_argument("--hosts-conhecidos", dest="known_hosts", default=None, metavar="ARQUIVO",
                    help="arquivo de hosts conhecidos (padrão: ~/.ssh/known_hosts)")
    ap.add_argument("--prazo", dest="timeout", type=_seconds, default=10.0, metavar="SEGUNDOS",
                    help="segundos para conectar (padrão: 10)")
    ap.set_defaults(func=cmd_ssh_accept)


SUBCOMMANDS = [
    add_probe,
    add_run,
    add_batch,
    add_check,
    add_inspect,
    add_xml,
    add_download,
    add_verify_install,
    add_lab,
    add_catalogo,
    add_dossie,
    add_painel,
    add_ssh,
]


def _ops_common(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("site", metavar="SITE.yaml", help="arquivo do site (ou inventário)")
    sp.add_argument("--site-id", default=None, metavar="SITE_ID",
                    help="o site, quando o arquivo é um inventário")
    sp.add_argument("--execucoes", dest="out", default="execucoes", metavar="PASTA",
                    help="pasta das execuções; a evidência vai para PASTA/operacoes/<site_id>/")
    sp.add_argument("--prazo", dest="timeout", type=_seconds, default=10.0, metavar="SEGUNDOS",
                    help="prazo de cada conexão (padrão: 10)")


def add_certificado(sub) -> None:
    sp = sub.add_parser("certificado", help="confere o certificado HTTPS do link do PEC",
                        formatter_class=_Formatter,
                        description="Handshake TLS com o link do PEC: dias até vencer, nome, "
                                    "cadeia e domínio .gov.br. Grava a evidência.")
    _ops_common(sp)
    sp.set_defaults(func=cmd_certificado)


def add_backup(sub) -> None:
    sp = sub.add_parser("backup", help="confere os backups do banco no servidor (sem copiá-los)",
                        formatter_class=_Formatter,
                        description="Lê a pasta backup.pasta no servidor (SSH, ou esta "
                                    "máquina sem servidor.ssh): idade, tamanho, permissão, "
                                    "SHA-256, pg_restore --list e o último bloco do dump mais "
                                    "novo. Grava a evidência.")
    _ops_common(sp)
    sp.add_argument("--restaurar-teste", action="store_true",
                    help="restaura o dump mais novo num banco temporário em "
                         "backup.restaurar_em (criado e apagado pelo comando)")
    sp.set_defaults(func=cmd_backup)


def add_atualizacao(sub) -> None:
    sp = sub.add_parser("atualizacao", help="atualização de versão do PEC: antes e depois",
                        formatter_class=_Formatter,
                        description="Metade 'antes': registro e instalador da versão alvo, "
                                    "disco, backup verificado, trava do Liquibase, RemoveIPC, "
                                    "serviços e o comando exato. Metade 'depois': versões da "
                                    "aplicação e do banco, serviços, log sem falha de "
                                    "migração, link e HTTPS iguais aos de antes.")
    _ops_common(sp)
    sp.add_argument("--para", required=True, metavar="VERSAO", help="versão alvo, ex.: 5.5.24")
    sp.add_argument("--fase", choices=("antes", "depois"), default="antes",
                    help="qual metade (padrão: antes)")
    sp.add_argument("--instalador", default=None, metavar="ARQUIVO",
                    help="instalador da versão alvo (padrão: instalador.arquivo do site, se "
                         "for desta versão)")
    sp.set_defaults(func=cmd_atualizacao)


SUBCOMMANDS.extend([add_certificado, add_backup, add_atualizacao])


def add_novo(sub) -> None:
    sp = sub.add_parser("novo", help="cria o arquivo comentado de um site novo",
                        formatter_class=_Formatter,
                        description="Escreve PASTA/SITE_ID.yaml com todas as seções e campos "
                                    "comentados em pt-BR (os obrigatórios ficam vazios, "
                                    "marcados PREENCHA, e 'validar' aponta cada um), o "
                                    "esquema site.schema.json ao lado para o editor e, com "
                                    "--inventario, inclui o arquivo no inventário (mantendo "
                                    "os comentários). Nunca sobrescreve um arquivo existente.")
    sp.add_argument("site_id", metavar="SITE_ID", help="identificador, ex.: ubs-centro")
    sp.add_argument("--pasta", default="sites", metavar="PASTA",
                    help="pasta dos arquivos de site (padrão: sites)")
    sp.add_argument("--inventario", default=None, metavar="ARQUIVO",
                    help="inventário (YAML com sites:) em que incluir o site; criado se "
                         "não existir")
    sp.set_defaults(func=cmd_novo)


def add_esquema(sub) -> None:
    sp = sub.add_parser("esquema", help="grava o JSON Schema do arquivo de site (editor)",
                        formatter_class=_Formatter,
                        description="Grava o JSON Schema do arquivo de site, gerado da mesma "
                                    "tabela de campos que 'validar' usa, para o editor "
                                    "completar e conferir os arquivos de site (linha "
                                    "'# yaml-language-server: $schema=site.schema.json').")
    sp.add_argument("--saida", default=str(Path("sites") / "site.schema.json"),
                    metavar="ARQUIVO",
                    help="arquivo a gravar (padrão: sites/site.schema.json)")
    sp.set_defaults(func=cmd_esquema)


SUBCOMMANDS[0:0] = [add_novo, add_esquema]


# Every subcommand's example (shown at the end of its --help), by command path.
EXAMPLES = {
    ("novo",): "esus-runbook novo ubs-centro --inventario inventario.yaml",
    ("esquema",): "esus-runbook esquema --saida sites/site.schema.json",
    ("sondar",): "esus-runbook sondar --json ubs-centro-sondagem.json --velocidade-disco\n"
                 "  esus-runbook sondar --ssh suporte@10.0.0.5 --json ubs-centro-sondagem.json",
    ("executar",): "esus-runbook executar sites/ubs-centro.yaml --execucoes execucoes",
    ("lote",): "esus-runbook lote inventario.yaml --execucoes execucoes --paralelos 4",
    ("validar",): "esus-runbook validar sites/",
    ("inspecionar",): "esus-runbook inspecionar notebooks/02_ambiente.ipynb",
    ("xml",): "esus-runbook xml auditar XmlParaESUS31_292740.zip --ibge 2927408",
    ("xml", "auditar"): "esus-runbook xml auditar XmlParaESUS31_292740.zip --ibge 2927408 "
                        "--html auditoria.html",
    ("xml", "comparar"): "esus-runbook xml comparar anterior.zip novo.zip --html "
                         "comparacao.html",
    ("xml", "reconciliar"): "esus-runbook xml reconciliar novo.zip --db-url "
                            "postgresql://leitor@10.0.0.5:5433/esus --db-password-env "
                            "PEC_DB_SENHA",
    ("baixar",): "esus-runbook baixar --url 'https://...' --versao-pec 5.5.24 --pasta "
                 "instaladores",
    ("conferir-instalacao",): "esus-runbook conferir-instalacao --pec-url "
                              "http://10.0.0.5:8080 --versao-pec 5.5.24",
    ("lab",): "esus-runbook lab sites/ubs-centro.yaml",
    ("catalogo",): "esus-runbook catalogo importar execucoes",
    ("catalogo", "importar"): "esus-runbook catalogo importar execucoes",
    ("dossie",): "esus-runbook dossie ubs-centro --execucoes execucoes --pdf ubs-centro.pdf",
    ("painel",): "esus-runbook painel --execucoes execucoes --saida painel.html",
    ("ssh",): "esus-runbook ssh aceitar suporte@10.0.0.5 --impressao-digital SHA256:...",
    ("ssh", "aceitar"): "esus-runbook ssh aceitar suporte@10.0.0.5 --impressao-digital "
                        "SHA256:...",
    ("certificado",): "esus-runbook certificado sites/ubs-centro.yaml",
    ("backup",): "esus-runbook backup sites/ubs-centro.yaml --restaurar-teste",
    ("atualizacao",): "esus-runbook atualizacao sites/ubs-centro.yaml --para 5.5.24 "
                      "--fase antes",
}

# Old (English or earlier) names → the current ones: hidden, each use prints the new name
# on stderr (one line) and runs the command, so no script breaks.
COMMAND_ALIASES: dict[tuple[str, ...], dict[str, str]] = {
    (): {"probe": "sondar", "run": "executar", "batch": "lote", "check": "validar",
         "inspect": "inspecionar", "download": "baixar",
         "verify-install": "conferir-instalacao"},
    ("xml",): {"audit": "auditar", "diff": "comparar", "reconcile": "reconciliar"},
}
_TIMEOUT = {"--timeout": "--prazo"}
_SSH = {"--identity": "--chave-ssh", "--known-hosts": "--hosts-conhecidos"}
_RUN = {"--out": "--execucoes", "--retries": "--tentativas", "--no-progress": "--sem-progresso",
        **_TIMEOUT}
_OPS = {"--out": "--execucoes", **_TIMEOUT}
OPTION_ALIASES: dict[tuple[str, ...], dict[str, str]] = {
    ("executar",): _RUN,
    ("lote",): {**_RUN, "--workers": "--paralelos", "--scheduler": "--agendador",
                "--resume": "--retomar"},
    ("sondar",): {"--install-path": "--pasta-instalacao", "--disk-speed": "--velocidade-disco",
                  "--disk-speed-mb": "--velocidade-disco-mb", "--read": "--ler",
                  "--password-env": "--senha-env", "--ssh-timeout": "--prazo-ssh", **_SSH},
    ("xml", "comparar"): {"--examples": "--exemplos"},
    ("xml", "reconciliar"): {"--examples": "--exemplos", "--max-per-kind": "--maximo-por-tipo"},
    ("baixar",): {"--version": "--versao-pec", "--dest": "--pasta", "--platform": "--plataforma",
                  "--registry": "--registro", "--retries": "--tentativas",
                  "--no-progress": "--sem-progresso", **_TIMEOUT},
    ("conferir-instalacao",): {"--expect-version": "--versao-pec",
                               "--ssh-password-env": "--senha-env", **_SSH, **_TIMEOUT},
    ("lab",): {"--port": "--porta", "--no-browser": "--sem-navegador"},
    ("dossie",): {"--out": "--saida"},
    ("painel",): {"--out": "--saida"},
    ("ssh", "aceitar"): {"--fingerprint": "--impressao-digital",
                         "--known-hosts": "--hosts-conhecidos", **_TIMEOUT},
    ("certificado",): _OPS,
    ("backup",): _OPS,
    ("atualizacao",): _OPS,
}
_NESTED = ("xml", "catalogo", "ssh")  # commands with their own subcommands


def _notice(old: str, new: str) -> None:
    say(f"aviso: '{old}' agora se chama '{new}' (o nome antigo continua funcionando)",
        file=sys.stderr)


def command_path(argv: list[str]) -> tuple[str, ...]:
    """The (sub)command words of ``argv`` (``("xml", "auditar")``), old names mapped."""
    path: list[str] = []
    for word in argv:
        if word.startswith("-"):
            if path:
                break
            continue
        word = COMMAND_ALIASES.get(tuple(path), {}).get(word, word)
        path.append(word)
        if len(path) == 2 or path[0] not in _NESTED:
            break
    return tuple(path)


def translate_aliases(argv: list[str]) -> list[str]:
    """``argv`` with every old command and option name replaced by the current one, a
    notice on stderr for each (the parser only knows the current names)."""
    out: list[str] = []
    path: list[str] = []
    words_left = 2
    for i, word in enumerate(argv):
        if word == "--":
            return out + argv[i:]
        if not word.startswith("-") and words_left and (not path or path[0] in _NESTED) \
                and (not out or not out[-1].startswith("-") or not path):
            new = COMMAND_ALIASES.get(tuple(path), {}).get(word, word)
            if new != word:
                _notice(word, new)
            path.append(new)
            words_left -= 1
            out.append(new)
            continue
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            new = OPTION_ALIASES.get(tuple(path), {}).get(name)
            if new and not (tuple(path) == ("lab",) and name == "--out"):
                _notice(name, new)
                word = new + eq + value
        out.append(word)
    return out


def _suggestion(word: str, names: dict[str, str]) -> str:
    """`` — você quis dizer 'X'?`` for the name closest to ``word`` (``names`` maps every
    known spelling, current or old, to the current name), or nothing."""
    near = difflib.get_close_matches(word, list(names), n=1, cutoff=0.6)
    return f" — você quis dizer '{names[near[0]]}'?" if near else ""


def _visible_options(parser: argparse.ArgumentParser) -> list[str]:
    return [o for a in parser._actions if a.help != argparse.SUPPRESS
            for o in a.option_strings if o.startswith("--")]


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="esus-runbook", formatter_class=_Formatter,
                description="Implantação do e-SUS APS PEC: verificações, notebooks e "
                            "relatórios por site.",
                epilog="Exemplo:\n  esus-runbook novo ubs-centro --inventario inventario.yaml"
                       "\n  esus-runbook validar sites/ubs-centro.yaml\n"
                       "  esus-runbook executar sites/ubs-centro.yaml\n\n"
                       "Ajuda de um comando: esus-runbook COMANDO --help\n\n"
                       "Códigos de saída (todos os comandos):\n"
                       + "\n".join(f"  {c.value:>3}  {c.meaning}" for c in ExitCode))
    p.add_argument("--version", action="version", version=_version(), help="mostra a versão")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMANDO",
                           parser_class=_Parser)
    for add in SUBCOMMANDS:
        add(sub)
    p._subparsers_by_path = {}  # type: ignore[attr-defined]
    for path, parser in subcommand_parsers(p):
        p._subparsers_by_path[path] = parser  # type: ignore[attr-defined]
        if path in EXAMPLES and not parser.epilog:
            parser.epilog = "Exemplo:\n  " + EXAMPLES[path]
    return p


def subcommand_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every (command path, parser) below ``parser``, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sp in action.choices.items():
                yield (*path, name), sp
                yield from subcommand_parsers(sp, (*path, name))


def _version() -> str:
    v = package_version()
    return f"esus-runbook {v}" if v else "esus-runbook (não instalado)"


def main(argv: list[str] | None = None) -> ExitCode:
    argv = translate_aliases(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    parser._argv = argv  # type: ignore[attr-defined]  # for "você quis dizer" on a typo
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except RunbookError as exc:
        say(str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        say("interrompido pelo usuário", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # `esus-runbook ... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.FINDINGS  # the output was cut short: never 0


if __name__ == "__main__":
    sys.exit(main())
