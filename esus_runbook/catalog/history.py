"""A site's history read from the catalog: every stage result in time order, and the status
changes (the timeline) derived from it. Shared by the dossier and the dashboard."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import pandas as pd

from ..errors import InputError
from ..results import SEVERITY, Status

READY = (Status.OK.value, Status.ALERTA.value)

_RESULTS_SQL = """
SELECT s.result_pk, r.run_pk, r.run_id, r.status AS run_status, r.interrupted,
       r.started_at AS run_started, s.site_id, s.stage, s.status, s.started_at, s.finished_at,
       s.error, COALESCE(s.finished_at, s.started_at, r.started_at) AS when_text
FROM stage_results s JOIN runs r USING (run_pk)
{where}
"""


def to_time(values: pd.Series) -> pd.Series:
    """ISO timestamps (with their UTC offset) as UTC datetimes; unparseable ones are NaT."""
    return pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")


def stage_results(conn: sqlite3.Connection, site_id: str | None = None) -> pd.DataFrame:
    """Every recorded stage result (of one site, or of all), ordered by when it was produced
    (the result's ``finished_at``, else its start, else its run's start)."""
    where, params = ("WHERE s.site_id = ?", (site_id,)) if site_id else ("", ())
    df = pd.read_sql_query(_RESULTS_SQL.format(where=where), conn, params=params)
    df["when"] = to_time(df["when_text"])
    runs = df["run_started"].drop_duplicates()  # a few runs: parse each start once
    df["run_when"] = df["run_started"].map(dict(zip(runs, to_time(runs), strict=True)))
    df["run_when"] = pd.to_datetime(df["run_when"], utc=True)
    return df.sort_values(["site_id", "stage", "when", "run_when", "run_id"],
                          kind="stable").reset_index(drop=True)


def status_changes(results: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``results`` where a (site, stage) changed status (the first result of each
    counts as a change), with ``previous`` and ``kind``: inicio, ok, melhorou, regrediu."""
    if results.empty:
        return results.assign(previous=pd.Series(dtype=object), kind=pd.Series(dtype=object))
    prev = results.groupby(["site_id", "stage"], sort=False)["status"].shift()
    changed = results[prev.isna() | (prev != results["status"])].copy()
    changed["previous"] = prev[changed.index]
    sev = {s.value: n for s, n in SEVERITY.items()}
    now = changed["status"].map(sev)
    before = changed["previous"].map(sev)
    changed["kind"] = "melhorou"
    changed.loc[now > before, "kind"] = "regrediu"
    changed.loc[changed["status"].isin(READY) & ~(now > before), "kind"] = "ok"
    changed.loc[changed["previous"].isna(), "kind"] = "inicio"
    return changed


def latest(results: pd.DataFrame) -> pd.DataFrame:
    """The latest result of each (site, stage)."""
    return results.groupby(["site_id", "stage"], sort=False).tail(1)


def when(value: Any) -> str:
    """An ISO timestamp as ``dd/mm/aaaa HH:MM`` (its own UTC offset kept), else as given."""
    if not value:
        return "—"
    try:
        return datetime.fromisoformat(str(value)).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return str(value)


def output_error(exc: OSError, path: object, key: str = "--saida") -> InputError:
    """A report that cannot be written, as the one-line input error the CLI prints."""
    return InputError(f"não foi possível gravar ({exc.strerror or exc.__class__.__name__})",
                      file=str(path), key=key,
                      remedy="escolha um arquivo numa pasta em que você possa gravar")
