import json

import pytest

from esus_runbook.errors import InputError
from esus_runbook.sites.loading import load_site, load_sites

from .support.docs_ref import reference_pages
from .support.project import EXAMPLES

GOOD = """
site_id: ubs-teste
nome: UBS Teste
municipio_ibge: "2927408"
cnes: "2386224"
cenario:
  usuarios_simultaneos: 10
xml:
  arquivo: xml/arquivo.zip
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def test_demo_inventory_loads():
    sites = load_sites(EXAMPLES / "inventario.yaml")
    assert [s.site_id for s in sites] == ["ubs-centro", "ubs-vila-nova", "sms-centralizado"]


def test_defaults_and_relative_paths(tmp_path):
    site = load_site(write(tmp_path, "s/site.yaml", GOOD))
    assert site.cenario["tipo_instalacao"] == "prontuario"
    assert site.cenario["ubs_atendidas"] == 1
    assert site.xml["arquivo"] == str((tmp_path / "s" / "xml" / "arquivo.zip").resolve())
    assert site.instalacao["modo"] == "producao"


def test_all_problems_at_once(tmp_path):
    text = GOOD.replace('municipio_ibge: "2927408"', 'municipio_ibge: "2927409"') \
        .replace("cenario:", "cenario:\n  usuarios_simultaneso: 3\n  tipo_instalacao: prontuairo")
    with pytest.raises(InputError) as exc:
        load_site(write(tmp_path, "site.yaml", text))
    lines = str(exc.value).splitlines()
    assert len(lines) == 3, lines
    assert any("municipio_ibge" in ln and "dígito verificador" in ln for ln in lines)
    assert any("usuarios_simultaneso" in ln and "'usuarios_simultaneos'" in ln for ln in lines)
    assert any("tipo_instalacao" in ln and "'prontuario'" in ln for ln in lines)
    assert all(ln.startswith(str(tmp_path / "site.yaml") + ":") for ln in lines)
    assert exc.value.exit_code == 2


def test_ibge_exceptions_accepted(tmp_path):
    site = load_site(write(tmp_path, "site.yaml", GOOD.replace("2927408", "4305871")))
    assert site.data["municipio_ibge"] == "4305871"


def test_duplicate_site_id_in_folder(tmp_path):
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD)
    with pytest.raises(InputError) as exc:
        load_sites(tmp_path)
    assert "repetido" in str(exc.value)


def test_inventory_inline_and_defaults(tmp_path):
    inv = write(tmp_path, "inv.yaml", """
padroes:
  municipio_ibge: "2927408"
  cenario: {usuarios_simultaneos: 20}
sites:
  - {site_id: a, nome: A}
  - {site_id: b, nome: B, cenario: {usuarios_simultaneos: 50}}
""")
    a, b = load_sites(inv)
    assert a.cenario["usuarios_simultaneos"] == 20
    assert b.cenario["usuarios_simultaneos"] == 50
    assert load_site(inv, "b").nome == "B"


def test_types_enums_and_secrets(tmp_path):
    text = GOOD + """instalacao:
  modo: producao
  pec_url: 10.0.0.5:8080
  db_url: postgresql://u:S3nh4Sup3r@h/esus
  senha: x
contra_chave:
  contra_chave_env: "minha contra chave"
"""
    text = text.replace("usuarios_simultaneos: 10", "usuarios_simultaneos: muitos")
    with pytest.raises(InputError) as exc:
        load_site(write(tmp_path, "site.yaml", text))
    msg = str(exc.value)
    assert "S3nh4Sup3r" not in msg
    assert "pec_url" in msg and "db_url" in msg and "usuarios_simultaneos" in msg
    assert "instalacao.senha" in msg and "*_env" in msg
    assert "contra_chave_env" in msg


def test_yaml_syntax_and_duplicate_keys(tmp_path):
    with pytest.raises(InputError, match="linha"):
        load_site(write(tmp_path, "a.yaml", "site_id: [x\n"))
    with pytest.raises(InputError, match="chave repetida"):
        load_site(write(tmp_path, "b.yaml", GOOD + "nome: outro\n"))


def test_json_snapshot_round_trip(tmp_path):
    site = load_site(write(tmp_path, "site.yaml", GOOD))
    snap = tmp_path / "run" / "site.json"
    snap.parent.mkdir()
    snap.write_text(json.dumps(site.to_json()))
    again = load_site(snap)
    assert again.data == site.data
    assert again.source == site.source


def test_cli_rejects_bad_inventory(tmp_path, cli):
    """Done-when of the foundation: typo in a key, invalid IBGE, duplicated site_id."""
    write(tmp_path, "inv/a.yaml", GOOD.replace("nome:", "nmoe:").replace("2927408", "2927400"))
    write(tmp_path, "inv/b.yaml", GOOD.replace("nome: UBS Teste", "nome: UBS Teste\n"))
    proc = cli("lote", tmp_path / "inv", "--execucoes", tmp_path / "out")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    assert any("nmoe" in ln and "você quis dizer 'nome'" in ln for ln in lines)
    assert any("municipio_ibge" in ln for ln in lines)
    assert any("repetido" in ln for ln in lines)
    assert len(lines) == 3, lines
    assert not (tmp_path / "out").exists()


def test_docs_reference_documents_every_site_key():
    from esus_runbook.sites.loading import FIELDS

    reference = reference_pages()["referencia/arquivo-do-site.md"]
    for section, fields in FIELDS.items():
        for f in fields:
            key = f"{section}.{f.key}" if section else f.key
            assert f"`{key}`" in reference, key
