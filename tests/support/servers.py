"""Real servers for the tests (a pytest plugin: ``pytest_plugins`` in conftest.py).

* ``postgres`` (session): a PostgreSQL started by the tests — ``initdb`` in a temporary folder
  as the ``postgres`` user (``runuser -u postgres --`` when the tests run as root; binaries in
  ``/usr/lib/postgresql/*/bin``), listening on 127.0.0.1 with **md5** authentication and
  ``password_encryption = md5``. Roles: the superuser ``postgres`` and ``esus`` (the PEC user),
  plus ``esus_scram`` whose sessions report ``password_encryption = scram-sha-256``.
* ``pec_db`` (factory): a fresh database with ``tb_config_sistema(co_config_sistema,
  ds_config_sistema, ds_texto, ds_inteiro)`` filled like a PEC's (docs/dominio.md, "Instalação e banco do PEC").
* ``http_server`` (factory): :class:`esus_runbook.demo.pec_simulator.SimServer` on 127.0.0.1 — PEC-like
  answers (slow, 500, wrong version, dropped) and files with Range, dropped connections
  mid-body, no-Range servers and HTTP errors. ``closed_url``: a port where nothing listens.
* ``demo_simulator`` (session): the demo's simulated PECs on 127.0.0.1:18080 (0.0.1) and
  18081 (0.0.0), the ports ``examples/sites/*.yaml`` point to.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from esus_runbook.demo.pec_simulator import PecConfig, SimServer
from esus_runbook.net import free_port

from .project import require

DEMO_PORTS = {18080: "0.0.1", 18081: "0.0.0"}


# --------------------------------------------------------------------------- PostgreSQL
def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class Postgres:
    root: Path
    port: int
    superuser_password: str
    esus_password: str
    bin: Path

    host = "127.0.0.1"

    def url(self, user: str = "esus", db: str = "esus") -> str:
        return f"postgresql://{user}@{self.host}:{self.port}/{db}"

    def connect(self, db: str = "postgres", user: str = "postgres", password: str | None = None):
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, dbname=db, user=user,
                               password=password or self.superuser_password, autocommit=True,
                               connect_timeout=5)

    def execute(self, sql: str, params=None, db: str = "postgres") -> None:
        with self.connect(db) as conn:
            conn.execute(sql, params)


def _start_postgres() -> Postgres:
    binary = pg_bin()
    require(binary is not None, "PostgreSQL (initdb em /usr/lib/postgresql/*/bin)")
    if os.geteuid() == 0:
        require(shutil.which("runuser") is not None, "'runuser'")
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            pw = None
        require(pw is not None, "usuário 'postgres' do sistema")
    root = Path(tempfile.mkdtemp(prefix="esus-runbook-pg-"))
    os.chmod(root, 0o700)
    superuser_password = "Sup-" + secrets.token_urlsafe(12)
    esus_password = "Esus-" + secrets.token_urlsafe(12)
    pwfile = root / "pw"
    pwfile.write_text(superuser_password + "\n", encoding="utf-8")
    os.chmod(pwfile, 0o600)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
    data = root / "data"
    run = lambda cmd, **kw: subprocess.run(_as_postgres(cmd), capture_output=True,  # noqa: E731
                                           text=True, timeout=120, **kw)
    proc = run([str(binary / "initdb"), "-D", str(data), "-U", "postgres", "--auth=md5",
                f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"])
    assert proc.returncode == 0, proc.stderr
    pwfile.unlink()
    port = free_port()
    with (data / "postgresql.conf").open("a", encoding="utf-8") as fh:
        fh.write(f"\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
                 f"unix_socket_directories = '{root}'\npassword_encryption = md5\n"
                 "fsync = off\nmax_connections = 40\n")
    (data / "pg_hba.conf").write_text(
        "local all all md5\nhost all all 127.0.0.1/32 md5\n", encoding="utf-8")
    proc = run([str(binary / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w",
                "-t", "60", "start"])
    assert proc.returncode == 0, proc.stderr + (root / "log").read_text(errors="replace")
    pg = Postgres(root, port, superuser_password, esus_password, binary)
    pg.execute(f"ALTER ROLE postgres PASSWORD '{superuser_password}'")  # now stored as md5
    pg.execute(f"CREATE ROLE esus LOGIN CREATEDB PASSWORD '{esus_password}'")
    pg.execute(f"CREATE ROLE esus_scram LOGIN PASSWORD '{esus_password}'")
    pg.execute("ALTER ROLE esus_scram SET password_encryption = 'scram-sha-256'")
    return pg


def _stop_postgres(pg: Postgres) -> None:
    subprocess.run(_as_postgres([str(pg.bin / "pg_ctl"), "-D", str(pg.root / "data"), "-m",
                                 "immediate", "-w", "stop"]), capture_output=True, timeout=60)
    shutil.rmtree(pg.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    pg = _start_postgres()
    try:
        yield pg
    finally:
        _stop_postgres(pg)


PEC_CONFIG_DEFAULTS = {
    "VERSAOBANCODADOS": ("Versão do banco de dados", "5.5.24", None),
    "TREINAMENTO": ("Instalação de treinamento", None, 0),
    "TIPOINSTALACAO": ("Tipo da instalação", "PRONTUARIO", None),
    "LINKINSTALACAO": ("Endereço URI base da instalação", "http://127.0.0.1:8080", None),
    "NOMEINSTALACAO": ("Nome da instalação", "UBS TESTE", None),
}


@pytest.fixture
def pec_db(postgres: Postgres):
    """Factory: ``pec_db(**overrides)`` creates a fresh PEC-like database and returns its
    name; an override is ``KEY=(ds_texto, ds_inteiro)`` or ``KEY=None`` to leave the row out;
    ``table=False`` creates a database without ``tb_config_sistema``."""
    created: list[str] = []

    def make(table: bool = True, **overrides) -> str:
        name = f"esus_{secrets.token_hex(4)}"
        postgres.execute(f'CREATE DATABASE "{name}" OWNER esus')
        created.append(name)
        if table:
            with postgres.connect(name, user="esus", password=postgres.esus_password) as conn:
                conn.execute("CREATE TABLE tb_config_sistema (co_config_sistema varchar(60) "
                             "PRIMARY KEY, ds_config_sistema varchar(255), ds_texto text, "
                             "ds_inteiro bigint)")
                conn.execute("GRANT SELECT ON tb_config_sistema TO esus_scram")
                rows = {k: (d, t, i) for k, (d, t, i) in PEC_CONFIG_DEFAULTS.items()}
                for key, value in overrides.items():
                    if value is None:
                        rows.pop(key, None)
                    else:
                        rows[key] = (rows.get(key, ("",))[0], *value)
                for key, (desc, texto, inteiro) in rows.items():
                    conn.execute("INSERT INTO tb_config_sistema VALUES (%s, %s, %s, %s)",
                                 (key, desc, texto, inteiro))
        return name

    yield make
    for name in created:
        try:
            postgres.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:
            pass


# --------------------------------------------------------------------------- HTTP
@pytest.fixture
def http_server():
    """Factory: ``http_server(pec=PecConfig(...), files={"/x/a.jar": FileConfig(...)})``
    returns a started :class:`SimServer` on 127.0.0.1 (stopped after the test)."""
    started: list[SimServer] = []

    def make(pec: PecConfig | None = None, files=None, folder: Path | None = None) -> SimServer:
        server = SimServer(0, pec=pec, files=files, folder=folder).start()
        started.append(server)
        return server

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def closed_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"


def _answers_as_demo(port: int, versao: str) -> bool:
    import requests

    try:
        info = requests.get(f"http://127.0.0.1:{port}/api/public/info", timeout=2).json()
    except Exception:
        return False
    return info.get("versao") == versao and "SIMULADOR" in str(info.get("simulador", ""))


@pytest.fixture(scope="session")
def demo_simulator() -> Iterator[dict[int, str]]:
    """The simulated PECs the demo site files point to. A simulator already running on those
    ports (e.g. ``make demo`` in another terminal) is reused."""
    servers = []
    try:
        for port, versao in DEMO_PORTS.items():
            try:
                servers.append(SimServer(port, PecConfig(versao=versao)).start())
            except OSError:
                deadline = time.monotonic() + 5
                while not _answers_as_demo(port, versao) and time.monotonic() < deadline:
                    time.sleep(0.2)
                require(_answers_as_demo(port, versao),
                        f"porta {port} livre para o simulador de PEC da demonstração")
        yield dict(DEMO_PORTS)
    finally:
        for s in servers:
            s.stop()
