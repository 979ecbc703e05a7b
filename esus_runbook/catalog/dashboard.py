"""The state dashboard over the catalog: sites by overall status per week, days from the
first run to ready, the checks that block the most sites, sites without progress, and one
row per municipality; the same tables as CSV beside the HTML. See docs/catalogo.md.

A site's overall status at a moment is the worst of the latest result of each of its stages
up to then (a stage never executed counts as ``pendente``), the same rule as the site report.
A check *blocks* a site when it is ``falha`` or ``erro`` in the latest result of its stage.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..csvcells import write_csv
from ..render.charts import STATUS_COLORS, pyplot, to_svg
from ..render.env import environment
from ..render.numbers import number
from ..results import SEVERITY, STAGES, Status, now_iso, write_text_atomic
from .history import READY, latest, output_error, stage_results, status_changes, when
from .operations import field_overview

ORDER = [s.value for s in Status]
_SEV = {s.value: n for s, n in SEVERITY.items()}
_BY_SEV = {n: s.value for s, n in SEVERITY.items()}
BLOCKING = (Status.FALHA.value, Status.ERRO.value)
CSV_NAMES = {"semanas": "painel_semanas.csv", "dias": "painel_dias_ate_pronto.csv",
             "bloqueios": "painel_bloqueios.csv", "parados": "painel_parados.csv",
             "municipios": "painel_municipios.csv"}


@dataclass
class Dashboard:
    weekly: pd.DataFrame       # semana × situação (número de sites)
    days: pd.DataFrame         # site_id, nome, primeira_execucao, pronto_em, dias
    blocking: pd.DataFrame     # check_id, titulo, etapa, sites, lista
    stalled: pd.DataFrame      # site_id, nome, municipio_ibge, situacao, ultima_mudanca, dias
    municipalities: pd.DataFrame
    current: pd.DataFrame      # site_id, nome, municipio_ibge, situacao
    today: pd.Timestamp
    stalled_days: int
    undated: int = 0           # results left out: no date that parses


def overall_over_time(results: pd.DataFrame) -> pd.DataFrame:
    """``site_id, when, sev``: each site's overall severity after each of its results."""
    if results.empty:
        return pd.DataFrame({"site_id": [], "when": [], "sev": []})
    sev = results[["site_id", "when", "stage"]].assign(sev=results["status"].map(_SEV))
    sev = sev.drop_duplicates(["site_id", "when", "stage"], keep="last")
    wide = sev.set_index(["site_id", "when", "stage"])["sev"].unstack("stage") \
        .reindex(columns=list(STAGES)).sort_index()
    wide = wide.groupby(level="site_id").ffill()
    overall = wide.fillna(_SEV[Status.PENDENTE.value]).max(axis=1).astype(int)
    return overall.rename("sev").reset_index()


def _weekly(timeline: pd.DataFrame) -> pd.DataFrame:
    if timeline.empty:
        return pd.DataFrame(columns=["semana", *ORDER])
    week = timeline["when"].dt.tz_convert(None).dt.to_period("W-SUN")
    last = timeline.assign(week=week).groupby(["site_id", "week"])["sev"].last().unstack()
    weeks = pd.period_range(last.columns.min(), last.columns.max(), freq="W-SUN")
    last = last.reindex(columns=weeks).ffill(axis=1)
    counts = {s: (last == _SEV[s]).sum(axis=0) for s in ORDER}
    out = pd.DataFrame(counts).astype(int)
    out.insert(0, "semana", [p.start_time.date().isoformat() for p in out.index])
    return out.reset_index(drop=True)


def _days_to_ready(timeline: pd.DataFrame, sites: pd.DataFrame,
                   first_run: pd.Series) -> pd.DataFrame:
    ready = timeline[timeline["sev"] <= _SEV[Status.ALERTA.value]]
    ready_at = ready.groupby("site_id")["when"].min()
    out = sites[["site_id", "nome", "municipio_ibge"]].copy()
    for col, values in (("primeira_execucao", first_run), ("pronto_em", ready_at)):
        # reindex, not map: map on an empty datetime series fails
        out[col] = pd.to_datetime(pd.Series(values.reindex(out["site_id"]).to_numpy(),
                                            index=out.index), utc=True)
    days = (out["pronto_em"] - out["primeira_execucao"]).dt.total_seconds() / 86400
    out["dias"] = days.round(1)
    return out


def _blocking(conn: sqlite3.Connection, results: pd.DataFrame) -> pd.DataFrame:
    cols = ["check_id", "titulo", "etapa", "sites", "lista"]
    current = latest(results)[["result_pk", "site_id", "stage"]]
    if current.empty:
        return pd.DataFrame(columns=cols)
    # literal statuses, so SQLite uses the partial index checks_blocking
    statuses = ", ".join(f"'{s}'" for s in BLOCKING)
    checks = pd.read_sql_query("SELECT result_pk, check_id, title FROM checks "
                               f"WHERE status IN ({statuses})", conn)
    checks = checks.merge(current, on="result_pk")
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


def build_dashboard(conn: sqlite3.Connection, stalled_days: int = 14,
                    today: datetime | None = None) -> Dashboard:
    today_ts = pd.Timestamp(today or datetime.now(timezone.utc))
    today_ts = today_ts.tz_localize("UTC") if today_ts.tzinfo is None else today_ts
    results = stage_results(conn)
    sites = pd.read_sql_query("SELECT site_id, nome, municipio_ibge FROM sites "
                              "ORDER BY site_id", conn)
    timeline = overall_over_time(results)
    first_run = results.groupby("site_id")["run_when"].min() if len(results) else \
        pd.Series(dtype="datetime64[ns, UTC]")
    current_sev = timeline.groupby("site_id")["sev"].last()
    current = sites.copy()
    current["situacao"] = current["site_id"].map(current_sev).map(_BY_SEV) \
        .fillna(Status.PENDENTE.value)

    changes = status_changes(results)
    last_change = changes.groupby("site_id")["when"].max()
    last_run = results.groupby("site_id")["run_when"].max()
    stalled = current[~current["situacao"].isin(READY)].copy()
    stalled["ultima_mudanca"] = _lookup(last_change, stalled["site_id"])
    stalled["ultima_execucao"] = _lookup(last_run, stalled["site_id"])
    idle = (today_ts - stalled["ultima_mudanca"]).dt.total_seconds() / 86400
    stalled["dias_sem_progresso"] = np.floor(idle).astype("Int64")
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
    muni = muni.reset_index().rename(columns={"municipio_ibge": "municipio_ibge"})
    return Dashboard(
        weekly=_weekly(timeline), days=_days_to_ready(timeline, sites, first_run),
        blocking=_blocking(conn, results),
        stalled=stalled[["site_id", "nome", "municipio_ibge", "situacao", "ultima_mudanca",
                         "ultima_execucao", "dias_sem_progresso"]].reset_index(drop=True),
        municipalities=muni, current=current, today=today_ts, stalled_days=stalled_days,
        undated=results.attrs.get("undated", 0))


# ----------------------------------------------------------------------------- charts
def weekly_chart(weekly: pd.DataFrame) -> str | None:
    if weekly.empty:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    bottom = np.zeros(len(weekly))
    x = np.arange(len(weekly))
    for status in ORDER:
        values = weekly[status].to_numpy()
        if values.any():
            ax.bar(x, values, bottom=bottom, color=STATUS_COLORS[status], label=status,
                   width=0.8)
            bottom += values
    step = max(1, len(weekly) // 12)
    ax.set_xticks(x[::step], weekly["semana"].iloc[::step], rotation=30, ha="right")
    ax.set_ylabel("sites")
    ax.yaxis.get_major_locator().set_params(integer=True)  # whole sites
    ax.set_title("Sites por situação geral, semana a semana", loc="left", pad=22)
    ax.legend(ncol=5, fontsize=8, loc="lower right", bbox_to_anchor=(1, 1.0), frameon=False)
    return to_svg(fig)


def days_chart(days: pd.DataFrame) -> str | None:
    values = days["dias"].dropna()
    if values.empty:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 2.8))
    # whole days from 0: a site ready on its first day is a bar at 0, not a bar around it
    top = max(1, int(values.max()))
    ax.hist(values, bins=range(0, top + 2, max(1, (top + 1) // 30 + 1)), align="left",
            color=STATUS_COLORS["ok"])
    ax.set_xlim(left=-0.5)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.axvline(values.median(), color="#1f2933", linestyle="--", linewidth=1)
    ax.set_xlabel("dias da primeira execução até ficar pronto (ok/alerta)")
    ax.set_ylabel("sites")
    ax.set_title(f"Dias até ficar pronto — mediana {number(values.median(), 1)}", loc="left")
    return to_svg(fig)


# ----------------------------------------------------------------------------- output
def _fmt_time(series: pd.Series) -> pd.Series:
    return series.map(lambda t: "" if pd.isna(t) else t.strftime("%Y-%m-%d %H:%M"))


def export_tables(d: Dashboard) -> dict[str, pd.DataFrame]:
    """The dashboard's tables as the CSV files hold them (dates as text)."""
    days = d.days.copy()
    for col in ("primeira_execucao", "pronto_em"):
        days[col] = _fmt_time(days[col])
    stalled = d.stalled.copy()
    for col in ("ultima_mudanca", "ultima_execucao"):
        stalled[col] = _fmt_time(stalled[col])
    return {"semanas": d.weekly, "dias": days, "bloqueios": d.blocking, "parados": stalled,
            "municipios": d.municipalities}


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
    html = environment().get_template("painel.html.j2").render(
        d=d, tables=tables, csv=CSV_NAMES, generated_at=when(now_iso()), source=source,
        weekly_svg=weekly_chart(d.weekly), days_svg=days_chart(d.days),
        totals=d.current["situacao"].value_counts().to_dict(), order=ORDER,
        ready_median=None if ready_days.empty else float(ready_days.median()),
        stages={s: s for s in STAGES}, records=lambda df: df.to_dict("records"),
        campo=field_overview(conn, today))
    try:
        write_text_atomic(out, html)
    except OSError as exc:
        raise output_error(exc, out) from None
    return paths, dashboard_info(d)


def dashboard_info(d: Dashboard) -> dict[str, Any]:
    """A short summary for the command line."""
    return {"sites": len(d.current), "prontos": int(d.current["situacao"].isin(READY).sum()),
            "parados": len(d.stalled), "bloqueios": len(d.blocking), "sem_data": d.undated}
