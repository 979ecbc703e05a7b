"""Backup evidence (esus_runbook.upkeep.backup) on dumps made by PostgreSQL's own pg_dump of
the real test database: a good dump, a truncated dump, an empty file, a dump of another
database, a world-readable and an old one; read on this machine and through the test sshd;
the restore test into a scratch database that the command creates and drops."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from esus_runbook import schemas
from esus_runbook.results import Checks
from esus_runbook.status import Status
from esus_runbook.upkeep.backup import SCRATCH_PREFIX, evidence
from esus_runbook.upkeep.shell import LocalShell

from .support.upkeep import backup_folder


def _site(folder: Path, pg, **extra) -> dict:
    return {"backup": {"pasta": str(folder), "padrao": "esus-*.backup", "janela_horas": 26,
                       "copia_externa": True, "copia_externa_onde": "NAS da secretaria",
                       "pg_restore": str(pg.bin / "pg_restore"), **extra},
            "cenario": {"backup_automatizado": True}}


def _checks(site: dict, **kw) -> tuple[dict, dict]:
    checks = Checks()
    metrics = evidence(LocalShell(), site, checks, **kw)
    return {c.id: c for c in checks}, metrics


def test_good_dump_is_evidence(tmp_path, dumps, postgres):
    checks, metrics = _checks(_site(backup_folder(tmp_path, dumps, "good"), postgres))
    assert {k: c.status for k, c in checks.items() if c.status is not Status.OK} == {}
    assert metrics["sha256"] == hashlib.sha256(dumps["good"].read_bytes()).hexdigest()
    assert metrics["arquivo"] == "esus-2026-01-09.backup" and metrics["dumps"] == 4
    assert metrics["banco_do_dump"] == "pec_bkp"
    assert 0.9 < metrics["idade_horas"] < 1.5


def test_truncated_dump_passes_the_listing_but_not_the_last_block(tmp_path, dumps, postgres):
    checks, _ = _checks(_site(backup_folder(tmp_path, dumps, "truncated"), postgres))
    assert checks["BKP_LISTA"].status is Status.OK  # the table of contents is at the head
    assert checks["BKP_COMPLETO"].status is Status.FALHA
    assert "tb_prof" in checks["BKP_COMPLETO"].observed or \
        "tb_" in checks["BKP_COMPLETO"].observed
    assert checks["BKP_CENARIO"].status is Status.FALHA  # declared yes, measured no


def test_empty_file_fails_size_and_listing(tmp_path, dumps, postgres):
    checks, _ = _checks(_site(backup_folder(tmp_path, dumps, "empty"), postgres))
    assert checks["BKP_TAMANHO"].status is Status.FALHA
    assert checks["BKP_LISTA"].status is Status.FALHA
    assert "BKP_TABELAS" not in checks


def test_dump_of_another_database_lacks_the_pec_tables(tmp_path, dumps, postgres):
    checks, metrics = _checks(_site(backup_folder(tmp_path, dumps, "other"), postgres))
    assert checks["BKP_LISTA"].status is Status.OK
    assert checks["BKP_TABELAS"].status is Status.FALHA
    assert "tb_config_sistema" in checks["BKP_TABELAS"].observed
    assert metrics["banco_do_dump"] == "outro_bkp"


def test_sudden_drop_old_and_world_readable(tmp_path, dumps, postgres):
    folder = backup_folder(tmp_path, dumps, "other", newest_age_h=50, mode=0o644)
    checks, _ = _checks(_site(folder, postgres))
    assert checks["BKP_TAMANHO"].status is Status.FALHA  # much smaller than the good ones
    assert checks["BKP_RECENTE"].status is Status.FALHA
    assert checks["BKP_PERMISSAO"].status is Status.FALHA
    assert checks["BKP_PERMISSAO"].observed == "644"


def test_missing_folder_and_missing_section(tmp_path, postgres):
    checks, _ = _checks(_site(tmp_path / "nao-existe", postgres))
    assert checks["BKP_PASTA"].status is Status.FALHA
    checks, metrics = _checks({"backup": {}, "cenario": {}})
    assert checks["BKP_PASTA"].status is Status.PENDENTE and metrics == {}


def _scratch_databases(pg) -> list[str]:
    with pg.connect() as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname "
                                           "LIKE %s", (SCRATCH_PREFIX + "%",))]


def test_restore_test_reads_the_version_back_and_drops_the_scratch(tmp_path, dumps, postgres):
    url = f"postgresql://postgres@{postgres.host}:{postgres.port}/postgres"
    site = _site(backup_folder(tmp_path, dumps, "good"), postgres, restaurar_em=url,
                 restaurar_senha_env="PG_TESTE")
    checks, metrics = _checks(site, restore=True, env={"PG_TESTE": postgres.superuser_password})
    assert checks["BKP_RESTAURACAO"].status is Status.OK, checks["BKP_RESTAURACAO"]
    assert metrics["versao_restaurada"] == "5.5.24"
    assert _scratch_databases(postgres) == []
    site = _site(backup_folder(tmp_path / "t", dumps, "truncated"), postgres, restaurar_em=url,
                 restaurar_senha_env="PG_TESTE")
    checks, _ = _checks(site, restore=True, env={"PG_TESTE": postgres.superuser_password})
    assert checks["BKP_RESTAURACAO"].status is Status.FALHA
    assert postgres.superuser_password not in json.dumps(checks["BKP_RESTAURACAO"].observed)
    assert _scratch_databases(postgres) == []


def test_backup_command_over_ssh(tmp_path, dumps, postgres, sshd, cli):
    folder = backup_folder(tmp_path, dumps, "good")
    site = tmp_path / "site.yaml"
    site.write_text(f"""site_id: ubs-bkp
nome: UBS Backup
municipio_ibge: "2927408"
cenario:
  backup_automatizado: true
servidor:
  ssh: {sshd.target()}
  chave_ssh_file: {sshd.client_key}
  known_hosts: {sshd.known_hosts()}
backup:
  pasta: {folder}
  padrao: "esus-*.backup"
  janela_horas: 24
  copia_externa: false
  pg_restore: {postgres.bin / 'pg_restore'}
""", encoding="utf-8")
    out = tmp_path / "execucoes"
    proc = cli("backup", str(site), "--execucoes", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "BKP_COPIA_EXTERNA" in proc.stdout and "alerta" in proc.stdout
    files = list((out / "operacoes" / "ubs-bkp").glob("backup-*.json"))
    data = json.loads(files[0].read_text(encoding="utf-8"))
    assert schemas.errors("operacao", data) == []
    assert data["metrics"]["servidor"] == sshd.target()
    assert data["status"] == "alerta"
    # no row of the dump reaches the record or the terminal
    assert "Profissional 1" not in json.dumps(data) and "Profissional" not in proc.stdout


def test_restore_test_against_pec_database_is_refused(tmp_path, cli):
    site = tmp_path / "site.yaml"
    site.write_text("""site_id: ubs-x
nome: X
municipio_ibge: "2927408"
instalacao:
  db_url: postgresql://esus@127.0.0.1:5433/esus
backup:
  pasta: /opt/e-SUS/backups
  restaurar_em: postgresql://esus@127.0.0.1:5433/esus
""", encoding="utf-8")
    proc = cli("backup", str(site), "--execucoes", str(tmp_path / "ex"), "--restaurar-teste")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "banco do PEC" in proc.stderr and not (tmp_path / "ex").exists()


def test_hostile_backup_fields_are_refused_in_one_line_each(tmp_path, cli):
    site = tmp_path / "site.yaml"
    site.write_text("""site_id: ubs-x
nome: X
municipio_ibge: "2927408"
backup:
  pasta: /opt/backups/$(rm -rf ~)
  padrao: ../../etc/*
  pg_restore: pg_restore; reboot
  restaurar_em: postgresql://postgres:SenhaNaUrl@10.0.0.9/postgres
""", encoding="utf-8")
    proc = cli("backup", str(site), "--execucoes", str(tmp_path / "ex"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    for key in ("backup.pasta", "backup.padrao", "backup.pg_restore", "backup.restaurar_em"):
        assert sum(key in line for line in lines) == 1, (key, lines)
    assert "SenhaNaUrl" not in proc.stderr
    assert not (tmp_path / "ex").exists()


class _ShellWithout(LocalShell):
    """This machine's shell with a PATH of the listed tools only (a server without openssl)."""

    def __init__(self, folder: Path, tools: tuple[str, ...]):
        folder.mkdir()
        for tool in tools:
            os.symlink(shutil.which(tool), folder / tool)
        self.path = str(folder)

    def run(self, command: str, **kw):
        return super().run(f"PATH={self.path}; export PATH; {command}", **kw)


def test_the_hash_falls_back_to_sha256sum_without_openssl(tmp_path, dumps, postgres):
    """OpenSSL's SHA-256 is the fast one; a server without openssl still gets the hash, from
    coreutils, and the check says which tool computed it."""
    tools = ("sh", "find", "sort", "tail", "cut", "date", "grep", "awk", "head", "sha256sum")
    site = _site(backup_folder(tmp_path, dumps, "good"), postgres)
    expected = hashlib.sha256(dumps["good"].read_bytes()).hexdigest()
    for shell, tool in ((LocalShell(), "openssl"),
                        (_ShellWithout(tmp_path / "bin", tools), "sha256sum")):
        checks = Checks()
        metrics = evidence(shell, site, checks)
        sha = next(c for c in checks if c.id == "BKP_SHA256")
        assert metrics["sha256"] == expected and sha.status is Status.OK
        assert sha.observed == f"{expected} ({tool})"
