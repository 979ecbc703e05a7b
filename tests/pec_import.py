"""A PEC-like schema and an importer of CNES XMLs into it, for the reconciliation tests and
benchmark (not part of the package: PEC's own import is the real one).

:func:`create_schema` builds the tables the reconciliation reads, with the structure seen in
public community queries (docs/reconciliacao.md); ``omit`` leaves columns out and
``name_column`` picks the professional-name variant. :func:`import_xml` loads a parsed file
the way PEC's import does (docs/reconciliacao.md): units, teams and CBO codes are created
when new, professionals are matched by CPF (CNS updated), every lotação of the
municipality's units is deactivated and those in the file are re-activated or inserted.
Lotações whose unit or (unit, INE) team is not in the file are skipped, as PEC refuses
them. The bulk work uses COPY into temporary staging tables (this is the writer; the
reconciliation itself never writes).
"""

from __future__ import annotations

import io

import pandas as pd

from esus_runbook.cnes.parser import CnesFile

TABLES = {
    "tb_unidade_saude": [("co_seq_unidade_saude", "bigserial PRIMARY KEY"),
                         ("nu_cnes", "varchar(7) NOT NULL"), ("no_unidade_saude", "varchar(255)")],
    "tb_equipe": [("co_seq_equipe", "bigserial PRIMARY KEY"), ("nu_ine", "varchar(10)"),
                  ("no_equipe", "varchar(255)"), ("co_unidade_saude", "bigint")],
    "tb_cbo": [("co_cbo", "bigserial PRIMARY KEY"), ("co_cbo_2002", "varchar(6) NOT NULL"),
               ("no_cbo", "varchar(255)")],
    "tb_prof": [("co_seq_prof", "bigserial PRIMARY KEY"), ("nu_cpf", "varchar(11)"),
                ("nu_cns", "varchar(15)"), ("no_profissional", "varchar(255)")],
    "tb_lotacao": [("co_ator_papel", "bigserial PRIMARY KEY"), ("co_prof", "bigint NOT NULL"),
                   ("co_unidade_saude", "bigint NOT NULL"), ("co_cbo", "bigint NOT NULL"),
                   ("co_equipe", "bigint"), ("st_ativo", "smallint NOT NULL DEFAULT 1"),
                   ("dt_desativacao_lotacao", "timestamp")],
}


def create_schema(conn, *, omit: tuple[str, ...] = (), name_column: str = "no_profissional",
                  social_name: bool = False) -> None:
    """Create the PEC-like tables. ``omit``: ``"table.column"`` names (or a bare table name)
    to leave out; ``name_column``: ``no_profissional`` or ``no_civil_profissional``."""
    for table, cols in TABLES.items():
        if table in omit:
            continue
        defs = []
        for name, typ in cols:
            if table == "tb_prof" and name == "no_profissional":
                name = name_column
            if f"{table}.{name}" in omit:
                continue
            defs.append(f"{name} {typ}")
        if table == "tb_prof" and social_name:
            defs.append("no_social_profissional varchar(255)")
        conn.execute(f"CREATE TABLE {table} ({', '.join(defs)})")
    if "tb_prof" not in omit and "tb_prof.nu_cpf" not in omit:
        conn.execute("CREATE INDEX ON tb_prof (nu_cpf)")
    if "tb_lotacao" not in omit:
        conn.execute("CREATE INDEX ON tb_lotacao (co_prof)")


def _copy(conn, table: str, df: pd.DataFrame) -> None:
    """COPY a frame into a staging table (an empty CSV field arrives as NULL)."""
    buf = io.StringIO()
    df.to_csv(buf, index=False, header=False)
    with conn.cursor().copy(f"COPY {table} ({', '.join(df.columns)}) FROM STDIN "
                            "(FORMAT csv)") as cp:
        cp.write(buf.getvalue())


def import_xml(conn, cf: CnesFile, *, name_column: str = "no_profissional") -> dict[str, int]:
    """Load ``cf`` like PEC's import (see the module docstring); returns row counts.
    ``conn`` must be a writable connection (autocommit or committed by the caller)."""
    units = cf.establishments.drop_duplicates("cnes")[["cnes", "nome"]]
    teams = cf.teams.drop_duplicates(["cnes", "ine"])[["cnes", "ine", "nome"]]
    prof = cf.professionals
    profs = prof.loc[prof["cpf"] != "", ["cpf", "cns"]].drop_duplicates("cpf")
    lot = cf.lotacoes
    lots = pd.DataFrame({"cpf": prof["cpf"].to_numpy()[lot["prof"].to_numpy()],
                         "cnes": lot["cnes"].to_numpy(), "ine": lot["ine"].to_numpy(),
                         "cbo": lot["cbo"].to_numpy()})
    lots = lots[lots["cpf"] != ""].drop_duplicates()
    cbos = pd.DataFrame({"cbo": lots["cbo"].drop_duplicates()})
    staging = {"s_unit": (units, "cnes text, nome text"),
               "s_team": (teams, "cnes text, ine text, nome text"),
               "s_prof": (profs, "cpf text, cns text"),
               "s_cbo": (cbos, "cbo text"),
               "s_lot": (lots, "cpf text, cnes text, ine text, cbo text")}
    for name, (df, cols) in staging.items():
        conn.execute(f"CREATE TEMP TABLE {name} ({cols})")
        _copy(conn, name, df)
    conn.execute("""INSERT INTO tb_unidade_saude (nu_cnes, no_unidade_saude)
                    SELECT s.cnes, s.nome FROM s_unit s WHERE NOT EXISTS
                    (SELECT 1 FROM tb_unidade_saude u WHERE u.nu_cnes = s.cnes)""")
    conn.execute("""INSERT INTO tb_equipe (nu_ine, no_equipe, co_unidade_saude)
                    SELECT s.ine, s.nome, u.co_seq_unidade_saude FROM s_team s
                    JOIN tb_unidade_saude u ON u.nu_cnes = s.cnes WHERE NOT EXISTS
                    (SELECT 1 FROM tb_equipe e WHERE e.nu_ine = s.ine
                     AND e.co_unidade_saude = u.co_seq_unidade_saude)""")
    conn.execute("""INSERT INTO tb_cbo (co_cbo_2002, no_cbo) SELECT s.cbo, s.cbo FROM s_cbo s
                    WHERE NOT EXISTS (SELECT 1 FROM tb_cbo c WHERE c.co_cbo_2002 = s.cbo)""")
    conn.execute("UPDATE tb_prof p SET nu_cns = s.cns FROM s_prof s WHERE p.nu_cpf = s.cpf "
                 "AND p.nu_cns IS DISTINCT FROM s.cns")
    conn.execute(f"""INSERT INTO tb_prof (nu_cpf, nu_cns, {name_column})
                     SELECT s.cpf, s.cns, 'PROFISSIONAL ' || right(s.cpf, 4) FROM s_prof s
                     WHERE NOT EXISTS (SELECT 1 FROM tb_prof p WHERE p.nu_cpf = s.cpf)""")
    conn.execute("""CREATE TEMP TABLE s_res AS
                    SELECT DISTINCT p.co_seq_prof AS pid, u.co_seq_unidade_saude AS uid,
                           c.co_cbo AS cid, e.co_seq_equipe AS tid
                    FROM s_lot s
                    JOIN tb_prof p ON p.nu_cpf = s.cpf
                    JOIN tb_unidade_saude u ON u.nu_cnes = s.cnes
                    JOIN tb_cbo c ON c.co_cbo_2002 = s.cbo
                    LEFT JOIN tb_equipe e ON e.nu_ine = s.ine
                         AND e.co_unidade_saude = u.co_seq_unidade_saude
                    WHERE coalesce(s.ine, '') = '' OR e.co_seq_equipe IS NOT NULL""")
    # the municipality's lotações (the test database holds one municipality) are deactivated,
    # then those of the file come back
    conn.execute("UPDATE tb_lotacao SET st_ativo = 0, dt_desativacao_lotacao = now() "
                 "WHERE st_ativo = 1")
    conn.execute("""UPDATE tb_lotacao l SET st_ativo = 1, dt_desativacao_lotacao = NULL
                    FROM s_res r WHERE l.co_prof = r.pid AND l.co_unidade_saude = r.uid
                    AND l.co_cbo = r.cid AND l.co_equipe IS NOT DISTINCT FROM r.tid""")
    conn.execute("""INSERT INTO tb_lotacao (co_prof, co_unidade_saude, co_cbo, co_equipe)
                    SELECT r.pid, r.uid, r.cid, r.tid FROM s_res r WHERE NOT EXISTS
                    (SELECT 1 FROM tb_lotacao l WHERE l.co_prof = r.pid
                     AND l.co_unidade_saude = r.uid AND l.co_cbo = r.cid
                     AND l.co_equipe IS NOT DISTINCT FROM r.tid)""")
    active = conn.execute("SELECT count(*) FROM tb_lotacao WHERE st_ativo = 1").fetchone()[0]
    for name in (*staging, "s_res"):
        conn.execute(f"DROP TABLE IF EXISTS {name}")
    return {"units": len(units), "teams": len(teams), "professionals": len(profs),
            "lotacoes_ativas": int(active)}
