"""Preflight in a second: what `executar`, `lote` and `lab` check before running."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from esus_runbook.batch.preflight import quick_checks, quick_report
from esus_runbook.sites.loading import load_sites

from .support.project import run_cli
from .support.site_texts import write

SECRET = "valor-secreto-da-contra-chave"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends


def _site(tmp_path: Path, pec_port: int, ssh_port: int, secret_file: Path) -> Path:
    return write(tmp_path / "s.yaml", f"""\
site_id: ubs-pre
nome: UBS Pre
municipio_ibge: "2927408"
instalacao:
  pec_url: http://127.0.0.1:{pec_port}
  db_password_env: PRE_DB_SENHA
contra_chave:
  contra_chave_env: PRE_CC_INDEFINIDA
  contra_chave_file: {secret_file}
servidor:
  ssh: suporte@127.0.0.1:{ssh_port}
""")


def test_quick_checks_name_what_is_missing_and_what_answers(tmp_path: Path):
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    secret_file = tmp_path / "cc.txt"
    secret_file.write_text(SECRET, encoding="utf-8")
    site = _site(tmp_path, listening.getsockname()[1], _closed_port(), secret_file)
    with listening:
        t0 = time.perf_counter()
        text = quick_report(load_sites(site), env={"PRE_DB_SENHA": SECRET})
        seconds = time.perf_counter() - t0
    lines = text.splitlines()
    assert lines[0].startswith("Verificação prévia") and "3 ok, 2 a conferir" in lines[0]
    assert "a execução continua" in lines[0]
    body = "\n".join(lines[1:])
    assert "[atenção] ubs-pre: variável PRE_CC_INDEFINIDA (contra_chave.contra_chave_env) " \
           "NÃO definida" in body
    assert "[ok] ubs-pre: variável PRE_DB_SENHA (instalacao.db_password_env) definida" in body
    assert "[ok] ubs-pre: arquivo contra_chave.contra_chave_file legível" in body
    assert "[ok] ubs-pre: PEC (pec_url) 127.0.0.1:" in body
    assert "[atenção] ubs-pre: SSH (servidor.ssh) 127.0.0.1:" in body and "recusada" in body
    assert SECRET not in text  # names and paths, never a value
    assert seconds < 2, seconds


def test_many_sites_are_checked_within_the_second(tmp_path: Path):
    """Ten sites, each naming its own server that does not answer: one finding each."""
    sites = []
    for i in range(10):
        text = (f"site_id: s{i}\nnome: S\nmunicipio_ibge: \"2927408\"\ninstalacao:\n"
                f"  pec_url: http://127.0.0.1:{_closed_port()}\n")
        sites += load_sites(write(tmp_path / f"s{i}.yaml", text))
    t0 = time.perf_counter()
    findings = quick_checks(sites, env={}, timeout=1.0)
    assert time.perf_counter() - t0 < 2
    assert len(findings) == 10 and not any(f.ok for f in findings)


@pytest.mark.notebooks
def test_executar_prints_the_preflight_and_still_runs(tmp_path: Path):
    secret_file = tmp_path / "nao-existe.txt"
    site = _site(tmp_path, _closed_port(), _closed_port(), secret_file)
    out = tmp_path / "execucoes"
    proc = run_cli("executar", site, "--execucoes", out, "--sem-progresso", timeout=600)
    assert proc.returncode in (0, 1, 3), proc.stderr
    head = proc.stderr.split("Verificação prévia", 1)
    assert len(head) == 2, proc.stderr
    assert "PRE_CC_INDEFINIDA (contra_chave.contra_chave_env) NÃO definida" in proc.stderr
    assert "contra_chave.contra_chave_file não encontrado ou ilegível" in proc.stderr
    (run,) = [p for p in out.iterdir() if (p / "run.json").is_file()]
    result = json.loads((run / "ubs-pre" / "contra_chave.json").read_text(encoding="utf-8"))
    assert result["status"] != "ok"  # the stage records the same fact as its own evidence
    installed = json.loads((run / "ubs-pre" / "instalacao.json").read_text(encoding="utf-8"))
    assert installed["status"] != "ok"
