"""The SSH path leaks no secret: a wrong key or a wrong password is a clean ``falha`` and
neither the password, nor the key file's contents, appear in any output, exception text,
stage result or the process list."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import traceback

import pytest

from esus_runbook.sites.loading import validate_site
from esus_runbook.ssh import SshError, SshOptions, connect, parse_target
from esus_runbook.stages import StageContext, evaluate
from tests.support.project import ROOT
from tests.support.sshd import PASSWORD, PASSWORD_USER

WRONG = "Senha-Errada-Vaz4mento-31"


def _texts(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), *map(str, exc.args),
                      *traceback.format_exception(exc)])


def _other_key(tmp_path):
    key = tmp_path / "outra_chave"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    body = "".join(key.read_text().splitlines()[1:-1])
    return key, body


def test_wrong_password_is_falha_without_the_password(sshd, monkeypatch):
    monkeypatch.setenv("SSH_SENHA_TESTE", WRONG)
    opts = SshOptions(known_hosts=str(sshd.known_hosts()), password_env="SSH_SENHA_TESTE")
    with pytest.raises(SshError) as exc:
        connect(parse_target(sshd.target(PASSWORD_USER)), opts)
    assert exc.value.kind == "autenticacao"
    assert "recusou a autenticação" in str(exc.value)
    assert WRONG not in _texts(exc.value)
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_wrong_key_is_falha_without_key_material(sshd, tmp_path):
    key, body = _other_key(tmp_path)
    opts = SshOptions(identity=str(key), known_hosts=str(sshd.known_hosts()))
    with pytest.raises(SshError) as exc:
        connect(parse_target(sshd.target()), opts)
    assert exc.value.kind == "autenticacao"
    assert body[:40] not in _texts(exc.value)


def test_cli_and_stage_never_show_the_password(sshd, tmp_path):
    """The CLI (stdout, stderr, process list while it runs) and stage 02's saved result."""
    env = {"SSH_SENHA_TESTE": WRONG}
    cmd = [sys.executable, "-m", "esus_runbook", "sondar", "--ssh", sshd.target(PASSWORD_USER),
           "--hosts-conhecidos", str(sshd.known_hosts()), "--senha-env", "SSH_SENHA_TESTE",
           "--json", str(tmp_path / "s.json")]

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env}, cwd=ROOT)
    listings = []
    while proc.poll() is None:
        listings.append(subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True,
                                       text=True).stdout)
        time.sleep(0.05)
    out, err = proc.communicate()
    assert proc.returncode == 1 and "recusou a autenticação" in err
    assert "Traceback" not in err and not (tmp_path / "s.json").exists()
    assert listings and any("esus_runbook" in x for x in listings)
    for text in (out, err, *listings):
        assert WRONG not in text and PASSWORD not in text

    site = validate_site({"site_id": "s", "nome": "S", "municipio_ibge": "2927408",
                          "servidor": {"ssh": sshd.target(PASSWORD_USER),
                                       "known_hosts": str(sshd.known_hosts()),
                                       "senha_env": "SSH_SENHA_TESTE"}},
                         source=tmp_path / "s.yaml")
    run = tmp_path / "run"
    run.mkdir()
    r = evaluate("ambiente", site, StageContext(run_site_dir=run, env=env))
    r.save(run)
    assert r.status.value == "falha"
    assert "recusou a autenticação" in r.checks[0].observed
    for f in run.rglob("*"):
        if f.is_file():
            assert WRONG not in f.read_text(errors="replace"), f
