"""``esus-runbook lab``: JupyterLab for analysts who do not know Jupyter.

Without an argument JupyterLab opens in the current folder (refused inside the package or its
notebooks folder): the stage notebooks are copied to ``./notebooks/`` (the packaged ones are
never edited in place), 01_cenario starts a new site with its form, which writes
``./sites/<site_id>.yaml``, and results go to ``<out>`` as for a site. With a site file, an inventory or a folder of sites, each site gets a
*workspace* ``<out>/<site_id>/`` holding its own copy of the stage notebooks with the site's
parameters injected (papermill's ``injected-parameters`` cell, the mechanism the batch uses),
so the analyst opens ``01_cenario.ipynb`` and runs it without editing anything. Results of
the stages land in the same folder (``<stage>.json``), as in a batch run folder, and the
status widget reads them there. An existing workspace notebook is never replaced: only its
injected parameters are updated, so the analyst's outputs and notes survive.

The server listens on 127.0.0.1 only, with a random token passed through the environment
(``JUPYTER_TOKEN``), never on the command line; it stops, with its kernels, on Ctrl+C.
JupyterLab's application settings come from ``data/lab/``: ``overrides.json`` turns the
news and update notifications off (no "official Jupyter news?" prompt for an analyst) and
``page_config.json`` names the tool in the browser tab.
"""

from __future__ import annotations

import ctypes
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from . import resources, stages
from .batch import preflight
from .data import path as data_path
from .errors import InputError, RunbookError, describe_os_error
from .files.atomic import write_text_atomic
from .files.reading import resolved
from .net import free_port
from .run_folder import interactive_dir
from .sites import fields as site_fields
from .sites import loading as sites
from .sites.folders import SITE_SUFFIXES, inventory_item
from .terminal import say

DEFAULT_OUT = interactive_dir("execucoes")
INJECTED_COMMENT = "Parâmetros deste site (gravados por esus-runbook lab)"


# --------------------------------------------------------------------------- workspaces
@dataclass
class SiteEntry:
    """One site of the argument: the folder name and the notebook parameters."""

    name: str
    site_file: Path
    site_id: str | None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "site"


def discover(target: str | Path) -> list[SiteEntry]:
    """The sites named by a site file (existing or new), an inventory or a folder."""
    path = resolved(Path(target).expanduser())
    if path.is_dir():
        ids, problems = sites.folder_site_ids(path)
        if problems:  # the CLI refuses this folder too: say why now, not in a notebook
            raise InputError.from_problems(problems)
        found = [SiteEntry(sid, f, sid) for sid, f in ids.items()]
        if not found:
            raise InputError("a pasta não tem arquivos de site (.yaml)", file=str(path),
                             remedy="para um site novo informe o arquivo a criar, ex.: "
                                    "esus-runbook lab sites/ubs-nova.yaml")
        return found
    if path.suffix.lower() not in SITE_SUFFIXES:
        raise InputError("informe um arquivo de site .yaml, um inventário ou uma pasta",
                         file=str(path), remedy="ex.: esus-runbook lab sites/ubs-centro.yaml")
    if not path.exists():  # a new site: the form in 01_cenario creates the file
        return [SiteEntry(_slug(path.stem), path, None)]
    raw = sites.read_mapping_file(path)
    if isinstance(raw, dict) and "sites" in raw:
        items = raw["sites"] if isinstance(raw["sites"], list) else []
        out = []
        for i, item in enumerate(items):
            sid = None
            if isinstance(item, str):
                sid = sites.raw_site_id(inventory_item(path, item))
            elif isinstance(item, dict):
                sid = item.get("site_id")
            if not isinstance(sid, str) or not site_fields.SLUG.match(sid):
                raise InputError("item sem site_id válido", file=str(path), key=f"sites[{i}]",
                                 remedy="cada site precisa de site_id (ex.: ubs-centro)")
            out.append(SiteEntry(sid, path, sid))
        if not out:
            raise InputError("deve ser uma lista não vazia", file=str(path), key="sites",
                             remedy="liste os sites com '- site_id: ...' ou caminhos")
        return out
    sid = raw.get("site_id") if isinstance(raw, dict) else None
    if isinstance(sid, str) and site_fields.SLUG.match(sid):
        return [SiteEntry(sid, path, sid)]
    return [SiteEntry(_slug(path.stem), path, None)]  # the form shows what is wrong


def prepare_workspace(entry: SiteEntry, out: Path, notebooks_dir: Path | None = None,
                      run_dir: Path | None = None) -> Path:
    """Create or update ``<out>/<name>/`` with the stage notebooks parameterized for the
    site (results in ``run_dir``, by default ``out``); return the folder."""
    notebooks_dir = notebooks_dir or resources.notebooks_dir()
    folder = out / entry.name
    params = {"site_file": str(entry.site_file), "site_id": entry.site_id,
              "run_dir": str(run_dir or out), "interactive": True}
    for name in stages.NOTEBOOK_FILES.values():
        dest = folder / name
        source = dest if dest.exists() else notebooks_dir / name
        nb = load_notebook_node(str(source))  # adds the tags papermill expects
        if dest.exists() and nb.metadata.get("papermill", {}).get("parameters") == params:
            continue
        nb = parameterize_notebook(nb, params, comment=INJECTED_COMMENT)
        nb.metadata.get("papermill", {}).pop("default_parameters", None)
        write_text_atomic(dest, nbformat.writes(nb))
    return folder


def _existing_sites(entries: list[SiteEntry]) -> list[sites.Site]:
    """The valid sites among ``entries`` (a new or half-written one is the form's job)."""
    found = []
    for path in {e.site_file for e in entries if e.site_id}:
        try:
            found += sites.load_sites(path)
        except InputError:
            continue
    wanted = {e.site_id for e in entries}
    return [s for s in found if s.site_id in wanted]


def working_folder() -> Path:
    """The current folder, where ``lab`` without an argument works; refused when it is the
    package, its notebooks or inside them (the form and autosave would edit what ships)."""
    root = Path.cwd().resolve()
    for inside in resources.shipped_folders():
        if root == inside or inside in root.parents or (root / "notebooks").resolve() == inside:
            raise InputError("esta pasta é do próprio esus-runbook", file=str(root),
                             remedy="crie uma pasta de trabalho (ex.: mkdir ~/implantacao && "
                                    "cd ~/implantacao) e rode esus-runbook lab nela")
    return root


# --------------------------------------------------------------------------- server
def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def check_kernel(name: str = resources.KERNEL_NAME) -> None:
    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise InputError(f"o kernel Jupyter '{name}' não está registrado",
                         remedy="execute 'make setup' (ou python -m ipykernel install "
                                f"--sys-prefix --name {name})") from None


@dataclass
class LabServer:
    """A running JupyterLab. ``stop()`` ends it and every process it started."""

    process: subprocess.Popen
    port: int
    token: str = field(repr=False)
    root: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str | None = None, token: bool = True) -> str:
        """The address of ``path`` (relative to the root) in JupyterLab, with the token."""
        where = "/lab" + ("/tree/" + urllib.parse.quote(path) if path else "")
        return self.base_url + where + (f"?token={self.token}" if token else "")

    def api(self, path: str, timeout: float = 10) -> bytes:
        req = urllib.request.Request(self.base_url + path,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (127.0.0.1)
            return resp.read()

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RunbookError(f"o JupyterLab terminou ao iniciar (código "
                                   f"{self.process.returncode})",
                                   remedy="veja as mensagens acima; confira 'make setup'")
            try:
                self.api("/api/status", timeout=5)
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RunbookError(f"o JupyterLab não respondeu em {timeout:.0f} s",
                                   remedy="tente de novo; confira a porta com --porta")
            time.sleep(0.3)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM (JupyterLab then shuts its kernels down), SIGKILL after ``timeout``;
        any process it left behind is ended too."""
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        alive = [c for c in children if c.is_running()]
        for c in alive:
            try:
                c.terminate()
            except psutil.NoSuchProcess:
                pass
        _, still = psutil.wait_procs(alive, timeout=10)
        for c in still:
            try:
                c.kill()
            except psutil.NoSuchProcess:
                pass
        return self.process.returncode


def _die_with_parent() -> None:
    """Linux: JupyterLab gets SIGTERM if the process that started it dies (even by
    SIGKILL), so a killed ``esus-runbook lab`` never leaves a server behind."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def lab_settings_dir() -> Path:
    """The packaged JupyterLab application settings (``overrides.json``, ``page_config.json``)."""
    return Path(str(data_path("lab")))


def start_lab(root: Path, *, port: int | None = None, token: str | None = None,
              open_path: str | None = None, open_browser: bool = False,
              env: dict[str, str] | None = None, log=None) -> LabServer:
    """Start JupyterLab on 127.0.0.1 in ``root`` with the esus-runbook kernel as default.
    ``open_path`` is what the browser opens first (relative to ``root``)."""
    check_kernel()
    if port is None:
        port = free_port()
    elif not _port_free(port):
        raise InputError(f"a porta {port} já está em uso", key="--porta",
                         remedy="escolha outra com --porta ou omita para usar uma livre")
    token = token or secrets.token_urlsafe(32)
    default_url = "/lab" + ("/tree/" + open_path if open_path else "")
    cmd = [sys.executable, "-m", "jupyterlab",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
           f"--ServerApp.open_browser={open_browser}",
           f"--MappingKernelManager.default_kernel_name={resources.KERNEL_NAME}",
           f"--LabApp.default_url={default_url}",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
           f"--LabApp.app_settings_dir={lab_settings_dir()}",
           "--ServerApp.log_level=WARN"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--ServerApp.allow_root=True")  # only 127.0.0.1, with a token
    full_env = {**os.environ, **(env or {}), "JUPYTER_TOKEN": token}
    proc = subprocess.Popen(cmd, env=full_env, cwd=root, stdin=subprocess.DEVNULL,
                            stdout=log or None, stderr=log or None, start_new_session=True,
                            preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    server = LabServer(proc, port, token, root)
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop()


def run_lab(target: str | Path | None = None, *, out: Path = DEFAULT_OUT,
            port: int | None = None, open_browser: bool = True) -> int:
    """What ``esus-runbook lab`` does: prepare, start, print the address, wait for Ctrl+C."""
    if target is None:
        root = working_folder()
        out = Path(out).expanduser().resolve()
        try:  # the form creates sites/ when the first site is saved
            prepare_workspace(SiteEntry("notebooks", root / "sites", None), root,
                              run_dir=out)
        except OSError as exc:
            raise InputError(f"não foi possível gravar os notebooks ({describe_os_error(exc)})",
                             file=str(root), remedy="rode o comando numa pasta de trabalho "
                             "em que este usuário possa gravar") from None
        open_path = f"notebooks/{stages.NOTEBOOK_FILES['cenario']}"
        names: list[str] = []
    else:
        out = Path(out).expanduser().resolve()
        entries = discover(target)
        try:
            for entry in entries:
                prepare_workspace(entry, out)
        except OSError as exc:
            raise InputError(f"não foi possível gravar os notebooks ({describe_os_error(exc)})",
                             file=str(out), remedy="informe em --execucoes uma pasta em que este "
                             "usuário possa gravar") from None
        root = out
        names = [e.name for e in entries]
        quick = preflight.quick_report(_existing_sites(entries))
        if quick:
            say(quick, file=sys.stderr, flush=True)
        open_path = f"{names[0]}/{stages.NOTEBOOK_FILES['cenario']}" if len(names) == 1 else None
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    server = None
    try:
        server = start_lab(root, port=port, open_path=open_path, open_browser=open_browser)
        say("JupyterLab do esus-runbook pronto (Ctrl+C encerra).", flush=True)
        say(f"Pasta: {root}")
        if names:
            say("Sites: " + ", ".join(names))
        say(f"Abra no navegador: {server.url(open_path)}", flush=True)
        code = server.process.wait()
        say(f"O JupyterLab terminou (código {code}).", file=sys.stderr)
        return 0 if code == 0 else 1
    except (KeyboardInterrupt, _Stop):
        say("Encerrando o JupyterLab e os kernels…", file=sys.stderr, flush=True)
        return 0
    finally:
        if server is not None:
            server.stop()
        signal.signal(signal.SIGTERM, previous)
