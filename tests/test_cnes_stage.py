"""Stage ``xml``, CLI ``xml audit`` and the demo files (regeneration is byte-identical)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from esus_runbook import stages
from esus_runbook.cnes.parser import parse
from esus_runbook.demo import cnes_xml as synth
from esus_runbook.results import StageResult
from esus_runbook.sites.loading import load_site
from esus_runbook.status import Status

from .support.project import EXAMPLES, run_cli, run_folders

XML_DIR = EXAMPLES / "xml"


def test_demo_files_regenerate_byte_identical(tmp_path):
    written = synth.write_demo(tmp_path)
    assert {p.name for p in written} == {p.name for p in XML_DIR.glob("*.zip")}
    for p in written:
        assert p.read_bytes() == (XML_DIR / p.name).read_bytes(), p.name
    proc = run_cli_module(tmp_path / "again")
    assert proc.returncode == 0, proc.stderr
    for p in written:
        assert (tmp_path / "again" / p.name).read_bytes() == p.read_bytes()


def run_cli_module(out: Path):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "esus_runbook.demo.cnes_xml", "examples",
                           "--out", str(out)], capture_output=True, text=True, timeout=120)


def test_demo_clean_file_holds_the_sites_units():
    cf = parse(XML_DIR / "XmlParaESUS31_292740.zip")
    units = set(cf.establishments["cnes"])
    for site in ("ubs-centro", "ubs-vila-nova"):
        cnes = load_site(EXAMPLES / "sites" / f"{site}.yaml").data["cnes"]
        assert cnes in units, site


def _site(tmp_path: Path, xml: str | None, cnes: str | None = "2386224",
          ibge: str = "2927408") -> Path:
    text = (EXAMPLES / "sites" / "ubs-centro.yaml").read_text(encoding="utf-8")
    text = text.replace('cnes: "2386224"', f'cnes: "{cnes}"' if cnes else "cnes: null")
    text = text.replace('municipio_ibge: "2927408"', f'municipio_ibge: "{ibge}"')
    text = text.replace("arquivo: ../xml/XmlParaESUS31_292740.zip",
                        f"arquivo: {xml}" if xml else "arquivo: null")
    text = text.replace("probe: ../probes/ubs-centro.json", "probe: null")
    # these tests are about the audit: no comparison with xml.anterior (test_cnes_diff.py)
    text = "".join(line for line in text.splitlines(keepends=True)
                   if not line.startswith(("  anterior:", "  alteracoes_confirmadas:")))
    p = tmp_path / "site.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _evaluate(site_file: Path) -> StageResult:
    return stages.evaluate("xml", load_site(site_file))


def test_stage_ok_for_clean_demo():
    r = _evaluate(EXAMPLES / "sites" / "ubs-centro.yaml")
    assert r.status is Status.OK
    ids_ = {c.id for c in r.checks}
    assert {"XML_ARQUIVO", "XML_MUNICIPIO", "XML_VERSAO", "XML_CNES_SITE", "XML_REGRAS"} <= ids_
    m = r.metrics["xml"]
    assert m["counts"]["professionals"] == 320 and m["regras"] == {}
    titles = [t for t, _ in stages.chart_svgs(r)]
    assert titles[:2] == ["Composição das equipes", "Profissionais por categoria"]


def test_stage_falha_for_problem_demo():
    r = _evaluate(EXAMPLES / "sites" / "ubs-vila-nova.yaml")
    assert r.status is Status.FALHA
    bad = {c.id: c.status for c in r.checks if c.status is not Status.OK}
    assert bad["XML_CPF_INVALID"] is Status.FALHA
    assert bad["XML_TEAM_COMPOSITION"] is Status.ALERTA
    assert all(c.remedy for c in r.checks if c.status is not Status.OK)


def test_stage_pending_missing_refused_and_mismatch(tmp_path):
    r = _evaluate(_site(tmp_path, None))
    assert r.status is Status.PENDENTE and r.checks[0].id == "XML_ARQUIVO"
    r = _evaluate(_site(tmp_path, "nao-existe.zip"))
    assert r.status is Status.FALHA and r.checks[0].id == "XML_ARQUIVO"
    assert "nao-existe.zip" in r.checks[0].remedy
    hostile = tmp_path / "x.xml"
    hostile.write_bytes(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>')
    r = _evaluate(_site(tmp_path, str(hostile)))
    assert r.status is Status.FALHA and "DOCTYPE" in r.checks[0].observed
    warn = synth.write_file(synth.Spec(professionals=60, cnes=("2386224",),
                                       inject=("CBO_UNKNOWN",)), tmp_path / "w.zip")
    r = _evaluate(_site(tmp_path, str(warn)))
    assert r.status is Status.ALERTA
    other = synth.write_file(synth.Spec(professionals=60, ibge="3550308", uf="SP",
                                        cnes=("2386224",)), tmp_path / "sp.zip")
    r = _evaluate(_site(tmp_path, str(other)))
    assert r.status is Status.FALHA
    assert next(c for c in r.checks if c.id == "XML_MUNICIPIO").status is Status.FALHA
    r = _evaluate(_site(tmp_path, str(XML_DIR / "XmlParaESUS31_292740.zip"), cnes="1234567"))
    assert next(c for c in r.checks if c.id == "XML_CNES_SITE").status is Status.FALHA
    r = _evaluate(_site(tmp_path, str(XML_DIR / "XmlParaESUS31_292740.zip"), cnes=None))
    assert r.status is Status.OK and "XML_CNES_SITE" not in {c.id for c in r.checks}


def test_stage_folder_as_xml_file_says_it_is_a_folder(tmp_path):
    """xml.arquivo naming a folder: not "não encontrado" but what to give instead."""
    folder = tmp_path / "cnes"
    folder.mkdir()
    shutil.copy(XML_DIR / "XmlParaESUS31_292740.zip", folder)
    r = _evaluate(_site(tmp_path, str(folder)))
    check = r.checks[0]
    assert r.status is Status.FALHA and check.id == "XML_ARQUIVO"
    assert "é uma pasta" in check.observed and "não encontrado" not in check.observed
    assert "xml.arquivo" in check.remedy and "XmlParaESUS31_292740.zip" in check.remedy


def test_stage_result_is_bounded_for_many_findings(tmp_path):
    """Thousands of findings: the stage keeps counts and a few examples, not the list."""
    path = synth.write_file(synth.Spec(professionals=6000, seed=2), tmp_path / "m.xml")
    data = path.read_bytes().replace(b'CO_CBO="515105"', b'CO_CBO="5151ZZ"')
    path.write_bytes(data)
    r = _evaluate(_site(tmp_path, str(path), cnes=None))
    m = r.metrics["xml"]
    assert m["regras"]["CBO_UNKNOWN"]["count"] > 1000
    assert len(m["exemplos"]) <= 200
    assert len(json.dumps(r.to_dict())) < 200_000


def test_cli_audit_exit_codes_and_outputs(tmp_path):
    clean = XML_DIR / "XmlParaESUS31_292740.zip"
    out_json, out_html = tmp_path / "a.json", tmp_path / "a.html"
    proc = run_cli("xml", "auditar", clean, "--ibge", "292740", "--json", out_json,
                   "--html", out_html)
    assert proc.returncode == 0, proc.stderr
    assert "0 erro(s)" in proc.stdout
    data = json.loads(out_json.read_text())
    assert data["schema"] == "esus-runbook/xml-audit/1" and data["findings"] == []
    assert "<html" in out_html.read_text()
    problems = XML_DIR / "XmlParaESUS31_292740-com-problemas.zip"
    proc = run_cli("xml", "auditar", problems, "--json", out_json)
    assert proc.returncode == 1
    data = json.loads(out_json.read_text())
    assert {f["rule"] for f in data["findings"]} >= {"CPF_INVALID", "TEAM_COMPOSITION"}
    proc = run_cli("xml", "auditar", clean, "--ibge", "3550308")
    assert proc.returncode == 1 and "MUNICIPALITY_MISMATCH" in proc.stdout
    for bad in ("29274", "2927407", "abc"):
        proc = run_cli("xml", "auditar", clean, "--ibge", bad)
        assert proc.returncode == 2 and "--ibge" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("xml", "auditar", tmp_path / "nao-existe.zip")
    assert proc.returncode == 2 and "não encontrado" in proc.stderr


@pytest.mark.notebooks
def test_batch_goes_on_when_a_sites_xml_is_missing(tmp_path):
    """Foundation done-when: a site whose XML path does not exist gets that stage falha
    with a clear check; the batch goes on with the other sites."""
    sites = tmp_path / "sites"
    sites.mkdir()
    for name in ("ubs-centro", "sms-centralizado"):
        shutil.copy(EXAMPLES / "sites" / f"{name}.yaml", sites / f"{name}.yaml")
    text = (sites / "ubs-centro.yaml").read_text(encoding="utf-8")
    text = text.replace("arquivo: ../xml/XmlParaESUS31_292740.zip", "arquivo: ../xml/sumiu.zip")
    text = text.replace("probe: ../probes/ubs-centro.json", "probe: null")
    (sites / "ubs-centro.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("lote", sites, "--execucoes", out, "--paralelos", "2", "--sem-progresso")
    assert proc.returncode in (0, 1, 3), proc.stderr
    (run,) = run_folders(out)
    xml = json.loads((run / "ubs-centro" / "xml.json").read_text())
    assert xml["status"] == "falha"
    check = xml["checks"][0]
    assert check["id"] == "XML_ARQUIVO" and "sumiu.zip" in check["remedy"]
    other = json.loads((run / "sms-centralizado" / "xml.json").read_text())
    assert other["status"] == "pendente"
    assert (run / "sms-centralizado" / "relatorio.html").exists()
