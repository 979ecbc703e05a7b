"""The published JSON Schemas describe what the tool really reads and writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from esus_runbook import schemas
from esus_runbook.results import STAGES

from .support.project import EXAMPLES, ROOT, run_cli

PROBES = sorted(p for p in [*EXAMPLES.glob("probes/*.json"),
                             *(ROOT / "tests/data/probes").glob("*.json")]
                if p.name != "corrompida.json")  # deliberately not JSON


def _yaml(path: Path):
    """The document as an editor's YAML language server sees it: dates are strings."""
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return json.loads(json.dumps(data, default=str))


def test_every_schema_is_a_valid_json_schema():
    import jsonschema

    for name in schemas.NAMES:
        jsonschema.Draft202012Validator.check_schema(schemas.load(name))


def test_site_schema_is_the_validators_field_table():
    shipped = schemas.path("site").read_text(encoding="utf-8")
    assert shipped == schemas.render_site_schema(), (
        "regenerate: python -c 'from esus_runbook.schemas import render_site_schema; "
        "print(render_site_schema(), end=\"\")' > esus_runbook/schemas/site.schema.json")


@pytest.mark.parametrize("site", sorted(EXAMPLES.glob("sites/*.yaml")), ids=lambda p: p.name)
def test_example_sites_follow_the_site_schema(site: Path):
    assert schemas.errors("site", _yaml(site)) == []


def test_site_schema_refuses_what_the_validator_refuses():
    raw = _yaml(EXAMPLES / "sites/ubs-centro.yaml")
    assert schemas.errors("site", {**raw, "chave_desconhecida": 1})
    assert schemas.errors("site", {**raw, "cenario": {"usuarios_simultaneos": 0}})
    assert schemas.errors("site", {k: v for k, v in raw.items() if k != "nome"})


def test_example_inventory_follows_its_schema():
    assert schemas.errors("inventario", _yaml(EXAMPLES / "inventario.yaml")) == []
    assert schemas.errors("inventario", {"sites": []})


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.name)
def test_probe_files_follow_the_probe_schema(probe: Path):
    assert schemas.errors("probe", json.loads(probe.read_text(encoding="utf-8"))) == []


def test_xml_audit_and_diff_outputs_follow_their_schemas(tmp_path: Path, cli_main):
    """What the commands write (in this process: the files are the subject here)."""
    new, old = EXAMPLES / "xml/XmlParaESUS31_292740.zip", \
        EXAMPLES / "xml/XmlParaESUS31_292740-anterior.zip"
    bad = EXAMPLES / "xml/XmlParaESUS31_292740-com-problemas.zip"
    for xml in (new, bad):
        out = tmp_path / f"{xml.stem}.json"
        proc = cli_main("xml", "auditar", xml, "--json", out)
        assert proc.returncode in (0, 1), proc.stderr
        data = json.loads(out.read_text(encoding="utf-8"))
        assert schemas.errors("xml-audit", data) == []
    assert data["findings"]  # the file with problems exercises the findings' schema
    out = tmp_path / "diff.json"
    proc = cli_main("xml", "comparar", old, new, "--json", out)
    assert proc.returncode in (0, 1), proc.stderr
    diff = json.loads(out.read_text(encoding="utf-8"))
    assert diff["changes"] and schemas.errors("xml-diff", diff) == []


def test_stage_result_schema_catches_a_broken_result():
    result = {"schema": "esus-runbook/stage-result/1", "site_id": "ubs-x", "stage": "cenario",
              "status": "falha", "started_at": "2026-11-01T10:00:00-03:00",
              "finished_at": "2026-11-01T10:00:01-03:00", "metrics": {},
              "checks": [{"id": "CEN_X", "title": "t", "status": "falha", "expected": 1,
                          "observed": 2, "remedy": None}]}
    assert any("remedy" in e or "None" in e for e in schemas.errors("stage-result", result))
    result["checks"][0]["remedy"] = "corrija"
    assert schemas.errors("stage-result", result) == []


@pytest.mark.notebooks
def test_demo_run_outputs_follow_their_schemas(demo_run: Path):
    assert schemas.errors("run", json.loads((demo_run / "run.json").read_text())) == []
    sites = [p for p in demo_run.iterdir() if p.is_dir() and (p / "site.json").exists()]
    assert sites
    for site_dir in sites:
        for stage in STAGES:
            data = json.loads((site_dir / f"{stage}.json").read_text(encoding="utf-8"))
            assert schemas.errors("stage-result", data) == [], (site_dir.name, stage)


def test_check_command_validates_without_running(tmp_path: Path, cli_main):
    ok = cli_main("validar", EXAMPLES / "inventario.yaml")  # the refusal below: a real process
    assert ok.returncode == 0 and "3 site(s) válido(s)" in ok.stdout
    bad = tmp_path / "site.yaml"
    bad.write_text("site_id: Ubs X\nnome: a\nmunicipio_ibge: '2927408'\n", encoding="utf-8")
    proc = run_cli("validar", bad)
    assert proc.returncode == 2
    assert f"{bad}:site_id: identificador inválido" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("execucoes*")) and not (ROOT / "execucoes" / "x").exists()
