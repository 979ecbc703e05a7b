"""`esus-runbook novo` and `esquema`: a real site starts from the field table."""

from __future__ import annotations

import json
from pathlib import Path

from esus_runbook import schemas
from esus_runbook.sites.fields import FIELDS
from esus_runbook.sites.loading import load_sites, read_mapping_file

from .support.project import run_cli


def test_novo_writes_a_commented_site_file_that_validar_flags(tmp_path: Path, cli_main):
    proc = cli_main("novo", "ubs-nova", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    site = tmp_path / "sites" / "ubs-nova.yaml"
    text = site.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=site.schema.json"
    assert json.loads((tmp_path / "sites" / "site.schema.json").read_text()) == \
        schemas.site_schema()
    for section, fields in FIELDS.items():  # every section and key, with its pt-BR help
        if section:
            assert f"\n{section}:\n" in text
        for f in fields:
            assert f.key in text and f.label in text
    assert "site_id: ubs-nova" in text
    proc = cli_main("validar", site, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert [line.split(":")[1] for line in lines] == ["nome", "municipio_ibge"]
    assert all("campo obrigatório ausente" in line for line in lines)
    # filled in, it is a valid site (and the schema agrees)
    site.write_text(text.replace("nome:   # PREENCHA", "nome: UBS Nova  # PREENCHA")
                    .replace("municipio_ibge:   #", "municipio_ibge: 2927408  #"),
                    encoding="utf-8")
    assert [s.site_id for s in load_sites(site)] == ["ubs-nova"]
    assert schemas.errors("site", read_mapping_file(site)) == []


def test_novo_never_overwrites_and_refuses_a_bad_id(tmp_path: Path):
    assert run_cli("novo", "ubs-a", cwd=tmp_path).returncode == 0
    site = tmp_path / "sites" / "ubs-a.yaml"
    site.write_text("# meu trabalho\n", encoding="utf-8")
    proc = run_cli("novo", "ubs-a", cwd=tmp_path)
    assert proc.returncode == 2 and "já existe" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert site.read_text(encoding="utf-8") == "# meu trabalho\n"
    proc = run_cli("novo", "UBS Centro", cwd=tmp_path)
    assert proc.returncode == 2 and "identificador inválido" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "sites").iterdir()) == ["site.schema.json",
                                                                     "ubs-a.yaml"]


def test_novo_adds_to_an_inventory_keeping_its_comments(tmp_path: Path, cli_main):
    inv = tmp_path / "inventario.yaml"
    inv.write_text("# inventário da regional\nsites:\n  - sites/ubs-a.yaml   # a primeira\n"
                   "# versões da equipe\nregistro_instaladores: reg.csv\n", encoding="utf-8")
    proc = cli_main("novo", "ubs-b", "--inventario", inv, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = inv.read_text(encoding="utf-8")
    assert "# inventário da regional" in text and "# a primeira" in text
    assert "# versões da equipe" in text
    assert read_mapping_file(inv)["sites"] == ["sites/ubs-a.yaml", "sites/ubs-b.yaml"]
    fresh = tmp_path / "novo-inv.yaml"
    assert cli_main("novo", "ubs-c", "--inventario", fresh, cwd=tmp_path).returncode == 0
    assert read_mapping_file(fresh)["sites"] == ["sites/ubs-c.yaml"]


def test_novo_refuses_a_broken_inventory_before_writing_anything(tmp_path: Path, cli_main):
    inv = tmp_path / "inventario.yaml"
    inv.write_text("sites: [a\n", encoding="utf-8")
    proc = cli_main("novo", "ubs-x", "--inventario", inv, cwd=tmp_path)
    assert proc.returncode == 2 and str(inv) in proc.stderr
    assert not (tmp_path / "sites").exists()


def test_esquema_writes_the_schema_where_asked(tmp_path: Path, cli_main):
    out = tmp_path / "cfg" / "site.schema.json"
    (tmp_path / "cfg").mkdir()
    proc = cli_main("esquema", "--saida", out)
    assert proc.returncode == 0 and "yaml-language-server" in proc.stdout
    assert json.loads(out.read_text(encoding="utf-8")) == schemas.site_schema()
