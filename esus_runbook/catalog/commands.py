"""What the catalog's commands do and the pt-BR lines they print: ``catalogo importar``,
``dossie`` and ``painel`` (the CLI only maps its options to these functions)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..commands import sh
from ..errors import InputError, Problem
from ..files.outputs import check_outputs
from ..files.reading import resolved
from ..render.words import plural
from ..run_folder import RUN_FILE
from . import DASHBOARD_NAME, DOSSIERS_DIR, dossier_path
from .dashboard import write_dashboard
from .dossier import write_dossier
from .operations import import_operations
from .pdf import html_to_pdf
from .store import catalog_path, connect, import_folders, run_folders
from .validate import site_id_problem


def import_runs(folder: str | Path, catalog: str | Path | None = None) -> tuple[str, str]:
    """(Re)build the catalog from the run folders under ``folder`` (or ``folder`` itself);
    return the summary and the notices about results that were not imported."""
    folders = run_folders(folder)
    if not folders:
        raise InputError(f"nenhuma pasta de execução (com {RUN_FILE}) nesta pasta",
                         file=str(folder), key="PASTA",
                         remedy="informe a pasta --execucoes dos lotes (ex.: execucoes)")
    target = Path(catalog) if catalog else catalog_path(
        folders[0].parent if folders[0] == Path(folder) else folder)
    records = import_folders(folders, target)
    skipped = [(path, reason) for rec in records for path, reason in rec.skipped]
    recorded = [rec for rec in records if not rec.refused]
    if not recorded:
        raise InputError.from_problems(
            [Problem(path, None, f"{reason} — não importado") for path, reason in skipped]
            + [Problem(str(folder), "PASTA", "nenhuma execução importada",
                       "confira os arquivos acima (ou refaça as execuções)")])
    operations, op_skipped = _import_operations(target)
    notices = [f"{path}: {reason} — não importado" for path, reason in skipped] + \
        [f"{path}: evidência ilegível ou de outro esquema — não importada" for path in op_skipped]
    sites = {s["site_id"] for rec in recorded for s in rec.sites}
    return (f"Catálogo: {target}; importados: {plural(len(recorded), 'execução')}, "
            f"{plural(len(sites), 'local de implantação')}" +
            (f", {plural(operations, 'evidência')} depois da implantação" if operations
             else ""), "\n".join(notices))


def _import_operations(catalog: Path) -> tuple[int, list[str]]:
    """The evidence files after go-live beside the catalog (``operacoes/``)."""
    conn = connect(catalog)
    try:
        return import_operations(conn, catalog.parent)
    finally:
        conn.close()


def dossier(site_id: str, executions: str | Path = "execucoes", out: str | Path | None = None,
            pdf: str | Path | None = None) -> Iterator[str]:
    """Write a site's dossier (HTML, and a PDF when asked); yield each line as its file is
    written, so the HTML's line is shown even if the PDF then fails."""
    problem = site_id_problem(site_id)
    if problem:
        raise InputError(problem, file=f"SITE_ID '{site_id[:80]}'", remedy="informe o site_id do arquivo do site "
                         "(o mesmo do relatório), ex.: ubs-centro")
    catalog = catalog_path(executions)
    check_outputs([("--saida", out), ("--pdf", pdf)], inputs=[catalog])
    out = Path(out) if out else _inside(Path(executions) / DOSSIERS_DIR,
                                        dossier_path(executions, site_id))
    conn = connect(catalog, create=False)
    try:
        write_dossier(conn, site_id, out, source=str(catalog))
    finally:
        conn.close()
    yield f"Dossiê: {out}"
    if pdf:
        html_to_pdf(out, pdf)
        yield f"PDF: {pdf}"


def _inside(folder: Path, path: Path) -> Path:
    """``path``, refused unless it resolves inside ``folder`` (the default dossier path is
    built from the site id: it must never land elsewhere)."""
    if not resolved(path).is_relative_to(resolved(folder)):
        raise InputError("o dossiê ficaria fora da pasta dos dossiês", file=str(path),
                         key="SITE_ID", remedy=f"confira a pasta {folder} (um link simbólico "
                         "para fora dela?) ou informe --out")
    return path


def all_dossiers(executions: str | Path = "execucoes") -> Iterator[str]:
    """Write every site's dossier in one pass over one catalog connection (the painel links
    to them); yield one line per file, then a total."""
    catalog = catalog_path(executions)
    conn = connect(catalog, create=False)
    try:
        ids = [r[0] for r in conn.execute("SELECT site_id FROM sites ORDER BY site_id")]
        for site_id in ids:
            out = _inside(Path(executions) / DOSSIERS_DIR, dossier_path(executions, site_id))
            write_dossier(conn, site_id, out, source=str(catalog))
            yield f"Dossiê: {out}"
    finally:
        conn.close()
    yield f"{plural(len(ids), 'dossiê gravado', 'dossiês gravados')} em " \
          f"{Path(executions) / DOSSIERS_DIR}"


def dashboard(executions: str | Path = "execucoes", out: str | Path | None = None,
              stalled_days: int = 14) -> str:
    """Write the state dashboard (HTML and CSV tables); return its summary."""
    catalog = catalog_path(executions)
    check_outputs([("--saida", out)], inputs=[catalog])
    out = Path(out) if out else Path(executions) / DASHBOARD_NAME
    conn = connect(catalog, create=False)
    try:
        if conn.execute("SELECT count(*) FROM sites").fetchone()[0] == 0:
            # a failed or interrupted import leaves an empty catalog: no page of zeros
            # replaces the last good dashboard
            raise InputError("o catálogo não tem nenhuma execução importada, então o painel "
                             "não foi gerado", file=str(catalog),
                             remedy="importe as execuções com 'esus-runbook catalogo importar "
                                    f"{sh(executions)}' (ou execute um lote com --out nessa "
                                    "pasta)")
        paths, info = write_dashboard(conn, out, stalled_days, source=str(catalog))
    finally:
        conn.close()
    lines = [
        f"Painel: {paths['html']}",
        f"Locais de implantação: {info['sites']} ("
        f"{plural(info['prontos'], 'pronto')}, {plural(info['parados'], 'parado')} há "
        f"{stalled_days} dias ou mais); verificações que bloqueiam: {info['bloqueios']}",
        "Tabelas CSV: " + ", ".join(str(p) for k, p in paths.items() if k != "html")]
    if info["sem_data"]:
        lines.append(f"Atenção: {plural(info['sem_data'], 'resultado')} de etapa sem data "
                     "legível ficaram de fora (reimporte com 'esus-runbook catalogo importar')")
    return "\n".join(lines)
