"""Domain fidelity, second pass: one test per item of the review (cenário criteria and
installation types, Java and timezone on the server, LINKINSTALACAO, profiles and JVM,
contra-chave dates, CBO families, unit municipality, layout × PEC version, DT_DESATIVACAO,
real-looking demo files, wording, JupyterLab settings). Facts: docs/dominio.md."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from esus_runbook import jvm, lab, pec
from esus_runbook.cnes import catalog, rules
from esus_runbook.cnes.audit import audit
from esus_runbook.cnes.parser import parse
from esus_runbook.data import read_csv
from esus_runbook.demo import cnes_xml as synth
from esus_runbook.demo.pec_simulator import PecConfig
from esus_runbook.form import fields
from esus_runbook.results import Status
from esus_runbook.secret_refs import Secret
from esus_runbook.sites import load_site, validate_site
from esus_runbook.stages import StageContext, evaluate, instalacao

from .conftest import EXAMPLES, NOTEBOOKS, ROOT
from .lab_server import lab_cli
from .test_ambiente import make_site

OK, ALERTA, PENDENTE, FALHA = Status.OK, Status.ALERTA, Status.PENDENTE, Status.FALHA
ANSWERS = {"usuarios_simultaneos": 30, "infraestrutura_adequada": True,
           "internet_estavel": True, "energia_estavel": True, "equipe_ti": True,
           "backup_automatizado": True, "politica_seguranca": True}


def by_id(result) -> dict:
    return {c.id: c for c in result.checks}


def cenario_site(tmp_path, **cen):
    raw = {"site_id": "s", "nome": "S", "municipio_ibge": "2927408", "cnes": "2386224",
           "cenario": {**ANSWERS, **cen}}
    return validate_site(raw, source=tmp_path / "s.yaml")


# --------------------------------------------------------------------------- 1
def test_01_sixth_criterion_infrastructure_is_asked_and_checked(tmp_path):
    keys = {f"{section}.{f.key}" for section, f in fields()}
    assert "cenario.infraestrutura_adequada" in keys              # the form shows it
    assert "`cenario.infraestrutura_adequada`" in (ROOT / "README.md").read_text("utf-8")
    central = evaluate("cenario", cenario_site(tmp_path, ubs_atendidas=4, banda_mbps=50,
                                               infraestrutura_adequada=False))
    c = by_id(central)["CEN_INFRA"]
    assert c.status is FALHA and "não centralizar" in c.remedy
    local = evaluate("cenario", cenario_site(tmp_path, infraestrutura_adequada=False))
    assert by_id(local)["CEN_INFRA"].status is ALERTA
    unknown = evaluate("cenario", cenario_site(tmp_path, infraestrutura_adequada=None))
    assert by_id(unknown)["CEN_INFRA"].status is PENDENTE and unknown.status is PENDENTE
    # all six criteria, each with its own check
    ok = evaluate("cenario", cenario_site(tmp_path))
    assert {"CEN_INFRA", "CEN_INTERNET", "CEN_ENERGIA", "CEN_EQUIPE_TI", "CEN_BACKUP",
            "CEN_SEGURANCA"} <= set(by_id(ok)) and ok.status is OK
    nb = json.loads((NOTEBOOKS / "01_cenario.ipynb").read_text("utf-8"))
    assert "infraestrutura_adequada" in "".join(nb["cells"][0]["source"])


# --------------------------------------------------------------------------- 2
def test_02_installation_type_is_separate_from_the_scenario(tmp_path):
    r = evaluate("cenario", cenario_site(tmp_path, tipo_instalacao="centralizador_municipal",
                                         usuarios_simultaneos=None, internet_estavel=False))
    c = by_id(r)
    assert r.metrics["cenario"] == "descentralizado"      # one unit: not the centralized set
    assert r.metrics["centralizador"] is True
    assert c["CEN_INTERNET"].status is ALERTA            # a warning, not the "do not centralize"
    assert c["CEN_TIPO"].status is OK
    assert r.metrics["perfil"]["profile_id"] == "centralizador_municipal"
    assert r.metrics["arquitetura"]["banco"]["ram_gb"] == 16
    # a centralizer where units attend is contradictory: a warning that says what to change
    r = evaluate("cenario", cenario_site(tmp_path, tipo_instalacao="centralizador_estadual",
                                         ubs_atendidas=5, banda_mbps=100))
    c = by_id(r)
    assert r.metrics["cenario"] == "centralizado"
    assert c["CEN_TIPO"].status is ALERTA and "tipo_instalacao: prontuario" in c["CEN_TIPO"].remedy
    assert r.metrics["perfil"]["db_ram_gb"] == 32
    # a prontuário used by several units is centralized, with its own profile
    r = evaluate("cenario", cenario_site(tmp_path, ubs_atendidas=12, usuarios_simultaneos=180,
                                         internet_estavel=False, banda_mbps=100))
    assert r.metrics["cenario"] == "centralizado" and "CEN_TIPO" not in by_id(r)
    assert by_id(r)["CEN_INTERNET"].status is FALHA


# --------------------------------------------------------------------------- 3
def test_03_java_is_checked_for_the_windows_jar_and_not_for_the_exe(tmp_path):
    site = make_site(tmp_path, "windows-server-2019", users=30,
                     instalador={"plataforma": "windows", "versao": "5.5.24"})
    r = evaluate("ambiente", site, StageContext())
    java = by_id(r)["AMB_JAVA"]                          # the probe found no Java
    assert java.status is FALHA and "java -version" in java.remedy and "64-Bit" in java.remedy
    assert "AMB_JAVA" not in r.metrics["nao_aplicavel"]
    cmd = instalacao.installer_command(site, instalacao.installer_name(site, None))
    assert "java -jar eSUS-AB-PEC-5.5.24-Win64.jar" in cmd["texto"]
    # with 64-bit Java on the PATH the check passes
    probe = json.loads((Path(__file__).parent / "data/probes/windows-server-2019.json")
                       .read_text("utf-8"))
    probe["java"] = {"found": True, "version": "17.0.13", "bits": 64,
                     "path": "C:\\Program Files\\Eclipse Adoptium\\jre-17\\bin\\java.exe",
                     "source": "PATH"}
    site = make_site(tmp_path, probe, users=30, instalador={"plataforma": "windows"})
    assert by_id(evaluate("ambiente", site, StageContext()))["AMB_JAVA"].status is OK
    # an old .exe installer brings its own runtime: no Java check, the .exe command
    exe = tmp_path / "eSUS-AB-PEC-4.2.8-Win64.exe"
    exe.write_bytes(b"MZ")
    site = make_site(tmp_path, "windows-server-2019", users=30,
                     instalador={"plataforma": "windows", "versao": "4.2.8",
                                 "arquivo": str(exe)})
    r = evaluate("ambiente", site, StageContext())
    assert "AMB_JAVA" not in by_id(r) and "AMB_JAVA" in r.metrics["nao_aplicavel"]
    cmd = instalacao.installer_command(site, exe.name)
    assert "java -jar" not in cmd["texto"] and ".\\eSUS-AB-PEC-4.2.8-Win64.exe" in cmd["texto"]


# --------------------------------------------------------------------------- 4
def test_04_timezone_remedy_uses_the_municipalitys_zone(tmp_path):
    probe = json.loads((Path(__file__).parent / "data/probes/linux-ok.json").read_text("utf-8"))
    probe["timezone"] = "Etc/UTC"
    manaus = make_site(tmp_path, probe, ibge="1302603")
    fuso = by_id(evaluate("ambiente", manaus, StageContext()))["AMB_FUSO"]
    assert "timedatectl set-timezone America/Manaus" in fuso.remedy
    assert "Sao_Paulo" not in fuso.remedy
    # the pre-install checklist (no ambiente result yet) gives the same zone
    pre = {c.id: c for c in instalacao.checklist(manaus, None)}["INST_PRE_FUSO"]
    assert "America/Manaus" in pre.remedy and "Sao_Paulo" not in pre.remedy
    # Windows: Recife's zone by its Windows name
    win = json.loads((Path(__file__).parent / "data/probes/windows-server-2019.json")
                     .read_text("utf-8"))
    win["timezone"] = "UTC"
    recife = make_site(tmp_path, win, ibge="2611606", instalador={"plataforma": "windows"})
    windows_zone = re.compile(r"""tzutil /s ["']SA Eastern Standard Time["']""")
    fuso = by_id(evaluate("ambiente", recife, StageContext()))["AMB_FUSO"]
    assert windows_zone.search(fuso.remedy), fuso.remedy
    pre = {c.id: c for c in instalacao.checklist(recife, None)}["INST_PRE_FUSO"]
    assert windows_zone.search(pre.remedy), pre.remedy


# --------------------------------------------------------------------------- 5
@pytest.mark.postgres
def test_05_linkinstalacao_is_compared_with_the_public_link(tmp_path, http_server, postgres,
                                                            pec_db):
    srv = http_server(pec=PecConfig(versao="5.5.24"))
    db = pec_db(LINKINSTALACAO=("http://pec.exemplo.gov.br", None))

    def link(expected):
        r = pec.verify_install(srv.url, db_url=postgres.url(db=db),
                               password=Secret(postgres.esus_password, "teste"),
                               expect_version="5.5.24", link_instalacao=expected)
        return by_id(r)["DB_LINK"]

    assert link("http://pec.exemplo.gov.br:80/").status is OK    # no port = 80
    wrong = link("https://pec.municipio.gov.br")
    assert wrong.status is ALERTA
    assert "Administração › Configurações da instalação › Servidores" in wrong.remedy
    # without the expected public link, a link other than pec_url is not a thing to "fix"
    unknown = link(None)
    assert unknown.status is PENDENTE and "instalacao.link_instalacao" in unknown.remedy
    # the site file takes the field (validated as a URL) and the stage passes it on
    site = validate_site({"site_id": "s", "nome": "S", "municipio_ibge": "2927408",
                          "instalacao": {"link_instalacao": "http://pec.exemplo.gov.br"}},
                         source=tmp_path / "s.yaml")
    assert site.instalacao["link_instalacao"] == "http://pec.exemplo.gov.br"
    assert "--link-instalacao http://pec.exemplo.gov.br" in pec.command(
        srv.url, link_instalacao=site.instalacao["link_instalacao"])


# --------------------------------------------------------------------------- 6
def test_06_profiles_cpu_and_the_manuals_truncated_4000_user_jvm():
    rows = {r["profile_id"]: r for r in read_csv("profiles.csv")}
    for pid in ("ate_2500", "ate_4000", "centralizador_municipal", "centralizador_estadual"):
        assert rows[pid]["cpu_ghz"] == 2.2, pid
    plan = jvm.recommend(rows["ate_4000"], 64 * 1024 ** 3, windows=False, install_path="/opt")
    assert "-Xms4096M -Xmx10240M -XX:MetaspaceSize =512M -" in plan["fonte"]
    assert "não dá valores" not in plan["fonte"]
    assert "-Xmx10240M" in plan["flags"] and "-XX:MetaspaceSize=512M" in plan["flags"]


# --------------------------------------------------------------------------- 7
def test_07_contra_chave_dated_before_the_installation_is_a_warning(tmp_path):
    raw = {"site_id": "s", "nome": "S", "municipio_ibge": "2927408",
           "instalacao": {"data_instalacao": "2026-11-21"},
           "contra_chave": {"chave": "0916-0409-8915-9622-2161-0480-1336-1227",
                            "contra_chave_env": "TEST_CC", "gerada_em": "2026-11-20",
                            "gerada_por": "Gestor SISAB"}}
    site = validate_site(raw, source=tmp_path / "s.yaml")
    r = evaluate("contra_chave", site, StageContext(tmp_path, env={"TEST_CC": "Qx7-9931-zz"}))
    c = by_id(r)["CC_DATA"]
    assert c.status is ALERTA and r.status is ALERTA
    assert "24 h" in c.remedy and "/reset" in c.remedy


# --------------------------------------------------------------------------- 8
# every CBO the composition rules name (docs/dominio.md) and its family
COMPOSITION_CBOS = {
    "225142": "medico", "225130": "medico", "225125": "medico", "225170": "medico",
    "225124": "medico", "223505": "enfermeiro", "223565": "enfermeiro",
    "322205": "tec_aux_enfermagem", "322230": "tec_aux_enfermagem",
    "322245": "tec_aux_enfermagem", "322250": "tec_aux_enfermagem",
    "515105": "acs", "322255": "acs", "223208": "cirurgiao_dentista",
    "223293": "cirurgiao_dentista", "322405": "asb_tsb", "322415": "asb_tsb",
    "322425": "asb_tsb", "322430": "asb_tsb"}


def test_08_tacs_322255_counts_as_community_agent(tmp_path):
    codes = pd.Series(list(COMPOSITION_CBOS))
    assert dict(zip(codes, catalog.family_of(codes), strict=True)) == COMPOSITION_CBOS
    assert set(COMPOSITION_CBOS) <= catalog.cbo_codes()
    # an eSF whose community agents are all TACS: complete, no unknown CBO
    spec = synth.Spec(professionals=80, seed=7, cnes=("2386224",))
    md = synth.build(spec)
    acs = md.lot["CO_CBO"] == "515105"
    assert acs.any()
    md.lot["CO_CBO"][acs] = "322255"
    path = tmp_path / "tacs.xml"
    with path.open("wb") as fh:
        synth.write_xml(spec, fh, md)
    report = audit(path, "2927408")
    assert report.findings.empty, report.findings[["rule", "message"]].to_dict("records")


# --------------------------------------------------------------------------- 9
def test_09_unit_address_must_be_in_the_files_municipality(tmp_path):
    spec = synth.Spec(professionals=80, seed=7, cnes=("2386224",))
    md = synth.build(spec)
    md.establishments[0]["_addr"]["CO_IBGE_MUN"] = "2919207"   # Lauro de Freitas, valid
    path = tmp_path / "outro.xml"
    with path.open("wb") as fh:
        synth.write_xml(spec, fh, md)
    f = audit(path, "2927408").findings
    assert list(f["rule"]) == ["UNIT_MUNICIPALITY_MISMATCH"]
    row = f.iloc[0]
    assert row["severity"] == "error" and row["cnes"] == "2386224"
    assert "2919207" in row["message"] and "2927408" in row["message"]
    assert "`UNIT_MUNICIPALITY_MISMATCH`" in (ROOT / "README.md").read_text("utf-8")


# --------------------------------------------------------------------------- 10
def xml_site(tmp_path, versao: str, xml: Path) -> Path:
    text = (EXAMPLES / "sites" / "ubs-centro.yaml").read_text("utf-8")
    text = text.replace("versao: 0.0.1", f"versao: {versao}")
    text = text.replace("arquivo: ../xml/XmlParaESUS31_292740.zip", f"arquivo: {xml}")
    text = "".join(line for line in text.splitlines(keepends=True)
                   if not line.startswith(("  anterior:", "  alteracoes_confirmadas:",
                                           "  arquivo: ../installers", "  sha256:")))
    p = tmp_path / f"site-{versao}.yaml"
    p.write_text(text, "utf-8")
    return p


def test_10_layout_is_compared_with_the_pec_version(tmp_path):
    v31 = synth.write_file(synth.Spec(professionals=80, seed=7, cnes=("2386224",)),
                           tmp_path / "v31.zip")
    v30 = synth.write_file(synth.Spec(professionals=80, seed=7, cnes=("2386224",),
                                      version="3.0"), tmp_path / "v30.zip")

    def check(versao, xml):
        return by_id(evaluate("xml", load_site(xml_site(tmp_path, versao, xml))))["XML_VERSAO"]

    old = check("5.1.3", v31)
    assert old.status is FALHA and "5.2.0" in old.remedy
    assert check("5.2.0", v31).status is OK
    assert check("4.2.7", v30).status is FALHA
    assert check("5.0.12", v30).status is OK
    assert check("4.2.7", v31).remedy.startswith("O PEC 4.2.7 não importa o layout 3.1")
    # an unsupported layout's remedy no longer sends everyone to "layout 3.1"
    assert "layout 3.1" not in rules.RULES["VERSION_UNSUPPORTED"].remedy
    bad = synth.write_file(synth.Spec(professionals=80, seed=7, cnes=("2386224",),
                                      inject=("VERSION_UNSUPPORTED",)), tmp_path / "v1.zip")
    c = check("5.5.24", bad)
    assert c.status is FALHA and "(layout 3.1)" not in c.remedy


# --------------------------------------------------------------------------- 11
@pytest.mark.parametrize("value,bad", [("30/06/2026", False), ("", False),
                                       ("2026-06-30", True), ("31/02/2026", True),
                                       ("30/6/2026", True)])
def test_11_team_deactivation_date_is_validated(tmp_path, value, bad):
    spec = synth.Spec(professionals=80, seed=7, cnes=("2386224",))
    md = synth.build(spec)
    team = md.teams[-1]
    team["DT_DESATIVACAO"] = value or " "
    path = tmp_path / "dt.xml"
    with path.open("wb") as fh:
        synth.write_xml(spec, fh, md)
    f = audit(path, "2927408").findings
    f = f[f["rule"] != "LOTACAO_INACTIVE_TEAM"]   # its members, when the team is inactive
    if bad:
        assert list(f["rule"]) == ["TEAM_DEACTIVATION_DATE_INVALID"]
        assert f.iloc[0]["ine"] == team["CO_INE"] and value in f.iloc[0]["message"]
    else:
        assert "TEAM_DEACTIVATION_DATE_INVALID" not in set(f["rule"])


# --------------------------------------------------------------------------- 12
def _xml_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        (name,) = z.namelist()
        return z.read(name).decode("latin-1")


def test_12_demo_files_look_like_real_exports_and_the_parser_takes_both(tmp_path):
    seen: set[str] = set()
    for demo in sorted((EXAMPLES / "xml").glob("*.zip")):
        text = _xml_text(demo)
        assert 'noNamespaceSchemaLocation="ImportarXML_CNES.xsd"' in text, demo.name
        teams = re.findall(r"<DADOS_EQUIPES ([^>]*)/>", text)
        assert teams, demo.name
        for attrs in teams:
            a = dict(re.findall(r'(\w+)="([^"]*)"', attrs))
            assert a["ID_TP_EQUIPE"].strip() == "", attrs
            seen.add(a["DS_EQUIPE"])
    # DS_EQUIPE is the catalogue's description of the team type, not a free name
    descriptions = {catalog.team_description(c) for c in ("70", "71", "72", "76")}
    assert "EQUIPE DE SAÚDE DA FAMÍLIA" in descriptions
    assert seen == descriptions
    # older files carry the code in ID_TP_EQUIPE only: still read
    text = _xml_text(EXAMPLES / "xml" / "XmlParaESUS31_292740.zip")
    old_style = re.sub(r'ID_TP_EQUIPE=" " TP_EQUIPE="(\d+)"', r'ID_TP_EQUIPE="\1" TP_EQUIPE=""',
                       text)
    assert old_style != text
    path = tmp_path / "antigo.xml"
    path.write_bytes(old_style.encode("latin-1"))
    new = parse(EXAMPLES / "xml" / "XmlParaESUS31_292740.zip")
    old = parse(path)
    assert list(old.teams["tp_equipe"]) == list(new.teams["tp_equipe"])
    assert audit(path, "2927408").findings.empty


# --------------------------------------------------------------------------- 13
def test_13_notebook_06_says_access_ends_at_import_and_cnpj_is_not_a_rule():
    nb = json.loads((NOTEBOOKS / "06_xml.ipynb").read_text("utf-8"))
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "dia seguinte" not in text
    assert "perde o acesso ao PEC assim que o arquivo é importado" in text
    remedy = rules.RULES["CNPJ_INVALID"].remedy
    assert "normalmente o do Fundo Municipal de Saúde" not in remedy
    assert "em geral" in remedy


# --------------------------------------------------------------------------- 14
def _user_texts() -> dict[str, str]:
    out = {"README.md": (ROOT / "README.md").read_text("utf-8")}
    for nb in sorted(NOTEBOOKS.glob("*.ipynb")):
        out[nb.name] = nb.read_text("utf-8")
    for f in sorted((ROOT / "esus_runbook").rglob("*")):
        if f.suffix in (".py", ".j2", ".csv", ".json"):
            out[str(f.relative_to(ROOT))] = f.read_text("utf-8")
    return out


def test_14_wording_reads_as_brazilian_portuguese():
    texts = _user_texts()
    for wrong in ("tiram prints", "impressões digitais das entradas", "não-heap"):
        hits = [name for name, text in texts.items() if wrong in text]
        assert not hits, (wrong, hits)
    assert "capturas de tela" in texts["README.md"]
    assert "identificadores das entradas" in texts["README.md"]
    assert "não heap" in texts["README.md"]


# --------------------------------------------------------------------------- 15
def test_15_lab_settings_turn_news_off_and_name_the_tool():
    folder = lab.lab_settings_dir()
    overrides = json.loads((folder / "overrides.json").read_text("utf-8"))
    notif = overrides["@jupyterlab/apputils-extension:notification"]
    assert notif["fetchNews"] == "false" and notif["checkForUpdates"] is False
    assert json.loads((folder / "page_config.json").read_text("utf-8"))["appName"] == \
        "esus-runbook"


@pytest.mark.notebooks
def test_15_lab_server_applies_the_settings(tmp_path):
    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    (tmp_path / "trabalho").mkdir()  # lab without argument works in the current folder
    with lab_cli(tmp=tmp_path, env={"ESUS_RUNBOOK_NOTEBOOKS": str(tmp_path / "notebooks")},
                 cwd=tmp_path / "trabalho") as running:
        code, body = running.api(
            "/lab/api/settings/@jupyterlab/apputils-extension:notification")
        assert code == 200, body
        schema = json.loads(body)["schema"]["properties"]
        assert schema["fetchNews"]["default"] == "false"        # the packaged override
        assert schema["checkForUpdates"]["default"] is False
        code, page = running.api("/lab")
        assert code == 200
        html = page.decode("utf-8")
        config = json.loads(re.search(r'<script id="jupyter-config-data" '
                                      r'type="application/json">(.*?)</script>', html,
                                      re.S).group(1))
        assert config["appName"] == "esus-runbook"


@pytest.mark.browser
@pytest.mark.notebooks
def test_15_lab_in_the_browser_names_the_tool_and_asks_no_news(tmp_path, browser):
    """With an empty user settings folder (as a new analyst has), only the packaged override
    keeps the "official Jupyter news?" prompt away; the tab's title names the tool."""
    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    env = {"ESUS_RUNBOOK_NOTEBOOKS": str(tmp_path / "notebooks"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "usuario-sem-configuracao")}
    page = browser.new_page()
    page.set_default_timeout(120_000)
    try:
        (tmp_path / "trabalho").mkdir()  # lab without argument: the current folder
        with lab_cli(tmp=tmp_path, env=env, cwd=tmp_path / "trabalho") as running:
            page.goto(running.url)
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell"
                                   " && window.jupyterapp.shell.currentWidget")
            page.wait_for_function("() => document.title.includes('esus-runbook')")
            schema = page.evaluate(
                "async () => (await window.jupyterapp.serviceManager.settings.fetch("
                "'@jupyterlab/apputils-extension:notification')).schema")
            assert schema["properties"]["fetchNews"]["default"] == "false"
            # the prompt, when enabled, is a toast shown right after start-up
            page.wait_for_timeout(5000)
            assert page.get_by_text("official Jupyter news").count() == 0
            assert "JupyterLab" not in page.title()
    finally:
        page.close()
