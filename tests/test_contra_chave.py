import datetime as dt
import json
import os

from esus_runbook.results import StageResult
from esus_runbook.sites.loading import validate_site
from esus_runbook.stages import StageContext, evaluate
from esus_runbook.stages.contra_chave import extra_fingerprint, normalize_chave
from esus_runbook.status import Status

CHAVE = "0916-0409-8915-9622-2161-0480-1336-1227"
SECRET = "Qx7-CONTRA-9931-zz"


def site(tmp_path, **cc):
    inst = cc.pop("instalacao", {})
    raw = {"site_id": "ubs-x", "nome": "X", "municipio_ibge": "2927408",
           "contra_chave": {"chave": CHAVE, "contra_chave_env": "TEST_CC",
                            "gerada_em": "2026-11-20", "gerada_por": "Gestor SISAB", **cc},
           "instalacao": inst}
    return validate_site(raw, source=tmp_path / "s.yaml")


def run(tmp_path, s, env=None, run_name="20261125-100000-aaaa", root="runs"):
    out = tmp_path / root / run_name / s.site_id
    ctx = StageContext(out, env=env if env is not None else {"TEST_CC": SECRET})
    r = evaluate("contra_chave", s, ctx)
    r.save(out)
    return r, {c.id: c for c in r.checks}


def test_normalize_chave():
    assert normalize_chave(CHAVE.replace("-", "")) == CHAVE
    assert normalize_chave(CHAVE.replace("-", " ")) == CHAVE
    assert normalize_chave("0916-0409") is None
    assert normalize_chave("a" * 32) is None


def test_ready(tmp_path):
    r, c = run(tmp_path, site(tmp_path, chave=CHAVE.replace("-", "")))
    assert r.status is Status.OK, [(x.id, x.status) for x in r.checks]
    assert c["CC_CHAVE"].observed == CHAVE
    assert r.metrics["contra_chave_fingerprint"].startswith("pbkdf2-sha256$")
    text = json.dumps(r.to_dict())
    assert SECRET not in text and SECRET[:-2] not in text
    assert r.metrics["contra_chave_mascarada"].endswith(SECRET[-2:])


def test_missing_chave_is_pending_and_malformed_fails(tmp_path):
    r, c = run(tmp_path, site(tmp_path, chave=None))
    assert c["CC_CHAVE"].status is Status.PENDENTE and r.status is Status.PENDENTE
    r, c = run(tmp_path, site(tmp_path, chave="0916-0409-8915"))
    assert c["CC_CHAVE"].status is Status.FALHA and c["CC_CHAVE"].observed == "12 dígitos"


def test_contra_chave_references(tmp_path):
    _, c = run(tmp_path, site(tmp_path, contra_chave_env=None))
    assert c["CC_CONTRA_CHAVE"].status is Status.PENDENTE
    assert "136" in c["CC_CONTRA_CHAVE"].remedy and "24 h" in c["CC_CONTRA_CHAVE"].remedy
    _, c = run(tmp_path, site(tmp_path), env={})
    assert c["CC_CONTRA_CHAVE"].status is Status.FALHA
    assert "TEST_CC" in c["CC_CONTRA_CHAVE"].remedy
    _, c = run(tmp_path, site(tmp_path), env={"TEST_CC": CHAVE})
    assert c["CC_CONTRA_CHAVE"].status is Status.FALHA  # pasted the chave itself


def test_secret_file_permissions(tmp_path):
    f = tmp_path / "cc.txt"
    f.write_text(SECRET + "\n")
    os.chmod(f, 0o644)
    s = site(tmp_path, contra_chave_env=None, contra_chave_file=str(f))
    r, c = run(tmp_path, s)
    assert c["CC_CONTRA_CHAVE"].status is Status.OK
    assert c["CC_ARQUIVO_PERMISSAO"].status is Status.ALERTA and r.status is Status.ALERTA
    os.chmod(f, 0o600)
    r, c = run(tmp_path, s)
    assert "CC_ARQUIVO_PERMISSAO" not in c and r.status is Status.OK


def test_dates(tmp_path):
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    _, c = run(tmp_path, site(tmp_path, gerada_em=future))
    assert c["CC_DATA"].status is Status.FALHA
    _, c = run(tmp_path, site(tmp_path, instalacao={"data_instalacao": "2026-11-21"}))
    assert c["CC_DATA"].status is Status.ALERTA   # before the installation: a hint only
    _, c = run(tmp_path, site(tmp_path, gerada_por=None))
    assert c["CC_REGISTRO"].status is Status.ALERTA


def test_new_chave_with_old_contra_chave_warns(tmp_path):
    run(tmp_path, site(tmp_path), run_name="20261120-100000-aaaa")
    new = "1111-2222-3333-4444-5555-6666-7777-8888"
    r, c = run(tmp_path, site(tmp_path, chave=new), run_name="20261125-100000-bbbb")
    assert c["CC_CHAVE_MUDOU"].status is Status.ALERTA
    assert "Nova chave exige nova contra-chave" in c["CC_CHAVE_MUDOU"].remedy
    # same chave as the previous run: nothing to compare
    r, c = run(tmp_path, site(tmp_path, chave=new), run_name="20261126-100000-cccc")
    assert "CC_CHAVE_MUDOU" not in c
    # both changed together (another output folder whose last run had the old chave)
    run(tmp_path, site(tmp_path), run_name="20261120-100000-aaaa", root="b")
    r, c = run(tmp_path, site(tmp_path, chave=new), env={"TEST_CC": "outra-contra-chave-1"},
               run_name="20261126-100000-cccc", root="b")
    assert c["CC_CHAVE_MUDOU"].status is Status.OK


def test_resume_fingerprint(tmp_path, monkeypatch):
    s = site(tmp_path)
    monkeypatch.setenv("TEST_CC", SECRET)
    a, b = extra_fingerprint(s), extra_fingerprint(s)
    assert a == b and SECRET not in json.dumps(a)
    monkeypatch.setenv("TEST_CC", SECRET + "x")
    assert extra_fingerprint(s) != a


def test_mask_shows_at_most_two_characters():
    from esus_runbook.secret_refs import mask
    assert mask("12345") == "••••••••"
    assert mask(SECRET) == "••••••••" + SECRET[-2:]


def test_earlier_run_is_read_through_the_context_and_fingerprinted(tmp_path):
    from esus_runbook import stages

    run(tmp_path, site(tmp_path), run_name="20261120-100000-aaaa")
    new = "1111-2222-3333-4444-5555-6666-7777-8888"
    s = site(tmp_path, chave=new)
    r, _ = run(tmp_path, s, run_name="20261125-100000-bbbb")
    key = "execucao_anterior.contra_chave"
    assert r.inputs[key].startswith("sha256:")
    here = tmp_path / "runs" / "20261125-100000-bbbb" / s.site_id
    os.environ["TEST_CC"] = SECRET
    try:
        assert stages.current_inputs("contra_chave", s, r.inputs, here)[key] == r.inputs[key]
        # the earlier run's result changed: resuming this run evaluates the stage again
        older = tmp_path / "runs" / "20261120-100000-aaaa" / s.site_id / "contra_chave.json"
        data = json.loads(older.read_text())
        data["metrics"]["chave"] = "9999-2222-3333-4444-5555-6666-7777-8888"
        older.write_text(json.dumps(data))
        assert stages.current_inputs("contra_chave", s, r.inputs, here)[key] != r.inputs[key]
    finally:
        del os.environ["TEST_CC"]
    # a later run is never "earlier", and a run without one records nothing to compare
    first, _ = run(tmp_path, site(tmp_path), run_name="20261101-100000-zzzz", root="c")
    assert first.inputs.get(key) is None


def test_training_installation_needs_no_contra_chave(tmp_path):
    """docs/dominio.md, "Contra-chave": the official training guide (PEC 5.3.28) shows the
    activation screen with chave and contra-chave disabled ("clique em AVANÇAR")."""
    raw = {"site_id": "ubs-treino", "nome": "T", "municipio_ibge": "2927408",
           "instalacao": {"modo": "treinamento"}}
    s = validate_site(raw, source=tmp_path / "s.yaml")
    r, c = run(tmp_path, s, env={})
    assert r.status is Status.OK, [(x.id, x.status, x.remedy) for x in r.checks]
    assert set(c) == {"CC_TREINAMENTO"}
    assert c["CC_TREINAMENTO"].observed.startswith(
        "instalação de treinamento: ativação não exigida")
    assert r.metrics["ativacao_exigida"] is False and "SISAB" in r.metrics["aviso"]
    # the same site in production still waits for the contra-chave
    prod = validate_site({**raw, "instalacao": {"modo": "producao"}}, source=tmp_path / "p.yaml")
    r, c = run(tmp_path, prod, env={}, root="prod")
    assert r.status is Status.PENDENTE and c["CC_CONTRA_CHAVE"].status is Status.PENDENTE


def test_training_is_confirmed_or_refuted_by_pecs_database(tmp_path):
    raw = {"site_id": "ubs-treino", "nome": "T", "municipio_ibge": "2927408",
           "instalacao": {"modo": "treinamento"}}
    s = validate_site(raw, source=tmp_path / "s.yaml")
    for db_status, observed, expected in (
            (Status.OK, "treinamento (TREINAMENTO = 1)", Status.OK),
            (Status.FALHA, "producao (TREINAMENTO = 0)", Status.FALHA)):
        out = tmp_path / db_status.value / "runs" / "20261125-100000-aaaa" / s.site_id
        inst = StageResult(s.site_id, "instalacao")
        inst.add("DB_TREINAMENTO", "Modo da instalação (TREINAMENTO)", db_status,
                 "treinamento", observed, None if db_status is Status.OK else "Reinstale.")
        inst.finish().save(out)
        ctx = StageContext(out, env={})
        r = evaluate("contra_chave", s, ctx)
        check = r.checks[0]
        assert (check.id, check.status) == ("CC_TREINAMENTO", expected)
        assert "resultado.instalacao" in r.inputs     # what it read is fingerprinted
        if expected is Status.OK:
            assert "TREINAMENTO = 1" in check.observed
        else:
            assert "-treinamento" in check.remedy and "instalacao.modo" in check.remedy
