"""A site's history read from the catalog: every stage result in time order, and the status
changes (the timeline) derived from it. Shared by the dossier and the dashboard.

The painel does not replay every result of every site: :class:`Progress` folds a site's
results, in time order, into what the painel shows (overall status now and at each change,
first and last run, last change, first time ready, the latest result of each stage), kept in
the catalog's ``painel_*`` tables (migration 3). The import folds a new run into the stored
summary (:func:`maintain`); any other write to a site's results marks it dirty (triggers),
and :func:`refresh` rebuilds the dirty sites from their whole history before the painel reads.
See docs/relatorios.md, "Escala".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import groupby
from operator import itemgetter
from typing import Any

import pandas as pd

from ..errors import InputError, describe_os_error
from ..render.dates import when as format_when
from ..results import STAGES
from ..status import SEVERITY, Status
from .validate import EARLIEST, FUTURE

READY = (Status.OK.value, Status.ALERTA.value)
SEV = {s.value: n for s, n in SEVERITY.items()}
_PENDING = SEV[Status.PENDENTE.value]
_READY_SEV = SEV[Status.ALERTA.value]

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


def _read_results(conn: sqlite3.Connection, site_id: str | None = None,
                  sites: Sequence[str] | None = None) -> pd.DataFrame:
    """The stage results (of one site, of ``sites``, or of all) with ``run_when`` and
    ``when`` (NaT when no date parses), in no particular order."""
    if sites is not None:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS history_sites (site_id TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM history_sites")
        conn.executemany("INSERT OR IGNORE INTO history_sites VALUES (?)",
                         ((s,) for s in sites))
        where, params = "WHERE s.site_id IN (SELECT site_id FROM temp.history_sites)", ()
    elif site_id:
        where, params = "WHERE s.site_id = ?", (site_id,)
    else:
        where, params = "", ()
    return with_times(pd.read_sql_query(_RESULTS_SQL.format(where=where), conn,
                                        params=params))


def with_times(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (columns of :data:`_RESULTS_SQL`) with ``run_when`` (the run's start) and
    ``when`` (the result's ``finished_at``, else its start, else its run's start: the first
    of them that parses; NaT when none does)."""
    runs = df["run_started"].drop_duplicates()  # a few runs: parse each start once
    df["run_when"] = pd.to_datetime(
        df["run_started"].map(dict(zip(runs, to_time(runs), strict=True))), utc=True)
    when = to_time(df["finished_at"]).fillna(to_time(df["started_at"]))
    df["when"] = when.fillna(df["run_when"]) if len(df) else when
    return df


def stage_results(conn: sqlite3.Connection, site_id: str | None = None) -> pd.DataFrame:
    """Every recorded stage result (of one site, or of all), ordered by when it was produced
    (the result's ``finished_at``, else its start, else its run's start: the first of them
    that parses). A result without any date that parses cannot be placed in time: it is left
    out, and ``df.attrs["undated"]`` counts it (a catalog written by an older version, or
    edited by hand, may hold one; the import refuses them now)."""
    df = _read_results(conn, site_id)
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


# ----------------------------------------------------------------------------- the painel's summary
@dataclass
class Progress:
    """What the painel needs of one site's history, folded result by result in time order
    (the same rules as :func:`stage_results`, :func:`status_changes` and :func:`latest`).
    Times are nanoseconds since the epoch, UTC."""

    site_id: str
    stages: dict[str, tuple[int, str]] = field(default_factory=dict)  # latest (pk, status)
    sev: int | None = None           # overall severity after the latest dated result
    first_run: int | None = None     # earliest start of a run with a dated result
    last_run: int | None = None
    last_when: int | None = None     # the latest dated result
    last_change: int | None = None   # the latest result that changed its stage's status
    ready_at: int | None = None      # the first moment the overall status was ready
    newest_run_pk: int | None = None  # the run of the latest result (its folder)
    # the latest end (else start) of a ready XML stage, as SQL's MAX compares the stored
    # values (dated or not): text, or whatever a hand edit left
    xml_ready: Any = None
    undated: int = 0                 # results without a date that parses: left out
    undated_runs: int = 0            # dated results whose run's start does not parse
    points: list[tuple[int, int]] = field(default_factory=list)  # changes added by fold()
    touched: set[str] = field(default_factory=set)                # stages changed by fold()
    _newest: tuple | None = None

    def fold(self, rows: Iterable[tuple]) -> None:
        """Apply ``rows`` — ``(when, run_when or None, run_id, stage, status, result_pk,
        run_pk, stamp)`` ordered by ``when``, then run start (unparsed last), then
        ``run_id`` — all of them after the results already folded (``stamp``: the stored
        end, else start, text)."""
        for at, group in groupby(rows, key=itemgetter(0)):
            for _, run_when, run_id, stage, status, result_pk, run_pk, stamp in group:
                if stage == "xml" and status in READY and isinstance(stamp, str) and (
                        self.xml_ready is None or stamp > self.xml_ready):
                    self.xml_ready = stamp
                previous = self.stages.get(stage)
                if previous is None or previous[1] != status:
                    self.last_change = at
                self.stages[stage] = (result_pk, status)
                self.touched.add(stage)
                if run_when is None:
                    self.undated_runs += 1
                else:
                    self.first_run = run_when if self.first_run is None \
                        else min(self.first_run, run_when)
                    self.last_run = run_when if self.last_run is None \
                        else max(self.last_run, run_when)
                # the run of the latest run start (an unparsed start counts as the latest),
                # ties broken as the painel's stable sort does: stage, when, run_id
                key = (run_when is None, run_when or 0, stage, at, run_id)
                if self._newest is None or key > self._newest:
                    self._newest, self.newest_run_pk = key, run_pk
            sev = max(SEV.get(self.stages[s][1], _PENDING) if s in self.stages else _PENDING
                      for s in STAGES)
            if sev != self.sev:
                self.points.append((at, sev))
            if sev <= _READY_SEV and self.ready_at is None:
                self.ready_at = at
            self.sev, self.last_when = sev, at

    def follows(self, rows: Sequence[tuple]) -> bool:
        """``rows`` (dated, ordered) can be folded onto this summary: every one after every
        result folded so far, from runs that started later (the usual import: this week's
        run after last week's)."""
        if self.undated_runs or not rows or not isinstance(self.xml_ready, (str, type(None))):
            return False
        return all(r[1] is not None and (self.last_when is None or r[0] > self.last_when)
                   and (self.last_run is None or r[1] > self.last_run) for r in rows)


_HEAD = ("site_id", "sev", "first_run", "last_run", "last_when", "last_change", "ready_at",
         "newest_run_pk", "xml_ready", "undated", "undated_runs")


def _ns(values: pd.Series) -> list[int | None]:
    """UTC datetimes as nanoseconds since the epoch (None for NaT)."""
    ints = values.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]") \
        .astype("int64").tolist()
    return [None if v is None or na else v for v, na in zip(ints, values.isna().tolist(),
                                                             strict=True)]


def fold_rows(df: pd.DataFrame) -> dict[str, list[tuple]]:
    """The dated rows of ``df`` (:func:`with_times`) per site, as :meth:`Progress.fold`
    takes them, in its order."""
    df = df[df["when"].notna()].sort_values(["site_id", "when", "run_when", "run_id"],
                                            kind="stable", na_position="last")
    stamp = [f if f is not None else s for f, s in zip(
        df["finished_at"].astype(object).where(df["finished_at"].notna(), None).tolist(),
        df["started_at"].astype(object).where(df["started_at"].notna(), None).tolist(),
        strict=True)]
    rows = zip(df["site_id"].tolist(), _ns(df["when"]), _ns(df["run_when"]),
               df["run_id"].tolist(), df["stage"].tolist(), df["status"].tolist(),
               df["result_pk"].tolist(), df["run_pk"].tolist(), stamp, strict=True)
    return {sid: [r[1:] for r in group] for sid, group in groupby(rows, key=itemgetter(0))}


def load_progress(conn: sqlite3.Connection, sites: Iterable[str]) -> dict[str, Progress]:
    """The stored summaries of ``sites`` that are not dirty (an empty one for a site the
    catalog has never seen)."""
    sites = list(sites)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS history_sites (site_id TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM history_sites")
    conn.executemany("INSERT OR IGNORE INTO history_sites VALUES (?)", ((s,) for s in sites))
    out = {}
    for row in conn.execute(
            f"SELECT {', '.join('p.' + c for c in _HEAD)} FROM painel_sites p "
            "JOIN temp.history_sites h USING (site_id) "
            "WHERE p.site_id NOT IN (SELECT site_id FROM painel_dirty)"):
        out[row[0]] = Progress(**dict(zip(_HEAD, row, strict=True)))
    for sid, stage, pk, status in conn.execute(
            "SELECT p.site_id, p.stage, p.result_pk, p.status FROM painel_stages p "
            "JOIN temp.history_sites h USING (site_id)"):
        if sid in out:
            out[sid].stages[stage] = (pk, status)
    # a site with results has a summary or is dirty (the triggers): neither is a new site
    dirty = {r[0] for r in conn.execute("SELECT d.site_id FROM painel_dirty d "
                                        "JOIN temp.history_sites h USING (site_id)")}
    for sid in sites:
        if sid not in out and sid not in dirty:
            out[sid] = Progress(sid)
    return out


def save_progress(conn: sqlite3.Connection, summaries: Iterable[Progress],
                  rebuilt: bool) -> None:
    """Store ``summaries`` (``rebuilt``: from the whole history, replacing what was stored;
    else folded onto it: only what changed is written) and clear their dirty marks."""
    summaries = list(summaries)
    ids = [(p.site_id,) for p in summaries]
    if rebuilt:
        conn.executemany("DELETE FROM painel_stages WHERE site_id = ?", ids)
        conn.executemany("DELETE FROM painel_points WHERE site_id = ?", ids)
    conn.executemany("INSERT OR REPLACE INTO painel_stages VALUES (?,?,?,?)",
                     [(p.site_id, s, *p.stages[s]) for p in summaries for s in p.touched])
    conn.executemany("INSERT OR REPLACE INTO painel_points VALUES (?,?,?)",
                     [(p.site_id, at, sev) for p in summaries for at, sev in p.points])
    conn.executemany(f"INSERT OR REPLACE INTO painel_sites VALUES ({','.join('?' * len(_HEAD))})",
                     [tuple(getattr(p, c) for c in _HEAD) for p in summaries])
    conn.executemany("DELETE FROM painel_dirty WHERE site_id = ?", ids)


def rebuild(conn: sqlite3.Connection, sites: Sequence[str]) -> None:
    """Rebuild the summaries of ``sites`` from their whole history (inside the caller's
    write transaction)."""
    df = _read_results(conn, sites=sites)
    undated = df.loc[df["when"].isna(), "site_id"].value_counts().to_dict()
    rows = fold_rows(df)
    # SQL's MAX over every stored value (dated or not, whatever its type), as the painel
    # always read it
    xml_ready = dict(conn.execute(
        "SELECT site_id, MAX(COALESCE(finished_at, started_at)) FROM stage_results "
        "WHERE stage = 'xml' AND status IN ('ok', 'alerta') "
        "AND site_id IN (SELECT site_id FROM temp.history_sites) GROUP BY site_id"))
    summaries = []
    for sid in sites:
        p = Progress(sid, undated=int(undated.get(sid, 0)))
        p.fold(rows.get(sid, ()))
        p.xml_ready = xml_ready.get(sid)
        summaries.append(p)
    save_progress(conn, summaries, rebuilt=True)


def refresh(conn: sqlite3.Connection) -> int:
    """Rebuild every dirty site's summary (a catalog migrated from version 2, results edited
    by hand or by another tool); return how many. The import leaves none behind."""
    if conn.execute("SELECT 1 FROM painel_dirty LIMIT 1").fetchone() is None:
        return 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        dirty = [r[0] for r in conn.execute("SELECT site_id FROM painel_dirty ORDER BY 1")]
        rebuild(conn, dirty)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return len(dirty)


def maintain(conn: sqlite3.Connection, new: pd.DataFrame, before: dict[str, Progress],
             sites: Iterable[str]) -> None:
    """After a run's rows were written (inside its write transaction): fold the run's
    results ``new`` (:func:`with_times`) onto the summaries ``before`` (read before the
    write) of its ``sites``. A site whose new results do not all come after what was folded
    (a run imported out of order) stays dirty: :func:`refresh` rebuilds it, once, at the end
    of the import or when the painel reads."""
    dirty = {r[0] for r in conn.execute("SELECT site_id FROM painel_dirty")}
    rows = fold_rows(new)
    undated = set(new.loc[new["when"].isna(), "site_id"])
    folded = []
    for sid in sorted(set(sites) & dirty):
        p = before.get(sid)
        mine = rows.get(sid, [])
        if p is not None and sid not in undated and p.follows(mine):
            p.fold(mine)
            folded.append(p)
    save_progress(conn, folded, rebuilt=False)


def when(value: Any) -> str:
    """An ISO timestamp as ``dd/mm/aaaa hh:mm`` in the machine's time zone, converted
    through its own offset (:func:`esus_runbook.render.dates.when`)."""
    return format_when(value)


def output_error(exc: OSError, path: object, key: str = "--saida") -> InputError:
    """A report that cannot be written, as the one-line input error the CLI prints."""
    return InputError(f"não foi possível gravar ({describe_os_error(exc)})",
                      file=str(path), key=key,
                      remedy="escolha um arquivo numa pasta em que você possa gravar")
