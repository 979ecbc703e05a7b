"""The upkeep tests' shared pieces (a plugin conftest.py loads): PEC dumps made by the real
pg_dump of the test PostgreSQL, a backup folder of them, a PEC-like database with Liquibase's
lock table, an installer the team registry vouches for, and the site of an update."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from esus_runbook.demo.pec_simulator import installer_bytes
from esus_runbook.installer.releases import COLUMNS, Registry

# The PEC tables a dump must hold, with the columns docs/dominio.md ("Instalação e banco do
# PEC") sources: tb_config_sistema [H]; tb_prof, tb_unidade_saude, tb_equipe, tb_ator_papel,
# tb_lotacao [M: public dumps of real PEC databases, see docs/dominio.md].
PEC_DDL = """
CREATE TABLE tb_config_sistema (co_config_sistema varchar(60) PRIMARY KEY,
  ds_config_sistema varchar(255), ds_texto text, ds_inteiro bigint);
CREATE TABLE tb_prof (co_seq_prof bigint PRIMARY KEY, nu_cpf varchar(11), nu_cns varchar(15),
  no_profissional varchar(255));
CREATE TABLE tb_unidade_saude (co_seq_unidade_saude bigint PRIMARY KEY, nu_cnes varchar(7),
  no_unidade_saude varchar(255), st_ativo integer);
CREATE TABLE tb_equipe (co_seq_equipe bigint PRIMARY KEY, nu_ine varchar(10),
  no_equipe varchar(255), co_unidade_saude bigint, tp_equipe integer, st_ativo integer);
CREATE TABLE tb_ator_papel (co_seq_ator_papel bigint PRIMARY KEY, co_prof bigint,
  no_tipo_ator_papel varchar(60), st_ativo integer);
CREATE TABLE tb_lotacao (co_ator_papel bigint PRIMARY KEY, co_prof bigint,
  co_unidade_saude bigint, co_cbo bigint, co_equipe bigint, dt_desativacao_lotacao date,
  st_importada integer);
INSERT INTO tb_config_sistema VALUES ('VERSAOBANCODADOS', 'Versão do banco de dados',
  '5.5.24', NULL);
INSERT INTO tb_prof SELECT g, lpad(g::text, 11, '0'), NULL, 'Profissional ' || g
  FROM generate_series(1, 20000) g;
INSERT INTO tb_prof VALUES (999999, '52998224725', '898001160651806', '{CONTENT_MARKER}');
""".replace("{CONTENT_MARKER}", "MARCADOR-CONTEUDO-DO-BACKUP-7f3a")
CONTENT_MARKER = "MARCADOR-CONTEUDO-DO-BACKUP-7f3a"  # a row the outputs must never show


def dump(pg, db: str, path: Path) -> Path:
    env = {**os.environ, "PGPASSWORD": pg.superuser_password}
    subprocess.run([str(pg.bin / "pg_dump"), "-Fc", "-h", pg.host, "-p", str(pg.port), "-U",
                    "postgres", "-f", str(path), db], env=env, check=True, timeout=120)
    os.chmod(path, 0o600)
    return path


@pytest.fixture(scope="module")
def dumps(postgres, tmp_path_factory):
    """A good PEC dump and a dump of another database, made by pg_dump."""
    folder = tmp_path_factory.mktemp("dumps")
    postgres.execute('CREATE DATABASE "pec_bkp" OWNER esus')
    postgres.execute('CREATE DATABASE "outro_bkp" OWNER esus')
    with postgres.connect("pec_bkp") as conn:
        for statement in PEC_DDL.split(";"):
            if statement.strip():
                conn.execute(statement)
    with postgres.connect("outro_bkp") as conn:
        conn.execute("CREATE TABLE clientes (id int, nome text)")
        conn.execute("INSERT INTO clientes SELECT g, 'x' || g FROM generate_series(1, 5000) g")
    out = {"good": dump(postgres, "pec_bkp", folder / "good.dump"),
           "other": dump(postgres, "outro_bkp", folder / "other.dump")}
    yield out
    for db in ("pec_bkp", "outro_bkp"):
        postgres.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def backup_folder(tmp_path: Path, dumps, newest: str, *, history: int = 3,
                  newest_age_h: float = 1, mode: int = 0o600) -> Path:
    """A backup folder: ``history`` earlier good dumps a day apart, then ``newest``."""
    folder = tmp_path / "backups"
    folder.mkdir(parents=True)
    now = time.time()
    for i in range(history):
        p = folder / f"esus-2026-01-0{i + 1}.backup"
        shutil.copy(dumps["good"], p)
        os.chmod(p, 0o600)
        t = now - newest_age_h * 3600 - (history - i) * 86400
        os.utime(p, (t, t))
    p = folder / "esus-2026-01-09.backup"
    if newest == "good":
        shutil.copy(dumps["good"], p)
    elif newest == "truncated":  # cut inside the last data block: same size trend
        data = dumps["good"].read_bytes()
        p.write_bytes(data[:len(data) - 2000])
    elif newest == "empty":
        p.write_bytes(b"")
    elif newest == "other":
        shutil.copy(dumps["other"], p)
    os.chmod(p, mode)
    t = now - newest_age_h * 3600
    os.utime(p, (t, t))
    return folder


TARGET = "5.5.30"  # a version only the test's team registry knows

# Liquibase's lock table (Liquibase documentation, "DATABASECHANGELOGLOCK table"): ID,
# LOCKED, LOCKGRANTED, LOCKEDBY; PostgreSQL folds the names to lower case.
LOCK_DDL = ("CREATE TABLE databasechangeloglock (id integer PRIMARY KEY, locked boolean NOT "
            "NULL, lockgranted timestamp, lockedby varchar(255))")


@pytest.fixture
def pec(pec_db, postgres):
    """A PEC-like database with a free Liquibase lock; returns (db_url, connect)."""
    name = pec_db(LINKINSTALACAO=("https://pec.municipio.ba.gov.br", None))

    def conn():
        return postgres.connect(name, user="esus", password=postgres.esus_password)

    with conn() as c:
        c.execute(LOCK_DDL)
        c.execute("INSERT INTO databasechangeloglock VALUES (1, false, NULL, NULL)")
    return postgres.url(db=name), conn


@pytest.fixture
def installer(tmp_path):
    data = installer_bytes(8192)
    path = tmp_path / "inst" / f"eSUS-AB-PEC-{TARGET}-Linux64.jar"
    path.parent.mkdir()
    path.write_bytes(data)
    team = tmp_path / "inst" / "registro-instaladores.csv"
    with team.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerow({"versao": TARGET, "plataforma": "linux", "arquivo": path.name,
                    "tamanho_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                    "origem": "teste"})
    return path, Registry(team)


def update_site(tmp_path, postgres, db_url, pec_url, *, removeipc="no", backup=True) -> dict:
    server = tmp_path / "srv"
    (server / "logind.conf.d").mkdir(parents=True, exist_ok=True)
    if removeipc:
        (server / "logind.conf").write_text(f"[Login]\nRemoveIPC={removeipc}\n")
    ssl = server / "ssl.properties"
    if not ssl.exists():
        ssl.write_text("server.ssl.key-store-password=segredo-do-keystore\n")
    return {"instalacao": {"pec_url": pec_url, "db_url": db_url},
            "instalador": {"plataforma": "linux"},
            "cenario": {"backup_automatizado": True},
            "backup": ({"pasta": str(tmp_path / "backups"), "padrao": "esus-*.backup",
                        "janela_horas": 26, "copia_externa": True,
                        "pg_restore": str(postgres.bin / "pg_restore")} if backup else {}),
            "atualizacao": {"pasta_pec": str(tmp_path), "ssl_properties": str(ssl),
                            "logind": str(server), "log_pec": str(server / "pec.log"),
                            "backup_instalador": True}}
