"""Read-only access to PEC's PostgreSQL for the reconciliation.

The connection goes through :func:`esus_runbook.pec.connect` (the same helper as
``verify-install``: URL without password, password only as a :class:`~..secret_refs.Secret`,
pt-BR messages without it). The session starts with ``default_transaction_read_only=on`` and
a ``statement_timeout``; the transaction is ``READ ONLY`` as well (psycopg's ``BEGIN READ
ONLY`` and an explicit ``SET TRANSACTION READ ONLY``), so the server itself refuses any
write. The connection carries TCP keepalives and the reads run under the client's own
deadline (:class:`~..pec.ReadDeadline`). Only SELECTs run, no temporary tables; each table arrives in one
``COPY (SELECT ...) TO STDOUT`` into a pandas DataFrame of strings (NULL → ""). Column names
come from :mod:`.schema` (resolved against ``information_schema``), never from user input.
Joins inside PEC's schema (a lotação's professional, unit, team and CBO) and the
normalization of identifiers run in the SELECT; the comparison with the file is pandas.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd

from ..errors import InputError
from ..ids import scrub
from ..pec import ReadDeadline, check_db_url, connect
from ..secret_refs import Secret
from .schema import SchemaCheck

APPLICATION_NAME = "esus-runbook xml reconcile"
STATEMENT_TIMEOUT_MS = 300_000     # one COPY of a capital's tb_lotacao takes about a second
CONNECT_TIMEOUT_S = 10.0
# the client's own deadline over every read of one reconciliation (the schema check and the
# four COPYs): statement_timeout is the server's and a frozen server never applies it
READ_DEADLINE_S = 600.0
# values of a st_ativo flag (integer in PEC, boolean accepted) that mean active
ACTIVE = ("1", "true")


def open_readonly(db_url: str, password: Secret | None, *, timeout: float = CONNECT_TIMEOUT_S,
                  statement_timeout_ms: int = STATEMENT_TIMEOUT_MS):
    """A read-only connection, already inside a READ ONLY transaction."""
    import psycopg  # lazy: the optional "postgres" extra: only when a database is read

    options = (f"-c default_transaction_read_only=on "
               f"-c statement_timeout={int(statement_timeout_ms)}")
    conn = connect(db_url, password, timeout=timeout, application_name=APPLICATION_NAME,
                   options=options)
    # one snapshot for every table read; psycopg opens the transaction with BEGIN READ ONLY
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    try:
        with ReadDeadline(conn, timeout, check_db_url(db_url)):
            conn.execute("SET TRANSACTION READ ONLY")
    except BaseException:
        conn.close()
        raise
    return conn


def read_error(exc: BaseException, info: dict) -> InputError:
    """A pt-BR InputError for a failure while reading (after connecting): statement timeout,
    lost connection, missing privilege. The server's text never holds the password; CPF/CNS
    -like numbers are masked anyway."""
    raw = " ".join(str(exc).split())
    low = raw.lower()
    where = f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}"
    if "statement timeout" in low:
        return InputError(f"o banco do PEC em {where} não terminou a leitura em "
                          f"{STATEMENT_TIMEOUT_MS // 1000} s", file="--db-url",
                          remedy="tente fora do horário de uso ou confira a carga do servidor "
                                 "do banco")
    if "permission denied" in low:
        return InputError(f"sem permissão de leitura no banco do PEC: {scrub(raw)[:200]}",
                          file="--db-url",
                          remedy="use o usuário do banco do PEC ou conceda SELECT a este "
                                 "usuário")
    return InputError(f"erro ao ler o banco do PEC em {where}: {scrub(raw)[:200]}",
                      file="--db-url", remedy="confira a conexão com o servidor e repita")


def copy_frame(conn, select: str, names: list[str], params=None) -> pd.DataFrame:
    """``COPY (select) TO STDOUT`` as CSV into a DataFrame of strings named ``names``
    (``params`` merged client-side by psycopg: COPY takes no server-side parameters)."""
    buf = io.BytesIO()
    with conn.cursor() as cur, cur.copy(f"COPY ({select}) TO STDOUT (FORMAT csv)",
                                        params) as cp:
        for block in cp:
            buf.write(block)
    buf.seek(0)
    if not buf.getbuffer().nbytes:
        return pd.DataFrame({n: pd.Series([], dtype="str") for n in names})
    return pd.read_csv(buf, header=None, names=names, dtype="str", keep_default_na=False,
                       na_filter=False, encoding="utf-8")


@dataclass
class PecTables:
    """PEC's side, as read (identifiers normalized by the query: trimmed, CNES/INE/CPF/CNS
    zero-padded when they are shorter digit strings, CBO upper-case; NULL → "")."""

    professionals: pd.DataFrame   # cpf, cns — the professionals whose CPF is in the file
    units: pd.DataFrame           # cnes, nome, ativo (bool) — every unit
    teams: pd.DataFrame           # ine, cnes, ativo (bool) — every team, with its unit's CNES
    lotacoes: pd.DataFrame        # id, cpf, cnes, ine, cbo, unidade_ativa, equipe_ativa —
    #                               lotações whose tb_ator_papel is active


def _col(schema: SchemaCheck, alias: str, table: str, role: str) -> str:
    col = schema.column(table, role)
    return f'{alias}."{col}"' if col else "NULL"


def _code(expr: str, width: int) -> str:
    """SQL: ``expr`` as trimmed text, zero-padded to ``width`` when 1..width-1 digits (a
    code stored as a number loses its leading zeros); NULL → ''."""
    t = f"btrim(({expr})::text)"
    # the length test first: the regular expression only runs on short values (twice as
    # fast on a capital's tb_prof as testing every value)
    return (f"CASE WHEN length({t}) < {width} AND {t} ~ '^[0-9]+$' "
            f"THEN lpad({t}, {width}, '0') ELSE coalesce({t}, '') END")


def _active(expr: str) -> str:
    """SQL: 1 when the flag ``expr`` (integer 1 or boolean true) says active, else 0."""
    values = ", ".join(f"'{v}'" for v in ACTIVE)
    return f"CASE WHEN lower(({expr})::text) IN ({values}) THEN 1 ELSE 0 END"


def _is_active(schema: SchemaCheck, alias: str, table: str, role: str) -> str:
    """SQL condition: the flag is active, written for its type (``= 1`` or ``IS TRUE``) so
    the planner estimates it (a CASE over the text of it made it expect a few rows and
    choose nested loops: ten times slower on a capital's lotações)."""
    col = schema.column(table, role)
    typ = schema.found.get(table, {}).get(col or "", "")
    return f'{alias}."{col}" IS TRUE' if typ == "boolean" else f'{alias}."{col}" = 1'


def queries(schema: SchemaCheck) -> dict[str, tuple[str, list[str]]]:
    """The SELECT of each table (column names resolved by ``schema``, which must be
    complete): joins inside PEC's schema happen in SQL, the comparison with the file in
    pandas. A lotação is PEC's joined subclass of ``tb_ator_papel`` (same key); it is read
    when its ``tb_ator_papel.st_ativo`` is 1, with its unit's and team's flags (PEC counts
    it as active only when both are active too). ``professionals`` takes one parameter:
    the file's CPFs (a hash join on the server: a state-wide tb_prof never reaches the
    client)."""
    def c(alias: str, table: str, role: str) -> str:
        return _col(schema, alias, table, role)

    lot = (f"SELECT coalesce(({c('l', 'tb_lotacao', 'id')})::text, ''), "
           f"{_code(c('p', 'tb_prof', 'cpf'), 11)}, "
           f"{_code(c('u', 'tb_unidade_saude', 'cnes'), 7)}, "
           f"{_code(c('e', 'tb_equipe', 'ine'), 10)}, "
           f"coalesce(upper(btrim(({c('b', 'tb_cbo', 'codigo')})::text)), ''), "
           f"{_active(c('u', 'tb_unidade_saude', 'ativo'))}, "
           f"{_active(c('e', 'tb_equipe', 'ativo'))} "
           f"FROM tb_lotacao l "
           f"JOIN tb_ator_papel a ON {c('a', 'tb_ator_papel', 'id')} = "
           f"{c('l', 'tb_lotacao', 'id')} "
           f"LEFT JOIN tb_prof p ON {c('p', 'tb_prof', 'id')} = {c('l', 'tb_lotacao', 'prof')} "
           f"LEFT JOIN tb_unidade_saude u ON {c('u', 'tb_unidade_saude', 'id')} = "
           f"{c('l', 'tb_lotacao', 'unidade')} "
           f"LEFT JOIN tb_equipe e ON {c('e', 'tb_equipe', 'id')} = "
           f"{c('l', 'tb_lotacao', 'equipe')} "
           f"LEFT JOIN tb_cbo b ON {c('b', 'tb_cbo', 'id')} = {c('l', 'tb_lotacao', 'cbo')} "
           f"WHERE {_is_active(schema, 'a', 'tb_ator_papel', 'ativo')}")
    cpf = _code(c('p', 'tb_prof', 'cpf'), 11)
    return {
        "professionals": (f"SELECT {cpf}, {_code(c('p', 'tb_prof', 'cns'), 15)} "
                          f"FROM tb_prof p JOIN unnest(string_to_array(%s, ',')) AS f(cpf) "
                          f"ON f.cpf = {cpf}", ["cpf", "cns"]),
        "units": (f"SELECT {_code(c('u', 'tb_unidade_saude', 'cnes'), 7)}, "
                  f"coalesce(btrim(({c('u', 'tb_unidade_saude', 'nome')})::text), ''), "
                  f"{_active(c('u', 'tb_unidade_saude', 'ativo'))} "
                  f"FROM tb_unidade_saude u", ["cnes", "nome", "ativo"]),
        "teams": (f"SELECT {_code(c('e', 'tb_equipe', 'ine'), 10)}, "
                  f"{_code(c('u', 'tb_unidade_saude', 'cnes'), 7)}, "
                  f"{_active(c('e', 'tb_equipe', 'ativo'))} FROM tb_equipe e "
                  f"LEFT JOIN tb_unidade_saude u ON {c('u', 'tb_unidade_saude', 'id')} = "
                  f"{c('e', 'tb_equipe', 'unidade')}", ["ine", "cnes", "ativo"]),
        "lotacoes": (lot, ["id", "cpf", "cnes", "ine", "cbo", "unidade_ativa",
                           "equipe_ativa"]),
    }


FLAGS = ("ativo", "unidade_ativa", "equipe_ativa")
# tb_prof is read whole (and filtered here) while it holds at most 4 rows per CPF of the file
# plus 100 000: cheaper than the join with the file's CPFs, and the memory stays of the
# file's order; a larger tb_prof (a state's) is filtered by the server
WHOLE_TB_PROF_FACTOR, WHOLE_TB_PROF_ROWS = 4, 100_000


def _prof_rows(conn) -> float:
    """The planner's estimate of tb_prof's rows (``pg_class.reltuples``); unknown (-1, or 0
    on PostgreSQL before 14, before the first ANALYZE) counts as large."""
    row = conn.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass('tb_prof')"
                       ).fetchone()
    value = float(row[0]) if row and row[0] is not None else -1.0
    return value if value > 0 else float("inf")


def read_tables(conn, schema: SchemaCheck, cpfs) -> PecTables:
    """The four frames the comparison needs, one COPY each (``schema`` must be complete);
    ``cpfs``: the file's non-empty CPFs (only those professionals are read)."""
    cpfs = pd.Index([str(c) for c in cpfs])
    # one comma-separated text, not an array of 200 000 values: psycopg quotes one string
    # in milliseconds (a CPF with a comma is not a CPF PEC's import would have accepted)
    wanted = ",".join(c for c in cpfs if "," not in c)
    whole = _prof_rows(conn) <= WHOLE_TB_PROF_FACTOR * len(cpfs) + WHOLE_TB_PROF_ROWS
    frames = {}
    for name, (sql, cols) in queries(schema).items():
        params = None
        if name == "professionals":
            if whole:     # a tb_prof of the file's size: read it all, keep the file's CPFs
                sql = sql.split(" JOIN unnest(")[0]
            else:         # a state's or a capital's: only the file's CPFs leave the server
                params = (wanted,)
        df = copy_frame(conn, sql, cols, params)
        if name == "professionals" and whole:
            df = df[df["cpf"].isin(cpfs)].reset_index(drop=True)
        for flag in FLAGS:
            if flag in df:
                df[flag] = df[flag].eq("1").to_numpy()
        frames[name] = df
    return PecTables(**frames)
