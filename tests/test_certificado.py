"""Certificate evidence (esus_runbook.upkeep.certificate) against a real TLS server on
127.0.0.1 with certificates generated for each case: valid (test CA), expiring in 5 days,
wrong name, self-signed, expired; and the `certificado` command end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from esus_runbook import schemas
from esus_runbook.net import free_port
from esus_runbook.status import Status
from esus_runbook.upkeep.certificate import TlsTarget, check_certificate, site_target

from .support.tls_server import TlsServer, make_ca, make_leaf

NAME = "pec.municipio.ba.gov.br"


@pytest.fixture
def ca(tmp_path: Path):
    return make_ca(tmp_path)


def _run(tmp_path, ca, names, *, days=90, start_days=-1, signed=True, name=NAME,
         cafile=True):
    cert, key = make_leaf(tmp_path, names, ca=ca if signed else None, days=days,
                          start_days=start_days)
    with TlsServer(cert, key) as server:
        target = TlsTarget(name, server.port, address="127.0.0.1")
        checks, metrics = check_certificate(target, cafile=str(ca.path) if cafile else None)
    return {c.id: c for c in checks}, metrics


def test_valid_certificate_from_the_named_ca(tmp_path, ca):
    checks, metrics = _run(tmp_path, ca, [NAME])
    assert [c.status for c in checks.values()] == [Status.OK] * 5, checks
    assert 88 <= metrics["dias_restantes"] <= 90
    assert metrics["nomes"] == [NAME] and len(metrics["sha256"]) == 64


def test_expiring_in_five_days_is_an_alert(tmp_path, ca):
    checks, metrics = _run(tmp_path, ca, [NAME], days=5)
    assert checks["CRT_VALIDADE"].status is Status.ALERTA
    assert "vence em 5 dias" in checks["CRT_VALIDADE"].observed
    assert "reinic" in checks["CRT_VALIDADE"].remedy
    assert checks["CRT_CADEIA"].status is Status.OK


def test_expired_certificate_fails(tmp_path, ca):
    checks, _ = _run(tmp_path, ca, [NAME], days=-2, start_days=-30)
    assert checks["CRT_VALIDADE"].status is Status.FALHA
    assert "vencido" in checks["CRT_VALIDADE"].observed
    assert checks["CRT_CADEIA"].status is Status.FALHA  # OpenSSL refuses it too


def test_wrong_name_fails_the_name_check_only(tmp_path, ca):
    checks, _ = _run(tmp_path, ca, ["outro.exemplo.gov.br"])
    assert checks["CRT_NOME"].status is Status.FALHA
    assert checks["CRT_NOME"].observed == "outro.exemplo.gov.br"
    assert checks["CRT_CADEIA"].status is Status.OK


def test_wildcard_covers_one_label(tmp_path, ca):
    checks, _ = _run(tmp_path, ca, ["*.municipio.ba.gov.br"])
    assert checks["CRT_NOME"].status is Status.OK
    checks, _ = _run(tmp_path, ca, ["*.ba.gov.br"])
    assert checks["CRT_NOME"].status is Status.FALHA


def test_self_signed_fails_the_chain(tmp_path, ca):
    checks, metrics = _run(tmp_path, ca, [NAME], signed=False)
    assert checks["CRT_CADEIA"].status is Status.FALHA
    assert "self-signed" in checks["CRT_CADEIA"].observed
    assert checks["CRT_NOME"].status is Status.OK


def test_test_ca_unknown_to_the_system_store(tmp_path, ca):
    checks, _ = _run(tmp_path, ca, [NAME], cafile=False)
    assert checks["CRT_CADEIA"].status is Status.FALHA
    assert "local issuer" in checks["CRT_CADEIA"].observed


def test_domain_outside_gov_br_is_an_alert(tmp_path, ca):
    checks, _ = _run(tmp_path, ca, ["pec.exemplo.com.br"], name="pec.exemplo.com.br")
    assert checks["CRT_GOVBR"].status is Status.ALERTA
    assert "gov.br" in checks["CRT_GOVBR"].remedy


def test_nothing_listening_is_a_connection_failure_and_no_guess():
    checks, _ = check_certificate(TlsTarget(NAME, free_port(), address="127.0.0.1"),
                                  timeout=3)
    assert [c.id for c in checks] == ["CRT_CONEXAO"]
    assert checks[0].status is Status.FALHA and "recusada" in checks[0].observed


def test_site_target_prefers_the_https_domain():
    assert site_target({"instalacao": {"https_dominio": NAME, "https_porta": 8443}}) == \
        TlsTarget(NAME, 8443, origin="instalacao.https_dominio")
    link = site_target({"instalacao": {"link_instalacao": "https://pec.x.gov.br:9443/"}})
    assert (link.name, link.port, link.origin) == ("pec.x.gov.br", 9443,
                                                  "instalacao.link_instalacao")
    assert site_target({"instalacao": {"pec_url": "http://10.0.0.5:8080"}}) is None


def _site(tmp_path: Path, port: int, cafile: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(f"""site_id: ubs-tls
nome: UBS TLS
municipio_ibge: "2927408"
instalacao:
  https_dominio: {NAME}
  https_porta: {port}
certificado:
  endereco: 127.0.0.1
  ca_arquivo: {cafile}
""", encoding="utf-8")
    return path


def test_certificado_command_records_the_evidence(tmp_path, ca, cli):
    cert, key = make_leaf(tmp_path, [NAME], ca=ca, days=5)
    with TlsServer(cert, key) as server:
        site = _site(tmp_path, server.port, ca.path)
        out = tmp_path / "execucoes"
        proc = cli("certificado", str(site), "--execucoes", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "CRT_VALIDADE" in proc.stdout and "alerta" in proc.stdout
    files = list((out / "operacoes" / "ubs-tls").glob("certificado-*.json"))
    assert len(files) == 1
    data = json.loads(files[0].read_text(encoding="utf-8"))
    assert schemas.errors("operacao", data) == []
    assert data["status"] == "alerta" and data["metrics"]["dias_restantes"] < 6


def test_certificado_without_an_https_link_is_pending(tmp_path, cli_main):
    site = tmp_path / "site.yaml"
    site.write_text('site_id: ubs-http\nnome: X\nmunicipio_ibge: "2927408"\n'
                    "instalacao:\n  pec_url: http://127.0.0.1:8080\n", encoding="utf-8")
    proc = cli_main("certificado", str(site), "--execucoes", str(tmp_path / "ex"))
    assert proc.returncode == 3, proc.stderr  # pendente: undecided, never ok
    assert "CRT_ALVO" in proc.stdout and "pendente" in proc.stdout
