"""The site form without a browser: the document model (form/model.py) and the widgets
(form/widgets.py) over it."""

from __future__ import annotations

import os
import shutil

import pytest

from esus_runbook import form as form_mod
from esus_runbook.errors import InputError
from esus_runbook.form import SiteDocument, SiteForm
from esus_runbook.sites import loading as sites
from esus_runbook.sites.fields import FIELDS, Field
from esus_runbook.sites.loading import load_site, load_sites

from .support.project import EXAMPLES, run_cli
from .support.site_texts import COMMENTED, comment_lines, write


def all_names() -> set[str]:
    return {form_mod.dotted(s, f.key) for s, f in form_mod.fields()}


def test_every_schema_field_has_a_widget_with_label_help_default():
    f = SiteForm(EXAMPLES / "sites" / "ubs-centro.yaml")
    assert set(f.fields) == all_names()
    for section, field in form_mod.fields():
        fw = f.fields[form_mod.dotted(section, field.key)]
        assert field.label in fw.label.value and field.help.split(",")[0] in fw.help.value
    # values shown are the file's; absent keys show the schema default
    assert f.fields["cenario.usuarios_simultaneos"].input.value == "30"
    assert f.fields["cenario.internet_estavel"].input.value is True
    assert f.fields["instalacao.https_porta"].input.value == "443"
    assert f.fields["instalacao.atualizacao"].input.value is False
    assert f.fields["ambiente.probe"].input.value == "../probes/ubs-centro.json"  # as written


def test_a_key_added_to_schema_appears_in_the_form(monkeypatch, tmp_path):
    extra = Field("gerador", "bool", "Gerador de energia", "Há gerador no local?")
    monkeypatch.setitem(FIELDS, "cenario", FIELDS["cenario"] + (extra,))
    f = SiteForm(tmp_path / "sites")
    assert "cenario.gerador" in f.fields
    for name, value in {"site_id": "ubs-x", "nome": "UBS X", "municipio_ibge": "2927408",
                        "cenario.gerador": True}.items():
        f.set_value(name, value)
    out = f.save()
    assert out.ok, out.problems
    assert "  gerador: true" in out.path.read_text()
    assert load_site(out.path).cenario["gerador"] is True


def test_new_site_in_folder_is_written_valid_and_minimal(tmp_path):
    folder = tmp_path / "sites"  # does not exist yet: the notebook's default situation
    f = SiteForm(folder)
    assert f.doc.is_new and f.doc.path is None and f.chooser.value == form_mod.NEW_SITE
    values = {"site_id": "ubs-nova", "nome": "UBS Nova Esperança", "municipio_ibge": "2927408",
              "cnes": "2386224", "cenario.usuarios_simultaneos": "35",
              "cenario.internet_estavel": True, "cenario.energia_estavel": False,
              "cenario.banda_mbps": "12,5", "contra_chave.gerada_em": "2026-11-20",
              "contra_chave.contra_chave_env": "PEC_CONTRA_CHAVE"}
    for name, value in values.items():
        f.set_value(name, value)
    saved = []
    f.on_save = saved.append
    out = f.save()
    assert out.ok, out.problems
    assert out.path == folder / "ubs-nova.yaml" and saved == [out]
    text = out.path.read_text(encoding="utf-8")
    assert text.startswith("# " + form_mod.HEADER)
    site = load_sites(folder)[0]  # the CLI reads it
    assert (site.site_id, site.nome, site.data["municipio_ibge"]) == \
        ("ubs-nova", "UBS Nova Esperança", "2927408")
    assert site.cenario["usuarios_simultaneos"] == 35
    assert site.cenario["banda_mbps"] == 12.5
    assert site.cenario["energia_estavel"] is False
    assert str(site.contra_chave["gerada_em"]) == "2026-11-20"
    # defaults and unanswered keys are not written
    assert "tipo_instalacao" not in text and "instalador" not in text and "null" not in text
    assert f.chooser.value == "ubs-nova" and "ubs-nova" in dict(f.chooser.options).values()
    # saving the same values again changes nothing on disk
    before = out.path.stat().st_mtime_ns
    again = f.save()
    assert again.ok and not again.changed and out.path.stat().st_mtime_ns == before


def test_edit_keeps_comments_quotes_and_order(tmp_path):
    path = write(tmp_path / "sites" / "ubs-comentada.yaml", COMMENTED)
    f = SiteForm(path, "ubs-comentada")
    f.set_value("cenario.usuarios_simultaneos", 45)          # existing key
    f.set_value("cenario.backup_automatizado", True)         # new key, end of a section
    f.set_value("ambiente.probe", "probes/ubs-comentada.json")  # new key, start of section
    f.set_value("instalacao.pec_url", "http://10.0.0.5:8080")  # new section
    f.set_value("contra_chave.contra_chave_env", "PEC_CONTRA_CHAVE")
    out = f.save()
    assert out.ok and out.changed, out.problems
    text = path.read_text(encoding="utf-8")
    assert comment_lines(text) == comment_lines(COMMENTED)  # every comment, same order
    lines = text.splitlines()
    for kept in ('municipio_ibge: "2927408"  # Salvador', "cnes: '2386224'",
                 "site_id: ubs-comentada   # não mude: é o nome da pasta dos resultados",
                 "  arquivo: xml/XmlParaESUS31_292740.zip  # baixado em 10/11"):
        assert kept in lines
    assert "  usuarios_simultaneos: 45   # pico de segunda de manhã" in lines
    # a key added at the end of a section stays above the next section's heading
    assert lines.index("  backup_automatizado: true") < \
        lines.index("# ---- ambiente: sondagem feita pela TI") < lines.index("ambiente:")
    assert lines.index("instalacao:") > lines.index("ambiente:")
    assert lines.index("instalacao:") < lines.index("xml:")
    site = load_site(path)
    assert site.cenario["usuarios_simultaneos"] == 45
    assert site.instalacao["pec_url"] == "http://10.0.0.5:8080"
    assert site.ambiente["passmark"] == 6500


def test_problems_next_to_fields_and_nothing_written(tmp_path):
    path = write(tmp_path / "ubs-comentada.yaml", COMMENTED)
    before = path.read_bytes()
    f = SiteForm(path)
    bad = {"municipio_ibge": "2927409", "cenario.usuarios_simultaneos": "0",
           "cenario.banda_mbps": "muita", "instalacao.pec_url": "10.0.0.5:8080",
           "instalacao.db_url": "postgresql://pec:segredo@10.0.0.5:5433/esus",
           "contra_chave.gerada_em": "20/11/2026", "instalador.versao": "5.5"}
    for name, value in bad.items():
        f.set_value(name, value)
    out = f.save()
    assert not out.ok
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]
    for name in all_names():
        err = f.fields[name].error.value
        assert bool(err) == (name in bad), name
    assert "dígito verificador" in f.fields["municipio_ibge"].error.value
    assert "não pode conter senha" in f.fields["instalacao.db_url"].error.value
    assert "segredo" not in f.message.value
    assert "data-ok='0'" in f.message.value and "nada foi gravado" in f.message.value
    # fixing them clears the marks
    for name, value in {"municipio_ibge": "2927408", "cenario.usuarios_simultaneos": "30",
                        "cenario.banda_mbps": "", "instalacao.pec_url": "",
                        "instalacao.db_url": "", "contra_chave.gerada_em": "",
                        "instalador.versao": ""}.items():
        f.set_value(name, value)
    assert f.save().ok
    assert not any(fw.error.value for fw in f.fields.values())


def test_form_validation_is_the_cli_validation(tmp_path):
    """For the same text, the form reports exactly what `esus-runbook executar` reports."""
    path = write(tmp_path / "s" / "ubs-comentada.yaml", COMMENTED)
    doc = SiteDocument(path)
    values = {**doc.raw_values(), "municipio_ibge": "1234567", "cnes": "12A",
              "cenario.usuarios_simultaneos": "dez", "cenario.banda_mbps": -3,
              "instalacao.https_porta": "0", "contra_chave.chave": "1234"}
    text, _ = doc.render(values)
    problems = doc.check(text)
    candidate = write(tmp_path / "s" / "candidato.yaml", text)
    proc = run_cli("executar", candidate, "--execucoes", tmp_path / "out", "--sem-progresso")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    cli_lines = [line.split(": ", 1)[1] for line in proc.stderr.strip().splitlines()]
    form_lines = [str(p).split(": ", 1)[1] for p in problems]
    # 5 problems: a malformed chave is judged by the contra-chave stage (falha), not on load
    assert sorted(form_lines) == sorted(cli_lines) and len(form_lines) == 5
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name,value", [
    ("contra_chave.contra_chave_env", "minha senha"),
    ("contra_chave.contra_chave_env", "Segredo123"),      # a valid env name for the CLI
    ("instalacao.db_password_env", "0916-0409-8915"),
])
def test_secret_typed_in_a_reference_field_is_refused(tmp_path, name, value):
    path = write(tmp_path / "ubs-comentada.yaml", COMMENTED)
    before = path.read_bytes()
    f = SiteForm(path)
    f.set_value(name, value)
    assert not f.save().ok
    assert path.read_bytes() == before
    assert "nunca digite a senha" in f.fields[name].error.value or \
        "NOME da variável" in f.fields[name].error.value


def test_secret_like_key_in_file_blocks_save_with_a_clear_message(tmp_path):
    path = write(tmp_path / "ubs.yaml", COMMENTED.replace("nome: UBS Comentada",
                                                          "nome: UBS Comentada\nsenha: x"))
    f = SiteForm(path)
    assert not f.check().ok  # shown on opening, without writing
    assert "segredos não vão no arquivo do site" in f.message.value
    assert not f.save().ok


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = write(tmp_path / "ubs-comentada.yaml", COMMENTED)
    f = SiteForm(path)
    f.set_value("nome", "Outro nome")

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    out = f.save()
    assert not out.ok and "não foi possível gravar" in f.message.value
    assert path.read_text(encoding="utf-8") == COMMENTED
    assert [p.name for p in tmp_path.iterdir()] == ["ubs-comentada.yaml"]


INVENTORY = """\
# inventário com sites na própria lista
padroes:
  municipio_ibge: "2927408"   # todos em Salvador
  cenario:
    tipo_instalacao: prontuario
sites:
  - site_id: ubs-a   # primeira
    nome: UBS A
    cenario:
      usuarios_simultaneos: 10
  - site_id: ubs-b
    nome: UBS B     # segunda
"""


def test_inline_inventory_item_is_edited_in_place(tmp_path):
    inv = write(tmp_path / "inventario.yaml", INVENTORY)
    f = SiteForm(inv, "ubs-b")
    assert f.doc.target.item == 1
    assert f.fields["municipio_ibge"].input.value == "2927408"  # inherited from padroes
    f.set_value("cenario.usuarios_simultaneos", "22")
    out = f.save()
    assert out.ok, out.problems
    text = inv.read_text(encoding="utf-8")
    assert comment_lines(text) == comment_lines(INVENTORY)
    assert text.count("municipio_ibge") == 1  # the inherited value was not copied
    by_id = {s.site_id: s for s in load_sites(inv)}
    assert by_id["ubs-b"].cenario["usuarios_simultaneos"] == 22
    assert by_id["ubs-a"].cenario["usuarios_simultaneos"] == 10
    f.set_value("site_id", "ubs-a")  # would duplicate the other site
    assert not f.save().ok
    assert "já existe" in f.fields["site_id"].error.value
    assert load_sites(inv)  # still valid on disk


def test_inventory_path_item_edits_the_site_file(tmp_path):
    shutil.copytree(EXAMPLES / "sites", tmp_path / "sites")
    shutil.copy(EXAMPLES / "inventario.yaml", tmp_path / "inventario.yaml")
    inv_before = (tmp_path / "inventario.yaml").read_bytes()
    f = SiteForm(tmp_path / "inventario.yaml", "ubs-vila-nova")
    assert f.doc.path == (tmp_path / "sites" / "ubs-vila-nova.yaml").resolve()
    f.set_value("cenario.internet_estavel", True)
    assert f.save().ok
    assert (tmp_path / "inventario.yaml").read_bytes() == inv_before
    assert {s.site_id: s for s in load_sites(tmp_path / "inventario.yaml")}[
        "ubs-vila-nova"].cenario["internet_estavel"] is True


def test_what_the_form_refuses_to_open(tmp_path):
    with pytest.raises(InputError, match="retrato"):
        SiteForm(tmp_path / "site.json")
    inv = write(tmp_path / "inventario.yaml", INVENTORY)
    with pytest.raises(InputError, match="informe site_id"):
        SiteForm(inv)
    with pytest.raises(InputError, match="não está no inventário"):
        SiteForm(inv, "ubs-z")
    bad = write(tmp_path / "quebrado.yaml", "site_id: [x\n")
    with pytest.raises(InputError, match="YAML inválido"):
        SiteForm(bad)


def test_folder_chooser_switches_sites(tmp_path):
    write(tmp_path / "sites" / "ubs-comentada.yaml", COMMENTED)
    shutil.copy(EXAMPLES / "sites" / "sms-centralizado.yaml", tmp_path / "sites")
    f = SiteForm(tmp_path / "sites")
    assert set(dict(f.chooser.options).values()) == \
        {form_mod.NEW_SITE, "ubs-comentada", "sms-centralizado"}
    f.chooser.value = "sms-centralizado"
    assert f.fields["cenario.ubs_atendidas"].input.value == "12"
    assert f.fields["cenario.backup_automatizado"].input.value is None
    f.chooser.value = form_mod.NEW_SITE
    assert f.fields["site_id"].input.value == "" and f.doc.path is None


def test_sites_module_untouched_contract():
    """The form relies on these names of sites/loading.py; fail loudly if they move."""
    assert callable(sites.validate_site) and callable(sites.safe_yaml)
    assert callable(sites.yaml_problem) and callable(sites.deep_merge) and sites.SECRET_LIKE_KEYS


def test_below_the_form_replaces_what_was_there_and_shows_a_failure(tmp_path):
    """show_below sets the Output widget's state (no browser routing): each call replaces
    the previous content; what the drawing printed is kept, and an exception ends it as an
    error output below the form instead of escaping a button's callback."""
    f = SiteForm(write(tmp_path / "sites" / "ubs-comentada.yaml", COMMENTED))
    f.show_below(lambda: print("primeira"))
    f.show_below(lambda: print("segunda"))
    assert [(o["output_type"], o.get("text")) for o in f.output.outputs] == \
        [("stream", "segunda\n")]

    def fails() -> None:
        print("antes")
        raise ValueError("quebrou")

    f.show_below(fails)
    kinds = [o["output_type"] for o in f.output.outputs]
    assert kinds == ["stream", "error"]
    error = f.output.outputs[1]
    assert (error["ename"], error["evalue"]) == ("ValueError", "quebrou")
    assert any("fails" in line for line in error["traceback"])
