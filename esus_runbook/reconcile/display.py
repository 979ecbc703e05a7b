"""Notebook 06's "Depois da importação", from the xml stage's result (never from the database:
the stage already read it)."""

from __future__ import annotations

from ..render.env import scoped_html
from ..results import StageResult


def show(result: StageResult) -> None:
    """Display PEC's database against the file (``metrics["reconciliacao"]``), or a line
    saying how to enable it when the site has no ``instalacao.db_url``."""
    from IPython.display import HTML, display  # lazy: in a notebook kernel only

    from .report import section_html  # lazy: pandas: only when there is something to show

    rec = (result.metrics or {}).get("reconciliacao")
    if not rec:
        display(HTML("<p>Sem conferência depois da importação: informe "
                     "<code>instalacao.db_url</code> (e <code>db_password_env</code>) para a "
                     "etapa ler o banco do PEC, só para leitura, e conferir o que foi "
                     "importado.</p>"))
    elif "xml" not in rec:      # no connection: the check says why and what to do
        display(HTML("<p>Sem conferência depois da importação: veja a verificação "
                     "<code>XML_PEC_CONEXAO</code>.</p>"))
    else:
        display(HTML(scoped_html(section_html(rec))))
