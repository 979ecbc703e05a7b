import json
import os

import pytest

from esus_runbook import schemas
from esus_runbook.errors import InputError
from esus_runbook.files.atomic import write_json_atomic
from esus_runbook.files.outputs import check_outputs, write_report
from esus_runbook.results import Check, Checks, StageResult, derive_status
from esus_runbook.status import ExitCode, Status, worst


def test_status_derivation():
    assert derive_status([]) is Status.PENDENTE  # no evidence is never ok
    r = StageResult("s", "cenario")
    r.add("AAA_OK", "x", "ok", 1, 1)
    assert r.finish().status is Status.OK
    r.add("AAA_WARN", "x", "alerta", 1, 2, "faça algo")
    assert r.finish().status is Status.ALERTA
    r.add("AAA_PEND", "x", "pendente", 1, None, "informe")
    assert r.finish().status is Status.PENDENTE
    r.add("AAA_FAIL", "x", "falha", 1, 3, "corrija")
    assert r.finish().status is Status.FALHA


def test_check_needs_remedy_and_code():
    with pytest.raises(ValueError):
        Check("AMB_RAM", "RAM", Status.FALHA, 8, 4)
    with pytest.raises(ValueError):
        Check("ram", "RAM", Status.OK)


def test_round_trip_and_schema(tmp_path):
    r = StageResult("ubs", "ambiente")
    r.add("AMB_RAM", "RAM", "falha", 8, 6, "adicione memória")
    r.finish(perfil="ate_40")
    path = r.save(tmp_path)
    data = json.loads(path.read_text())
    assert data["schema"] == "esus-runbook/stage-result/1"
    assert set(data) >= {"site_id", "stage", "status", "started_at", "finished_at", "checks",
                         "metrics"}
    assert set(data["checks"][0]) == {"id", "title", "status", "expected", "observed",
                                      "remedy"}
    again = StageResult.load(path)
    assert again.to_dict() == r.to_dict()


def test_load_rejects_other_schema(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"schema": "esus-runbook/stage-result/9"}))
    with pytest.raises(InputError, match="versão de esquema"):
        StageResult.load(p)
    p.write_text("{trunc")
    with pytest.raises(InputError, match="JSON inválido"):
        StageResult.load(p)


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "r.json"
    write_json_atomic(p, {"a": 1})

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        write_json_atomic(p, {"a": 2})
    assert json.loads(p.read_text()) == {"a": 1}
    assert [f.name for f in tmp_path.iterdir()] == ["r.json"]


def test_crashed_result():
    r = StageResult.crashed("s", "xml", "ValueError: boom")
    assert r.status is Status.ERRO and r.error == "ValueError: boom"
    assert r.checks[0].status is Status.ERRO
    assert r.finished_at is not None


# --------------------------------------------------------------------------- Checks
def _three() -> Checks:
    checks = Checks()
    checks.add("AAA_OK", "Primeira", "ok", 1, 1)
    checks.add("AAA_WARN", "Segunda", Status.ALERTA, "≥ 2", "1\nlinha dois", "faça algo")
    checks.add("AAA_PEND", "Terceira", "pendente", "x", None, "informe x")
    return checks


def test_checks_status_passed_and_pending():
    checks = Checks()
    assert checks.status is Status.PENDENTE and not checks.passed and checks.pending
    added = checks.add("AAA_OK", "x", "ok")
    assert added is checks[0] and checks.status is Status.OK and checks.passed
    checks.add("AAA_WARN", "x", "alerta", remedy="veja")
    assert checks.status is Status.ALERTA and checks.passed and not checks.pending
    checks.add("AAA_FAIL", "x", "falha", remedy="corrija")
    assert checks.status is Status.FALHA and not checks.passed
    with pytest.raises(ValueError):
        checks.add("AAA_BAD", "x", "falha")  # no remedy: refused, nothing appended
    assert len(checks) == 3


def test_checks_judge_compares_and_needs_the_remedy_only_when_it_fails():
    checks = Checks()
    ok = checks.judge("AAA_VER", "Versão", True, "5.5", "5.5", "atualize")
    bad = checks.judge("AAA_VER", "Versão", False, "5.5", "5.4", "atualize")
    warn = checks.judge("AAA_LENTO", "Tempo", False, "≤ 2 s", "3 s", "veja a rede",
                        otherwise=Status.ALERTA)
    assert (ok.status, ok.remedy, ok.observed) == (Status.OK, None, "5.5")
    assert (bad.status, bad.remedy, bad.observed) == (Status.FALHA, "atualize", "5.4")
    assert (warn.status, warn.remedy) == (Status.ALERTA, "veja a rede")
    assert list(checks) == [ok, bad, warn] and checks.status is Status.FALHA


def test_checks_list_round_trip_keeps_the_schema_order():
    checks = _three()
    items = checks.to_list()
    assert [list(d) for d in items] == [["id", "title", "status", "expected", "observed",
                                         "remedy"]] * 3
    assert items[1]["status"] == "alerta" and items[2]["observed"] is None
    again = Checks.from_list(json.loads(json.dumps(items)))
    assert isinstance(again, Checks) and again == checks


def test_checks_text_is_one_line_per_check_with_remedies_below():
    assert _three().text().splitlines() == [
        "[   ok   ] AAA_OK                 Primeira: 1",
        "[ alerta ] AAA_WARN               Segunda: 1",
        " " * 34 + "linha dois",
        " " * 11 + "→ faça algo",
        "[pendente] AAA_PEND               Terceira: ",
        " " * 11 + "→ informe x",
    ]
    assert Checks().text() == ""


def test_stage_result_holds_a_checks_container_even_when_given_a_list():
    r = StageResult("ubs-x", "cenario", checks=list(_three()))
    assert isinstance(r.checks, Checks)
    r.checks = [Check("BBB_OK", "y", Status.OK)]
    assert isinstance(r.checks, Checks) and r.finish().status is Status.OK
    r.checks.extend(_three())
    assert r.finish().status is Status.PENDENTE


def test_stage_result_json_is_unchanged_by_the_container():
    r = StageResult("ubs-x", "cenario", started_at="2026-01-01T00:00:00+00:00")
    for c in _three():
        r.add(c.id, c.title, c.status, c.expected, c.observed, c.remedy)
    d = r.finish(n=1).to_dict()
    assert list(d) == ["schema", "site_id", "stage", "status", "started_at", "finished_at",
                       "checks", "metrics", "inputs", "error"]
    assert d["checks"] == _three().to_list() and d["status"] == "pendente"
    assert schemas.errors("stage-result", json.loads(json.dumps(d))) == []
    assert StageResult.from_dict(d).to_dict() == d


def test_worst_is_the_one_combination_of_statuses():
    assert worst([]) is None
    assert worst(["ok", Status.ALERTA]) is Status.ALERTA
    assert worst(["pendente", "alerta", "ok"]) is Status.PENDENTE
    assert worst(["pendente", "falha"]) is Status.FALHA and worst(["falha", "erro"]) is Status.ERRO


# The one output rule (files/outputs.check_outputs): (what the user names, the option's
# refusal or None). Every command that writes a named output calls it before any work.
def _outputs(tmp_path):
    (tmp_path / "arquivo").write_text("x")
    (tmp_path / "pasta").mkdir()
    (tmp_path / "entrada.xml").write_text("<x/>")
    ro = tmp_path / "somente-leitura"
    ro.mkdir()
    ro.chmod(0o555)
    os.mkfifo(tmp_path / "fifo")
    return [
        ("novo.json", None),
        ("pasta", "é uma pasta"),
        ("fifo", "não é um arquivo comum"),
        ("nao/existe.json", "não existe: crie-a antes"),
        ("arquivo/r.json", "não é uma pasta"),
        ("entrada.xml", "próprio arquivo de entrada"),
        ("./pasta/../entrada.xml", "próprio arquivo de entrada"),
        ("n" * 300 + ".json", "nome longo demais"),
        ("", "caminho vazio"),
    ] + ([] if os.geteuid() == 0 else [("somente-leitura/r.json", "sem permissão")])


def test_one_output_rule(tmp_path):
    for name, refusal in _outputs(tmp_path):
        path = str(tmp_path / name) if name else ""
        if refusal is None:
            check_outputs([("--json", path)], inputs=[tmp_path / "entrada.xml"])
            continue
        with pytest.raises(InputError) as err:
            check_outputs([("--json", path), ("--html", None)],
                          inputs=[tmp_path / "entrada.xml", None])
        text = str(err.value)
        assert text.startswith("--json: ") and refusal in text, (name, text)
        assert len(text.splitlines()) == 1 and err.value.exit_code == ExitCode.REFUSED


def test_two_outputs_must_differ_and_writes_are_atomic(tmp_path):
    with pytest.raises(InputError, match=r"^--html: o mesmo arquivo que --json"):
        check_outputs([("--json", tmp_path / "r"), ("--html", tmp_path / "r")])
    (tmp_path / "arquivo").write_text("x")
    with pytest.raises(InputError) as err:
        write_report(tmp_path / "arquivo" / "r.json", "{}", what="o relatório")
    assert "não foi possível gravar o relatório (parte do caminho não é uma pasta)" in \
        str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arquivo"]   # no temp file left
