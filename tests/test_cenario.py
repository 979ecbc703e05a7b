import pytest

from esus_runbook.sites.loading import validate_site
from esus_runbook.stages import cenario, evaluate
from esus_runbook.status import Status


def site(tmp_path, **cen):
    raw = {"site_id": "s", "nome": "S", "municipio_ibge": "2927408", "cnes": "2386224",
           "cenario": {"usuarios_simultaneos": 30, "infraestrutura_adequada": True,
                       "internet_estavel": True,
                       "energia_estavel": True, "equipe_ti": True,
                       "backup_automatizado": True, "politica_seguranca": True, **cen}}
    return validate_site(raw, source=tmp_path / "s.yaml")


def by_id(result):
    return {c.id: c for c in result.checks}


@pytest.mark.parametrize("users,profile", [(1, "ate_40"), (40, "ate_40"), (41, "ate_100"),
                                           (1000, "ate_1000"), (2500, "ate_2500"),
                                           (4000, "ate_4000")])
def test_profile_by_users(users, profile):
    assert cenario.select_profile("prontuario", users)["profile_id"] == profile


def test_profile_for_centralizers():
    assert cenario.select_profile("centralizador_estadual", None)["db_ram_gb"] == 32
    assert cenario.select_profile("centralizador_municipal", 10)["passmark"] == 13000


def test_ready_decentralized(tmp_path):
    r = evaluate("cenario", site(tmp_path))
    assert r.status is Status.OK
    assert r.metrics["cenario"] == "descentralizado"
    assert r.metrics["arquitetura"]["servidores"] == 1
    assert r.metrics["perfil"]["app_ram_gb"] == 8
    assert r.inputs["site"].startswith("sha256:")


def test_centralized_criteria_fail(tmp_path):
    r = evaluate("cenario", site(tmp_path, ubs_atendidas=12, usuarios_simultaneos=180,
                                 backup_automatizado=False, banda_mbps=100))
    checks = by_id(r)
    assert r.status is Status.FALHA
    assert checks["CEN_BACKUP"].status is Status.FALHA
    assert "não centralizar" in checks["CEN_BACKUP"].remedy
    assert checks["CEN_BANDA"].status is Status.OK
    assert r.metrics["arquitetura"]["servidores"] == 2
    assert r.metrics["arquitetura"]["banco"]["ram_gb"] == 16


def test_decentralized_criteria_warn(tmp_path):
    r = evaluate("cenario", site(tmp_path, internet_estavel=False))
    assert r.status is Status.ALERTA
    assert by_id(r)["CEN_INTERNET"].status is Status.ALERTA


def test_unknown_answers_are_pending(tmp_path):
    r = evaluate("cenario", site(tmp_path, usuarios_simultaneos=None, equipe_ti=None))
    checks = by_id(r)
    assert checks["CEN_PERFIL"].status is Status.PENDENTE
    assert checks["CEN_EQUIPE_TI"].status is Status.PENDENTE
    assert r.status is Status.PENDENTE


def test_above_largest_profile_fails(tmp_path):
    r = evaluate("cenario", site(tmp_path, usuarios_simultaneos=5000))
    assert by_id(r)["CEN_PERFIL"].status is Status.FALHA


def test_centralized_without_bandwidth_warns(tmp_path):
    r = evaluate("cenario", site(tmp_path, ubs_atendidas=3))
    assert by_id(r)["CEN_BANDA"].status is Status.ALERTA


def test_criteria_are_the_manuals_advice_and_the_runbooks_policy(tmp_path):
    """docs/dominio.md, "Cenário": the six criteria are advice in the manual's "Unificação de
    bases" §3 ("não é recomendado"); the falha is this runbook's policy and cites the page."""
    r = evaluate("cenario", site(tmp_path, ubs_atendidas=6, usuarios_simultaneos=90,
                                 internet_estavel=False, energia_estavel=False,
                                 banda_mbps=50))
    c = by_id(r)
    for cid in ("CEN_INTERNET", "CEN_ENERGIA"):
        assert c[cid].status is Status.FALHA
        assert "Política deste runbook" in c[cid].remedy
        assert "Unificação de bases" in c[cid].remedy and "não é recomendado" in c[cid].remedy
        assert "Unificacao_de_bases" in c[cid].remedy
        assert "A SAPS orienta" not in c[cid].remedy
    # centralizing without internet: the offline route is named
    assert "centralizador do município" in c["CEN_INTERNET"].remedy
    assert "PEC online" in c["CEN_INTERNET"].remedy
    assert c["CEN_INTERNET"].title == "Internet estável entre as unidades e o servidor"


def test_single_unit_titles_do_not_speak_of_units_and_server(tmp_path):
    r = evaluate("cenario", site(tmp_path, internet_estavel=False))
    titles = {c.id: c.title for c in r.checks}
    assert not any("entre as unidades" in t or "todas as unidades" in t
                   for t in titles.values()), titles
    internet = by_id(r)["CEN_INTERNET"]
    assert internet.status is Status.ALERTA
    assert "centralizador do município" in internet.remedy


def test_profile_check_reads_as_a_match(tmp_path):
    perfil = by_id(evaluate("cenario", site(tmp_path)))["CEN_PERFIL"]
    assert perfil.expected == "perfil oficial para 30 usuários simultâneos"
    assert perfil.observed == 'perfil "Até 40 usuários" (1 servidor)'
    central = by_id(evaluate("cenario", site(tmp_path, tipo_instalacao="centralizador_municipal",
                                             usuarios_simultaneos=None)))["CEN_PERFIL"]
    assert central.expected == "perfil oficial do centralizador municipal"
