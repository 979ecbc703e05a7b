"""Guidance and stage status shown under each stage in JupyterLab (guide.py)."""

from __future__ import annotations

from esus_runbook import guide
from esus_runbook.results import StageResult
from esus_runbook.sites.loading import load_site
from esus_runbook.stages import StageContext, evaluate
from esus_runbook.status import Status

from .support.site_texts import COMMENTED, write


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
    assert "esus-runbook sondar --json sondagem-ubs-comentada.json --pasta-instalacao /opt " \
           "--velocidade-disco" in commands
    assert any("ambiente.probe: probes/sondagem-ubs-comentada.json" in s.text for s in g.steps)
    assert any("execute esta célula de novo" in s.text for s in g.steps)
    html = guide.guidance_html(g)
    assert "data-status='pendente'" in html and "esus-runbook sondar --json" in html


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
    assert any("--versao-pec 5.5.24" in c and "esus-runbook baixar" in c for c in download)
    inst = [s.command for s in steps("instalacao") if s.command]
    assert "java -jar eSUS-AB-PEC-5.5.24-Win64.jar -console -continue -treinamento" in inst
    monkeypatch.delenv("PEC_CC_TESTE", raising=False)
    # a training installation is not activated (docs/dominio.md): nothing to do in stage 05
    trained = guide.guidance(evaluate("contra_chave", site, StageContext(env={})), site)
    assert trained.status is Status.OK and not trained.missing
    assert [s.text for s in trained.steps] == [
        "Próxima etapa: abra 06_xml.ipynb (Importação do XML do CNES)."]
    prod = site_with(tmp_path, text.replace("modo: treinamento", "modo: producao"))

    def prod_steps(stage):
        return guide.guidance(StageResult(prod.site_id, stage).finish(), prod).steps

    assert any("PEC_CC_TESTE não está definida" in s.text for s in prod_steps("contra_chave"))
    monkeypatch.setenv("PEC_CC_TESTE", "valor-secreto")
    cc = prod_steps("contra_chave")
    assert not any("não está definida" in s.text for s in cc)
    assert "valor-secreto" not in repr(cc)
    assert any("XmlParaESUS31_292740.zip" in s.text and "não existe" in s.text
               for s in steps("xml"))
    write(tmp_path / "sites" / "xml" / "XmlParaESUS31_292740.zip", "zip")
    xml = [s.command for s in steps("xml") if s.command]
    assert xml == ["esus-runbook xml auditar xml/XmlParaESUS31_292740.zip --ibge 2927408 "
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
