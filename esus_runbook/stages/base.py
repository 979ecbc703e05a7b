"""The declaration of a stage (see ``stages.registry`` for the six of them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from ..results import StageResult
from ..sites.loading import Site
from .context import StageContext
from .steps import Step

Charts = Callable[[StageResult], list[tuple[str, str]]]


@dataclass(frozen=True)
class Lazy:
    """``stages.<module>.<name>``, imported on the first call.

    The registry declares every stage's functions through this: importing the six stage
    modules costs a notebook kernel 0.2 to 0.3 s more than importing the one it runs
    (``python -X importtime -c "import esus_runbook.stages.registry"``: ambiente with jvm
    and zoneinfo, download with the installer verification, xml, instalacao), and a batch starts a kernel
    per stage and site."""

    module: str
    name: str

    def resolve(self) -> Callable[..., Any]:
        return getattr(import_module(f"{__package__}.{self.module}"), self.name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)


@dataclass(frozen=True)
class Stage:
    """Everything about one stage, declared once.

    ``evaluate`` never raises for bad *site data*: a missing input is ``pendente``, a bad one
    ``falha``. ``view`` displays in a notebook everything the stage shows for a result
    (header, checks, charts and the stage's own sections); it receives this declaration.
    ``report_html`` is the extra HTML the site report shows under the stage's checks.
    ``extra_fingerprint`` covers inputs that are neither site keys nor files (a secret only
    through ``secret_refs.fingerprint``, never in clear nor as a fast hash)."""

    name: str
    title: str                                  # pt-BR, as notebooks and reports show it
    notebook: str                               # file in the notebooks folder
    input_keys: tuple[str, ...]                 # site keys/sections the result depends on
    input_files: tuple[str, ...]                # "section.key" of the files it reads
    evaluate: Callable[[Site, StageContext], StageResult]
    view: Callable[[Stage, StageResult], None]
    next_steps: Callable[[Site, Mapping[str, str]], list[Step]]
    charts: Charts | None = None                # (title, SVG) drawn from the result
    report_html: Callable[[StageResult], str | None] | None = None
    extra_fingerprint: Callable[[Site], dict[str, Any]] | None = None

    def show(self, result: StageResult) -> None:
        """Display ``result`` in the notebook (see ``view``)."""
        self.view(self, result)
