"""What the reconciliation expects of PEC's schema, and the check made before trusting it.

The expected tables, columns, their accepted type families and the type seen in a real
PEC live in ``data/pec_schema.csv`` (with source and confidence; see
``docs/reconciliacao.md``). :func:`inspect` reads ``information_schema.columns`` for those
tables, resolves each role to the first variant present, lists what is missing (a required
role with none of its variants) and what has a type the queries cannot use (a join key
stored as text, a flag stored as a date...), and computes the ``schema_fingerprint``:
sha256 of the sorted ``table.column:type`` lines of every column of those tables. Only a
schema with every required role present with a compatible type is the known layout
(:data:`LAYOUT`); anything else is ``pendente``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache

from .. import data

SCHEMA_FILE = "pec_schema.csv"
VERSION_KEY = "VERSAOBANCODADOS"
LAYOUT = "PEC 4.x/5.x (lotação = tb_lotacao + tb_ator_papel)"
# information_schema.columns.data_type -> the family the queries handle
FAMILIES = {
    "smallint": "inteiro", "integer": "inteiro", "bigint": "inteiro", "numeric": "inteiro",
    "character varying": "texto", "character": "texto", "text": "texto",
    "boolean": "booleano",
    "timestamp without time zone": "data", "timestamp with time zone": "data", "date": "data",
}
FAMILY_TEXT = {"inteiro": "inteiro", "texto": "texto", "booleano": "booleano",
               "data": "data/hora"}


@dataclass(frozen=True)
class Role:
    """One column the reconciliation uses: ``table``, a short role name and the column's
    known names in order of preference."""

    table: str
    role: str
    columns: tuple[str, ...]
    required: bool
    types: tuple[str, ...]    # accepted families (FAMILIES' values)
    source_type: str          # the type seen in a real PEC
    use: str
    source: str
    confidence: str

    @property
    def label(self) -> str:
        """``tb_prof.no_profissional|no_civil_profissional`` (every variant)."""
        return f"{self.table}.{'|'.join(self.columns)}"


@cache
def expected() -> tuple[Role, ...]:
    """The rows of ``data/pec_schema.csv``."""
    return tuple(Role(str(r["tabela"]), str(r["papel"]),
                      tuple(c.strip() for c in str(r["colunas"]).split("|") if c.strip()),
                      str(r["obrigatoria"]).strip().lower() == "sim",
                      tuple(t.strip() for t in str(r["tipos"]).split("|") if t.strip()),
                      str(r["tipo_fonte"] or ""), str(r["uso"] or ""),
                      str(r["fonte"] or ""), str(r["confianca"] or ""))
                 for r in data.read_csv(SCHEMA_FILE))


def tables() -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.table for r in expected()))


@dataclass
class SchemaCheck:
    """What ``information_schema`` says about the expected tables."""

    found: dict[str, dict[str, str]]               # table -> {column: data_type}
    resolved: dict[tuple[str, str], str | None]    # (table, role) -> column present or None
    missing: list[str] = field(default_factory=list)
    wrong_types: list[str] = field(default_factory=list)   # "table.column (type found; ...)"
    fingerprint: str = ""
    version: str | None = None
    unreadable: list[str] = field(default_factory=list)   # tables without SELECT privilege

    @property
    def complete(self) -> bool:
        return not self.missing and not self.wrong_types

    @property
    def layout(self) -> str | None:
        """The name of the recognised layout (None when pendente)."""
        return LAYOUT if self.complete else None

    def column(self, table: str, role: str) -> str | None:
        return self.resolved.get((table, role))

    def variants(self) -> dict[str, str]:
        """``table.role`` -> the column used, for roles with more than one known name."""
        return {f"{r.table}.{r.role}": self.resolved[(r.table, r.role)] or "ausente"
                for r in expected() if len(r.columns) > 1}

    def problems(self) -> list[str]:
        """What keeps the schema from being the known layout: the missing names, then the
        columns of an incompatible type (each naming the type found)."""
        return [*self.missing, *self.wrong_types]


def check(found: dict[str, dict[str, str]]) -> SchemaCheck:
    """Resolve every role against the columns ``found`` (pure: no database)."""
    resolved: dict[tuple[str, str], str | None] = {}
    missing: list[str] = []
    wrong: list[str] = []
    for r in expected():
        cols = found.get(r.table, {})
        hit = next((c for c in r.columns if c in cols), None)
        if hit is not None and FAMILIES.get(cols[hit]) not in r.types:
            # present but unusable by the queries: never read (a join on it would end in a
            # raw SQL error, a flag of another type would give a wrong verdict); an optional
            # column of another type is only left out
            if r.required:
                accepted = " ou ".join(FAMILY_TEXT[t] for t in r.types)
                wrong.append(f"{r.table}.{hit} com tipo {cols[hit]} (esperado {accepted}; "
                             f"no PEC: {r.source_type})")
            resolved[(r.table, r.role)] = None
            continue
        resolved[(r.table, r.role)] = hit
        if hit is None and r.required:
            missing.append(r.label if r.table in found else f"{r.table} (tabela)")
    missing = list(dict.fromkeys(missing))
    lines = sorted(f"{t}.{c}:{ty}" for t, cols in found.items() for c, ty in cols.items())
    digest = "sha256:" + hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return SchemaCheck(found, resolved, missing, wrong, digest)


COLUMNS_SQL = """
SELECT c.table_schema, c.table_name, c.column_name, c.data_type
FROM information_schema.columns c
WHERE c.table_name = ANY(%s) AND c.table_schema = ANY(current_schemas(false))
ORDER BY array_position(current_schemas(false), c.table_schema::name), c.table_name,
         c.ordinal_position
"""


def inspect(conn) -> SchemaCheck:
    """Read the expected tables' columns (the first schema of the search path that has each
    table wins, as an unqualified query would) and PEC's version when readable."""
    found: dict[str, dict[str, str]] = {}
    schema_of: dict[str, str] = {}
    with conn.cursor() as cur:
        cur.execute(COLUMNS_SQL, (list(tables()),))
        rows = cur.fetchall()
    for table_schema, table, column, data_type in rows:
        # rows come in search-path order: the first schema holding the table is the one an
        # unqualified query reads
        if schema_of.setdefault(table, table_schema) == table_schema:
            found.setdefault(table, {})[column] = data_type
    result = check(found)
    # information_schema hides the columns a user may not read: tell that apart from a
    # table that does not exist
    with conn.cursor() as cur:
        cur.execute("SELECT t FROM unnest(%s::text[]) AS t WHERE to_regclass(t) IS NOT NULL "
                    "AND NOT has_table_privilege(to_regclass(t), 'SELECT')", (list(tables()),))
        result.unreadable = [row[0] for row in cur.fetchall()]
    if "tb_config_sistema" not in result.unreadable:
        result.version = read_version(conn, result)
    return result


def read_version(conn, schema: SchemaCheck) -> str | None:
    """``VERSAOBANCODADOS`` from ``tb_config_sistema`` (None when it cannot be read)."""
    key = schema.column("tb_config_sistema", "chave")
    text = schema.column("tb_config_sistema", "texto")
    if not key or not text:
        return None
    with conn.cursor() as cur:
        cur.execute(f'SELECT "{text}" FROM tb_config_sistema WHERE "{key}" = %s',  # noqa: S608
                    (VERSION_KEY,))
        row = cur.fetchone()
    return str(row[0]).strip() if row and row[0] is not None else None
