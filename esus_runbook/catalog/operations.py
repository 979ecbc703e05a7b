"""The evidence after go-live in the catalog (table ``operations``, migration 2): the records
of ``esus-runbook certificado``, ``backup`` and ``atualizacao``
(:mod:`esus_runbook.upkeep.record`), what the dossier shows of them and the painel's tables
of the sites in the field: versions, backups, certificates and XML imports."""

from __future__ import annotations

import json
import logging
import shlex
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import RunbookError
from ..installer.releases import Registry, version_tuple
from ..results import now_iso
from ..upkeep.certificate import SOON_DAYS
from ..upkeep.record import FOLDER, OpsRecord, read_folder
from .history import READY, refresh, to_time
from .store import catalog_path, connect, transaction

_UPSERT = ("INSERT INTO operations (path, site_id, tipo, status, started_at, finished_at, de, "
           "para, metrics, checks, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
           "ON CONFLICT(path) DO UPDATE SET site_id=excluded.site_id, tipo=excluded.tipo, "
           "status=excluded.status, started_at=excluded.started_at, "
           "finished_at=excluded.finished_at, de=excluded.de, para=excluded.para, "
           "metrics=excluded.metrics, checks=excluded.checks, ingested_at=excluded.ingested_at")


def _row(rec: OpsRecord) -> tuple:
    d = rec.to_dict()
    return (str(Path(rec.path).resolve()) if rec.path else "", rec.site_id, rec.tipo,
            d["status"], rec.started_at, d["finished_at"], rec.metrics.get("de"),
            rec.metrics.get("para"), json.dumps(rec.metrics, ensure_ascii=False, default=str),
            json.dumps(d["checks"], ensure_ascii=False, default=str), now_iso())


def record_operations(conn: sqlite3.Connection, records: list[OpsRecord]) -> int:
    with transaction(conn):
        conn.executemany(_UPSERT, [_row(r) for r in records])
    return len(records)


def import_operations(conn: sqlite3.Connection, executions: str | Path
                      ) -> tuple[int, list[str]]:
    """Record every file under ``<execucoes>/operacoes`` (idempotent: by path)."""
    records, skipped = read_folder(Path(executions) / FOLDER)
    return record_operations(conn, records), skipped


def record_after_operation(executions: str | Path, rec: OpsRecord,
                           log: logging.Logger | None = None) -> bool:
    """Record a measurement that was just written in its executions folder's catalog; a
    catalog that cannot be written is a warning with the command that rebuilds it."""
    try:
        conn = connect(catalog_path(executions))
        try:
            record_operations(conn, [rec])
        finally:
            conn.close()
        return True
    except (sqlite3.Error, OSError, RunbookError) as exc:
        (log or logging.getLogger("esus_runbook")).warning(
            "catálogo não atualizado (%s): reconstrua com esus-runbook catalogo importar %s",
            " ".join(str(exc).split())[:300], shlex.quote(str(executions)))
        return False


# ------------------------------------------------------------------ reading
class Row(dict):
    """A dict whose keys are also attributes: the painel's template reads ``r.site_id`` of
    thousands of rows, and Jinja tries an attribute before a key (a failed lookup each)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _records(conn: sqlite3.Connection, site_id: str | None = None) -> list[dict[str, Any]]:
    where, params = ("WHERE site_id = ?", (site_id,)) if site_id else ("", ())
    rows = conn.execute(
        "SELECT site_id, tipo, status, started_at, finished_at, de, para, metrics, checks, "
        f"path FROM operations {where} ORDER BY finished_at, path", params).fetchall()
    keys = ("site_id", "tipo", "status", "started_at", "finished_at", "de", "para", "metrics",
            "checks", "path")
    out = []
    for row in rows:
        d = dict(zip(keys, row, strict=True))
        d["metrics"] = json.loads(d["metrics"] or "{}")
        d["checks"] = json.loads(d["checks"] or "[]")
        out.append(d)
    return out


def _latest(records: list[dict[str, Any]], tipo: str) -> dict[str, Any] | None:
    found = [r for r in records if r["tipo"] == tipo]
    return found[-1] if found else None


def site_operations(conn: sqlite3.Connection, site_id: str) -> dict[str, Any]:
    """The dossier's section: one entry per update (its before and after halves, in order)
    and the latest backup and certificate evidence."""
    records = _records(conn, site_id)
    updates: list[dict[str, Any]] = []
    for r in records:
        if r["tipo"] == "atualizacao_antes":
            updates.append({"para": r["para"], "de": r["de"], "antes": r, "depois": None})
        elif r["tipo"] == "atualizacao_depois":
            open_ = [u for u in updates if u["para"] == r["para"] and u["depois"] is None]
            if open_:
                open_[-1]["depois"] = r
                open_[-1]["de"] = open_[-1]["de"] or r["de"]
            else:
                updates.append({"para": r["para"], "de": r["de"], "antes": None, "depois": r})
    return {"atualizacoes": updates, "backup": _latest(records, "backup"),
            "certificado": _latest(records, "certificado")}


def _running_version(records: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """(version, where it came from) of a site from its records, newest first."""
    for r in reversed(records):
        m = r["metrics"]
        if r["tipo"] == "atualizacao_depois" and m.get("versao_app"):
            return m["versao_app"], "atualização (depois)"
        if r["tipo"] == "atualizacao_antes" and m.get("de"):
            return m["de"], "atualização (antes)"
    return None, None


def _days_since(text: str | None, today: datetime) -> float | None:
    if not text:
        return None
    t = to_time(pd.Series([text])).iloc[0]
    if pd.isna(t):
        return None
    return round((today - t.to_pydatetime()).total_seconds() / 86400, 1)


def _days_since_each(texts: dict[str, Any], today: datetime) -> dict[str, float | None]:
    """:func:`_days_since` of each value, parsed in one pass (one call per site costs
    seconds for thousands of sites)."""
    keys = [k for k, v in texts.items() if v]
    if not keys:
        return {}
    times = to_time(pd.Series([texts[k] for k in keys], dtype=object))
    seconds = (pd.Timestamp(today) - times).dt.total_seconds()
    return {k: (None if pd.isna(s) else round(float(s) / 86400, 1))
            for k, s in zip(keys, seconds, strict=True)}


def field_overview(conn: sqlite3.Connection, today: datetime | None = None
                   ) -> dict[str, Any]:
    """The painel's tables of the sites in the field."""
    today = today or datetime.now(timezone.utc)
    sites = {r[0]: r[1] for r in conn.execute("SELECT site_id, nome FROM sites")}
    records = _records(conn)
    for r in records:
        sites.setdefault(r["site_id"], None)
    latest_registered = (Registry(None).known_versions("linux") or [None])[-1]
    by_site: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_site.setdefault(r["site_id"], []).append(r)
    # one query for every site, not one per site: the version the installation stage saw
    # last
    installed = dict(conn.execute(
        "SELECT site_id, value FROM (SELECT s.site_id, e.value, ROW_NUMBER() OVER ("
        "PARTITION BY s.site_id ORDER BY COALESCE(s.finished_at, s.started_at) DESC) AS n "
        "FROM evidence e JOIN stage_results s USING (result_pk) "
        "WHERE e.kind = 'pec' AND e.name = 'versao') WHERE n = 1"))
    refresh(conn)  # the summary kept at import holds each site's last ready XML import
    xml_ready = dict(conn.execute(
        "SELECT site_id, xml_ready FROM painel_sites WHERE xml_ready IS NOT NULL"))
    xml_days = _days_since_each(xml_ready, today)
    rows, backups, certs, xml = [], [], [], []
    for sid in sorted(sites):
        mine = by_site.get(sid, [])
        versao, origem = _running_version(mine)
        if versao is None and sid in installed:
            versao, origem = installed[sid], "etapa instalação"
        behind = None
        if versao and latest_registered:
            try:
                behind = version_tuple(versao) < version_tuple(latest_registered)
            except ValueError:
                behind = None
        rows.append(Row({"site_id": sid, "nome": sites[sid], "versao": versao, "origem": origem,
                         "atrasado": behind}))
        bkp = _latest(mine, "backup")
        if bkp is None:
            backups.append(Row({"site_id": sid, "nome": sites[sid], "situacao": "pendente",
                                "motivo": "sem evidência de backup (esus-runbook backup)",
                                "medido_em": None}))
        elif bkp["status"] not in READY:
            bad = [f"{c['id']}: {c['observed']}" for c in bkp["checks"]
                   if c["status"] not in ("ok", "alerta")
                   and c["id"] in ("BKP_PASTA", "BKP_RECENTE", "BKP_LISTA", "BKP_TABELAS",
                                   "BKP_COMPLETO", "BKP_TAMANHO", "BKP_RESTAURACAO")]
            backups.append(Row({"site_id": sid, "nome": sites[sid], "situacao": bkp["status"],
                                "motivo": "; ".join(map(str, bad[:3])) or bkp["status"],
                                "medido_em": bkp["finished_at"]}))
        crt = _latest(mine, "certificado")
        if crt is not None and crt["metrics"].get("dias_restantes") is not None:
            elapsed = _days_since(crt["finished_at"], today) or 0.0
            left = round(float(crt["metrics"]["dias_restantes"]) - elapsed, 1)
            if left <= SOON_DAYS:
                certs.append(Row({"site_id": sid, "nome": sites[sid],
                                  "dominio": crt["metrics"].get("alvo"), "dias": left,
                                  "valido_ate": crt["metrics"].get("valido_ate")}))
        last_xml = xml_ready.get(sid)
        if sites[sid] is not None or last_xml:
            xml.append(Row({"site_id": sid, "nome": sites[sid], "ultima": last_xml,
                            "dias": xml_days.get(sid)}))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["versao"] or "desconhecida"] = counts.get(r["versao"] or "desconhecida", 0) + 1
    versions = sorted(counts.items(), key=lambda kv: (kv[0] == "desconhecida",
                                                      _sort_key(kv[0])), reverse=False)
    return {"versoes": [{"versao": v, "sites": n} for v, n in versions],
            "sites_versao": rows, "ultima_registrada": latest_registered,
            "atrasados": [r for r in rows if r["atrasado"]],
            "backups": backups, "certificados": sorted(certs, key=lambda c: c["dias"]),
            "xml": xml, "dias_certificado": SOON_DAYS}


def _sort_key(v: str) -> tuple[int, ...]:
    try:
        return version_tuple(v)
    except ValueError:
        return (0,)
