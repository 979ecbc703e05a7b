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
from esus_runbook.secret_refs import Secret
from esus_runbook.sites.loading import load_site, validate_site
from esus_runbook.stages import StageContext, evaluate, instalacao
from esus_runbook.status import Status

from .support.ambiente_site import make_site
from .support.browser import expect
from .support.docs_ref import reference_pages, user_docs
from .support.lab_server import lab_cli
from .support.project import EXAMPLES, NOTEBOOKS, ROOT

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
    assert "`cenario.infraestrutura_adequada`" in reference_pages()["referencia/arquivo-do-site.md"]
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
    assert "`UNIT_MUNICIPALITY_MISMATCH`" in reference_pages()["referencia/regras-xml.md"]


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

    old = check("5.1.20", v31)
    assert old.status is FALHA and "5.1.21" in old.remedy
    # layout 3.1 arrived with 5.1.21 (official release notes), not with 5.2
    for versao in ("5.1.21", "5.1.25", "5.2.0"):
        assert check(versao, v31).status is OK, versao
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
    out = {"README.md": (ROOT / "README.md").read_text("utf-8"), **user_docs()}
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
    assert "identificadores das entradas" in texts["docs/lote.md"]
    assert "não heap" in texts["docs/sondagem.md"]


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
            # JupyterLab's announcements plugin decides on the prompt once the app is restored,
            # the notification settings are loaded and its config section has answered
            with page.expect_response(lambda r: "/api/config/" in r.url
                                      and r.url.split("?")[0].endswith("announcements")):
                page.goto(running.url)
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell"
                                   " && window.jupyterapp.shell.currentWidget")
            expect(page).to_have_title(re.compile("esus-runbook"))
            schema = page.evaluate(
                "async () => (await window.jupyterapp.serviceManager.settings.fetch("
                "'@jupyterlab/apputils-extension:notification')).schema")
            assert schema["properties"]["fetchNews"]["default"] == "false"
            # The prompt is a notification emitted at that decision. After it, emit one of
            # ours and open the notification centre: once ours is listed, the centre shows
            # every notification of the session, and the prompt is not among them.
            page.evaluate("async () => { await window.jupyterapp.restored;"
                          " await window.jupyterapp.commands.execute('apputils:notify',"
                          " {message: 'sonda-esus-runbook', type: 'info',"
                          " options: {autoClose: false}}); }")
            page.evaluate("() => window.jupyterapp.commands.execute("
                          "'apputils:display-notifications')")
            center = page.locator(".jp-Notification-Center")
            expect(center.get_by_text("sonda-esus-runbook")).to_be_visible()
            expect(center.get_by_text("official Jupyter news")).to_have_count(0)
            expect(page.get_by_text("official Jupyter news")).to_have_count(0)
            assert "JupyterLab" not in page.title()
    finally:
        page.close()


# --------------------------------------------------------------------------- 16
def test_16_training_site_reads_pronto_treinamento_and_nothing_reaches_sisab(tmp_path):
    """issue 22: a training installation is not activated (docs/dominio.md, "Contra-chave");
    when it passes everything the site report and the roll-up say "pronto (treinamento)" and
    that nothing reaches the SISAB."""
    from esus_runbook.files.atomic import write_json_atomic
    from esus_runbook.report.rollup import write_rollup
    from esus_runbook.report.site import render_site_report, summary_html, terminal_lines
    from esus_runbook.results import STAGES, StageResult

    run = tmp_path / "runs" / "20261201-100000-aaaa"
    for sid, modo in (("ubs-treino", "treinamento"), ("ubs-prod", "producao")):
        site = validate_site({"site_id": sid, "nome": sid.upper(), "municipio_ibge": "2927408",
                              "instalacao": {"modo": modo}}, source=tmp_path / f"{sid}.yaml")
        write_json_atomic(run / sid / "site.json", site.to_json())
        for stage in STAGES:
            if stage == "contra_chave":
                r = evaluate("contra_chave", site, StageContext(run / sid, env={}))
            else:
                r = StageResult(sid, stage)
                r.add("X_OK", "evidência", OK, "x", "x")
                r.finish()
            r.save(run / sid)
    html = render_site_report(run / "ubs-treino").read_text("utf-8")
    assert "Pronto (treinamento)" in html and "nada chega ao SISAB" in html
    assert "Pronto para produção" not in html
    assert "Pronto (treinamento)" in summary_html(run / "ubs-treino")
    assert "Pronto (treinamento)" in terminal_lines(run / "ubs-treino")[0]  # run/batch print
    assert "Pronto (treinamento)" not in terminal_lines(run / "ubs-prod")[0]
    prod = render_site_report(run / "ubs-prod").read_text("utf-8")
    assert "Pronto (treinamento)" not in prod and 'id="treinamento"' not in prod
    assert by_id(StageResult.load(run / "ubs-prod" / "contra_chave.json"))[
        "CC_CONTRA_CHAVE"].status is PENDENTE       # production still needs the contra-chave
    paths = write_rollup(run)
    rollup = paths["html"].read_text("utf-8")
    row = re.search(r'<tr data-site="ubs-treino"[^>]*>.*?</tr>', rollup, re.S).group(0)
    assert "pronto (treinamento)" in row
    assert "pronto (treinamento)" not in re.search(r'<tr data-site="ubs-prod"[^>]*>.*?</tr>',
                                                   rollup, re.S).group(0)
    assert "nada do que é registrado nelas chega ao SISAB" in rollup
    data = json.loads(paths["json"].read_text("utf-8"))
    assert data["prontos_treinamento"] == ["ubs-treino"] and data["treinamento"] == ["ubs-treino"]


# --------------------------------------------------------------------------- 17
@pytest.mark.parametrize("value,words", [
    ("https://pec.municipio.gov.br", "sem http://"),
    ("pec.municipio.gov.br:8443", "sem a porta"),
    ("pec.municipio.gov.br/esus", "sem caminho"),
    ("10.0.0.5", "não um endereço IP"),
    ("pec", "domínio público completo"),
])
def test_17_cert_domain_is_a_bare_host_name(tmp_path, cli_main, value, words):
    """-cert-domain takes the public domain only (docs/dominio.md, "Instalação e banco do
    PEC"): a scheme, a port or a path is refused in pt-BR with exit 2 before anything runs."""
    site = tmp_path / "s.yaml"
    site.write_text('site_id: s\nnome: S\nmunicipio_ibge: "2927408"\ninstalacao:\n'
                    f'  https_dominio: "{value}"\n', encoding="utf-8")
    proc = cli_main("run", site, "--out", tmp_path / "out")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    err = proc.stderr
    assert "instalacao.https_dominio" in err and words in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_17_cert_domain_in_the_install_command_is_validated_and_quoted(tmp_path):
    site = validate_site({"site_id": "s", "nome": "S", "municipio_ibge": "2927408",
                          "instalador": {"versao": "5.5.24"},
                          "instalacao": {"https_dominio": "pec.municipio.gov.br",
                                         "https_porta": 8443}}, source=tmp_path / "s.yaml")
    cmd = instalacao.installer_command(site, "eSUS-AB-PEC-5.5.24-Linux64.jar")
    assert "-cert-domain=pec.municipio.gov.br -cert-port=8443" in cmd["texto"]
    assert not cmd["problemas"]
    # a snapshot edited by hand never reaches the command shown to the user
    site.instalacao["https_dominio"] = "https://pec.municipio.gov.br:443"
    cmd = instalacao.installer_command(site, "eSUS-AB-PEC-5.5.24-Linux64.jar")
    assert "-cert-domain" not in cmd["texto"]
    assert any("instalacao.https_dominio" in p and "sem http://" in p
               for p in cmd["problemas"])


# --------------------------------------------------------------------------- 18
def test_18_layout_older_than_the_last_imported_is_caught_before_the_import(tmp_path):
    """PEC refuses a layout older than the last one imported (docs/dominio.md, "XML do
    CNES"). Without xml.anterior, the previous run's file says which layout was imported:
    falha when its "Depois da importação" found it in PEC, alerta when that is unknown."""
    from esus_runbook.results import StageResult

    v31 = synth.write_file(synth.Spec(professionals=80, seed=7, cnes=("2386224",)),
                           tmp_path / "v31.zip")
    v30 = synth.write_file(synth.Spec(professionals=80, seed=7, cnes=("2386224",),
                                      version="3.0"), tmp_path / "v30.zip")
    site = load_site(xml_site(tmp_path, "5.5.24", v30))
    runs = tmp_path / "execucoes"

    def earlier(name: str, reconciliacao: dict | None) -> None:
        prev = StageResult(site.site_id, "xml")
        prev.add("XML_ARQUIVO", "XML", OK, "x", "v31.zip")
        metrics = {"xml": {"arquivo": {"name": "v31.zip", "version": "3.1"}}}
        if reconciliacao is not None:
            metrics["reconciliacao"] = reconciliacao
        prev.finish(**metrics).save(runs / name / site.site_id)

    def check(run: str):
        ctx = StageContext(runs / run / site.site_id)
        r = evaluate("xml", site, ctx)
        return by_id(r).get("XML_LAYOUT_IMPORTADO"), r

    # no earlier run: nothing is known, no check (and no guessed verdict)
    assert check("20261201-100000-aaaa")[0] is None
    earlier("20261201-100000-aaaa", None)
    c, r = check("20261202-100000-bbbb")
    assert c.status is ALERTA and "importação não conferida" in c.observed
    assert "xml.anterior" in c.remedy and "execucao_anterior.xml" in r.inputs
    earlier("20261202-100000-bbbb", {"situacao": "ok", "counts": {"NOT_IMPORTED": 0}})
    c, _ = check("20261203-100000-cccc")
    assert c.status is FALHA and "conferido no banco" in c.observed
    assert "layout 3.1 ou mais recente" in c.remedy
    # the earlier file was not imported after all: only an alerta
    earlier("20261203-100000-cccc", {"situacao": "ok", "counts": {"NOT_IMPORTED": 1}})
    assert check("20261204-100000-dddd")[0].status is ALERTA
    # the same or a newer layout passes, with what it was compared with
    newer = load_site(xml_site(tmp_path, "5.5.24", v31))
    c = by_id(evaluate("xml", newer, StageContext(runs / "20261204-100000-dddd" /
                                                  newer.site_id)))["XML_LAYOUT_IMPORTADO"]
    assert c.status is OK and c.observed.startswith("3.1; execução anterior")


# --------------------------------------------------------------------------- 19
def test_19_grades_follow_their_sources():
    """issue 22 item 5: facts resting on community evidence only are [M] with the source;
    facts the manual states are [H] with the page (docs/dominio.md)."""
    layouts = {str(r["layout"]): r for r in read_csv("xml_layouts.csv")}
    assert layouts["3.1"]["pec_minimo"] == "5.1.21" and layouts["3.1"]["confidence"] == "H"
    assert "Adicionada compatibilidade com a versão 3.1 do XML do CNES" in \
        layouts["3.1"]["source"]
    srv = {r["chave"]: r for r in read_csv("servidor_pec.csv")}
    for key in ("unidade_banco", "pec_config"):
        assert srv[key]["confidence"] == "M" and "comunitária" in srv[key]["source"], key
    assert srv["unidade_pec"]["confidence"] == "H" and "Manual" in srv["unidade_pec"]["source"]
    sized = [r for r in read_csv("releases.csv") if r["tamanho_bytes"]]
    assert sized and all("[M: evidência comunitária" in r["origem"] for r in sized)
    java = {r["chave"]: r for r in read_csv("ambiente.csv")}["java_instalador_minimo"]
    assert (java["valor"], java["confidence"]) == (8, "H") and "Java 8" in java["source"]
    doc = (ROOT / "docs" / "dominio.md").read_text("utf-8")
    for fact in ("`GET /api/public/info`", "`e-SUS-AB-PostgreSQL.service`", "`/etc/pec.config`",
                 "737 144 580 bytes", "recusa o arquivo", "`TREINAMENTO` (1 = treinamento"):
        at = doc.index(fact)
        assert "[M" in doc[max(0, at - 400):at + 500], fact
    for fact in ("Unificacao_de_bases", "PEC 5.1.21", "Java 8", "Treinamento/",
                 "Nota\n  Técnica 13/2025-SAPS", "Portaria SAPS 31/2024", "HTTPS_Automatizado/"):
        assert fact in doc, fact
    assert "o 3.1 chegou com o PEC 5.2" not in doc


def test_16_dossier_of_a_training_site_reads_pronto_treinamento(tmp_path):
    from datetime import datetime, timezone

    from esus_runbook.catalog import catalog_path, connect, record_run
    from esus_runbook.catalog.dossier import build_dossier
    from esus_runbook.demo.rollout_history import SiteSpec, write_run_folder
    from esus_runbook.results import STAGES

    def stages(cc):
        out = {s: [(f"{s.upper()}_BASE", f"Base de {s}", "ok")] for s in STAGES}
        out["contra_chave"] = [cc]
        return out

    when = datetime(2026, 9, 7, 9, 0, tzinfo=timezone.utc)
    run = write_run_folder(tmp_path, "20260907-090000-aaa1", when, [
        SiteSpec("ubs-treino", "UBS Treino", stages=stages(
            ("CC_TREINAMENTO", "Ativação da instalação (treinamento)", "ok"))),
        SiteSpec("ubs-prod", "UBS Prod", stages=stages(("CC_CHAVE", "Chave", "ok")))])
    record_run(run)
    conn = connect(catalog_path(tmp_path))
    try:
        assert build_dossier(conn, "ubs-treino")["verdict"].startswith("Pronto (treinamento)")
        assert build_dossier(conn, "ubs-prod")["verdict"] == "Pronto para produção"
    finally:
        conn.close()
