"""verify-install against real servers: PEC-like HTTP servers on 127.0.0.1 and a PostgreSQL
started by the tests (md5 auth, tb_config_sistema like a PEC's)."""

from __future__ import annotations

import json

import pytest

from esus_runbook.demo.pec_simulator import PecConfig
from esus_runbook.errors import InputError
from esus_runbook.pec import VerifyReport, server_version_check, verify_install
from esus_runbook.secret_refs import Secret
from esus_runbook.status import ExitCode, JsonReport, Status

from .support.project import run_cli


def by_id(report) -> dict[str, object]:
    return {c.id: c for c in report.checks}


# --------------------------------------------------------------------------- HTTP
def test_pec_up_with_expected_version(http_server):
    srv = http_server(pec=PecConfig(versao="5.5.24"))
    r = verify_install(srv.url + "/", expect_version="5.5.24")
    checks = by_id(r)
    assert {k: c.status.value for k, c in checks.items()} == {
        "PEC_INFO": "ok", "PEC_VERSAO": "ok", "PEC_PAGINA": "ok", "PEC_TEMPO": "ok"}
    assert r.status is Status.OK and r.pec_url == srv.url
    assert len(r.metrics["tempos_ms"]["info"]) == 3 and r.metrics["versao_pec"] == "5.5.24"
    paths = [q["path"] for q in srv.requests]
    assert paths.count("/api/public/info") == 3 and "/" in paths


def test_pec_down_is_falha_with_likely_causes(closed_url):
    r = verify_install(closed_url, expect_version="5.5.24")
    (info,) = r.checks  # no duplicate failures for the same cause
    assert info.id == "PEC_INFO" and info.status is Status.FALHA
    assert "recusou a conexão" in info.observed
    for cause in ("ainda está iniciando", "serviço parado", "porta 8080"):
        assert cause in info.remedy


def test_pec_slow_is_alerta(http_server):
    srv = http_server(pec=PecConfig(delay_s=0.25))
    r = verify_install(srv.url, samples=1, slow_s=0.2)
    assert by_id(r)["PEC_TEMPO"].status is Status.ALERTA
    assert by_id(r)["PEC_INFO"].status is Status.OK


def test_pec_no_answer_within_timeout(http_server):
    srv = http_server(pec=PecConfig(delay_s=1.5))
    r = verify_install(srv.url, timeout=0.3)
    info = by_id(r)["PEC_INFO"]
    assert info.status is Status.FALHA and info.observed == "sem resposta em 0.3 s"
    assert "ainda está iniciando" in info.remedy


def test_pec_http_500(http_server):
    srv = http_server(pec=PecConfig(info_status=500, root_status=503))
    r = verify_install(srv.url, expect_version="5.5.24")
    checks = by_id(r)
    assert checks["PEC_INFO"].status is Status.FALHA and checks["PEC_INFO"].observed == "HTTP 500"
    assert checks["PEC_PAGINA"].observed == "HTTP 503"
    assert "PEC_VERSAO" not in checks


def test_pec_wrong_version(http_server):
    srv = http_server(pec=PecConfig(versao="5.4.38"))
    r = verify_install(srv.url, expect_version="5.5.24")
    v = by_id(r)["PEC_VERSAO"]
    assert v.status is Status.FALHA and v.observed == "5.4.38" and v.expected == "5.5.24"


def test_pec_drops_connection(http_server):
    srv = http_server(pec=PecConfig(drop=True))
    r = verify_install(srv.url)
    assert by_id(r)["PEC_INFO"].status is Status.FALHA


def test_not_a_pec(http_server):
    srv = http_server(pec=PecConfig(info_body="<html>outro sistema</html>"))
    r = verify_install(srv.url)
    assert by_id(r)["PEC_INFO"].status is Status.FALHA
    assert "não é de um PEC" in by_id(r)["PEC_INFO"].remedy


def test_server_version_below_9_6_fails():
    r = VerifyReport("http://x")
    server_version_check(r, 90513, "9.5.13")
    server_version_check(r, 90613, "9.6.13")
    assert [c.status.value for c in r.checks] == ["falha", "ok"]


# --------------------------------------------------------------------------- database
pytestmark_pg = pytest.mark.postgres


def pec_for_db(http_server, postgres, versao="5.5.24"):
    return http_server(pec=PecConfig(versao=versao))


@pytestmark_pg
def test_database_all_good(http_server, postgres, pec_db):
    srv = pec_for_db(http_server, postgres)
    db = pec_db(LINKINSTALACAO=(srv.url + "/", None))
    r = verify_install(srv.url, db_url=postgres.url(db=db),
                       password=Secret(postgres.esus_password, "teste"),
                       expect_version="5.5.24", modo="producao", tipo_instalacao="prontuario")
    status = {c.id: c.status.value for c in r.checks}
    assert status == {"PEC_INFO": "ok", "PEC_VERSAO": "ok", "PEC_PAGINA": "ok",
                      "PEC_TEMPO": "ok", "DB_CONEXAO": "ok", "DB_VERSAO_SERVIDOR": "ok",
                      "DB_SENHA_MD5": "ok", "DB_VERSAO_BANCO": "ok", "DB_TREINAMENTO": "ok",
                      "DB_TIPO_INSTALACAO": "ok", "DB_LINK": "ok"}
    assert r.metrics["banco"]["password_encryption"] == "md5"
    assert r.metrics["banco"]["externo"] is True
    assert postgres.esus_password not in json.dumps(r.to_dict())
    with postgres.connect() as conn:  # the fixture really stores md5 passwords
        (stored,) = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'esus'"
                                 ).fetchone()
    assert stored.startswith("md5")


@pytestmark_pg
@pytest.mark.parametrize("overrides,modo,tipo,check,status", [
    ({"VERSAOBANCODADOS": ("5.4.38", None)}, "producao", "prontuario", "DB_VERSAO_BANCO",
     "falha"),
    ({"VERSAOBANCODADOS": None}, "producao", "prontuario", "DB_VERSAO_BANCO", "falha"),
    ({"TREINAMENTO": (None, 1)}, "producao", "prontuario", "DB_TREINAMENTO", "falha"),
    ({"TREINAMENTO": (None, 0)}, "treinamento", "prontuario", "DB_TREINAMENTO", "falha"),
    ({"TREINAMENTO": (None, 1)}, "treinamento", "prontuario", "DB_TREINAMENTO", "ok"),
    ({"TIPOINSTALACAO": ("CENTRALIZADORA", None)}, "producao", "prontuario",
     "DB_TIPO_INSTALACAO", "falha"),
    ({"TIPOINSTALACAO": ("CENTRALIZADORA", None)}, "producao", "centralizador_municipal",
     "DB_TIPO_INSTALACAO", "ok"),
    # differs from pec_url, and no public link to judge it by (test_dominio.py: with one)
    ({"LINKINSTALACAO": ("http://servidor-antigo:8080", None)}, "producao", "prontuario",
     "DB_LINK", "pendente"),
    ({"LINKINSTALACAO": None}, "producao", "prontuario", "DB_LINK", "alerta"),
])
def test_database_config_checks(http_server, postgres, pec_db, overrides, modo, tipo, check,
                                status):
    srv = pec_for_db(http_server, postgres)
    overrides.setdefault("LINKINSTALACAO", (srv.url, None))
    db = pec_db(**overrides)
    r = verify_install(srv.url, db_url=postgres.url(db=db),
                       password=Secret(postgres.esus_password, "teste"),
                       expect_version="5.5.24", modo=modo, tipo_instalacao=tipo)
    c = by_id(r)[check]
    assert c.status.value == status, (c.expected, c.observed)
    if status == "falha" and check == "DB_TREINAMENTO" and modo == "producao":
        assert "NADA chega ao SISAB" in c.remedy


@pytestmark_pg
def test_database_version_compared_with_expected_when_pec_is_down(postgres, pec_db,
                                                                  closed_url):
    db = pec_db(VERSAOBANCODADOS=("5.5.22", None))
    r = verify_install(closed_url, db_url=postgres.url(db=db),
                       password=Secret(postgres.esus_password, "teste"),
                       expect_version="5.5.24")
    c = by_id(r)["DB_VERSAO_BANCO"]
    assert c.status is Status.FALHA and "o PEC não respondeu" in c.expected
    assert by_id(r)["PEC_INFO"].status is Status.FALHA


@pytestmark_pg
def test_scram_on_external_server_is_alerta(http_server, postgres, pec_db):
    srv = pec_for_db(http_server, postgres)
    db = pec_db()
    r = verify_install(srv.url, db_url=postgres.url(user="esus_scram", db=db),
                       password=Secret(postgres.esus_password, "teste"))
    c = by_id(r)["DB_SENHA_MD5"]
    assert c.status is Status.ALERTA and c.observed == "scram-sha-256"
    assert "authentication type 10" in c.remedy


@pytestmark_pg
def test_missing_config_table(http_server, postgres, pec_db):
    srv = pec_for_db(http_server, postgres)
    db = pec_db(table=False)
    r = verify_install(srv.url, db_url=postgres.url(db=db),
                       password=Secret(postgres.esus_password, "teste"))
    assert by_id(r)["DB_CONFIG"].status is Status.FALHA


def test_database_refused(http_server, closed_url):
    srv = http_server(pec=PecConfig())
    port = closed_url.rsplit(":", 1)[1]
    r = verify_install(srv.url, db_url=f"postgresql://esus@127.0.0.1:{port}/esus",
                       password=Secret("x", "teste"), timeout=3)
    c = by_id(r)["DB_CONEXAO"]
    assert c.status is Status.FALHA and "não aceita conexões" in c.observed


def test_db_url_with_password_is_rejected_without_echo():
    with pytest.raises(InputError) as err:
        verify_install("http://127.0.0.1:9", db_url="postgresql://u:SegredoNaUrl@h/esus")
    assert "não pode conter senha" in str(err.value) and "SegredoNaUrl" not in str(err.value)


# --------------------------------------------------------------------------- CLI
@pytestmark_pg
def test_cli_wrong_password_fails_cleanly_without_echo(http_server, postgres, pec_db, tmp_path):
    srv = pec_for_db(http_server, postgres)
    db = pec_db(LINKINSTALACAO=(srv.url, None))
    wrong = "Senha-ERRADA-9f3Kq#x!"
    out = tmp_path / "v.json"
    proc = run_cli("conferir-instalacao", "--pec-url", srv.url, "--db-url", postgres.url(db=db),
                   "--db-password-env", "SENHA_TESTE", "--versao-pec", "5.5.24",
                   "--json", out, env={"SENHA_TESTE": wrong})
    assert proc.returncode == 1, proc.stderr
    assert "DB_CONEXAO" in proc.stdout and "usuário ou senha recusados" in proc.stdout
    assert "Traceback" not in proc.stderr
    text = out.read_text()
    for blob in (proc.stdout, proc.stderr, text):
        assert wrong not in blob and postgres.esus_password not in blob
    data = json.loads(text)
    assert data["schema"] == "esus-runbook/verify-install/1" and data["status"] == "falha"


@pytestmark_pg
def test_cli_good_password_from_pgpassword_and_file(http_server, postgres, pec_db, tmp_path):
    srv = pec_for_db(http_server, postgres)
    db = pec_db(LINKINSTALACAO=(srv.url, None))
    args = ("conferir-instalacao", "--pec-url", srv.url, "--db-url", postgres.url(db=db),
            "--versao-pec", "5.5.24", "--modo", "producao", "--tipo-instalacao",
            "prontuario")
    proc = run_cli(*args, env={"PGPASSWORD": postgres.esus_password})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Situação: ok" in proc.stdout and postgres.esus_password not in proc.stdout
    secret = tmp_path / "senha"
    secret.write_text(postgres.esus_password + "\n")
    secret.chmod(0o600)
    proc = run_cli(*args, "--db-password-file", secret, env={"PGPASSWORD": ""})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert postgres.esus_password not in proc.stdout + proc.stderr


def test_cli_down_exit_1(closed_url, tmp_path):
    proc = run_cli("conferir-instalacao", "--pec-url", closed_url, "--json", tmp_path / "v.json")
    assert proc.returncode == 1
    assert "[ falha  ] PEC_INFO" in proc.stdout and "ainda está iniciando" in proc.stdout
    assert json.loads((tmp_path / "v.json").read_text())["checks"][0]["id"] == "PEC_INFO"


@pytest.mark.parametrize("args,words", [
    (("--pec-url", "servidor:8080"), "--pec-url: URL do PEC inválida"),
    (("--pec-url", "http://h:8080", "--db-url", "postgresql://u:segredo123@h/esus"),
     "--db-url: a URL do banco não pode conter senha"),
    (("--pec-url", "http://h:8080", "--db-url", "postgresql://u@h/esus",
      "--db-password-env", "NAO_DEFINIDA_XYZ"), "NAO_DEFINIDA_XYZ não está definida"),
    (("--pec-url", "http://h:8080", "--modo", "teste"), "opção inválida"),
])
def test_cli_verify_bad_input_one_line_exit_2(args, words):
    proc = run_cli("conferir-instalacao", *args, env={"NAO_DEFINIDA_XYZ": ""})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr and "segredo123" not in proc.stderr


def test_report_prints_itself_and_writes_the_published_json():
    r = VerifyReport("http://pec:8080", checked_at="2026-01-01T00:00:00+00:00")
    server_version_check(r, 90500, "9.5.2")
    server_version_check(r, 130004, "13.4")
    lines = r.text().splitlines()
    assert lines[0].startswith("[ falha  ] DB_VERSAO_SERVIDOR     Versão do PostgreSQL: 9.5.2")
    assert lines[1].startswith(" " * 11 + "→ O PEC exige PostgreSQL 9.6")
    assert lines[2] == "[   ok   ] DB_VERSAO_SERVIDOR     Versão do PostgreSQL: 13.4"
    assert lines[-1] == "Situação: falha" and r.exit_code == 1
    d = r.to_dict()
    assert list(d) == ["schema", "pec_url", "db_url", "checked_at", "status", "checks",
                       "metrics"]
    assert d["status"] == "falha" and d["checks"] == r.checks.to_list()
    assert list(d["checks"][0]) == ["id", "title", "status", "expected", "observed", "remedy"]
    assert isinstance(r, JsonReport) and r.notices() == ""
    # nothing failed, nothing decided (no check at all is pendente): undecided, not ok
    assert VerifyReport("http://pec:8080").exit_code == ExitCode.UNDECIDED == 3


def test_json_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path):
    """``--json`` goes through the one report writer: an OSError at write time (the folder
    became a file after the check) is a pt-BR InputError naming the file, exit 2."""
    r = VerifyReport("http://pec:8080")
    (tmp_path / "arquivo").write_text("não sou uma pasta\n")
    with pytest.raises(InputError) as err:
        r.write_json(tmp_path / "arquivo" / "r.json")
    assert err.value.exit_code == ExitCode.REFUSED
    assert str(err.value).startswith(str(tmp_path / "arquivo" / "r.json") + ": não foi "
                                     "possível gravar o resultado (parte do caminho não é uma "
                                     "pasta)")
    assert len(str(err.value).splitlines()) == 1
    out = r.write_json(tmp_path / "r.json")
    assert json.loads(out.read_text())["pec_url"] == "http://pec:8080"
