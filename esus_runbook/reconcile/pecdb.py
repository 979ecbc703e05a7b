"""Read-only access to PEC's PostgreSQL for the reconciliation.

The connection goes through :func:`esus_runbook.pec.connect` (the same helper as
``verify-install``: URL without password, password only as a :class:`~..secrets.Secret`,
pt-BR messages without it). The session starts with ``default_transaction_read_only=on`` and
a ``statement_timeout``; the transaction is ``READ ONLY`` as well (psycopg's ``BEGIN READ
ONLY`` and an explicit ``SET TRANSACTION READ ONLY``), so the server itself refuses any
write. Only SELECTs run, no temporary tables; each table arrives in one
``COPY (SELECT ...) TO STDOUT`` into a pandas DataFrame of strings (NULL → ""). Column names
come from :mod:`.schema` (resolved against ``information_schema``), never from user input.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd

from ..secrets import Secret
from .schema import SchemaCheck

APPLICATION_NAME = "esus-runbook xml reconcile"
STATEMENT_TIMEOUT_MS = 300_000     # one COPY of a capital's tb_lotacao takes about a second
CONNECT_TIMEOUT_S = 10.0
# values of st_ativo (smallint, integer or boolean) that mean an active lotação
ACTIVE = ("1", "true")


def open_readonly(db_url: str, password: Secret | None, *, timeout: float = CONNECT_TIMEOUT_S,
                  statement_timeout_ms: int = STATEMENT_TIMEOUT_MS):
    """A read-only connection, already inside a READ ONLY transaction."""
    import psycopg

    from ..pec import connect

    options = (f"-c default_transaction_read_only=on "
               f"-c statement_timeout={int(statement_timeout_ms)}")
    conn = connect(db_url, password, timeout=timeout, application_name=APPLICATION_NAME,
                   options=options)
    # one snapshot for every table read; psycopg opens the transaction with BEGIN READ ONLY
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    conn.execute("SET TRANSACTION READ ONLY")
    return conn


def copy_frame(conn, select: str, names: list[str]) -> pd.DataFrame:
    """``COPY (select) TO STDOUT`` as CSV into a DataFrame of strings named ``names``."""
    buf = io.BytesIO()
    with conn.cursor() as cur, cur.copy(f"COPY ({select}) TO STDOUT (FORMAT csv)") as cp:
        for block in cp:
            buf.write(block)
    buf.seek(0)
    if not buf.getbuffer().nbytes:
        return pd.DataFrame({n: pd.Series([], dtype="str") for n in names})
    return pd.read_csv(buf, header=None, names=names, dtype="str", keep_default_na=False,
                       na_filter=False, encoding="utf-8")


@dataclass
class PecTables:
    """PEC's side, as read: every professional, unit, team and CBO, and the active
    lotações (ids kept as text: they are only compared with each other)."""

    professionals: pd.DataFrame   # id, cpf, cns
    units: pd.DataFrame           # id, cnes, nome
    teams: pd.DataFrame           # id, ine, unidade
    cbos: pd.DataFrame            # id, codigo
    lotacoes: pd.DataFrame        # id, prof, unidade, cbo, equipe (active only)


def _select(schema: SchemaCheck, table: str, roles: list[str], where: str = "") -> str:
    cols = []
    for role in roles:
        col = schema.column(table, role)
        cols.append(f'"{col}"::text' if col else "NULL::text")
    return f"SELECT {', '.join(cols)} FROM {table}{where}"


def read_tables(conn, schema: SchemaCheck) -> PecTables:
    """The five tables the comparison needs (``schema`` must be complete)."""
    active = schema.column("tb_lotacao", "ativo")
    where = f""" WHERE lower("{active}"::text) IN ({", ".join(f"'{v}'" for v in ACTIVE)})"""
    lot_roles = ["id", "prof", "unidade", "cbo", "equipe"]
    return PecTables(
        professionals=copy_frame(conn, _select(schema, "tb_prof", ["id", "cpf", "cns"]),
                                 ["id", "cpf", "cns"]),
        units=copy_frame(conn, _select(schema, "tb_unidade_saude", ["id", "cnes", "nome"]),
                         ["id", "cnes", "nome"]),
        teams=copy_frame(conn, _select(schema, "tb_equipe", ["id", "ine", "unidade"]),
                         ["id", "ine", "unidade"]),
        cbos=copy_frame(conn, _select(schema, "tb_cbo", ["id", "codigo"]), ["id", "codigo"]),
        lotacoes=copy_frame(conn, _select(schema, "tb_lotacao", lot_roles, where), lot_roles))
