"""The state dashboard over the catalog: sites by overall status per week, days from the
first run to ready, the checks that block the most sites, sites without progress, and one
row per municipality; the same tables as CSV beside the HTML. See docs/catalogo.md.

A site's overall status at a moment is the worst of the latest result of each of its stages
up to then (a stage never executed counts as ``pendente``), the same rule as the site report.
A check *blocks* a site when it is ``falha`` or ``erro`` in the latest result of its stage.
"""

from __future__ import annotations

import os
import posixpath
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from .. import run_folder
from ..files.atomic import write_text_atomic
from ..files.csvcells import write_csv
from ..render import charts as draw
from ..render.dates import day, when
from ..render.env import environment
from ..render.numbers import number
from ..render.places import municipality_name
from ..results import STAGES, now_iso
from ..stages import title
from ..status import LABELS, SEVERITY, Status
from . import DOSSIERS_DIR
from .history import READY, output_error, refresh
from .operations import Row, field_overview

ORDER = [s.value for s in Status]
_SEV = {s.value: n for s, n in SEVERITY.items()}
_BY_SEV = {n: s.value for s, n in SEVERITY.items()}
BLOCKING = (Status.FALHA.value, Status.ERRO.value)
HATCHES = {"ok": "", "alerta": "..", "pendente": "//", "falha": "xx", "erro": "\\\\"}
CSV_NAMES = {"semanas": "painel_semanas.csv", "dias": "painel_dias_ate_pronto.csv",
             "bloqueios": "painel_bloqueios.csv", "parados": "painel_parados.csv",
             "municipios": "painel_municipios.csv", "locais": "painel_locais.csv"}


@dataclass
class Dashboard:
    weekly: pd.DataFrame       # semana × situação (número de sites)
    days: pd.DataFrame         # site_id, nome, primeira_execucao, pronto_em, dias
    blocking: pd.DataFrame     # check_id, titulo, etapa, sites, lista
    stalled: pd.DataFrame      # site_id, nome, municipio_ibge, situacao, ultima_mudanca, dias
    municipalities: pd.DataFrame
    current: pd.DataFrame      # site_id, nome, municipio_ibge, situacao
    sites: pd.DataFrame        # the site table: one row per site, worst first
    today: pd.Timestamp
    stalled_days: int
    undated: int = 0           # results left out: no date that parses


def _weekly(points: pd.DataFrame, until: pd.Timestamp | None) -> pd.DataFrame:
    """Sites by overall status at the end of each week, from the first week with a result
    to the week of the latest one (``until``): each site counted from its first result on,
    with its status after its last change up to that week (``points``: ``site_id, when,
    sev``, each site's changes in time order)."""
    if points.empty:
        return pd.DataFrame(columns=["semana", *ORDER])
    week = points["when"].dt.tz_convert(None).dt.to_period("W-SUN")
    last = points.assign(week=week).groupby(["site_id", "week"])["sev"].last().unstack()
    end = max(last.columns.max(), until.tz_convert(None).to_period("W-SUN"))
    weeks = pd.period_range(last.columns.min(), end, freq="W-SUN")
    last = last.reindex(columns=weeks).ffill(axis=1)
    counts = {s: (last == _SEV[s]).sum(axis=0) for s in ORDER}
    out = pd.DataFrame(counts).astype(int)
    out.insert(0, "semana", [p.start_time.date().isoformat() for p in out.index])
    return out.reset_index(drop=True)


def _days_to_ready(sites: pd.DataFrame, first_run: pd.Series, ready_at: pd.Series
                   ) -> pd.DataFrame:
    out = sites[["site_id", "nome", "municipio_ibge"]].copy()
    for col, values in (("primeira_execucao", first_run), ("pronto_em", ready_at)):
        # reindex, not map: map on an empty datetime series fails
        out[col] = pd.to_datetime(pd.Series(values.reindex(out["site_id"]).to_numpy(),
                                            index=out.index), utc=True)
    days = (out["pronto_em"] - out["primeira_execucao"]).dt.total_seconds() / 86400
    out["dias"] = days.round(1)
    return out


def _open_checks(conn: sqlite3.Connection, statuses: tuple[str, ...]) -> pd.DataFrame:
    """``result_pk, seq, check_id, title, status, site_id, stage``: the checks in
    ``statuses`` of each site's latest result of each stage (painel_stages), through the
    checks_result index, in the order they were recorded."""
    listed = ", ".join(f"'{s}'" for s in statuses)  # literal: fixed statuses, no input
    return pd.read_sql_query(
        "SELECT c.result_pk, c.seq, c.check_id, c.title, c.status, p.site_id, p.stage "
        "FROM painel_stages p CROSS JOIN checks c ON c.result_pk = p.result_pk "
        f"WHERE c.status IN ({listed}) ORDER BY c.result_pk, c.rowid", conn)


def _blocking(conn: sqlite3.Connection) -> pd.DataFrame:
    cols = ["check_id", "titulo", "etapa", "sites", "lista"]
    checks = _open_checks(conn, BLOCKING)
    if checks.empty:
        return pd.DataFrame(columns=cols)
    grouped = checks.groupby("check_id")
    out = pd.DataFrame({
        "titulo": grouped["title"].last(),
        "etapa": grouped["stage"].first(),
        "sites": grouped["site_id"].nunique(),
        "lista": grouped["site_id"].agg(lambda s: ", ".join(sorted(set(s)))),
    }).reset_index()
    return out.sort_values(["sites", "check_id"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)[cols]


def _lookup(values: pd.Series, keys: pd.Series) -> pd.Series:
    """``values[key]`` for each of ``keys`` (NaT/NaN when absent), keeping the dtype of
    ``values``: reindex, not map (map on an empty datetime series fails)."""
    if values.empty:
        values = pd.Series(dtype="datetime64[ns, UTC]")
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index,
                     dtype=values.dtype)


def _main_blocker(conn: sqlite3.Connection) -> pd.DataFrame:
    """``site_id, bloqueio, bloqueio_titulo``: per site, the first open check of its latest
    results — a falha or erro before a pendente, then in stage order (what the site report
    puts first in "Próximos passos")."""
    cols = ["site_id", "bloqueio", "bloqueio_titulo"]
    checks = _open_checks(conn, (*BLOCKING, Status.PENDENTE.value))
    if checks.empty:
        return pd.DataFrame(columns=cols)
    checks["grupo"] = (checks["status"] == Status.PENDENTE.value).astype(int)
    checks["ordem"] = checks["stage"].map({s: i for i, s in enumerate(STAGES)})
    first = checks.sort_values(["site_id", "grupo", "ordem", "seq"], kind="stable") \
        .drop_duplicates("site_id")
    return first.rename(columns={"check_id": "bloqueio", "title": "bloqueio_titulo"})[cols]


def _site_table(conn: sqlite3.Connection, current: pd.DataFrame, stages: pd.DataFrame,
                newest: pd.Series, idle_days: pd.Series, last_run: pd.Series) -> pd.DataFrame:
    """One row per site: situation, main blocker, stage reached (the last of the stages
    ready in a row from the first), last run and its folder, days without progress; worst
    first, then the longest without progress."""
    out = current.copy()
    out["municipio"] = out["municipio_ibge"].map(municipality_name)
    if len(stages):
        wide = stages.pivot(index="site_id", columns="stage", values="status") \
            .reindex(columns=list(STAGES))
        ready = wide.isin(list(READY)).to_numpy()
        reached = np.where(ready.all(axis=1), len(STAGES), np.argmin(ready, axis=1))
        reached_by_site = pd.Series(reached, index=wide.index)
    else:
        reached_by_site = pd.Series(dtype=int)
    out["etapas_prontas"] = out["site_id"].map(reached_by_site).fillna(0).astype(int)
    titles = ["nenhuma", *(title(s) for s in STAGES)]
    out["etapa_alcancada"] = out["etapas_prontas"].map(lambda n: titles[n])
    blockers = _main_blocker(conn).set_index("site_id")
    for col in ("bloqueio", "bloqueio_titulo"):
        found = blockers[col].to_dict()
        out[col] = [found.get(sid, "") for sid in out["site_id"]]
    out["ultima_execucao"] = _lookup(last_run, out["site_id"])
    out["dias_sem_progresso"] = out["site_id"].map(idle_days)
    out.loc[out["situacao"].isin(READY), "dias_sem_progresso"] = pd.NA
    folders = dict(conn.execute("SELECT run_pk, folder FROM runs"))
    out["pasta_execucao"] = out["site_id"].map(newest).map(folders)
    out["sev"] = out["situacao"].map(_SEV)
    out = out.sort_values(["sev", "dias_sem_progresso", "etapas_prontas", "site_id"],
                          ascending=[False, False, True, True], kind="stable",
                          na_position="last")
    return out.drop(columns="sev").reset_index(drop=True)


def _times(values: pd.Series) -> pd.Series:
    """Nanoseconds since the epoch (the summaries' times) as UTC datetimes."""
    return pd.to_datetime(values.astype("Int64"), unit="ns", utc=True)


def build_dashboard(conn: sqlite3.Connection, stalled_days: int = 14,
                    today: datetime | None = None) -> Dashboard:
    """The painel's tables, from the summary the import keeps of each site's history
    (catalog/history.py, :class:`~.history.Progress`): thousands of rows, not every result
    ever recorded. Dirty summaries are rebuilt first (:func:`~.history.refresh`)."""
    today_ts = pd.Timestamp(today or datetime.now(timezone.utc))
    today_ts = today_ts.tz_localize("UTC") if today_ts.tzinfo is None else today_ts
    refresh(conn)
    head = pd.read_sql_query("SELECT * FROM painel_sites", conn).set_index("site_id")
    dated = head[head["last_when"].notna()]
    points = pd.read_sql_query("SELECT site_id, at, sev FROM painel_points "
                               "ORDER BY site_id, at", conn)
    points["when"] = _times(points["at"])
    stages = pd.read_sql_query("SELECT site_id, stage, status FROM painel_stages", conn)
    sites = pd.read_sql_query("SELECT site_id, nome, municipio_ibge FROM sites "
                              "ORDER BY site_id", conn)
    first_run = _times(dated["first_run"]).dropna()
    last_run = _times(dated["last_run"]).dropna()
    last_change = _times(dated["last_change"])
    current = sites.copy()
    current["situacao"] = current["site_id"].map(dated["sev"].astype(int)).map(_BY_SEV) \
        .fillna(Status.PENDENTE.value)

    idle_all = np.floor((today_ts - _lookup(last_change, current["site_id"]))
                        .dt.total_seconds() / 86400).astype("Int64")
    idle_all.index = current["site_id"]
    stalled = current[~current["situacao"].isin(READY)].copy()
    stalled["ultima_mudanca"] = _lookup(last_change, stalled["site_id"])
    stalled["ultima_execucao"] = _lookup(last_run, stalled["site_id"])
    stalled["dias_sem_progresso"] = stalled["site_id"].map(idle_all).astype("Int64")
    # a site without any dated result has no last change: not counted as stalled
    stalled = stalled[(stalled["dias_sem_progresso"] >= stalled_days).fillna(False)] \
        .sort_values(["dias_sem_progresso", "site_id"], ascending=[False, True])

    muni = pd.crosstab(current["municipio_ibge"].fillna("—"), current["situacao"]) \
        .reindex(columns=ORDER, fill_value=0)
    muni.insert(0, "sites", muni.sum(axis=1))
    muni["prontos"] = muni[list(READY)].sum(axis=1)
    muni["pct_prontos"] = (100 * muni["prontos"] / muni["sites"]).round(1)
    muni["parados"] = current.assign(p=current["site_id"].isin(stalled["site_id"])) \
        .groupby(current["municipio_ibge"].fillna("—"))["p"].sum().reindex(muni.index) \
        .fillna(0).astype(int)
    muni = muni.reset_index()
    muni.insert(1, "municipio", muni["municipio_ibge"].map(municipality_name))
    # worst first: the smallest share ready, then the most sites
    muni = muni.sort_values(["pct_prontos", "sites", "municipio"], ascending=[True, False, True],
                            kind="stable").reset_index(drop=True)
    until = _times(dated["last_when"]).max() if len(dated) else None
    return Dashboard(
        weekly=_weekly(points, until),
        days=_days_to_ready(sites, first_run, _times(dated["ready_at"]).dropna()),
        blocking=_blocking(conn),
        stalled=stalled[["site_id", "nome", "municipio_ibge", "situacao", "ultima_mudanca",
                         "ultima_execucao", "dias_sem_progresso"]].reset_index(drop=True),
        municipalities=muni, current=current, today=today_ts, stalled_days=stalled_days,
        undated=int(head["undated"].sum()),
        sites=_site_table(conn, current, stages, dated["newest_run_pk"], idle_all, last_run))


# ----------------------------------------------------------------------------- charts
def weekly_chart(weekly: pd.DataFrame) -> str | None:
    if weekly.empty:
        return None
    # a second cue besides colour: each status has its own hatch
    return draw.stacked_columns(
        [day(w)[:5] for w in weekly["semana"]],
        [(LABELS[Status(s)], weekly[s].to_numpy(), draw.STATUS_COLORS[s], HATCHES[s])
         for s in ORDER],
        title="Locais por situação geral, semana a semana", ylabel="locais")


def days_chart(days: pd.DataFrame) -> str | None:
    values = days["dias"].dropna()
    if values.empty:
        return None
    return draw.histogram(values, color=draw.STATUS_COLORS["ok"], marker=values.median(),
                          title=f"Dias até ficar pronto — mediana {number(values.median(), 1)}",
                          xlabel="dias da primeira execução até ficar pronto pela primeira vez",
                          ylabel="locais")


# ----------------------------------------------------------------------------- output
def _fmt_time(series: pd.Series) -> pd.Series:
    """Times for the CSV files: ISO with the offset of the machine's zone (a spreadsheet
    sorts them; nobody has to guess the zone)."""
    return series.map(lambda t: "" if pd.isna(t) else
                      t.to_pydatetime().astimezone().isoformat(timespec="minutes"))


def export_tables(d: Dashboard) -> dict[str, pd.DataFrame]:
    """The dashboard's tables as the CSV files hold them (dates as text)."""
    days = d.days.copy()
    for col in ("primeira_execucao", "pronto_em"):
        days[col] = _fmt_time(days[col])
    stalled = d.stalled.copy()
    for col in ("ultima_mudanca", "ultima_execucao"):
        stalled[col] = _fmt_time(stalled[col])
    sites = d.sites.drop(columns=["pasta_execucao"]).copy()
    sites["ultima_execucao"] = _fmt_time(sites["ultima_execucao"])
    return {"semanas": d.weekly, "dias": days, "bloqueios": d.blocking, "parados": stalled,
            "municipios": d.municipalities, "locais": sites}


def site_rows(d: Dashboard, out_dir: Path, versions: dict[str, str | None]
              ) -> list[dict[str, Any]]:
    """The site table as the page shows it: dates and days as text, and links, relative to
    the painel's folder, to the site's latest report and its dossier — only to files that
    exist (a dossier not yet written has no link; ``dossie --todos`` writes them all)."""
    rows = []
    dossiers = out_dir / DOSSIERS_DIR
    have = {p.stem for p in dossiers.glob("*.html")} if dossiers.is_dir() else set()
    # column lists, not to_dict("records"), and each run folder resolved once, not every
    # report: 5 000 rows in milliseconds instead of a second
    columns = list(d.sites.columns)
    lists = [[None if v is pd.NA else v for v in d.sites[c].tolist()] for c in columns]
    records = [dict(zip(columns, values, strict=True)) for values in zip(*lists, strict=True)]
    here = out_dir.resolve()
    relative: dict[str, str] = {}  # run folder -> as seen from the painel's folder
    for r in records:
        report = None
        folder = r["pasta_execucao"]
        if isinstance(folder, str) and folder and \
                run_folder.report_path(run_folder.site_dir(folder, r["site_id"])).is_file():
            if folder not in relative:
                relative[folder] = Path(os.path.relpath(Path(folder).resolve(), here)) \
                    .as_posix()
            report = posixpath.normpath(f"{relative[folder]}/{r['site_id']}/"
                                        f"{run_folder.REPORT_FILE}")
        idle = r["dias_sem_progresso"]
        rows.append(Row({**r, "relatorio": report,
                         "dossie": f"{DOSSIERS_DIR}/{quote(r['site_id'])}.html"
                         if r["site_id"] in have else None,
                         "ultima": when(r["ultima_execucao"]),
                         "ultima_v": "" if pd.isna(r["ultima_execucao"])
                         else r["ultima_execucao"].isoformat(),
                         "dias": None if pd.isna(idle) else int(idle),
                         "versao": versions.get(r["site_id"]) or "—"}))
    return rows


def write_dashboard(conn: sqlite3.Connection, out: str | Path, stalled_days: int = 14,
                    today: datetime | None = None, source: str = ""
                    ) -> tuple[dict[str, Path], dict[str, Any]]:
    """Write the dashboard HTML at ``out`` and its CSV files beside it; return the paths and
    a short summary."""
    out = Path(out)
    d = build_dashboard(conn, stalled_days, today)
    tables = export_tables(d)
    paths = {"html": out}
    try:
        for key, name in CSV_NAMES.items():
            paths[key] = write_csv(tables[key], out.parent / name)
    except OSError as exc:
        raise output_error(exc, out.parent / name) from None
    ready_days = d.days["dias"].dropna()
    campo = field_overview(conn, today)
    versions = {r["site_id"]: r["versao"] for r in campo["sites_versao"]}
    ready_now = int(d.current["situacao"].isin(READY).sum())
    html = environment().get_template("painel.html.j2").render(
        d=d, tables=tables, csv=CSV_NAMES, generated_at=now_iso(), source=source,
        sites=site_rows(d, out.parent, versions), ready_now=ready_now,
        weekly_svg=weekly_chart(d.weekly), days_svg=days_chart(d.days),
        totals=d.current["situacao"].value_counts().to_dict(), order=ORDER,
        ready_median=None if ready_days.empty else float(ready_days.median()),
        stages={s: title(s) for s in STAGES}, records=lambda df: df.to_dict("records"),
        campo=campo)
    try:
        write_text_atomic(out, html)
    except OSError as exc:
        raise output_error(exc, out) from None
    return paths, dashboard_info(d)


def dashboard_info(d: Dashboard) -> dict[str, Any]:
    """A short summary for the command line."""
    return {"sites": len(d.current), "prontos": int(d.current["situacao"].isin(READY).sum()),
            "parados": len(d.stalled), "bloqueios": len(d.blocking), "sem_data": d.undated}
