import json
import os

import pytest

from esus_runbook.errors import InputError
from esus_runbook.results import Check, StageResult, Status, derive_status, write_json_atomic


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
