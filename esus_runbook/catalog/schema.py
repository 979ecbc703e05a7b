"""The catalog's schema: ordered migrations, applied once each (``PRAGMA user_version``).

Each entry of :data:`MIGRATIONS` is the SQL that takes the schema from version ``i`` to
``i + 1``. Never edit a released migration: append a new one. A catalog written by a newer
esus-runbook (``user_version`` above what this one knows) is refused, not guessed at.
See docs/catalogo.md.
"""

from __future__ import annotations

import sqlite3

from ..errors import InputError
from ..results import now_iso

MIGRATIONS: tuple[str, ...] = (
    # 1: runs, sites, stage results, checks, evidence, timings
    """
    CREATE TABLE schema_migrations (
        version INTEGER PRIMARY KEY,
        applied_at TEXT NOT NULL
    );
    CREATE TABLE runs (
        run_pk INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        interrupted INTEGER NOT NULL DEFAULT 0,
        started_at TEXT,
        finished_at TEXT,
        duration_s REAL,
        folder TEXT,
        inventory_path TEXT,
        esus_runbook TEXT,
        inputs TEXT,
        ingested_at TEXT NOT NULL
    );
    CREATE TABLE sites (
        site_id TEXT PRIMARY KEY,
        nome TEXT,
        municipio_ibge TEXT,
        cnes TEXT,
        last_run_started_at TEXT
    );
    CREATE TABLE run_sites (
        run_pk INTEGER NOT NULL REFERENCES runs(run_pk) ON DELETE CASCADE,
        site_id TEXT NOT NULL,
        nome TEXT,
        municipio_ibge TEXT,
        cnes TEXT,
        status TEXT NOT NULL,
        snapshot TEXT,
        PRIMARY KEY (run_pk, site_id)
    );
    CREATE INDEX run_sites_site ON run_sites(site_id);
    CREATE TABLE stage_results (
        result_pk INTEGER PRIMARY KEY,
        run_pk INTEGER NOT NULL REFERENCES runs(run_pk) ON DELETE CASCADE,
        site_id TEXT NOT NULL,
        stage TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        error TEXT,
        inputs TEXT,
        UNIQUE (run_pk, site_id, stage)
    );
    CREATE INDEX stage_results_site ON stage_results(site_id, stage);
    CREATE TABLE checks (
        result_pk INTEGER NOT NULL REFERENCES stage_results(result_pk) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        check_id TEXT NOT NULL,
        title TEXT,
        status TEXT NOT NULL,
        expected TEXT,
        observed TEXT,
        remedy TEXT
    );
    CREATE INDEX checks_result ON checks(result_pk);
    CREATE INDEX checks_blocking ON checks(result_pk) WHERE status IN ('falha', 'erro');
    CREATE TABLE evidence (
        result_pk INTEGER NOT NULL REFERENCES stage_results(result_pk) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT,
        PRIMARY KEY (result_pk, kind, name)
    );
    CREATE TABLE timings (
        run_pk INTEGER NOT NULL REFERENCES runs(run_pk) ON DELETE CASCADE,
        site_id TEXT NOT NULL,
        notebook TEXT NOT NULL,
        seconds REAL,
        attempts INTEGER,
        reused INTEGER,
        host TEXT,
        PRIMARY KEY (run_pk, site_id, notebook)
    );
    """,
    # 2: evidence after go-live (certificate, backup, update halves): <execucoes>/operacoes
    """
    CREATE TABLE operations (
        op_pk INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        site_id TEXT NOT NULL,
        tipo TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        de TEXT,
        para TEXT,
        metrics TEXT,
        checks TEXT,
        ingested_at TEXT NOT NULL
    );
    CREATE INDEX operations_site ON operations(site_id, tipo, finished_at);
    """,
    # 3: the painel's summary of each site's history, kept at import (catalog/history.py
    # Progress): the header, the latest result of each stage and the changes of the overall
    # status. Any write to stage_results (or to a run's start or id) marks the site in
    # painel_dirty, so a summary is never read stale: whoever reads it first rebuilds the
    # dirty sites. Every site of a catalog migrated from version 2 starts dirty. (NOT EXISTS,
    # not OR IGNORE: an upsert's conflict clause overrides the one of a trigger's insert.)
    """
    CREATE TABLE painel_sites (
        site_id TEXT PRIMARY KEY,
        sev INTEGER,
        first_run INTEGER,
        last_run INTEGER,
        last_when INTEGER,
        last_change INTEGER,
        ready_at INTEGER,
        newest_run_pk INTEGER,
        xml_ready,
        undated INTEGER NOT NULL,
        undated_runs INTEGER NOT NULL
    );
    CREATE TABLE painel_stages (
        site_id TEXT NOT NULL,
        stage TEXT NOT NULL,
        result_pk INTEGER NOT NULL,
        status TEXT NOT NULL,
        PRIMARY KEY (site_id, stage)
    );
    CREATE TABLE painel_points (
        site_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        sev INTEGER NOT NULL,
        PRIMARY KEY (site_id, at)
    );
    CREATE TABLE painel_dirty (site_id TEXT PRIMARY KEY);
    CREATE TRIGGER painel_result_added AFTER INSERT ON stage_results BEGIN
        INSERT INTO painel_dirty SELECT NEW.site_id
            WHERE NOT EXISTS (SELECT 1 FROM painel_dirty WHERE site_id = NEW.site_id);
    END;
    CREATE TRIGGER painel_result_removed AFTER DELETE ON stage_results BEGIN
        INSERT INTO painel_dirty SELECT OLD.site_id
            WHERE NOT EXISTS (SELECT 1 FROM painel_dirty WHERE site_id = OLD.site_id);
    END;
    CREATE TRIGGER painel_result_changed AFTER UPDATE ON stage_results BEGIN
        INSERT INTO painel_dirty SELECT OLD.site_id
            WHERE NOT EXISTS (SELECT 1 FROM painel_dirty WHERE site_id = OLD.site_id);
        INSERT INTO painel_dirty SELECT NEW.site_id
            WHERE NOT EXISTS (SELECT 1 FROM painel_dirty WHERE site_id = NEW.site_id);
    END;
    CREATE TRIGGER painel_run_changed AFTER UPDATE OF run_id, started_at ON runs BEGIN
        INSERT INTO painel_dirty SELECT DISTINCT site_id FROM stage_results
            WHERE run_pk = NEW.run_pk
            AND site_id NOT IN (SELECT site_id FROM painel_dirty);
    END;
    INSERT OR IGNORE INTO painel_dirty SELECT DISTINCT site_id FROM stage_results;
    CREATE INDEX evidence_kind ON evidence(kind, name);
    """,
)
VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, source: str) -> int:
    """Bring the catalog at ``conn`` to :data:`VERSION` in one write transaction (another
    process migrating at the same time waits, then finds nothing left to do)."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current == VERSION:
        return current
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        if current > VERSION:
            raise InputError(f"catálogo na versão de esquema {current}, mais nova que a "
                             f"desta versão do esus-runbook ({VERSION})", file=source,
                             remedy="atualize o esus-runbook para ler este catálogo")
        for version in range(current + 1, VERSION + 1):
            for statement in _statements(MIGRATIONS[version - 1]):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, now_iso()))
        conn.execute(f"PRAGMA user_version = {VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return VERSION


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction); a
    trigger's body holds semicolons: a piece is a statement once SQLite says it is complete."""
    out, pending = [], ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                out.append(pending.strip().rstrip(";").strip())
            pending = ""
    if pending.strip(" \n;"):
        raise ValueError(f"migration ends inside a statement: {pending.strip()[:80]}")
    return out
