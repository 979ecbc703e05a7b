"""What the catalog's commands do and the pt-BR lines they print: ``catalogo importar``,
``dossie`` and ``painel`` (the CLI only maps its options to these functions)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError
from . import DASHBOARD_NAME, dossier_path
from .dashboard import write_dashboard
from .dossier import write_dossier
from .operations import import_operations
from .pdf import html_to_pdf
from .store import catalog_path, connect, import_folders, run_folders


def import_runs(folder: str | Path, catalog: str | Path | None = None) -> tuple[str, str]:
    """(Re)build the catalog from the run folders under ``folder`` (or ``folder`` itself);
    return the summary and the notices about results that were not imported."""
    folders = run_folders(folder)
    if not folders:
        raise InputError("nenhuma pasta de execução (com run.json) nesta pasta",
                         file=str(folder), key="PASTA",
                         remedy="informe a pasta --execucoes dos lotes (ex.: execucoes)")
    target = Path(catalog) if catalog else catalog_path(
        folders[0].parent if folders[0] == Path(folder) else folder)
    records = import_folders(folders, target)
    operations, op_skipped = _import_operations(target)
    notices = [f"{path}: resultado ilegível ou de outro esquema — não importado"
               for rec in records for path in [*rec.skipped]] + \
        [f"{path}: evidência ilegível ou de outro esquema — não importada" for path in op_skipped]
    sites = {s["site_id"] for rec in records for s in rec.sites}
    return (f"Catálogo: {target} ({len(records)} execução(ões), {len(sites)} site(s) "
            "importados" + (f", {operations} evidência(s) depois da implantação" if operations
                            else "") + ")", "\n".join(notices))


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
    catalog = catalog_path(executions)
    out = Path(out) if out else dossier_path(executions, site_id)
    conn = connect(catalog, create=False)
    try:
        write_dossier(conn, site_id, out, source=str(catalog))
    finally:
        conn.close()
    yield f"Dossiê: {out}"
    if pdf:
        html_to_pdf(out, pdf)
        yield f"PDF: {pdf}"


def dashboard(executions: str | Path = "execucoes", out: str | Path | None = None,
              stalled_days: int = 14) -> str:
    """Write the state dashboard (HTML and CSV tables); return its summary."""
    catalog = catalog_path(executions)
    out = Path(out) if out else Path(executions) / DASHBOARD_NAME
    conn = connect(catalog, create=False)
    try:
        paths, info = write_dashboard(conn, out, stalled_days, source=str(catalog))
    finally:
        conn.close()
    return "\n".join([
        f"Painel: {paths['html']}",
        f"Sites: {info['sites']} ({info['prontos']} prontos, {info['parados']} parados há "
        f"{stalled_days} dias ou mais); verificações que bloqueiam: {info['bloqueios']}",
        "Tabelas CSV: " + ", ".join(str(p) for k, p in paths.items() if k != "html")])
