"""The six implantation stages, declared once each (see :class:`~.base.Stage`).

Batch, report, guide, notebook API, CLI and form read titles, notebooks, inputs, views and
next steps from here. A new stage is a module in ``stages/`` with ``evaluate``, ``view`` and
``next_steps`` (and, optionally, ``charts``, ``report_html``, ``extra_fingerprint``), a
declaration below, its notebook and its name in ``results.STAGES``. The functions are
declared as :class:`~.base.Lazy` references: a notebook imports only its own stage's module.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..results import STAGES as STAGE_ORDER
from .base import Lazy, Stage
from .view import standard

_DECLARED = (
    Stage(name="cenario", title="Definição do cenário", notebook="01_cenario.ipynb",
          input_keys=("site_id", "cnes", "cenario"), input_files=(),
          evaluate=Lazy("cenario", "evaluate"), view=standard,
          next_steps=Lazy("cenario", "next_steps")),
    Stage(name="ambiente", title="Preparação do ambiente", notebook="02_ambiente.ipynb",
          input_keys=("municipio_ibge", "cenario", "ambiente", "instalador.plataforma",
                      "instalador.arquivo", "instalacao.https_dominio",
                      "instalacao.https_porta", "instalacao.atualizacao"),
          input_files=("ambiente.probe",),
          evaluate=Lazy("ambiente", "evaluate"), view=Lazy("ambiente", "view"),
          next_steps=Lazy("ambiente", "next_steps"), charts=Lazy("ambiente", "charts")),
    Stage(name="download", title="Download do instalador", notebook="03_download.ipynb",
          input_keys=("instalador",), input_files=("instalador.arquivo",),
          evaluate=Lazy("download", "evaluate"), view=Lazy("download", "view"),
          next_steps=Lazy("download", "next_steps"),
          extra_fingerprint=Lazy("download", "extra_fingerprint")),
    Stage(name="instalacao", title="Instalação e configuração",
          notebook="04_instalacao.ipynb",
          input_keys=("municipio_ibge", "cenario", "instalador", "instalacao"), input_files=(),
          evaluate=Lazy("instalacao", "evaluate"), view=Lazy("instalacao", "view"),
          next_steps=Lazy("instalacao", "next_steps"), charts=Lazy("instalacao", "charts")),
    Stage(name="contra_chave", title="Contra-chave", notebook="05_contra_chave.ipynb",
          input_keys=("contra_chave", "instalacao.data_instalacao", "instalacao.modo"),
          input_files=("contra_chave.contra_chave_file",),
          evaluate=Lazy("contra_chave", "evaluate"), view=standard,
          next_steps=Lazy("contra_chave", "next_steps"),
          extra_fingerprint=Lazy("contra_chave", "extra_fingerprint")),
    Stage(name="xml", title="Importação do XML do CNES", notebook="06_xml.ipynb",
          input_keys=("municipio_ibge", "cnes", "xml", "instalador.versao", "servidor.ssh",
                      "instalacao.db_url", "instalacao.db_password_env",
                      "instalacao.db_password_file"),
          input_files=("xml.arquivo", "xml.anterior"),
          evaluate=Lazy("xml", "evaluate"), view=Lazy("xml", "view"),
          next_steps=Lazy("xml", "next_steps"), charts=Lazy("xml", "charts"),
          report_html=Lazy("xml", "report_html")),
)

STAGES: Mapping[str, Stage] = MappingProxyType({s.name: s for s in _DECLARED})
"""Stage name → declaration, in the order of ``results.STAGES``."""
if tuple(STAGES) != STAGE_ORDER:
    raise RuntimeError(f"results.STAGES {STAGE_ORDER} and the registry {tuple(STAGES)} "
                       "disagree")

REPORT = "relatorio"
REPORT_NOTEBOOK = "07_relatorio.ipynb"
"""The notebook that writes the site report after the six stages."""

NOTEBOOK_FILES: Mapping[str, str] = MappingProxyType(
    {**{s.name: s.notebook for s in _DECLARED}, REPORT: REPORT_NOTEBOOK})
"""What a batch executes for each site, in order: each stage's notebook, then the report's."""


def get(name: str) -> Stage:
    """The declaration of stage ``name`` (KeyError for an unknown name)."""
    return STAGES[name]


def title(name: str) -> str:
    """The pt-BR title of a stage (the name itself for anything else)."""
    stage = STAGES.get(name)
    return stage.title if stage is not None else name
