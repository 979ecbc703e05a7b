"""Command line: each subcommand maps its options to one package function and an exit code.

Exit codes: 0 ok; 1 completed with failures found; 2 input rejected (one pt-BR line per
problem on stderr, no traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import RunbookError

_TRANSLATIONS = {
    "the following arguments are required: ": "faltam os argumentos: ",
    "unrecognized arguments: ": "argumentos desconhecidos: ",
    "invalid choice: ": "opção inválida: ",
    "expected one argument": "a opção precisa de um valor",
    "invalid int value: ": "número inteiro inválido: ",
    "invalid float value: ": "número inválido: ",
    "argument ": "argumento ",
    "choose from ": "escolha entre ",
}


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

    def error(self, message: str):  # noqa: D401
        for en, pt in _TRANSLATIONS.items():
            message = message.replace(en, pt)
        self.exit(2, f"{self.prog}: erro: {message} — veja '{self.prog} --help'\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("deve ser ≥ 1")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"número inteiro inválido: '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError("deve ser ≥ 0")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"número inválido: '{text}'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("deve ser > 0 (segundos)")
    return value


# --------------------------------------------------------------------------- commands
def cmd_run(args: argparse.Namespace) -> int:
    from .batch import BatchOptions, run_batch

    opts = BatchOptions(out=Path(args.out), timeout=args.timeout, retries=args.retries,
                        progress=not args.no_progress,
                        kernel_per_notebook=args.kernel_por_notebook)
    if args.command == "batch":
        opts.workers = args.workers
        opts.scheduler = args.scheduler
        opts.resume = Path(args.resume) if args.resume else None
    else:
        opts.workers = 1
    summary = run_batch(args.inventory, opts)
    counts: dict[str, int] = {}
    for status in summary.site_status.values():
        counts[status] = counts.get(status, 0) + 1
    resumo = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"Execução: {summary.run_dir}")
    print(f"Consolidado: {summary.rollup_html}")
    print(f"Sites: {len(summary.site_status)} ({resumo}) em {summary.seconds:.1f} s; "
          f"notebooks: {summary.notebooks_executed} executados, "
          f"{summary.notebooks_reused} reaproveitados")
    if summary.interrupted:
        print(f"Execução interrompida: retome com 'esus-runbook batch {args.inventory} "
              f"--resume {summary.run_dir}'", file=sys.stderr)
    return summary.exit_code


def cmd_inspect(args: argparse.Namespace) -> int:
    from .inspect import describe_parameters

    print(describe_parameters(args.notebook))
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    import json

    from .probe import collect, load_probe, normalize, summary_lines, write_probe

    if args.read:
        print("\n".join(summary_lines(load_probe(args.read))))
        return 0
    facts = collect(install_path=args.install_path, disk_speed=args.disk_speed,
                    disk_speed_mb=args.disk_speed_mb,
                    progress=lambda msg: print(msg, file=sys.stderr))
    to_stdout = args.json == "-"
    text = "\n".join(summary_lines(normalize(facts)))
    print(text, file=sys.stderr if to_stdout else sys.stdout)
    if to_stdout:
        print(json.dumps(facts, ensure_ascii=False, indent=2))
    elif args.json:
        write_probe(facts, args.json)
        print(f"Sondagem gravada em {args.json} ({facts['duration_s']:.1f} s). Copie o arquivo "
              "para a pasta do site e informe o caminho em ambiente.probe.")
    return 0

def cmd_xml_audit(args: argparse.Namespace) -> int:
    from .cnes.audit import audit

    report = audit(args.path, args.ibge, display_name=args.path)
    if args.json:
        report.write_json(args.json)
    if args.html:
        report.write_html(args.html)
    c = report.counts
    f = report.file_info()
    print(f"Arquivo: {f['name']} (layout {f['version'] or '?'}, município {f['ibge'] or '?'})")
    print(f"Estabelecimentos: {c['establishments']}  Equipes: {c['teams']} "
          f"({c['active_teams']} ativas)  Profissionais: {c['professionals']}  "
          f"Lotações: {c['lotacoes']}")
    for code, r in report.rule_counts().items():
        sev = "erro" if r["severity"] == "error" else "alerta"
        print(f"  {code:<28} {sev:<6} {r['count']:>7}  {r['title']}")
    print(f"Resultado: {report.errors} erro(s), {report.warnings} alerta(s)"
          + ("" if report.errors else " — pode ser importado no PEC"))
    return 1 if report.errors else 0


def _print_checks(checks) -> None:
    """One line per check, the remedy under each one that is not ok."""
    for c in checks:
        observed = c.observed if c.observed is not None else ""
        first, *rest = str(observed).splitlines() or [""]
        print(f"[{c.status.value:^8}] {c.id:<22} {c.title}: {first}")
        for line in rest:
            print(f"{'':34}{line}")
        if c.remedy and c.status.value != "ok":
            print(f"{'':11}→ {c.remedy}")


def cmd_download(args: argparse.Namespace) -> int:
    from .fetch import download
    from .releases import Registry, default_team_file

    dest = Path(args.dest).expanduser()
    registry = Registry(args.registry or default_team_file(dest))
    out = download(args.url, dest, args.version, plataforma=args.platform,
                   expected_sha256=args.sha256, registry=registry,
                   progress=not args.no_progress, retries=args.retries,
                   timeout=(args.timeout, args.timeout))
    _print_checks(out.checks)
    v = out.verification
    if out.ok:
        how = "já estava baixado e foi conferido" if out.reused else "baixado e verificado"
        print(f"Instalador {how}: {out.path}")
        print(f"SHA-256: {v.sha256}  Registro: {registry.team_file}")
        return 0
    if out.quarantined is not None:
        print(f"Arquivo REJEITADO, movido para a quarentena: {out.quarantined}", file=sys.stderr)
    else:
        print("Nada foi gravado com o nome do instalador.", file=sys.stderr)
    return 1


def cmd_verify_install(args: argparse.Namespace) -> int:
    import os

    from .pec import verify_install
    from .results import write_json_atomic
    from .secrets import read_secret

    password = None
    if args.db_url:
        if args.db_password_env or args.db_password_file:
            password = read_secret(args.db_password_env, args.db_password_file,
                                   what="senha do banco")
        elif os.environ.get("PGPASSWORD"):
            password = read_secret("PGPASSWORD", what="senha do banco")
    report = verify_install(args.pec_url, db_url=args.db_url, password=password,
                            expect_version=args.expect_version, modo=args.modo,
                            tipo_instalacao=args.tipo_instalacao, timeout=args.timeout)
    password = None
    _print_checks(report.checks)
    if args.json:
        write_json_atomic(args.json, report.to_dict())
    print(f"Situação: {report.status.value}")
    return 1 if report.status.value in ("falha", "erro") else 0

def cmd_lab(args: argparse.Namespace) -> int:
    from .lab import run_lab

    return run_lab(args.target, out=Path(args.out), port=args.port,
                   open_browser=not args.no_browser)

def cmd_xml_diff(args: argparse.Namespace) -> int:
    from .cnes.diff import KINDS, SEVERITY_LABELS, diff

    report = diff(args.old, args.new, display_names=(args.old, args.new))
    if args.json:
        report.write_json(args.json)
    if args.html:
        report.write_html(args.html)
    for label, cf in (("Anterior", report.old), ("Novo", report.new)):
        print(f"{label}: {cf.source.name} (layout {cf.version or '?'}, município "
              f"{cf.ibge or '?'}, data {cf.header.get('DATA') or '?'}, "
              f"{len(cf.professionals)} profissionais)")
    counts = report.counts
    for code, kind in KINDS.items():
        if counts[code]:
            print(f"  {code:<22} {SEVERITY_LABELS[kind.severity]:<10} {counts[code]:>7}  "
                  f"{kind.title}")
    for note in report.notes:
        print(f"Nota: {note}")
    shown = report.changes[report.changes["severity"] != "info"].head(args.examples)
    for rec in report.records(shown):
        print(f"  - {rec['message']}")
    total = report.errors + report.warnings
    if total > len(shown):
        print(f"  ... e mais {total - len(shown)} (lista completa com --json ou --html)")
    if report.exit_code:
        code = report.confirmation_code
        print(f"Resultado: {report.errors} erro(s), {report.warnings} alteração(ões) a revisar"
              + (f"; código de confirmação: {code}" if code else ""))
    else:
        print(f"Resultado: nada exige atenção ({sum(counts.values())} alteração(ões) "
              "esperada(s))")
    return report.exit_code


# --------------------------------------------------------------------------- parsers
# One function per subcommand adds its parser; each sets ``func`` to its cmd_* above.
def _common_run_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--out", default="execucoes", help="pasta das execuções (padrão: execucoes)")
    sp.add_argument("--timeout", type=_seconds, default=None, metavar="SEGUNDOS",
                    help="tempo máximo de cada notebook; ao estourar, o kernel é encerrado e "
                         "a etapa fica com erro (padrão: sem limite)")
    sp.add_argument("--retries", type=_non_negative_int, default=0, metavar="N",
                    help="novas tentativas para uma etapa que deu erro (não para tempo "
                         "esgotado; padrão: 0)")
    sp.add_argument("--no-progress", action="store_true", help="sem barra de progresso")
    sp.add_argument("--kernel-por-notebook", action="store_true",
                    help="cada notebook num kernel novo (mais lento; para depuração). Padrão: "
                         "um kernel por site, com o espaço de nomes limpo entre os notebooks")
    sp.set_defaults(func=cmd_run)


def add_run(sub) -> None:
    sp = sub.add_parser("run", help="todas as etapas de um site", formatter_class=_Formatter)
    sp.add_argument("inventory", metavar="SITE.yaml", help="arquivo do site")
    _common_run_options(sp)


def add_batch(sub) -> None:
    sp = sub.add_parser("batch", help="todas as etapas de todos os sites de um inventário",
                        formatter_class=_Formatter)
    sp.add_argument("inventory", metavar="INVENTARIO",
                    help="inventário YAML (lista sites:) ou pasta de arquivos de site")
    sp.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                    help="sites em paralelo (padrão: número de CPUs); com --scheduler, "
                         "máximo de sites ao mesmo tempo no cluster")
    sp.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORTA",
                    help="executa num cluster Dask (entradas e --out num armazenamento "
                         "compartilhado com os workers)")
    sp.add_argument("--resume", default=None, metavar="PASTA_DA_EXECUCAO",
                    help="continua uma execução interrompida: etapas completas com entradas "
                         "inalteradas são reaproveitadas")
    _common_run_options(sp)


def add_inspect(sub) -> None:
    sp = sub.add_parser("inspect", help="parâmetros que um notebook recebe",
                        formatter_class=_Formatter)
    sp.add_argument("notebook", metavar="NOTEBOOK")
    sp.set_defaults(func=cmd_inspect)


def _disk_mb(text: str) -> int:
    value = int(text)
    if not 16 <= value <= 16384:
        raise argparse.ArgumentTypeError("use de 16 a 16384 MB")
    return value


def add_probe(sub) -> None:
    sp = sub.add_parser(
        "probe", formatter_class=_Formatter,
        help="sondagem do servidor (rode no servidor; não precisa de root)",
        description="Coleta no servidor os dados que a etapa 2 confere: CPU, RAM, disco onde o "
                    "PEC instala, sistema, locale pt_BR.UTF-8, fuso, portas 80/443/5433/8080, "
                    "Java, PostgreSQL e RemoveIPC. Leva menos de 3 s; não precisa de root.")
    sp.add_argument("--json", metavar="ARQUIVO",
                    help="grava a sondagem neste arquivo JSON ('-' escreve na saída padrão)")
    sp.add_argument("--install-path", metavar="PASTA", default=None,
                    help="onde o PEC será instalado (padrão: /opt ou C:\\Program Files)")
    sp.add_argument("--disk-speed", action="store_true",
                    help="mede gravação e leitura sequenciais com um arquivo temporário "
                         "(apagado ao final, mesmo se interrompido)")
    sp.add_argument("--disk-speed-mb", type=_disk_mb, default=256, metavar="MB",
                    help="tamanho do arquivo temporário da medição (padrão: 256)")
    sp.add_argument("--read", metavar="ARQUIVO", default=None,
                    help="em vez de sondar, lê e resume um arquivo de sondagem existente")
    sp.set_defaults(func=cmd_probe)

def add_xml_audit(xsub) -> None:
    sp = xsub.add_parser("audit", help="audita um XML (ou ZIP) do CNES antes da importação",
                         formatter_class=_Formatter,
                         description="Audita o XML do CNES gerado no e-Gestor AB. Saída: 0 sem "
                                     "erros, 1 com erros, 2 arquivo recusado.")
    sp.add_argument("path", metavar="ARQUIVO", help="XmlParaESUS*.zip ou .xml")
    sp.add_argument("--ibge", default=None, metavar="CODIGO",
                    help="município esperado (6 ou 7 dígitos)")
    sp.add_argument("--json", default=None, metavar="ARQUIVO",
                    help="grava o relatório completo em JSON")
    sp.add_argument("--html", default=None, metavar="ARQUIVO",
                    help="grava o relatório em HTML")
    sp.set_defaults(func=cmd_xml_audit)


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("deve ser ≥ 0")
    return value


def add_xml_diff(xsub) -> None:
    sp = xsub.add_parser(
        "diff", help="o que a importação de um XML novo vai mudar no PEC",
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
    sp.add_argument("--examples", type=_non_negative_int, default=10, metavar="N",
                    help="quantas alterações a revisar mostrar na tela (padrão: 10)")
    sp.set_defaults(func=cmd_xml_diff)


# Subcommands of ``xml``.
XML_SUBCOMMANDS = [
    add_xml_audit,
    add_xml_diff,
]


def add_xml(sub) -> None:
    sp = sub.add_parser("xml", help="XML do CNES: auditoria e comparação",
                        formatter_class=_Formatter)
    xsub = sp.add_subparsers(dest="xml_command", required=True, metavar="SUBCOMANDO",
                             parser_class=_Parser)
    for add in XML_SUBCOMMANDS:
        add(xsub)


def _sha256(text: str) -> str:
    import re

    if not re.fullmatch(r"[0-9a-fA-F]{64}", text or ""):
        raise argparse.ArgumentTypeError("SHA-256 deve ter 64 dígitos hexadecimais")
    return text.lower()


def _seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("deve ser > 0")
    return value


def add_download(sub) -> None:
    sp = sub.add_parser("download", help="baixa o instalador do PEC, retomável e verificado",
                        formatter_class=_Formatter,
                        description="Baixa o instalador (retoma downloads interrompidos), "
                                    "confere nome, tamanho e SHA-256 e registra o hash do "
                                    "primeiro download verificado no registro da equipe.")
    sp.add_argument("--url", required=True, help="link do instalador copiado do portal SISAPS")
    sp.add_argument("--version", required=True, metavar="VERSAO", help="versão, ex.: 5.5.24")
    sp.add_argument("--dest", required=True, metavar="PASTA", help="pasta dos instaladores")
    sp.add_argument("--sha256", type=_sha256, default=None, metavar="HASH",
                    help="SHA-256 esperado (opcional)")
    sp.add_argument("--platform", choices=("linux", "windows"), default=None,
                    help="plataforma do servidor (confere com o nome do arquivo)")
    sp.add_argument("--registry", default=None, metavar="CSV",
                    help="registro de versões da equipe (padrão: "
                         "PASTA/registro-instaladores.csv)")
    sp.add_argument("--retries", type=int, default=5,
                    help="novas tentativas seguidas sem progresso (padrão: 5)")
    sp.add_argument("--timeout", type=_seconds, default=60.0,
                    help="segundos sem resposta antes de tentar de novo (padrão: 60)")
    sp.add_argument("--no-progress", action="store_true", help="sem barra de progresso")
    sp.set_defaults(func=cmd_download)


def add_verify_install(sub) -> None:
    sp = sub.add_parser("verify-install", help="confere o PEC instalado (HTTP e banco)",
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
    sp.add_argument("--expect-version", default=None, metavar="VERSAO",
                    help="versão que deve estar em execução")
    sp.add_argument("--modo", choices=("producao", "treinamento"), default=None,
                    help="modo esperado da instalação")
    sp.add_argument("--tipo-instalacao", default=None,
                    choices=("prontuario", "centralizador_municipal", "centralizador_estadual"),
                    help="tipo esperado (TIPOINSTALACAO)")
    sp.add_argument("--timeout", type=_seconds, default=10.0,
                    help="segundos por requisição (padrão: 10)")
    sp.add_argument("--json", default=None, metavar="ARQUIVO", help="grava o resultado em JSON")
    sp.set_defaults(func=cmd_verify_install)

def add_lab(sub) -> None:
    sp = sub.add_parser(
        "lab", help="abre o JupyterLab com os notebooks prontos para um site",
        formatter_class=_Formatter,
        description="Abre o JupyterLab em 127.0.0.1 (com token) e o kernel esus-runbook. "
                    "Sem argumento: na pasta de notebooks, com o formulário para um site "
                    "novo. Com um site, inventário ou pasta: cada site ganha a pasta "
                    "<--out>/<site_id>/ com os notebooks já configurados para ele.")
    sp.add_argument("target", nargs="?", default=None, metavar="SITE_OU_INVENTARIO",
                    help="arquivo do site (pode ainda não existir), inventário ou pasta")
    sp.add_argument("--out", default=str(Path("execucoes") / "interativo"), metavar="PASTA",
                    help="pasta dos notebooks e resultados por site "
                         "(padrão: execucoes/interativo)")
    sp.add_argument("--port", type=_positive_int, default=None, metavar="PORTA",
                    help="porta local (padrão: uma livre)")
    sp.add_argument("--no-browser", action="store_true",
                    help="não abre o navegador (só mostra o endereço)")
    sp.set_defaults(func=cmd_lab)


SUBCOMMANDS = [
    add_probe,
    add_run,
    add_batch,
    add_inspect,
    add_xml,
    add_download,
    add_verify_install,
    add_lab,
]


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="esus-runbook", formatter_class=_Formatter,
                description="Implantação do e-SUS APS PEC: verificações, notebooks e "
                            "relatórios por site.")
    p.add_argument("--version", action="version", version=_version(), help="mostra a versão")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMANDO",
                           parser_class=_Parser)
    for add in SUBCOMMANDS:
        add(sub)
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"esus-runbook {version('esus-runbook')}"
    except PackageNotFoundError:
        return "esus-runbook (não instalado)"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RunbookError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrompido pelo usuário", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
