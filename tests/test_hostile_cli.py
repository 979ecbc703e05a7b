"""Hostile command lines and XML files (issue 12): one row per case, each run through the
real CLI. Every row asserts the exit code, the pt-BR words of the message, that no English
(argparse, libxml2, zipfile, OS errors) and no traceback reaches the user, and that nothing
was written: the output folder and the input files are exactly as before."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest

from esus_runbook import cli
from esus_runbook.cnes.archive import Utf8Probe
from esus_runbook.demo import cnes_xml as synth
from esus_runbook.errors import InputError
from esus_runbook.files.outputs import write_report

from .support.project import run_cli

# words that only English messages hold (argparse, libxml2, zipfile, strerror)
ENGLISH = ("invalid", "usage:", "error:", "argument ", "expected", "choose from", "required",
           "Errno", "No such file", "Is a directory", "Not a directory", "Opening and ending",
           "Premature end", " line ", "not found", "Traceback", "File is not", "Bad CRC")

HEADER = ('<?xml version="1.0" encoding="{enc}"?>\n<ImportarXMLCNES>\n'
          '<IDENTIFICACAO DATA="2026-11-20" ORIGEM="PORTAL" DESTINO="ESUS_AB" '
          'CO_IBGE_MUN="2927408" VERSAO_XSD="3.1">\n{body}</IDENTIFICACAO>\n</ImportarXMLCNES>\n')
UNIT = ('<ESTABELECIMENTOS><DADOS_GERAIS_ESTABELECIMENTOS NM_FANTA="UBS SÃO JOÃO" '
        'CNPJ="11222333000181" CNES="2386224" TP_UNID_ID="02">\n<ENDERECO/>\n'
        '</DADOS_GERAIS_ESTABELECIMENTOS></ESTABELECIMENTOS>\n')


def _xml(body: str = UNIT, enc: str = "ISO-8859-1") -> bytes:
    return HEADER.format(enc=enc, body=body).encode(enc)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Small input files, made once; each row checks that it left them untouched."""
    d = tmp_path_factory.mktemp("entradas")
    clean = synth.write_file(synth.Spec(professionals=20, seed=1), d / "limpo.xml")
    latin1 = clean.read_bytes()
    assert any(b > 127 for b in latin1)          # accented names, in ISO-8859-1
    (d / "utf8-declarado-latin1.xml").write_bytes(latin1.decode("latin-1").encode("utf-8"))
    (d / "latin1-declarado-utf8.xml").write_bytes(
        latin1.replace(b'encoding="ISO-8859-1"', b'encoding="UTF-8"', 1))
    (d / "vazio-de-dados.xml").write_bytes(_xml(""))
    (d / "tag-trocada.xml").write_bytes(_xml(UNIT.replace("<ENDERECO/>", "<ENDERECO>")))
    (d / "entidade.xml").write_bytes(_xml(UNIT.replace("<ENDERECO/>",
                                                       "<ENDERECO>&x;</ENDERECO>")))
    (d / "e-comercial.xml").write_bytes(_xml(UNIT.replace('NM_FANTA="', 'NM_FANTA="A & B ')))
    (d / "atributo-repetido.xml").write_bytes(_xml(UNIT.replace('CNES="2386224"',
                                                                'CNES="1" CNES="2"')))
    with zipfile.ZipFile(d / "ok.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("XmlParaESUS31_292740.xml", latin1)
    z = (d / "ok.zip").read_bytes()
    (d / "truncado.zip").write_bytes(z[: len(z) // 2])
    bad = bytearray(z)
    bad[len(z) // 4] ^= 0xFF                        # inside the compressed XML
    (d / "corrompido.zip").write_bytes(bytes(bad))
    with zipfile.ZipFile(d / "armazenado.zip", "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("XmlParaESUS31_292740.xml", latin1)
    stored = bytearray((d / "armazenado.zip").read_bytes())
    at = stored.index(b'CO_CNS="') + 9               # one digit of a CNS: still well formed
    stored[at] = ord("1") if stored[at] != ord("1") else ord("2")
    (d / "crc-errado.zip").write_bytes(bytes(stored))
    (d / "pasta-com-xml").mkdir()
    (d / "pasta-com-xml" / "XmlParaESUS31_292740.zip").write_bytes(z)
    os.mkfifo(d / "fifo.xml")
    os.symlink("ciclo.xml", d / "ciclo.xml")       # a link to itself: ELOOP
    return d


def _snapshot(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            out[rel] = "link"
        elif p.is_fifo():
            out[rel] = "fifo"
        elif p.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# id, arguments ({in}: inputs folder, {out}: this row's empty output folder, which holds
# "arquivo" (a file) and "pasta" (a folder)), exit code, pt-BR words in stderr (or stdout for
# codes 0/1), words that must not appear in the output
ROWS = [
    # -- numbers out of range / not numbers
    ("lab-porta-99999", "lab --porta 99999", 2, ("--porta", "de 1 a 65535"), ()),
    ("lab-porta-0", "lab --porta 0", 2, ("--porta", "de 1 a 65535"), ()),
    ("lab-porta-texto", "lab --porta abc", 2, ("--porta", "número inteiro inválido"), ()),
    ("lab-porta-sem-valor", "lab --porta", 2, ("--porta", "precisa de um valor"), ()),
    ("download-retries-negativo", "baixar --url http://127.0.0.1:9/x.jar --versao-pec 5.5.24 "
     "--pasta {out}/pasta --tentativas -5", 2, ("--tentativas", "de 0 a 100"), ()),
    ("download-retries-texto", "baixar --url http://127.0.0.1:9/x.jar --versao-pec 5.5.24 "
     "--pasta {out}/pasta --tentativas muitos", 2, ("--tentativas", "número inteiro inválido"), ()),
    ("download-timeout-zero", "baixar --url http://127.0.0.1:9/x.jar --versao-pec 5.5.24 "
     "--pasta {out}/pasta --prazo 0", 2, ("--prazo", "segundos"), ()),
    ("download-timeout-infinito", "baixar --url http://127.0.0.1:9/x.jar --versao-pec 5.5.24 "
     "--pasta {out}/pasta --prazo inf", 2, ("--prazo", "segundos"), ()),
    ("run-timeout-nan", "executar {out}/site.yaml --prazo nan", 2, ("--prazo", "segundos"), ()),
    ("run-timeout-texto", "executar {out}/site.yaml --prazo x", 2, ("--prazo", "número inválido"),
     ()),
    ("run-retries-demais", "executar {out}/site.yaml --tentativas 101", 2, ("--tentativas", "de 0 a 100"),
     ()),
    ("batch-workers-zero", "lote {out}/pasta --paralelos 0", 2, ("--paralelos", "de 1 a 1024"), ()),
    ("batch-workers-enorme", "lote {out}/pasta --paralelos 99999999999999999999999", 2,
     ("--paralelos", "número inteiro inválido"), ()),
    ("xml-diff-examples-negativo", "xml comparar {in}/limpo.xml {in}/limpo.xml --exemplos -1", 2,
     ("--exemplos", "de 0 a 1000000"), ()),
    ("probe-disk-mb-texto", "sondar --velocidade-disco-mb x --json {out}/s.json", 2,
     ("--velocidade-disco-mb", "de 16 a 16384 MB"), ()),
    ("verify-timeout-negativo", "conferir-instalacao --pec-url http://127.0.0.1:9 --prazo -1", 2,
     ("--prazo", "segundos"), ()),
    # -- other argparse errors
    ("escolha-invalida", "baixar --url http://127.0.0.1:9/x.jar --versao-pec 5.5.24 --pasta "
     "{out}/pasta --plataforma mac", 2, ("--plataforma", "opção inválida", "escolha entre"), ()),
    ("modo-invalido", "conferir-instalacao --pec-url http://127.0.0.1:9 --modo teste", 2,
     ("--modo", "opção inválida"), ()),
    ("comando-desconhecido", "instalar", 2, ("COMANDO", "opção inválida", "escolha entre"), ()),
    ("subcomando-desconhecido", "xml validar {in}/limpo.xml", 2, ("opção inválida",), ()),
    ("faltam-argumentos", "xml comparar {in}/limpo.xml", 2, ("faltam os argumentos", "NOVO"), ()),
    ("faltam-opcoes", "baixar --versao-pec 5.5.24", 2, ("faltam os argumentos", "--url"), ()),
    ("opcao-desconhecida", "xml auditar {in}/limpo.xml --saida x", 2,
     ("argumentos desconhecidos", "--saida"), ()),
    ("opcao-ambigua", "lote {out}/pasta --p 1", 2, ("opção ambígua", "--paralelos", "--prazo"),
     ()),
    ("flag-com-valor", "lote {out}/pasta --sem-progresso=sim", 2, ("não aceita valor",), ()),
    ("inspect-pasta", "inspecionar {out}/pasta", 2, ("é uma pasta",), ()),
    ("inspect-fifo", "inspecionar {in}/fifo.xml", 2, ("não é um arquivo comum",), ()),
    ("inspect-nao-notebook", "inspecionar {in}/limpo.xml", 2, ("não é um notebook válido",),
     ("Error",)),
    # -- output paths, checked before the work
    ("audit-json-pasta", "xml auditar {in}/limpo.xml --json {out}/pasta", 2,
     ("--json", "é uma pasta"), ()),
    ("audit-html-dentro-de-arquivo", "xml auditar {in}/limpo.xml --html {out}/arquivo/r.html", 2,
     ("--html", "não é uma pasta"), ()),
    ("audit-json-pasta-inexistente", "xml auditar {in}/limpo.xml --json {out}/nao/existe.json",
     2, ("--json", "não existe"), ()),
    ("audit-json-fifo", "xml auditar {in}/limpo.xml --json {in}/fifo.xml", 2,
     ("--json", "não é um arquivo comum"), ()),
    ("audit-json-e-a-entrada", "xml auditar {in}/limpo.xml --json {in}/limpo.xml", 2,
     ("--json", "próprio arquivo de entrada"), ()),
    ("audit-json-igual-html", "xml auditar {in}/limpo.xml --json {out}/r --html {out}/r", 2,
     ("--html", "mesmo arquivo que --json"), ()),
    ("diff-json-pasta", "xml comparar {in}/limpo.xml {in}/ok.zip --json {out}/pasta", 2,
     ("--json", "é uma pasta"), ()),
    ("diff-html-dentro-de-arquivo", "xml comparar {in}/limpo.xml {in}/ok.zip --html "
     "{out}/arquivo/x", 2, ("--html", "não é uma pasta"), ()),
    ("diff-json-e-a-entrada", "xml comparar {in}/limpo.xml {in}/ok.zip --json {in}/ok.zip", 2,
     ("--json", "próprio arquivo de entrada"), ()),
    ("verify-json-pasta", "conferir-instalacao --pec-url http://127.0.0.1:9 --json {out}/pasta", 2,
     ("--json", "é uma pasta"), ()),
    # -- XML inputs refused: pt-BR with the line, never libxml2's or zipfile's English
    ("audit-pasta", "xml auditar {in}/pasta-com-xml --json {out}/r.json", 2,
     ("é uma pasta", "XmlParaESUS"), ()),
    ("audit-link-em-ciclo", "xml auditar {in}/ciclo.xml", 2, ("links simbólicos em ciclo",), ()),
    ("audit-json-nome-longo", "xml auditar {in}/limpo.xml --json {out}/" + "n" * 300 + ".json", 2,
     ("--json", "nome longo demais"), ()),
    ("audit-fifo", "xml auditar {in}/fifo.xml", 2, ("não é um arquivo comum",), ()),
    ("audit-tag-trocada", "xml auditar {in}/tag-trocada.xml --json {out}/r.json", 2,
     ("XML malformado na linha 6", "<ENDERECO> aberto na linha 5"), ()),
    ("audit-entidade", "xml auditar {in}/entidade.xml", 2, ("entidades", "linha 5"), ()),
    ("audit-e-comercial", "xml auditar {in}/e-comercial.xml", 2, ("'&' sem escape", "linha 4"),
     ()),
    ("audit-atributo-repetido", "xml auditar {in}/atributo-repetido.xml", 2,
     ("atributo CNES repetido", "linha"), ()),
    ("audit-latin1-declarado-utf8", "xml auditar {in}/latin1-declarado-utf8.xml", 2,
     ("codificação declarada", "linha"), ()),
    ("audit-zip-truncado", "xml auditar {in}/truncado.zip --html {out}/r.html", 2,
     ("ZIP corrompido",), ("()",)),
    ("audit-zip-corrompido", "xml auditar {in}/corrompido.zip", 2, ("ZIP corrompido",), ("()",)),
    ("audit-zip-crc-errado", "xml auditar {in}/crc-errado.zip", 2,
     ("ZIP corrompido", "CRC-32 não confere"), ()),
    ("probe-json-dentro-de-arquivo", "sondar --json {out}/arquivo/s.json", 2,
     ("--json", "não é uma pasta"), ()),
    ("diff-pasta", "xml comparar {in}/pasta-com-xml {in}/ok.zip", 2, ("é uma pasta",), ()),
    # -- audited, with the verdict the content deserves
    ("audit-sem-dados", "xml auditar {in}/vazio-de-dados.xml", 1,
     ("FILE_EMPTY", "1 erro(s)"), ("pode ser importado",)),
    ("audit-utf8-declarado-latin1", "xml auditar {in}/utf8-declarado-latin1.xml", 0,
     ("ENCODING_MISMATCH", "revise antes os alertas"), ()),
    ("audit-latin1-de-verdade", "xml auditar {in}/limpo.xml", 0,
     ("0 erro(s), 0 alerta(s) — pode ser importado",), ("ENCODING_MISMATCH",)),
]


def _behaviour(row) -> tuple:
    """A command (with its subcommand) and an exit code: one behaviour class."""
    argv = row[1].split()
    return (*argv[:2 if argv[0] in ("xml", "ssh", "catalogo") else 1], row[2])


# The first row of each behaviour runs in a real process (exit code, no traceback, nothing
# written); the others call the CLI in the test process (docs/testes.md).
REAL = {next(r[0] for r in ROWS if _behaviour(r) == b) for b in {_behaviour(r) for r in ROWS}}


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_hostile_row(row, inputs, tmp_path, cli_main):
    name, args, code, words, absent = row
    out = tmp_path / "saida"
    out.mkdir()
    (out / "arquivo").write_text("não sou uma pasta\n")
    (out / "pasta").mkdir()
    before_out, before_in = _snapshot(out), _snapshot(inputs)
    argv = [a.format(**{"in": inputs, "out": out}) for a in args.split()]
    proc = run_cli(*argv, timeout=120) if name in REAL else cli_main(*argv)
    shown = proc.stderr if code == 2 else proc.stdout + proc.stderr
    assert proc.returncode == code, proc.stdout + proc.stderr
    for w in words:
        assert w in shown, (w, shown)
    for w in (*absent, *ENGLISH):
        assert w not in shown, (w, shown)
    if code == 2:
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert proc.stdout == "", proc.stdout  # refused before any work, even by sondar
    assert _snapshot(out) == before_out          # nothing written, not even a temp file
    assert _snapshot(inputs) == before_in        # inputs untouched


def test_encoding_mismatch_names_the_first_line(inputs, tmp_path):
    """The JSON report holds the finding with the line of the first accented character."""
    path = inputs / "utf8-declarado-latin1.xml"
    data = path.read_bytes()
    first = next(i for i, b in enumerate(data) if b > 127)
    line = data.count(b"\n", 0, first) + 1
    out = tmp_path / "r.json"
    proc = run_cli("xml", "auditar", path, "--json", out)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    found = [f for f in doc["findings"] if f["rule"] == "ENCODING_MISMATCH"]
    assert len(found) == 1 and found[0]["severity"] == "warning"
    assert found[0]["where"]["line"] == line and f"linha {line}" in found[0]["message"]
    assert doc["file"]["encoding_mismatch"]["line"] == line


def test_utf8_probe_across_chunk_boundaries():
    """A multi-byte character split between two reads is still UTF-8; ISO-8859-1 text ends
    the watch at its first accented letter."""
    text = ("JOSÉ DA CONCEIÇÃO\n" * 3).encode("utf-8")
    for cut in range(1, len(text)):
        p = Utf8Probe()
        p.feed(text[:cut])
        p.feed(text[cut:])
        v = p.verdict()
        assert v is not None and v["line"] == 1 and v["chars"] == 3 * 3, cut
    p = Utf8Probe()
    p.feed(b"ascii\n" * 5)
    p.feed(("JOSÉ DA CONCEIÇÃO\n").encode("latin-1"))
    p.feed(("JOSÉ\n").encode())
    assert p.verdict() is None
    p = Utf8Probe()
    p.feed(b"ascii only\n")
    assert p.verdict() is None


def _parse_error(parser: argparse.ArgumentParser, argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("argv,words", [
    (["--a", "--b"], "não pode ser usado junto com --a"),
    ([], "informe um dos argumentos --a --b"),
    (["--a", "--n", "1", "2", "3"], "argumentos desconhecidos: 3"),
    (["--a", "--n", "1"], "a opção precisa de 2 valor(es)"),
    (["--a", "--k", "x"], "valor inválido: 'x'"),
])
def test_every_argparse_error_is_pt_br(argv, words, capsys):
    """Errors the esus-runbook parsers cannot produce today (mutually exclusive groups,
    nargs, a type that raises ValueError) are translated too."""
    p = cli._Parser(prog="esus-runbook teste")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--a", action="store_true")
    group.add_argument("--b", action="store_true")
    p.add_argument("--n", nargs=2)
    p.add_argument("--k", type=int)
    err = _parse_error(p, argv, capsys)
    assert words in err, err
    assert not any(w in err for w in ENGLISH), err


def test_report_write_failure_is_pt_br_and_leaves_nothing(tmp_path):
    """A write that fails after the work (the path was checked before) is one pt-BR line
    and leaves no file under the final name."""
    blocker = tmp_path / "arquivo"
    blocker.write_text("x")
    with pytest.raises(InputError) as exc:
        write_report(blocker / "r.json", "{}")
    assert "não foi possível gravar" in str(exc.value)
    assert not any(w in str(exc.value) for w in ENGLISH)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arquivo"]


def test_a_second_broken_file_in_one_process_is_described_by_its_own_error(inputs):
    """libxml2 keeps its error log between parses: a kernel (notebook 06 run again) that read
    a file with a mismatched tag must describe the next file's undeclared entity, not the
    earlier mismatch."""
    from esus_runbook.cnes.parser import parse
    from esus_runbook.errors import InputError

    with pytest.raises(InputError) as first:
        parse(inputs / "tag-trocada.xml")
    with pytest.raises(InputError) as second:
        parse(inputs / "entidade.xml")
    assert "<ENDERECO> aberto na linha 5" in str(first.value)
    assert "entidades" in str(second.value) and "linha 5" in str(second.value)
    assert "ENDERECO" not in str(second.value)


# --------------------------------------------------------------------------- terminal escapes
# What a hostile server puts in the values the CLI prints (issue 23 item 5): OSC 0 (window
# title), CSI 2J (clear screen) in 7-bit and 8-bit (0x9b) form, OSC 52 (write the clipboard,
# 0x9d), a carriage return that hides the line, BEL, DEL and a NUL.
ESCAPES = "\x1b]0;JANELA-TOMADA\x07\x1b[2J\x9b2J\x9d52;c;Y2xpcGJvYXJk\x9c\rOCULTO\x7f\x00"
_CONTROL_CHARS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0))]


def assert_no_terminal_control(*texts: str) -> None:
    for text in texts:
        found = sorted({hex(ord(c)) for c in text if c in _CONTROL_CHARS})
        assert not found, (found, text[-2000:])


def _hostile(value: str) -> str:
    return value + ESCAPES


def test_terminal_clean_strips_every_control_character():
    from esus_runbook.terminal import clean

    assert clean("srv\x1b]0;x\x07 \x9b2J ok\n\tfim\r\x7f\x00") == "srv]0;x 2J ok\n\tfim"
    assert_no_terminal_control(clean("".join(_CONTROL_CHARS)))
    assert clean("a\tb\n" + "".join(_CONTROL_CHARS) + "c") == "a\tb\nc"
    assert clean("José \u00a0São Paulo ✓") == "José \u00a0São Paulo ✓"  # printable kept
    assert clean("nome-\udcff.json") == "nome-\ufffd.json"  # undecodable byte: no traceback


def test_probe_values_from_a_hostile_server_reach_the_terminal_clean(tmp_path, cli_main):
    raw = json.loads((Path(__file__).parent / "data" / "probes" / "linux-ok.json").read_text())
    raw["hostname"] = _hostile("srv-teste")
    raw["os"]["distro"] = _hostile("Ubuntu 22.04.5 LTS")
    raw["cpu"]["model"] = _hostile("Intel Xeon")
    raw["timezone"] = _hostile("America/Sao_Paulo")
    probe = tmp_path / "sondagem.json"
    probe.write_text(json.dumps(raw))
    for runner in (run_cli, cli_main):
        proc = runner("probe", "--read", probe)
        assert proc.returncode == 0, proc.stderr
        assert_no_terminal_control(proc.stdout, proc.stderr)
        # the values are still shown, only without the control characters
        for shown in ("Servidor srv-teste]0;JANELA-TOMADA", "Intel Xeon", "America/Sao_Paulo"):
            assert shown in proc.stdout, proc.stdout


def test_pec_version_from_a_hostile_server_reaches_the_terminal_clean(http_server, cli_main):
    from esus_runbook.demo.pec_simulator import PecConfig

    srv = http_server(pec=PecConfig(versao=_hostile("5.5.24")))
    proc = run_cli("verify-install", "--pec-url", srv.url, "--expect-version", "5.5.24",
                   "--timeout", "30")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the version differs: falha
    assert "5.5.24]0;JANELA-TOMADA" in proc.stdout
    assert_no_terminal_control(proc.stdout, proc.stderr)
    srv = http_server(pec=PecConfig(info_body=_hostile('{"versao": 1}')))  # not PEC's JSON
    proc = cli_main("verify-install", "--pec-url", srv.url, "--timeout", "30")
    assert "JANELA-TOMADA" in proc.stdout
    assert_no_terminal_control(proc.stdout, proc.stderr)


def test_database_version_from_a_hostile_pec_reaches_the_terminal_clean(http_server, postgres,
                                                                       pec_db, cli_main):
    from esus_runbook.demo.pec_simulator import PecConfig

    srv = http_server(pec=PecConfig(versao="5.5.24"))
    # PostgreSQL text holds every control character but NUL
    db = pec_db(VERSAOBANCODADOS=(_hostile("5.5.24").replace("\x00", ""), None))
    proc = cli_main("verify-install", "--pec-url", srv.url, "--db-url", postgres.url(db=db),
                    "--timeout", "30", env={"PGPASSWORD": postgres.esus_password})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "DB_VERSAO_BANCO" in proc.stdout and "JANELA-TOMADA" in proc.stdout
    assert_no_terminal_control(proc.stdout, proc.stderr)


def test_refusals_naming_a_hostile_value_reach_the_terminal_clean(tmp_path, cli_main):
    """The one-line refusals (RunbookError, argparse) quote the value they refuse."""
    missing = tmp_path / _hostile("execucoes")
    proc = cli_main("catalogo", "importar", missing)
    assert proc.returncode == 2 and "pasta não encontrada" in proc.stderr, proc.stderr
    assert_no_terminal_control(proc.stdout, proc.stderr)
    proc = run_cli(_hostile("instalar").replace("\x00", ""))  # argv cannot hold NUL
    assert proc.returncode == 2 and "opção inválida" in proc.stderr, proc.stderr
    assert_no_terminal_control(proc.stdout, proc.stderr)


def test_every_print_of_the_package_goes_through_the_terminal_filter():
    """No module of the product prints but through terminal.say (the demo tools are not the
    product): print(), sys.stdout/sys.stderr .write() calls are found in the syntax tree."""
    import ast

    package = Path(cli.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if rel.parts[0] == "demo" or rel == Path("terminal.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Name) and f.id == "print":
                offenders.append(f"{rel}:{node.lineno} print")
            elif (isinstance(f, ast.Attribute) and f.attr in ("write", "writelines")
                  and isinstance(f.value, ast.Attribute) and f.value.attr in ("stdout", "stderr")
                  and isinstance(f.value.value, ast.Name) and f.value.value.id == "sys"):
                offenders.append(f"{rel}:{node.lineno} sys.{f.value.attr}.{f.attr}")
    assert not offenders, offenders
