"""A site's history read from the catalog: every stage result in time order, and the status
changes (the timeline) derived from it. Shared by the dossier and the dashboard."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from ..errors import InputError, describe_os_error
from ..render.dates import when as format_when
from ..status import SEVERITY, Status
from .validate import EARLIEST, FUTURE

READY = (Status.OK.value, Status.ALERTA.value)

_RESULTS_SQL = """
SELECT s.result_pk, r.run_pk, r.run_id, r.status AS run_status, r.interrupted,
       r.started_at AS run_started, s.site_id, s.stage, s.status, s.started_at, s.finished_at,
       s.error
FROM stage_results s JOIN runs r USING (run_pk)
{where}
"""


def to_time(values: pd.Series) -> pd.Series:
    """ISO timestamps (with their UTC offset) as UTC datetimes; unparseable ones, values that
    are not text and dates outside :func:`in_range` (year 1200 would make the weekly chart
    43 000 weeks wide) are NaT."""
    text = values.where(values.map(lambda v: isinstance(v, str)))
    out = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    latest = pd.Timestamp(datetime.now(timezone.utc) + FUTURE)
    return out.where((out >= pd.Timestamp(EARLIEST)) & (out <= latest))


def stage_results(conn: sqlite3.Connection, site_id: str | None = None) -> pd.DataFrame:
    """Every recorded stage result (of one site, or of all), ordered by when it was produced
    (the result's ``finished_at``, else its start, else its run's start: the first of them
    that parses). A result without any date that parses cannot be placed in time: it is left
    out, and ``df.attrs["undated"]`` counts it (a catalog written by an older version, or
    edited by hand, may hold one; the import refuses them now)."""
    where, params = ("WHERE s.site_id = ?", (site_id,)) if site_id else ("", ())
    df = pd.read_sql_query(_RESULTS_SQL.format(where=where), conn, params=params)
    runs = df["run_started"].drop_duplicates()  # a few runs: parse each start once
    df["run_when"] = pd.to_datetime(
        df["run_started"].map(dict(zip(runs, to_time(runs), strict=True))), utc=True)
    when = to_time(df["finished_at"]).fillna(to_time(df["started_at"]))
    df["when"] = when.fillna(df["run_when"]) if len(df) else when
    undated = int(df["when"].isna().sum())
    df = df[df["when"].notna()]
    df = df.sort_values(["site_id", "stage", "when", "run_when", "run_id"],
                        kind="stable").reset_index(drop=True)
    df.attrs["undated"] = undated
    return df


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
    """An ISO timestamp as ``dd/mm/aaaa hh:mm`` in the machine's time zone, converted
    through its own offset (:func:`esus_runbook.render.dates.when`)."""
    return format_when(value)


def output_error(exc: OSError, path: object, key: str = "--saida") -> InputError:
    """A report that cannot be written, as the one-line input error the CLI prints."""
    return InputError(f"não foi possível gravar ({describe_os_error(exc)})",
                      file=str(path), key=key,
                      remedy="escolha um arquivo numa pasta em que você possa gravar")
