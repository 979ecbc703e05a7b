"""Stage 4 (instalação): the exact installer command, the pre-install checklist from the
ambiente result, and the live checks against a PEC-like server and a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from esus_runbook import stages
from esus_runbook.demo.pec_simulator import PecConfig
from esus_runbook.results import StageResult
from esus_runbook.sites.loading import load_sites
from esus_runbook.stages import StageContext
from esus_runbook.status import Status

LINUX = "LANG=pt_BR.UTF-8 java -jar eSUS-AB-PEC-5.5.24-Linux64.jar -console -continue"


def site(tmp_path: Path, instalacao: dict | None = None, instalador: dict | None = None,
         cenario: dict | None = None):
    doc = {"site_id": "ubs-teste", "nome": "UBS Teste", "municipio_ibge": "2927408",
           "cenario": cenario or {}, "instalador": {"versao": "5.5.24", **(instalador or {})},
           "instalacao": instalacao or {}}
    path = tmp_path / "site.yaml"
    with path.open("w", encoding="utf-8") as fh:
        YAML().dump(doc, fh)
    (s,) = load_sites(path)
    return s


def ambiente(tmp_path: Path, **statuses: str) -> None:
    r = StageResult("ubs-teste", "ambiente")
    for cid, status in statuses.items():
        r.add(cid, cid, status, "esperado", f"observado {cid}",
              None if status == "ok" else f"corrija {cid}")
    r.finish().save(tmp_path / "run" / "ubs-teste")


def evaluate(s, tmp_path: Path, env: dict | None = None) -> StageResult:
    return stages.evaluate("instalacao", s, StageContext(tmp_path / "run" / s.site_id,
                                                         env=env or {}))


def by_id(r) -> dict:
    return {c.id: c for c in r.checks}


# --------------------------------------------------------------------------- command
def test_linux_production_command(tmp_path):
    r = evaluate(site(tmp_path), tmp_path)
    assert r.metrics["comando_linhas"][1:] == [LINUX]
    assert by_id(r)["INST_COMANDO"].status is Status.OK
    assert by_id(r)["INST_COMANDO"].observed == LINUX
    assert "-treinamento" not in r.metrics["comando"]


def test_training_upgrade_https_command(tmp_path):
    s = site(tmp_path, {"modo": "treinamento", "atualizacao": True,
                        "https_dominio": "pec.saude.exemplo.gov.br", "https_porta": 8443})
    r = evaluate(s, tmp_path)
    assert r.metrics["comando_linhas"][1] == (
        LINUX + " -treinamento -backup -cert-domain=pec.saude.exemplo.gov.br -cert-port=8443")
    assert by_id(r)["INST_PRE_BACKUP"].status is Status.ALERTA  # no backup routine declared


def test_https_before_5_3_is_falha(tmp_path):
    s = site(tmp_path, {"https_dominio": "pec.exemplo.gov.br"}, {"versao": "5.2.38"})
    c = by_id(evaluate(s, tmp_path))["INST_COMANDO"]
    assert c.status is Status.FALHA and "a partir do PEC 5.3" in c.remedy


def test_external_database_password_typed_at_run_time(tmp_path):
    s = site(tmp_path, {"db_url": "postgresql://pec@10.0.0.9:5432/esus",
                        "db_password_env": "PEC_BANCO"})
    r = evaluate(s, tmp_path, env={"PEC_BANCO": "NuncaAparece!42"})
    assert r.metrics["comando_linhas"][1:] == [
        'read -rs -p "Senha do banco: " PEC_BANCO; echo',
        LINUX + ' -url=jdbc:postgresql://10.0.0.9:5432/esus -username=pec '
                '-password="$PEC_BANCO"',
        "unset PEC_BANCO"]
    assert "NuncaAparece!42" not in json.dumps(r.to_dict())


def test_bundled_database_needs_no_url_flags(tmp_path):
    s = site(tmp_path, {"db_url": "postgresql://postgres@127.0.0.1:5433/esus"})
    assert "-url=" not in evaluate(s, tmp_path).metrics["comando"]


def test_windows_command(tmp_path):
    s = site(tmp_path, {"db_url": "postgresql://pec@db:5432/esus"},
             {"plataforma": "windows"})
    lines = evaluate(s, tmp_path).metrics["comando_linhas"]
    assert lines[0].startswith("# PowerShell como Administrador")
    assert "Read-Host" in lines[1] and "-AsSecureString" in lines[1]
    assert lines[2] == ("java -jar eSUS-AB-PEC-5.5.24-Win64.jar -console -continue "
                        '-url=jdbc:postgresql://db:5432/esus -username=pec '
                        '"-password=$env:PEC_DB_SENHA"')
    assert lines[3] == "Remove-Item Env:PEC_DB_SENHA"
    assert "LANG=" not in "\n".join(lines)


def test_command_uses_the_verified_download(tmp_path):
    d = StageResult("ubs-teste", "download")
    d.add("DL_NOME", "n", "ok", "x", "x")
    d.finish(nome="eSUS-AB-PEC-5.5.24-Win64.exe").save(tmp_path / "run" / "ubs-teste")
    s = site(tmp_path, instalador={"plataforma": "windows"})
    assert evaluate(s, tmp_path).metrics["comando_linhas"][1] == \
        ".\\eSUS-AB-PEC-5.5.24-Win64.exe -console -continue"


# --------------------------------------------------------------------------- checklist
def test_checklist_reuses_ambiente_result(tmp_path):
    ambiente(tmp_path, AMB_LOCALE="falha", AMB_REMOVEIPC="ok", AMB_PORTAS="alerta",
             AMB_PORTA_8080="falha", AMB_RAM="falha")
    r = evaluate(site(tmp_path), tmp_path)
    c = by_id(r)
    assert c["INST_PRE_LOCALE"].status is Status.FALHA
    assert c["INST_PRE_LOCALE"].remedy == "corrija AMB_LOCALE"
    assert c["INST_PRE_REMOVEIPC"].status is Status.OK
    assert c["INST_PRE_PORTAS"].status is Status.ALERTA
    assert "AMB_PORTAS" in c["INST_PRE_PORTAS"].observed
    # the checklist reads the ambiente stage's declared check ids, not ids that look alike
    assert "AMB_PORTA_8080" not in c["INST_PRE_PORTAS"].observed
    assert not any("AMB_RAM" in str(x.observed) for x in r.checks)  # not a pre-install item


def test_checklist_without_ambiente_is_pending_with_manual_commands(tmp_path):
    r = evaluate(site(tmp_path), tmp_path)
    c = by_id(r)
    assert c["INST_PRE_LOCALE"].status is Status.PENDENTE
    assert "locale -a" in c["INST_PRE_LOCALE"].remedy
    assert "RemoveIPC" in c["INST_PRE_REMOVEIPC"].remedy
    assert c["INST_VERIFICACAO"].status is Status.PENDENTE
    assert "esus-runbook conferir-instalacao --pec-url" in c["INST_VERIFICACAO"].remedy
    assert r.status is Status.PENDENTE


def test_windows_checklist_skips_linux_items(tmp_path):
    r = evaluate(site(tmp_path, instalador={"plataforma": "windows"}), tmp_path)
    assert "INST_PRE_LOCALE" not in by_id(r) and "INST_PRE_PORTAS" in by_id(r)


# --------------------------------------------------------------------------- live checks
def test_verified_pec_settles_unverified_pre_install_items(http_server, tmp_path):
    srv = http_server(pec=PecConfig(versao="5.5.24"))
    r = evaluate(site(tmp_path, {"pec_url": srv.url}), tmp_path)
    c = by_id(r)
    assert c["PEC_VERSAO"].status is Status.OK
    assert c["INST_PRE_LOCALE"].status is Status.ALERTA  # history now, not a pending input
    assert r.status is Status.ALERTA
    assert r.metrics["verificacao"]["versao_pec"] == "5.5.24"
    assert stages.chart_svgs(r)  # response-time chart from the metrics


def test_pec_not_answering_is_falha_with_causes(closed_url, tmp_path):
    r = evaluate(site(tmp_path, {"pec_url": closed_url}), tmp_path)
    c = by_id(r)["PEC_INFO"]
    assert r.status is Status.FALHA and "ainda está iniciando" in c.remedy
    assert by_id(r)["INST_PRE_LOCALE"].status is Status.PENDENTE


def test_upgrade_keeps_checklist_pending(http_server, tmp_path):
    srv = http_server(pec=PecConfig(versao="5.5.24"))
    r = evaluate(site(tmp_path, {"pec_url": srv.url, "atualizacao": True}), tmp_path)
    assert by_id(r)["INST_PRE_LOCALE"].status is Status.PENDENTE


def test_password_reference_missing_is_pending(http_server, tmp_path):
    srv = http_server(pec=PecConfig(versao="5.5.24"))
    s = site(tmp_path, {"pec_url": srv.url, "db_url": "postgresql://esus@127.0.0.1:1/esus",
                        "db_password_env": "SENHA_NAO_DEFINIDA"})
    r = evaluate(s, tmp_path, env={})
    c = by_id(r)
    assert c["INST_DB_SENHA"].status is Status.PENDENTE
    assert "SENHA_NAO_DEFINIDA" in c["INST_DB_SENHA"].observed
    assert "DB_CONEXAO" not in c


@pytest.mark.postgres
def test_training_database_in_production_site(http_server, postgres, pec_db, tmp_path):
    srv = http_server(pec=PecConfig(versao="5.5.24"))
    db = pec_db(TREINAMENTO=(None, 1), LINKINSTALACAO=(srv.url, None))
    s = site(tmp_path, {"pec_url": srv.url, "modo": "producao", "db_url": postgres.url(db=db),
                        "db_password_env": "PEC_SENHA"})
    r = evaluate(s, tmp_path, env={"PEC_SENHA": postgres.esus_password})
    c = by_id(r)
    assert c["DB_CONEXAO"].status is Status.OK
    assert c["DB_TREINAMENTO"].status is Status.FALHA and r.status is Status.FALHA
    assert c["DB_VERSAO_BANCO"].status is Status.OK and c["DB_LINK"].status is Status.OK
    assert postgres.esus_password not in json.dumps(r.to_dict())


@pytest.mark.postgres
def test_wrong_password_from_file_is_falha_without_echo(http_server, postgres, pec_db,
                                                         tmp_path):
    srv = http_server(pec=PecConfig(versao="5.5.24"))
    db = pec_db()
    secret = tmp_path / "senha"
    secret.write_text("Errada-Do-Arquivo-77\n")
    secret.chmod(0o644)
    s = site(tmp_path, {"pec_url": srv.url, "db_url": postgres.url(db=db),
                        "db_password_file": str(secret)})
    r = evaluate(s, tmp_path)
    c = by_id(r)
    assert c["DB_CONEXAO"].status is Status.FALHA
    assert c["INST_DB_SENHA"].status is Status.ALERTA  # file readable by others
    text = json.dumps(r.to_dict())
    assert "Errada-Do-Arquivo-77" not in text and postgres.esus_password not in text


@pytest.mark.notebooks
def test_demo_run_instalacao_results(demo_run):
    def load(sid):
        return json.loads((demo_run / sid / "instalacao.json").read_text())

    centro = {c["id"]: c for c in load("ubs-centro")["checks"]}
    assert centro["PEC_VERSAO"]["status"] == "ok" and centro["PEC_INFO"]["status"] == "ok"
    assert "SIMULADOR" in centro["PEC_INFO"]["observed"]
    assert centro["INST_COMANDO"]["status"] == "ok"
    vila = load("ubs-vila-nova")
    assert vila["status"] == "falha"
    assert {c["id"]: c["status"] for c in vila["checks"]}["PEC_VERSAO"] == "falha"
    assert vila["metrics"]["comando"].endswith("-console -continue -treinamento")
    assert load("sms-centralizado")["status"] == "pendente"


def test_command_check_is_one_shell_line(tmp_path):
    s = site(tmp_path, {"db_url": "postgresql://pec@10.0.0.9:5432/esus"})
    observed = by_id(evaluate(s, tmp_path))["INST_COMANDO"].observed
    assert "\n" not in observed
    assert observed.startswith('read -rs -p "Senha do banco: " PEC_DB_SENHA; echo; LANG=')
    assert observed.endswith('-password="$PEC_DB_SENHA"; unset PEC_DB_SENHA')
