"""Every option of a batch run, typed and documented in one place."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import resources
from ..errors import InputError

_ADDRESS = re.compile(r"^(tcp|tls)://[^\s/:]+(:\d{1,5})?/?$")

SERVER_STAGES = frozenset({"ambiente", "download", "instalacao", "contra_chave", "xml"})
"""Stages whose notebook may talk to a server (PEC's HTTP, SSH, the database, downloads)."""
SERVER_STAGE_TIMEOUT = 3600.0


@dataclass
class BatchOptions:
    out: Path = Path("execucoes")
    """Folder that receives one new ``<run-id>/`` folder per run."""
    workers: int | None = None
    """Local pool: sites executed at the same time (default: number of CPUs; each notebook
    runs in its own kernel process). Dask: at most this many sites in flight on the cluster
    (default: no limit — the cluster's worker threads decide)."""
    scheduler: str | None = None
    """``tcp://HOST:PORT`` of a Dask scheduler; None runs on the local pool."""
    resume: Path | None = None
    """An earlier run folder to continue: complete stages with unchanged inputs are reused."""
    timeout: float | None = None
    """Seconds one notebook may take (kernel start included) before its kernel is killed and
    the stage marked ``erro``; None: :attr:`server_timeout` for the stages that talk to a
    server, no limit for the others."""
    server_timeout: float = SERVER_STAGE_TIMEOUT
    """Without ``--timeout``: seconds a notebook of a stage that talks to a server
    (:data:`SERVER_STAGES`: SSH probe, download, SSH evidence and database checks, XML
    reconciliation) may take. Generous on purpose (one hour: a slow download of the
    installer fits); it only ends a stage that hung on a server that stopped answering."""
    retries: int = 0
    """How many more times a stage that crashed (``erro``, not a timeout) is executed."""
    kernel_name: str = resources.KERNEL_NAME
    """Jupyter kernel that executes the notebooks (registered by ``make setup``)."""
    notebooks_dir: Path = field(default_factory=resources.notebooks_dir)
    """Where the stage notebooks live (copied into ``<run>/_notebooks`` for the workers)."""
    one_site: bool = False
    """``run``: the inventory must hold exactly one site (several go to ``batch``)."""
    progress: bool = True
    """Show a progress bar on stderr (one step per notebook)."""
    connect_timeout: float = 15.0
    """Seconds to wait for the Dask scheduler and for at least one worker."""
    kernel_per_notebook: bool = False
    """``--kernel-por-notebook``: every notebook in a fresh kernel of its own (the engine of
    earlier versions, for debugging); by default a site's notebooks share one warm kernel."""

    def stage_timeout(self, stage: str) -> float | None:
        """The limit of ``stage``'s notebook: ``--timeout``, else :attr:`server_timeout` for a
        stage that talks to a server, else none."""
        if self.timeout is not None:
            return self.timeout
        return self.server_timeout if stage in SERVER_STAGES else None

    @property
    def engine(self) -> str:
        return "dask" if self.scheduler else "local"

    @property
    def local_workers(self) -> int:
        return max(1, int(self.workers or os.cpu_count() or 1))

    def validate(self) -> None:
        """Reject impossible values with a pt-BR message (exit 2) before anything runs."""
        if self.workers is not None and int(self.workers) < 1:
            raise InputError(f"valor inválido: {self.workers}", file="--paralelos",
                             remedy="informe um número inteiro ≥ 1")
        if self.timeout is not None and not float(self.timeout) > 0:
            raise InputError(f"valor inválido: {self.timeout}", file="--prazo",
                             remedy="informe os segundos por notebook, um número > 0")
        if int(self.retries) < 0:
            raise InputError(f"valor inválido: {self.retries}", file="--tentativas",
                             remedy="informe um número inteiro ≥ 0")
        if self.scheduler is not None and not _ADDRESS.match(self.scheduler):
            raise InputError(f"endereço de scheduler inválido: '{self.scheduler}'",
                             file="--agendador",
                             remedy="use tcp://HOST:PORTA, ex.: tcp://10.0.0.5:8786")

    def describe(self) -> dict[str, Any]:
        """What run.json records about how the run was made."""
        return {"engine": self.engine, "scheduler": self.scheduler,
                "workers": self.local_workers if self.engine == "local" else self.workers,
                "timeout": self.timeout, "server_timeout": self.server_timeout,
                "retries": self.retries,
                "kernel": self.kernel_name, "notebooks_dir": str(self.notebooks_dir),
                "kernel_per": "notebook" if self.kernel_per_notebook else "site"}
