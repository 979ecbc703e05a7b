"""The one exit-code table (``esus_runbook.status.ExitCode``), command by command: each
command runs on an input that is ok, has findings, is refused or leaves something pendente,
where the command has that outcome, and returns the code of the table: 0 ok (alerts allowed),
1 findings, 2 refused input, 3 undecided (pendente), 130 interrupted.

One real process per code (``run_cli``); the other rows call ``cli.main`` in this process
(docs/testes.md). ``xml reconciliar`` with a database (1, and 3 for an unknown schema or a
file not imported) is in ``tests/test_reconcile.py``, next to its PostgreSQL fixtures;
``lote`` interrupted (130, with the resume command) in ``tests/test_resume.py``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from esus_runbook import cli
from esus_runbook.demo import cnes_xml as synth
from esus_runbook.demo.pec_simulator import FileConfig, PecConfig, installer_bytes
from esus_runbook.status import ExitCode

from .support.project import run_cli

OK, FINDINGS, REFUSED, UNDECIDED = (ExitCode.OK, ExitCode.FINDINGS, ExitCode.REFUSED,
                                    ExitCode.UNDECIDED)
SITE = ("site_id: ubs-teste\nnome: UBS Teste\nmunicipio_ibge: '2927408'\ncnes: '2386224'\n")
VERSION = "0.0.7"
JAR = f"eSUS-AB-PEC-{VERSION}-Linux64.jar"
DATA = installer_bytes(3_000_000, b"exit-codes")


@pytest.fixture(scope="module")
def xml(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("xml")
    return {"limpo": synth.write_file(synth.Spec(professionals=20, seed=1), d / "limpo.xml"),
            "outro": synth.write_file(synth.Spec(professionals=20, seed=2), d / "outro.xml")}


def _site(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(SITE + extra, encoding="utf-8")
    return path


def _check(proc, code: ExitCode) -> None:
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    if code == REFUSED:  # one pt-BR line, nothing on standard output
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == "", proc.stderr


def test_the_table_is_declared_once_and_shown_in_help(cli_main):
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 130]
    assert ExitCode.for_status("ok") == ExitCode.for_status("alerta") == OK
    assert ExitCode.for_status("falha") == ExitCode.for_status("erro") == FINDINGS
    assert ExitCode.for_status("pendente") == ExitCode.for_status(None) == UNDECIDED
    proc = cli_main("--help")
    assert proc.returncode == OK
    for code in ExitCode:
        assert f"{code.value:>3}  {code.meaning}" in proc.stdout, code


@pytest.mark.parametrize("args, code", [
    (("xml", "auditar", "{limpo}"), OK),
    (("xml", "auditar", "{limpo}", "--ibge", "3550308"), FINDINGS),   # another municipality
    (("xml", "auditar", "{out}/nada.xml"), REFUSED),
    (("xml", "auditar", "{limpo}", "--json", "{limpo}"), REFUSED),    # the output is the input
    (("xml", "comparar", "{limpo}", "{limpo}"), OK),
    (("xml", "comparar", "{limpo}", "{outro}"), FINDINGS),            # people lose access
    (("xml", "comparar", "{limpo}", "{outro}", "--html", "{outro}"), REFUSED),
    (("xml", "reconciliar", "{limpo}", "--db-url", "postgresql://esus:x@127.0.0.1/esus"),
     REFUSED),
    (("xml", "reconciliar", "{limpo}", "--db-url", "postgresql://esus@127.0.0.1:9/esus",
      "--json", "{limpo}"), REFUSED),
], ids=["auditar-ok", "auditar-erro", "auditar-sem-arquivo", "auditar-saida-e-entrada",
        "comparar-igual", "comparar-diferente", "comparar-saida-e-entrada",
        "reconciliar-senha-na-url", "reconciliar-saida-e-entrada"])
def test_xml_commands(xml, tmp_path, cli_main, args, code):
    argv = [a.format(out=tmp_path, **xml) for a in args]
    _check(cli_main(*argv), code)


def test_xml_findings_in_a_real_process(xml):
    _check(run_cli("xml", "auditar", xml["limpo"], "--ibge", "3550308"), FINDINGS)


def test_site_commands(tmp_path, cli_main):
    site = _site(tmp_path)
    _check(cli_main("validar", site), OK)
    bad = tmp_path / "ruim.yaml"
    bad.write_text(SITE.replace("ubs-teste", "Não Vale"), encoding="utf-8")  # one problem
    _check(run_cli("validar", bad), REFUSED)
    _check(cli_main("novo", "ubs-nova", "--pasta", tmp_path / "sites"), OK)
    _check(cli_main("esquema", "--saida", tmp_path / "site.schema.json"), OK)
    _check(cli_main("esquema", "--saida", tmp_path), REFUSED)             # a folder


def test_upkeep_commands_pendente_is_undecided(tmp_path, cli_main):
    """A site file without the HTTPS domain nor the backup answers: the evidence to decide is
    missing (3), never an ok; an update to a version the registry does not have fails (1)."""
    site, out = _site(tmp_path), tmp_path / "execucoes"
    _check(run_cli("certificado", site, "--execucoes", out), UNDECIDED)
    _check(cli_main("backup", site, "--execucoes", out), UNDECIDED)
    _check(cli_main("atualizacao", site, "--para", "5.5.24", "--execucoes", out), FINDINGS)
    _check(cli_main("certificado", tmp_path / "nada.yaml", "--execucoes", out), REFUSED)


def test_verify_install(http_server, tmp_path, cli_main):
    srv = http_server(pec=PecConfig(versao="5.5.24"))
    _check(cli_main("conferir-instalacao", "--pec-url", srv.url, "--versao-pec", "5.5.24"), OK)
    _check(cli_main("conferir-instalacao", "--pec-url", srv.url, "--versao-pec", "5.5.23"),
           FINDINGS)
    _check(cli_main("conferir-instalacao", "--pec-url", "http://pec.123:8080"), REFUSED)
    _check(cli_main("conferir-instalacao", "--pec-url", srv.url, "--json", tmp_path), REFUSED)


@pytest.mark.postgres  # the pendente comes from the database: LINKINSTALACAO not confirmed
def test_verify_install_pendente_is_undecided(http_server, postgres, pec_db, tmp_path):
    srv = http_server(pec=PecConfig(versao="5.5.24"))
    db = pec_db(LINKINSTALACAO=("https://pec.exemplo.gov.br/", None))   # another address
    out = tmp_path / "v.json"
    proc = run_cli("conferir-instalacao", "--pec-url", srv.url, "--versao-pec", "5.5.24",
                   "--db-url", postgres.url(db=db), "--json", out,
                   env={"PGPASSWORD": postgres.esus_password})
    _check(proc, UNDECIDED)
    assert "[pendente] DB_LINK" in proc.stdout and "falha" not in proc.stdout
    assert out.is_file() and f"JSON gravado: {out}" in proc.stdout


def test_download(http_server, tmp_path, cli_main):
    path = f"/PEC/a1b2c3/{VERSION}/{JAR}"
    srv = http_server(files={path: FileConfig(data=DATA)})
    sha = hashlib.sha256(DATA).hexdigest()

    def baixar(dest: str, *args: str):
        return run_cli("baixar", "--url", srv.url + path, "--versao-pec", VERSION, "--pasta",
                       tmp_path / dest, "--sem-progresso", *args)

    _check(baixar("a", "--sha256", sha), OK)
    _check(baixar("b", "--sha256", "0" * 64), FINDINGS)          # rejected: quarantine
    _check(baixar("c"), UNDECIDED)                                # first use: confirm it
    _check(cli_main("baixar", "--url", srv.url + path, "--versao-pec", "5.5", "--pasta",
                    tmp_path / "d"), REFUSED)


def test_probe(tmp_path, cli_main):
    _check(cli_main("sondar", "--json", tmp_path / "s.json"), OK)
    _check(cli_main("sondar", "--json", tmp_path / "nao" / "s.json"), REFUSED)


def test_catalog_commands_refuse_an_empty_folder(tmp_path, cli_main):
    empty = tmp_path / "execucoes"
    empty.mkdir()
    _check(cli_main("catalogo", "importar", empty), REFUSED)
    _check(cli_main("painel", "--execucoes", empty), REFUSED)
    _check(cli_main("dossie", "ubs-teste", "--execucoes", empty), REFUSED)


def test_interrupted(tmp_path, cli_main, monkeypatch):
    def interrupted(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "check_sites", interrupted)
    proc = cli_main("validar", _site(tmp_path))
    assert proc.returncode == ExitCode.INTERRUPTED == 130
    assert proc.stderr.strip() == "interrompido pelo usuário"


@pytest.mark.notebooks
def test_run_pendente_is_undecided_and_a_failure_wins(tmp_path):
    """``executar``: nothing failed but evidence is missing → 3; a stage that fails (the PEC
    does not answer) → 1, even with other stages pendente."""
    out = tmp_path / "execucoes"
    (tmp_path / "a").mkdir()
    proc = run_cli("executar", _site(tmp_path / "a"), "--execucoes", out, "--sem-progresso")
    _check(proc, UNDECIDED)
    assert "[pendente]" in proc.stdout and "[falha]" not in proc.stdout
    (tmp_path / "b").mkdir()
    site = _site(tmp_path / "b", "instalacao:\n  pec_url: http://127.0.0.1:9\n")
    proc = run_cli("executar", site, "--execucoes", out, "--sem-progresso")
    _check(proc, FINDINGS)
    assert "[falha]" in proc.stdout
