"""The site form (without a browser), the guidance, the interactive notebooks under
papermill and the `lab` command."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from esus_runbook import form as form_mod
from esus_runbook import guide, notebook, sites
from esus_runbook.errors import InputError
from esus_runbook.form import SiteDocument, SiteForm
from esus_runbook.results import StageResult, Status
from esus_runbook.sites import SCHEMA, Field, load_site, load_sites

from .conftest import EXAMPLES, NOTEBOOKS, ROOT, run_cli
from .lab_server import lab_cli

COMMENTED = """\
# UBS Comentada — arquivo escrito à mão, com comentários que o formulário deve manter.
site_id: ubs-comentada   # não mude: é o nome da pasta dos resultados
nome: UBS Comentada
municipio_ibge: "2927408"  # Salvador
cnes: '2386224'
cenario:
  # respostas da reunião de 12/11 com a coordenação
  tipo_instalacao: prontuario
  usuarios_simultaneos: 30   # pico de segunda de manhã
  internet_estavel: true
  energia_estavel: true

# ---- ambiente: sondagem feita pela TI
ambiente:
  passmark: 6500

# ---- xml do CNES
xml:
  arquivo: xml/XmlParaESUS31_292740.zip  # baixado em 10/11
# fim do arquivo
"""


def all_names() -> set[str]:
    return {form_mod.dotted(s, f.key) for s, f in form_mod.fields()}


def comment_lines(text: str) -> list[str]:
    return [line.split("#", 1)[1].strip() for line in text.splitlines() if "#" in line]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- form
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
    monkeypatch.setitem(SCHEMA, "cenario", SCHEMA["cenario"] + (extra,))
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
    """For the same text, the form reports exactly what `esus-runbook run` reports."""
    path = write(tmp_path / "s" / "ubs-comentada.yaml", COMMENTED)
    doc = SiteDocument(path)
    values = {**doc.raw_values(), "municipio_ibge": "1234567", "cnes": "12A",
              "cenario.usuarios_simultaneos": "dez", "cenario.banda_mbps": -3,
              "instalacao.https_porta": "0", "contra_chave.chave": "1234"}
    text, _ = doc.render(values)
    problems = doc.check(text)
    candidate = write(tmp_path / "s" / "candidato.yaml", text)
    proc = run_cli("run", candidate, "--out", tmp_path / "out", "--no-progress")
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


# --------------------------------------------------------------------------- guidance
def site_with(tmp_path, text=COMMENTED):
    return load_site(write(tmp_path / "sites" / "ubs-comentada.yaml", text))


def test_guidance_for_ambiente_without_probe_gives_the_probe_command(tmp_path):
    site = site_with(tmp_path)
    r = StageResult(site.site_id, "ambiente")
    r.add("AMB_SONDAGEM", "Sondagem do servidor", Status.PENDENTE, "arquivo", None,
          "Rode a sondagem no servidor.")
    g = guide.guidance(r.finish(), site)
    assert g.missing == [("AMB_SONDAGEM", "Sondagem do servidor", "Rode a sondagem no servidor.")]
    commands = [s.command for s in g.steps if s.command]
    assert "esus-runbook probe --json sondagem-ubs-comentada.json --install-path /opt " \
           "--disk-speed" in commands
    assert any("ambiente.probe: probes/sondagem-ubs-comentada.json" in s.text for s in g.steps)
    assert any("execute esta célula de novo" in s.text for s in g.steps)
    html = guide.guidance_html(g)
    assert "data-status='pendente'" in html and "esus-runbook probe --json" in html


def test_guidance_follows_the_inputs(tmp_path, monkeypatch):
    text = COMMENTED.replace("ambiente:\n  passmark: 6500",
                             "ambiente:\n  probe: probes/nao-existe.json\n  passmark: 6500")
    text += ("instalador:\n  versao: 5.5.24\n  plataforma: windows\ninstalacao:\n"
             "  modo: treinamento\ncontra_chave:\n  contra_chave_env: PEC_CC_TESTE\n")
    site = site_with(tmp_path, text)

    def steps(stage):
        return guide.guidance(StageResult(site.site_id, stage).finish(), site).steps

    assert any("nao-existe.json" in s.text and "não existe" in s.text
               for s in steps("ambiente"))
    download = [s.command for s in steps("download") if s.command]
    assert any("--version 5.5.24" in c and "esus-runbook download" in c for c in download)
    inst = [s.command for s in steps("instalacao") if s.command]
    assert "java -jar eSUS-AB-PEC-5.5.24-Win64.jar -console -continue -treinamento" in inst
    monkeypatch.delenv("PEC_CC_TESTE", raising=False)
    assert any("PEC_CC_TESTE não está definida" in s.text for s in steps("contra_chave"))
    monkeypatch.setenv("PEC_CC_TESTE", "valor-secreto")
    cc = steps("contra_chave")
    assert not any("não está definida" in s.text for s in cc)
    assert "valor-secreto" not in repr(cc)
    assert any("XmlParaESUS31_292740.zip" in s.text and "não existe" in s.text
               for s in steps("xml"))
    write(tmp_path / "sites" / "xml" / "XmlParaESUS31_292740.zip", "zip")
    xml = [s.command for s in steps("xml") if s.command]
    assert xml == ["esus-runbook xml audit xml/XmlParaESUS31_292740.zip --ibge 2927408 "
                   "--html auditoria-xml-ubs-comentada.html"]
    ok = StageResult(site.site_id, "cenario")
    ok.add("CEN_PERFIL", "Perfil", Status.OK)
    assert any("02_ambiente.ipynb" in s.text for s in guide.guidance(ok.finish(), site).steps)


def test_status_shows_the_latest_result_of_each_stage(tmp_path):
    run = tmp_path / "run"
    assert set(s for s, _ in guide.stage_statuses(run, "ubs-x").values()) == {guide.NOT_RUN}
    a = StageResult("ubs-x", "cenario")
    a.add("CEN_PERFIL", "Perfil", Status.OK)
    a.finish().save(run / "ubs-x")
    b = StageResult("ubs-x", "ambiente")
    b.add("AMB_RAM", "RAM", Status.FALHA, 8, 4, "Aumente a RAM.")
    b.finish().save(run / "ubs-x")
    (run / "ubs-x" / "xml.json").write_text("{quebrado")
    st = guide.stage_statuses(run, "ubs-x")
    assert st["cenario"][0] == "ok" and st["ambiente"][0] == "falha"
    assert st["xml"][0] == "erro" and st["download"][0] == guide.NOT_RUN
    html = guide.status_html(run, "ubs-x")
    for stage, (status, _) in st.items():
        assert f"data-stage='{stage}' data-status='{status}'" in html
    w = guide.StatusWidget(run, "ubs-x")
    c = StageResult("ubs-x", "download")
    c.add("DL_ARQUIVO", "Arquivo", Status.PENDENTE, remedy="Baixe.")
    c.finish().save(run / "ubs-x")
    guide.refresh(run, "ubs-x")
    assert "data-stage='download' data-status='pendente'" in w.html.value


def test_run_stage_again_after_fixing_the_input(tmp_path):
    path = write(tmp_path / "ubs.yaml", COMMENTED.replace("  usuarios_simultaneos: 30   "
                                                          "# pico de segunda de manhã\n", ""))
    run = tmp_path / "run"
    def perfil(r):
        return next(c.status for c in r.checks if c.id == "CEN_PERFIL")

    first = notebook.run_stage("cenario", path, None, run, interactive=True)
    assert perfil(first) is Status.PENDENTE
    assert notebook._interactive_context(first) is not None
    f = SiteForm(path)
    f.set_value("cenario.usuarios_simultaneos", 20)
    assert f.save().ok
    second = notebook.run_stage("cenario", path, None, run, interactive=True)
    assert perfil(second) is Status.OK
    assert guide.stage_statuses(run, "ubs-comentada")["cenario"][0] == second.status.value
    assert notebook._interactive_context(first) is None  # show(first) no longer guides
    batch = notebook.run_stage("cenario", path, None, run, interactive=False)
    assert notebook._interactive_context(batch) is None


# --------------------------------------------------------------------------- notebooks
def execute(nb_path: Path, out: Path, cwd: Path, **params):
    import papermill as pm

    return pm.execute_notebook(str(nb_path), str(out), parameters=params,
                               kernel_name="esus-runbook", cwd=str(cwd), progress_bar=False)


WIDGET = "application/vnd.jupyter.widget-view+json"


def outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def widget_text(nb) -> str:
    return json.dumps(nb.metadata.get("widgets", {}), ensure_ascii=False)


@pytest.mark.notebooks
def test_01_fresh_with_default_parameters_shows_a_new_site_form(tmp_path):
    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    out = tmp_path / "01.ipynb"
    nb = execute(tmp_path / "notebooks" / "01_cenario.ipynb", out, tmp_path / "notebooks")
    assert not [o for o in outputs(nb) if o.get("output_type") == "error"]
    assert any(WIDGET in o.get("data", {}) for o in outputs(nb))
    state = widget_text(nb)
    assert "Formulário do site" in state and "novo site" in state
    assert "Identificador do site" in state and "Usuários simultâneos" in state
    assert not (tmp_path / "sites").exists()  # nothing written before "Salvar"


@pytest.mark.notebooks
def test_01_under_papermill_builds_no_widget(tmp_path):
    out = tmp_path / "01.ipynb"
    nb = execute(NOTEBOOKS / "01_cenario.ipynb", out, NOTEBOOKS,
                 site_file=str(EXAMPLES / "sites" / "ubs-centro.yaml"),
                 run_dir=str(tmp_path / "run"), interactive=False)
    assert not any(WIDGET in o.get("data", {}) for o in outputs(nb))
    assert "widgets" not in nb.metadata
    assert "esus-guia" not in json.dumps(outputs(nb))
    assert StageResult.load(tmp_path / "run" / "ubs-centro" / "cenario.json").status \
        in (Status.OK, Status.ALERTA)


@pytest.mark.notebooks
def test_stage_notebook_interactive_guides_and_shows_status(tmp_path):
    site = write(tmp_path / "sites" / "ubs-comentada.yaml", COMMENTED)
    run = tmp_path / "run"
    nb = execute(NOTEBOOKS / "02_ambiente.ipynb", tmp_path / "02.ipynb", NOTEBOOKS,
                 site_file=str(site), run_dir=str(run), interactive=True)
    html = json.dumps(outputs(nb), ensure_ascii=False)
    assert "O que fazer agora" in html
    assert "esus-runbook probe --json sondagem-ubs-comentada.json" in html
    status = StageResult.load(run / "ubs-comentada" / "ambiente.json").status.value
    assert f"data-stage='ambiente' data-status='{status}'" in widget_text(nb)
    assert any(WIDGET in o.get("data", {}) for o in outputs(nb))


@pytest.mark.notebooks
def test_input_error_in_jupyterlab_is_explained_without_traceback(tmp_path):
    import papermill as pm

    out = tmp_path / "02.ipynb"
    with pytest.raises(pm.PapermillExecutionError):
        execute(NOTEBOOKS / "02_ambiente.ipynb", out, NOTEBOOKS,
                site_file=str(tmp_path / "nao-existe.yaml"), run_dir=str(tmp_path / "run"),
                interactive=True)
    nb = nbformat.read(out, as_version=4)
    # the cell failed (Run All stops) but shows the pt-BR panel, not a traceback
    assert not [o for o in outputs(nb) if o.get("output_type") == "error"]
    assert "Traceback" not in json.dumps(outputs(nb))
    html = json.dumps(outputs(nb), ensure_ascii=False)
    assert "Não foi possível executar a etapa" in html and "arquivo não encontrado" in html


# --------------------------------------------------------------------------- lab
def test_lab_prepares_one_workspace_per_site_and_keeps_outputs(tmp_path):
    from esus_runbook import lab

    entries = lab.discover(EXAMPLES / "inventario.yaml")
    assert [e.name for e in entries] == ["ubs-centro", "ubs-vila-nova", "sms-centralizado"]
    ws = tmp_path / "ws"
    folder = lab.prepare_workspace(entries[0], ws)
    nb = nbformat.read(folder / "02_ambiente.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert f'site_file = "{(EXAMPLES / "inventario.yaml").resolve()}"' in injected[0].source
    assert 'site_id = "ubs-centro"' in injected[0].source
    assert f'run_dir = "{ws}"' in injected[0].source and "interactive = True" in injected[0].source
    # the analyst's outputs survive a second `lab`; changed parameters are updated
    nb.cells[-1].outputs = [nbformat.v4.new_output("stream", text="nota do analista")]
    nbformat.write(nb, folder / "02_ambiente.ipynb")
    lab.prepare_workspace(lab.SiteEntry("ubs-centro", EXAMPLES / "sites" / "ubs-centro.yaml",
                                        "ubs-centro"), ws)
    nb = nbformat.read(folder / "02_ambiente.ipynb", as_version=4)
    assert nb.cells[-1].outputs[0]["text"] == "nota do analista"
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "ubs-centro.yaml" in injected[0].source
    # a new site file: named after the file, the form creates it
    assert lab.discover(tmp_path / "ubs-nova.yaml")[0].site_id is None


def test_lab_rejects_bad_arguments_in_one_line(tmp_path):
    for arg in (tmp_path / "x.txt", tmp_path):
        proc = run_cli("lab", arg, "--no-browser", timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


@pytest.mark.notebooks
def test_lab_command_serves_the_site_notebooks_on_localhost(tmp_path):
    shutil.copytree(EXAMPLES / "sites", tmp_path / "sites")
    site = tmp_path / "sites" / "ubs-centro.yaml"
    with lab_cli(str(site), "--out", str(tmp_path / "ws"), tmp=tmp_path) as lab:
        assert lab.url.startswith(f"http://127.0.0.1:{lab.port}/lab/tree/ubs-centro/"
                                  "01_cenario.ipynb?token=")
        assert len(lab.token) >= 32
        assert lab.api("/api/contents", token=False)[0] == 403  # the token is required
        code, body = lab.api("/api/kernelspecs")
        assert code == 200 and json.loads(body)["default"] == "esus-runbook"
        code, body = lab.api("/api/contents/ubs-centro/02_ambiente.ipynb")
        assert code == 200 and f'site_file = \\"{site}\\"' in body.decode()
        # a kernel started through JupyterLab must not outlive it
        code, body = lab.api("/api/sessions", "POST", {
            "path": "ubs-centro/01_cenario.ipynb", "type": "notebook",
            "kernel": {"name": "esus-runbook"}})
        assert code == 201, body
    out = "".join(lab.stdout)
    assert "Sites: ubs-centro" in out and lab.token in out


@pytest.mark.notebooks
def test_lab_without_argument_opens_the_notebooks_folder(tmp_path):
    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    with lab_cli(tmp=tmp_path, env={"ESUS_RUNBOOK_NOTEBOOKS": str(tmp_path / "notebooks")},
                 cwd=ROOT) as lab:
        assert "/lab/tree/01_cenario.ipynb?token=" in lab.url
        code, body = lab.api("/api/contents")
        names = {c["name"] for c in json.loads(body)["content"]}
        assert set(n for n in names if n.endswith(".ipynb")) >= {"01_cenario.ipynb",
                                                                 "07_relatorio.ipynb"}


def test_sites_module_untouched_contract():
    """The form relies on these names of sites.py; fail loudly if they move."""
    assert callable(sites.validate_site) and callable(sites._yaml)
    assert callable(sites._deep_merge) and sites.SECRET_LIKE_KEYS


@pytest.mark.notebooks
def test_killed_lab_leaves_no_server_behind(tmp_path):
    """Even a SIGKILLed `esus-runbook lab` (no cleanup possible) takes JupyterLab along."""
    import signal
    import subprocess
    import sys

    import psutil

    from .lab_server import jupyter_env

    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    env = {**os.environ, **jupyter_env(tmp_path),
           "ESUS_RUNBOOK_NOTEBOOKS": str(tmp_path / "notebooks")}
    proc = subprocess.Popen([sys.executable, "-m", "esus_runbook", "lab", "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env, cwd=ROOT)
    try:
        for line in proc.stdout:
            if "Abra no navegador" in line:
                break
        servers = psutil.Process(proc.pid).children(recursive=True)
        assert servers, "JupyterLab was not started"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    _, alive = psutil.wait_procs(servers, timeout=60)
    for p in alive:
        p.kill()
    assert not alive


def test_batch_path_never_imports_the_interactive_layer(tmp_path):
    """Under papermill (interactive=False) no widget library or guidance code is loaded."""
    import subprocess
    import sys

    code = ("import sys; from esus_runbook import notebook; "
            f"notebook.run_stage('cenario', {str(EXAMPLES / 'sites' / 'ubs-centro.yaml')!r}, "
            f"None, {str(tmp_path)!r}, False); "
            "print(sorted(m for m in sys.modules if m.startswith(('ipywidgets', "
            "'esus_runbook.guide', 'esus_runbook.form', 'esus_runbook.lab'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
