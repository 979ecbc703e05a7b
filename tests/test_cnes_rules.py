"""Every audit rule: a file that triggers it and a clean file that does not; summaries;
JSON/HTML outputs never hold a full CPF or CNS nor a professional's name."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from esus_runbook import ids
from esus_runbook.cnes import catalog, rules
from esus_runbook.cnes.audit import SCHEMA, audit
from esus_runbook.cnes.parser import parse
from esus_runbook.demo import cnes_xml as synth
from esus_runbook.schemas import load as load_schema
from esus_runbook.status import ExitCode, HtmlReport, Severity, Status

from .support.identifiers import cns_from_pis

CLEAN = synth.Spec(professionals=80, seed=7, cnes=("2386224",))


@pytest.fixture(scope="module")
def clean_zip(tmp_path_factory):
    return synth.write_file(CLEAN, tmp_path_factory.mktemp("clean") / "clean.zip")


def test_design_rule_codes_and_severities():
    warnings = {"CNES_DV", "INE_DV", "TEAM_TYPE_UNKNOWN", "LOTACAO_INACTIVE_TEAM",
                "CBO_UNKNOWN", "TEAM_COMPOSITION", "ENCODING_MISMATCH"}
    # the whole-file rules (issue 12) come first, then the original catalogue
    design = ("STRUCTURE_INVALID FILE_EMPTY ENCODING_MISMATCH VERSION_UNSUPPORTED MUNICIPALITY_MISMATCH IBGE_INVALID "
              "UNIT_MUNICIPALITY_MISMATCH CNPJ_INVALID CNES_FORMAT CNES_DV INE_FORMAT INE_DV "
              "TEAM_DUPLICATE TEAM_DEACTIVATION_DATE_INVALID TEAM_TYPE_UNKNOWN CPF_INVALID "
              "CNS_INVALID PROFESSIONAL_DUPLICATE_CPF PROFESSIONAL_DUPLICATE_CNS "
              "PROFESSIONAL_NO_LOTACAO LOTACAO_UNKNOWN_CNES LOTACAO_UNKNOWN_TEAM "
              "LOTACAO_INACTIVE_TEAM CBO_FORMAT CBO_UNKNOWN TEAM_COMPOSITION").split()
    assert list(rules.RULES) == design
    for code, r in rules.RULES.items():
        assert r.severity is (Severity.WARNING if code in warnings else Severity.ERROR), code
        assert r.remedy and r.title


def test_clean_file_has_no_findings(clean_zip):
    report = audit(clean_zip, "2927408")
    assert report.findings.empty, report.findings.to_dict("records")
    assert report.errors == 0 and report.warnings == 0
    c = report.counts
    assert c["professionals"] == 80 and c["lotacoes"] >= 80 and c["active_teams"] >= 2
    assert audit(clean_zip, "292740").findings.empty      # 6-digit form


@pytest.mark.parametrize("rule", synth.INJECTABLE)
def test_each_rule_triggers_on_its_file(tmp_path, rule):
    path = synth.write_file(synth.Spec(professionals=80, seed=7, cnes=("2386224",),
                                       inject=(rule,)), tmp_path / f"{rule}.xml")
    report = audit(path, "2927408")
    f = report.findings
    assert set(f["rule"]) == {rule}, f[["rule", "message"]].to_dict("records")
    row = f.iloc[0]
    assert row["severity"] == rules.RULES[rule].severity
    assert rules.RULES[rule].remedy in row["message"]
    assert pd.notna(row["line"]) and int(row["line"]) > 0
    if rule.startswith(("LOTACAO_", "CBO_", "CPF_", "CNS_", "PROFESSIONAL_")):
        assert re.fullmatch(r"\*\*\*\.\d{3}\.\d{3}-\*\*", row["cpf"])
    if rule in ("LOTACAO_UNKNOWN_TEAM", "LOTACAO_INACTIVE_TEAM", "TEAM_COMPOSITION",
                "TEAM_DUPLICATE", "INE_DV", "TEAM_DEACTIVATION_DATE_INVALID"):
        assert row["cnes"] == "2386224" and len(row["ine"]) == 10
    # the line points at the element that has the problem
    lines = path.read_bytes().decode("latin-1").splitlines()
    tag = lines[int(row["line"]) - 1]
    expected_tag = {"VERSION_UNSUPPORTED": "IDENTIFICACAO", "IBGE_INVALID": "DADOS_GERAIS",
                    "CNPJ_INVALID": "DADOS_GERAIS", "CNES_FORMAT": "DADOS_GERAIS",
                    "CNES_DV": "DADOS_GERAIS", "UNIT_MUNICIPALITY_MISMATCH": "DADOS_GERAIS",
                    "TEAM_DEACTIVATION_DATE_INVALID": "DADOS_EQUIPES",
                    "INE_FORMAT": "DADOS_EQUIPES",
                    "INE_DV": "DADOS_EQUIPES", "TEAM_DUPLICATE": "DADOS_EQUIPES",
                    "TEAM_TYPE_UNKNOWN": "DADOS_EQUIPES", "TEAM_COMPOSITION": "DADOS_EQUIPES",
                    "CPF_INVALID": "DADOS_PROFISSIONAIS", "CNS_INVALID": "DADOS_PROFISSIONAIS",
                    "PROFESSIONAL_DUPLICATE_CPF": "DADOS_PROFISSIONAIS",
                    "PROFESSIONAL_DUPLICATE_CNS": "DADOS_PROFISSIONAIS",
                    "PROFESSIONAL_NO_LOTACAO": "DADOS_PROFISSIONAIS"}.get(rule, "DADOS_LOTACOES")
    assert expected_tag in tag, (rule, tag)


def test_municipality_mismatch(clean_zip):
    f = audit(clean_zip, "3550308").findings
    assert f["rule"].tolist() == ["MUNICIPALITY_MISMATCH"]
    assert "2927408" in f.iloc[0]["message"] and "3550308" in f.iloc[0]["message"]
    assert audit(clean_zip).findings.empty                # no --ibge: nothing to compare


def test_header_ibge_and_version_edge_cases(tmp_path):
    xml = synth.write_file(synth.Spec(professionals=40), tmp_path / "a.xml").read_bytes()
    bad = xml.replace(b'CO_IBGE_MUN="2927408" VERSAO_XSD="3.1"',
                      b'CO_IBGE_MUN="2927407" VERSAO_XSD="31"')
    (tmp_path / "b.xml").write_bytes(bad)
    f = audit(tmp_path / "b.xml", "2927408").findings
    assert "IBGE_INVALID" in set(f["rule"]) and "VERSION_UNSUPPORTED" not in set(f["rule"])
    for code in sorted(ids.IBGE_EXCEPTIONS)[:2]:        # official exceptions are valid
        (tmp_path / "c.xml").write_bytes(xml.replace(b'CO_IBGE_MUN="2927408" VERSAO',
                                                     f'CO_IBGE_MUN="{code}" VERSAO'.encode()))
        f = audit(tmp_path / "c.xml", code[:6]).findings
        assert "IBGE_INVALID" not in set(f["rule"]) and "MUNICIPALITY_MISMATCH" not in set(f["rule"])


def test_legacy_team_codes_and_alternatives():
    s = pd.Series(["70", "1", "01", "06", "99", ""])
    norm = catalog.normalize_team_type(s)
    assert norm.tolist() == ["70", "01", "01", "06", "99", ""]
    known = norm.isin(set(catalog.team_types()["codigo"]))
    assert known.tolist() == [True, True, True, True, False, False]
    fam = catalog.family_of(pd.Series(["225250", "223565", "322430", "515105", "2241E1",
                                       "999999", "223101"]))
    assert fam.tolist() == ["medico", "enfermeiro", "asb_tsb", "acs", "multiprofissional",
                            "outros", "medico"]


def test_summaries(clean_zip):
    report = audit(clean_zip, "2927408")
    s = report.summaries
    est = s["estabelecimentos"]
    row = est[est["cnes"] == "2386224"].iloc[0]
    assert row["equipes_ativas"] >= 2 and "eSF" in row["equipes_por_tipo"]
    assert est["lotacoes"].sum() == report.counts["lotacoes"]
    teams = s["equipes"]
    esf = teams[teams["sigla_tipo"] == "eSF"]
    assert (esf["medico"] >= 1).all() and (esf["acs"] >= 1).all()
    assert esf["atende_minimo"].all()
    fam = s["familias_cbo"]
    assert fam["lotacoes"].sum() == report.counts["lotacoes"]
    assert set(fam["familia"]) >= {"medico", "enfermeiro", "acs"}
    multi = s["varias_lotacoes"]
    assert (multi["lotacoes"] > 1).all() and len(multi) > 0
    assert multi["cpf"].str.fullmatch(r"\*\*\*\.\d{3}\.\d{3}-\*\*").all()
    no_team = s["lotacoes_sem_equipe"]
    cf = report.cnes
    assert no_team["lotacoes"].sum() == (cf.lotacoes["ine"] == "").sum()
    types = s["tipos_de_equipe"]
    assert set(types["tipo"]) >= {"eSF", "eSB"}


def test_inactive_team_summary(tmp_path):
    path = synth.write_file(synth.Spec(professionals=80, seed=7,
                                       inject=("LOTACAO_INACTIVE_TEAM",)), tmp_path / "i.xml")
    s = audit(path).summaries
    assert len(s["equipes_inativas"]) == 1
    assert s["equipes_inativas"].iloc[0]["profissionais"] == 1


def _all_identifiers(path) -> tuple[set[str], set[str]]:
    cf = parse(path, names=True)
    return (set(cf.professionals["cpf"]) | set(cf.professionals["cns"]),
            set(cf.professionals["nome"]))


def test_outputs_never_hold_full_cpf_cns_or_names(tmp_path):
    path = synth.write_file(synth.Spec(professionals=120, seed=3, inject=(
        "CPF_INVALID", "CNS_INVALID", "PROFESSIONAL_DUPLICATE_CPF", "PROFESSIONAL_DUPLICATE_CNS",
        "LOTACAO_UNKNOWN_TEAM", "CBO_UNKNOWN", "PROFESSIONAL_NO_LOTACAO")), tmp_path / "p.zip")
    report = audit(path, "2927408")
    text = json.dumps(report.to_json(), ensure_ascii=False) + report.to_html() + \
        json.dumps(report.compact(), ensure_ascii=False)
    secrets, names = _all_identifiers(path)
    assert not [v for v in secrets if v and v in text]
    assert not [n for n in names if n and n in text]
    data = report.to_json()
    assert data["schema"] == SCHEMA
    assert set(data["counts"]) == {"establishments", "teams", "active_teams", "professionals",
                                   "lotacoes"}
    for f in data["findings"]:
        assert set(f) == {"rule", "severity", "where", "message"}
        assert f["severity"] in ("error", "warning")
        assert "line" in f["where"]


def test_severity_is_declared_once_with_its_json_value_label_and_status():
    """One Severity: the JSON keeps its values (the published schemas say so), the pt-BR
    word and the status (and so the CSS class) come from it, worst first."""
    assert [s.value for s in Severity] == ["error", "warning", "info"]
    assert [s.label for s in Severity] == ["erro", "alerta", "informação"]
    assert [s.status for s in Severity] == [Status.FALHA, Status.ALERTA, Status.OK]
    assert [s.rank for s in Severity] == [0, 1, 2]
    enums = {name: [] for name in ("xml-audit", "xml-diff", "xml-reconcile")}

    def walk(node, name):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "severity" and isinstance(value, dict) and "enum" in value:
                    enums[name].append(value["enum"])
                walk(value, name)
        elif isinstance(node, list):
            for value in node:
                walk(value, name)

    for name in enums:
        walk(load_schema(name), name)
        assert enums[name], name
        for values in enums[name]:
            assert values == [s.value for s in Severity][:len(values)], (name, values)
    assert enums["xml-diff"] == [["error", "warning", "info"]]


def test_report_protocol_json_values_and_html_classes(tmp_path):
    """The audit is an HtmlReport; its JSON carries plain severity values; its HTML takes the
    label and the CSS class from Severity (template filters), never a literal mapping."""
    path = synth.write_file(synth.Spec(professionals=60, seed=4, inject=(
        "CPF_INVALID", "CBO_UNKNOWN")), tmp_path / "a.xml")
    report = audit(path, "2927408")
    assert isinstance(report, HtmlReport) and report.notices() == ""
    assert report.exit_code is ExitCode.FINDINGS
    data = json.loads(report.json_text())
    assert {f["severity"] for f in data["findings"]} == {"error", "warning"}
    assert {r["severity"] for r in data["rules"].values()} == {"error", "warning"}
    html = report.to_html()
    assert '<tr class="cell-falha" data-rule="CPF_INVALID">' in html
    assert '<tr class="cell-alerta" data-rule="CBO_UNKNOWN">' in html
    assert "<td>erro</td>" in html and "<td>alerta</td>" in html
    assert "  CPF_INVALID" in report.text() and " erro " in report.text()


def test_rules_are_vectorized_on_a_large_file(tmp_path):
    """Guard against per-row Python: 20 000 professionals audited well under the time a
    per-row loop would need on this machine (rules + summaries only)."""
    path = synth.write_file(synth.Spec(professionals=20000, seed=1,
                                       inject=("CPF_INVALID", "TEAM_COMPOSITION")),
                            tmp_path / "big.xml")
    report = audit(path)
    assert report.counts["professionals"] == 20000
    assert set(report.findings["rule"]) == {"CPF_INVALID", "TEAM_COMPOSITION"}


# Occupations of a real 3.1 export (a municipality of 2 173 professionals) that the old
# 96-code catalogue called unknown, the SUS-specific codes CNES uses, and the team types of
# home care and others (22/23 with ID_TP_EQUIPE "EMAD"/"EMAP", as the real file has them).
REAL_CBOS = ("782320", "352210", "515135", "422210", "325115", "223305", "2231F8", "2231A2",
             "2241E1", "5151F1", "322255")
OTHER_TEAMS = (("22", "EMAD", "EMAD T1"), ("23", "EMAP", "EMAP"), ("08", " ", "EMSI"),
               ("46", " ", "EMAD T2"), ("47", " ", "EAD"))


def test_real_shaped_31_export_has_no_unknown_cbo_nor_team_type(tmp_path):
    text = synth.write_file(CLEAN, tmp_path / "base.xml").read_bytes().decode("latin-1")
    ines = [ids.with_dv(f"00015036{i}", "ine") for i in range(len(OTHER_TEAMS))]
    teams = "".join(
        f'<DADOS_EQUIPES ID_TP_EQUIPE="{idt}"  TP_EQUIPE="{tp}" SG_EQUIPE="{sg}" '
        f'DS_EQUIPE="{sg}" CO_INE="{ine}" CO_AREA="0001" DS_AREA="0001" NM_REFERENCIA="{sg}" '
        'DT_DESATIVACAO="" >\n<VINCULACOES_EQUIPES>\n'
        f'<DADOS_VINCULACAO_EQUIPE INE_EQUIPE_VINCULADA="{ines[0]}"/>\n'
        '</VINCULACOES_EQUIPES>\n</DADOS_EQUIPES>\n'
        for (tp, idt, sg), ine in zip(OTHER_TEAMS, ines, strict=True))
    unit = text.index('CNES="2386224"')
    at = text.index("<EQUIPES>", unit) + len("<EQUIPES>")
    text = text[:at] + "\n" + teams + text[at:]
    lots = "".join(f'<DADOS_LOTACOES CNES="2386224" CO_INE="{ines[0] if i < 2 else ""}" '
                   f'CO_CBO="{cbo}" MICROAREA=" "/>\n' for i, cbo in enumerate(REAL_CBOS))
    prof = (f'<DADOS_PROFISSIONAIS CO_CNS="{cns_from_pis("19876543210")}" NM_PROF="X" '
            f'CPF_PROF="{ids.with_dv("987650432", "cpf")}" CONSELHO_ID="" SG_UF_EMIS="" '
            'NU_REGISTRO="" DT_NASC="01/01/1900" SEXO="N" E_MAIL="" TELEFONE="">\n'
            f'<ENDERECO>\n<DADOS_ENDERECO CO_CEP="" SG_UF="BA" CO_IBGE_MUN="2927408"/>\n'
            f'</ENDERECO>\n<LOTACOES>\n{lots}</LOTACOES>\n</DADOS_PROFISSIONAIS>\n')
    at = text.index("</PROFISSIONAIS>")
    text = text[:at] + prof + text[at:]
    path = tmp_path / "XmlParaESUS31_292740.xml"
    path.write_bytes(text.encode("latin-1"))
    report = audit(path, "2927408")
    assert report.findings.empty, report.findings[["rule", "message"]].to_dict("records")
    cf = parse(path)
    assert set(cf.lotacoes["cbo"]) >= set(REAL_CBOS) and cf.structure == []
    emad = cf.teams[cf.teams["ine"] == ines[0]].iloc[0]
    assert emad["tp_equipe"] == "22"
    # 5151F1 (old SUS code of the ACE) counts as ACE, 322255 as ACS
    assert catalog.family_of(pd.Series(["5151F1", "322255"])).tolist() == ["ace", "acs"]


def test_cbo_unknown_only_outside_catalogue_and_occupation_shape():
    codes = pd.Series(["225142", "782320", "2231F8", "5151F1", "2241E1", "999999",
                       "2251ZZ", "22514A", "2241EE"])
    assert catalog.cbo_known(codes).tolist() == [True] * 6 + [False] * 3


def test_team_composition_is_a_financing_matter_not_an_import_blocker():
    remedy = rules.RULES["TEAM_COMPOSITION"].remedy
    assert "antes de importar" not in remedy
    assert "O PEC importa a equipe" in remedy and "repasse suspenso" in remedy


def test_alphanumeric_cnpj_is_accepted_by_the_audit(tmp_path):
    """IN RFB 2.229/2024: a unit registered with an alphanumeric CNPJ (the Receita's example)
    audits clean; one wrong check digit is still CNPJ_INVALID."""
    text = synth.write_file(CLEAN, tmp_path / "base.xml").read_bytes().decode("latin-1")
    cnpj = re.search(r'CNPJ="(\d{14})"', text).group(1)
    good = text.replace(f'CNPJ="{cnpj}"', 'CNPJ="12ABC34501DE35"', 1)
    (tmp_path / "alnum.xml").write_bytes(good.encode("latin-1"))
    assert audit(tmp_path / "alnum.xml", "2927408").findings.empty
    bad = text.replace(f'CNPJ="{cnpj}"', 'CNPJ="12ABC34501DE36"', 1)
    (tmp_path / "bad.xml").write_bytes(bad.encode("latin-1"))
    f = audit(tmp_path / "bad.xml", "2927408").findings
    assert f["rule"].tolist() == ["CNPJ_INVALID"] and "'12ABC34501DE36'" in f.iloc[0]["message"]


def test_structure_findings_are_errors_listed_up_to_a_limit(tmp_path):
    text = synth.write_file(CLEAN, tmp_path / "base.xml").read_bytes().decode("latin-1")
    n = text.count("<LOTACOES>")
    (tmp_path / "x.xml").write_bytes(text.replace("<LOTACOES>", "<LOTACOES><X/>")
                                     .encode("latin-1"))
    report = audit(tmp_path / "x.xml", "2927408")
    f = report.findings
    assert set(f["rule"]) == {"STRUCTURE_INVALID"} and report.errors == rules.STRUCTURE_SHOWN
    assert f["line"].is_monotonic_increasing
    assert f"e mais {n - rules.STRUCTURE_SHOWN} violação(ões)" in f.iloc[-1]["message"]
    assert report.exit_code == 1 and "pode ser importado" not in report.text()
