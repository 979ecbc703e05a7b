"""Checks made before a run folder is created: the kernel and notebooks here, and — on a
Dask cluster — that every worker sees the same storage, has the kernel and the same
esus-runbook version.

Workers read the run's site snapshots and notebooks and write results into the run folder,
so the inventory's files and the output folder must be on storage mounted at the same path on
every worker (NFS, CIFS, a cluster file system). The probe proves it both ways: the client
writes a random token under the output folder that each worker must read back, each worker
writes its own token that the client must read, and each worker checks every input file the
sites reference (same size as here).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import resources, stages
from ..errors import InputError, Problem, describe_os_error
from ..results import STAGES
from ..sites.fields import FIELDS
from ..sites.loading import Site
from ..ssh_target import parse_target
from ..version import package_version
from .options import BatchOptions

# Lazy imports: jupyter_client (0.2 s) and distributed (0.9 s) only for the checks that need them
# (the kernel, the cluster).

HINTS = {
    "storage": "o inventário, os arquivos dos sites e a pasta de saída (--execucoes) precisam estar "
               "num armazenamento compartilhado (NFS, CIFS…) montado no mesmo caminho em todos "
               "os workers",
    "env": "instale nos workers a mesma versão do esus-runbook e registre o kernel "
           "(make setup) no ambiente em que 'dask worker' roda",
}
PROBE_CODE = ("import importlib.metadata as m; import esus_runbook.notebook; "
              "print(m.version('esus-runbook'))")


def check_local(options: BatchOptions) -> None:
    """The kernel and the notebooks must exist before any run folder is created."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(options.kernel_name)
    except NoSuchKernel:
        raise InputError(f"kernel Jupyter '{options.kernel_name}' não registrado",
                         remedy="rode 'make setup' (registra o kernel no ambiente .venv)") \
            from None
    missing = [nb for nb in stages.NOTEBOOK_FILES.values()
               if not (Path(options.notebooks_dir) / nb).is_file()]
    if missing:
        raise InputError(f"notebooks ausentes: {', '.join(missing)}",
                         file=str(options.notebooks_dir),
                         remedy=f"defina {resources.NOTEBOOKS_ENV} com a pasta notebooks/")


def input_files(sites: list[Site], inventory_files: list[Path]) -> dict[str, int]:
    """Every existing file the run will read, with its size here."""
    files: dict[str, int] = {}
    candidates: list[Any] = list(inventory_files)
    for site in sites:
        for stage in STAGES:
            for dotted in stages.get(stage).input_files:
                candidates.append(stages._lookup(site, dotted))
        candidates.extend(v for v in site.extra.values() if isinstance(v, str))
    for c in candidates:
        if not c:
            continue
        try:
            st = os.stat(c)
        except (OSError, TypeError, ValueError):
            continue
        if os.path.isfile(c):
            files[str(c)] = st.st_size
    return files


def probe_worker(probe_dir: str, token: str, files: dict[str, int], kernel_name: str,
                 version: str | None, start_kernel: bool = True) -> dict[str, Any]:
    """Runs on one Dask worker: what it cannot see or do, as pt-BR problems."""
    from distributed import get_worker

    worker = get_worker()
    me = f"{worker.address} ({socket.gethostname()})"
    problems: list[tuple[str, str]] = []  # (kind, pt-BR text); kind: storage | env
    base = Path(probe_dir)
    try:
        seen = (base / "cliente.txt").read_text(encoding="utf-8").strip()
    except OSError as exc:
        seen = f"<{exc.__class__.__name__}>"
    marker = base / f"worker-{secrets.token_hex(4)}.txt"
    if seen != token:
        problems.append(("storage", f"o worker {me} não enxerga a pasta de saída "
                                    f"{base.parent} (não leu o arquivo de teste gravado pelo "
                                    "cliente)"))
    else:
        try:
            marker.write_text(f"{token} {worker.address}\n", encoding="utf-8")
        except OSError as exc:
            problems.append(("storage", f"o worker {me} não consegue gravar em {base.parent} "
                                        f"({exc.__class__.__name__})"))
    unreadable = []
    for path, size in files.items():
        try:
            if os.stat(path).st_size != size or not os.access(path, os.R_OK):
                unreadable.append(path)
        except OSError:
            unreadable.append(path)
    if unreadable:
        more = f" e mais {len(unreadable) - 1}" if len(unreadable) > 1 else ""
        problems.append(("storage", f"o worker {me} não lê {unreadable[0]}{more} (arquivo "
                                    "ausente ou diferente do que o cliente vê)"))
    mine = package_version()
    if mine != version:
        problems.append(("env", f"o worker {me} tem esus-runbook {mine or 'não instalado'}, "
                                f"o cliente tem {version}"))
    problems.extend(("env", p) for p in _check_kernel(kernel_name, version, me, start_kernel))
    return {"worker": worker.address, "host": socket.gethostname(), "marker": marker.name,
            "problems": problems}


def _check_kernel(kernel_name: str, version: str | None, me: str,
                  start_kernel: bool) -> list[str]:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        return [f"o worker {me} não tem o kernel Jupyter '{kernel_name}' registrado"]
    if not start_kernel:
        return []
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=kernel_name)
    out: list[str] = []
    try:
        km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            reply = kc.execute_interactive(
                PROBE_CODE, timeout=60, store_history=False,
                output_hook=lambda m: out.append(m["content"].get("text", "")))
            ok = reply["content"]["status"] == "ok"
        finally:
            kc.stop_channels()
    except Exception as exc:
        return [f"o worker {me} não iniciou o kernel '{kernel_name}' "
                f"({exc.__class__.__name__})"]
    finally:
        try:
            km.shutdown_kernel(now=True)
        except Exception:
            pass
    seen = "".join(out).strip()
    if not ok:
        return [f"o kernel '{kernel_name}' do worker {me} não importa esus_runbook"]
    if seen != version:
        return [f"o kernel '{kernel_name}' do worker {me} tem esus-runbook {seen}, o cliente "
                f"tem {version}"]
    return []


def wait_done(futures: list, timeout: float) -> list:
    """Wait until every Dask future is done or ``timeout`` passed; the ones not done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(f.done() for f in futures):
        time.sleep(0.1)
    return [f for f in futures if not f.done()]


def probe_cluster(client, base: Path, files: dict[str, int], kernel_name: str,
                  timeout: float = 180.0) -> list[dict[str, Any]]:
    """Run :func:`probe_worker` once on every worker; InputError (exit 2) listing what is
    wrong, or the workers' descriptions."""
    workers = list(client.scheduler_info(n_workers=-1)["workers"])
    base.mkdir(parents=True, exist_ok=True)
    probe_dir = base / f".sonda-{secrets.token_hex(4)}"
    probe_dir.mkdir()
    try:
        token = secrets.token_hex(16)
        (probe_dir / "cliente.txt").write_text(token + "\n", encoding="utf-8")
        version = package_version()
        futures = [client.submit(probe_worker, str(probe_dir), token, files, kernel_name,
                                 version, workers=[addr], allow_other_workers=False,
                                 pure=False, key=f"esus-sonda-{probe_dir.name}-{i}")
                   for i, addr in enumerate(workers)]
        not_done = wait_done(futures, timeout)
        problems: list[tuple[str, str]] = []
        reports = []
        for fut in futures:
            if fut in not_done:
                problems.append(("env", "um worker não respondeu à verificação em "
                                        f"{timeout:g} s (ocupado ou travado)"))
                continue
            if fut.status != "finished":
                problems.append(("env", f"a verificação falhou num worker: {fut.exception()}"))
                continue
            rep = fut.result()
            reports.append(rep)
            problems.extend(tuple(p) for p in rep["problems"])
            marker = probe_dir / rep["marker"]
            if not rep["problems"] and not marker.exists():
                problems.append(("storage", f"o cliente não vê o que o worker "
                                            f"{rep['worker']} ({rep['host']}) gravou em "
                                            f"{base}: a pasta de saída não é a mesma nos dois"))
        client.cancel(list(not_done))
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)
    if problems:
        raise InputError.from_problems([Problem("--agendador", None, text, HINTS[kind])
                                        for kind, text in dict.fromkeys(problems)])
    return reports


# --------------------------------------------------------------------------- quick checks
# What can be known in about a second before `executar`, `lote` and `lab` start: secret
# variables defined, input files readable, the PEC, its database and the SSH server
# answering a TCP connection (short timeout, all at once). Only printed: the run still
# happens and each stage records the same facts as its own evidence.
QUICK_TIMEOUT = 1.0
MAX_CONNECTIONS = 32


@dataclass(frozen=True)
class Finding:
    site_id: str
    ok: bool
    text: str


def _env_findings(site: Site, env: Mapping[str, str]) -> list[Finding]:
    out = []
    for section, fields in FIELDS.items():
        values = site.data if section is None else site.data.get(section) or {}
        for f in fields:
            name = values.get(f.key)
            where = f.key if section is None else f"{section}.{f.key}"
            if not name:
                continue
            if f.kind == "env":
                ok = bool(env.get(name))
                out.append(Finding(site.site_id, ok, f"variável {name} ({where}) "
                                   + ("definida" if ok else "NÃO definida: exporte-a antes")))
            elif f.kind == "path":
                readable = os.path.isfile(name) and os.access(name, os.R_OK)
                out.append(Finding(site.site_id, readable, f"arquivo {where} " + (
                    "legível" if readable else f"não encontrado ou ilegível: {name}")))
    return out


def _endpoints(site: Site) -> list[tuple[str, str, int]]:
    """(what, host, port) of the servers the site names."""
    out = []
    inst = site.data.get("instalacao") or {}
    for key, label, default in (("pec_url", "PEC", 80), ("db_url", "banco do PEC", 5432)):
        url = inst.get(key)
        if url:
            try:
                parts = urlsplit(url)
                port = parts.port or (443 if parts.scheme == "https" else default)
            except ValueError:
                continue
            if parts.hostname:
                out.append((f"{label} ({key})", parts.hostname, port))
    ssh = (site.data.get("servidor") or {}).get("ssh")
    if ssh:
        target = parse_target(ssh)
        out.append(("SSH (servidor.ssh)", target.host, target.port))
    return out


def _connect(host: str, port: int, timeout: float) -> str | None:
    """None when a TCP connection opens, else why not (pt-BR)."""
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=timeout):
            return None
    except TimeoutError:
        return f"sem resposta em {timeout:g} s"
    except ConnectionRefusedError:
        return "conexão recusada (serviço parado?)"
    except socket.gaierror:
        return "nome não encontrado (DNS)"
    except OSError as exc:
        return describe_os_error(exc)


def quick_checks(sites: list[Site], env: Mapping[str, str] | None = None,
                 timeout: float = QUICK_TIMEOUT) -> list[Finding]:
    """Every quick finding of ``sites`` (connections in parallel, one per host:port)."""
    env = os.environ if env is None else env
    findings = [f for s in sites for f in _env_findings(s, env)]
    wanted = {(s.site_id, what, host, port) for s in sites for what, host, port in _endpoints(s)}
    targets = sorted({(host, port) for _, _, host, port in wanted})
    answers: dict[tuple[str, int], str | None] = {}
    if targets:
        with ThreadPoolExecutor(min(MAX_CONNECTIONS, len(targets))) as pool:
            for target, answer in zip(targets, pool.map(
                    lambda t: _connect(t[0], t[1], timeout), targets), strict=True):
                answers[target] = answer
    for sid, what, host, port in sorted(wanted):
        why = answers[(host, port)]
        findings.append(Finding(sid, why is None, f"{what} {host}:{port} " +
                                ("responde" if why is None else f"não responde: {why}")))
    return findings


def quick_report(sites: list[Site], env: Mapping[str, str] | None = None,
                 timeout: float = QUICK_TIMEOUT) -> str:
    """The pt-BR block printed before the run (empty when the sites name nothing to check)."""
    t0 = time.perf_counter()
    findings = quick_checks(sites, env, timeout)
    if not findings:
        return ""
    problems = [f for f in findings if not f.ok]
    lines = [f"Verificação prévia ({time.perf_counter() - t0:.1f} s): "
             f"{len(findings) - len(problems)} ok, {len(problems)} a conferir"
             + (" — a execução continua; as etapas registram o mesmo" if problems else "")]
    lines += [f"  [{'ok' if f.ok else 'atenção'}] {f.site_id}: {f.text}"
              for f in sorted(findings, key=lambda f: (f.ok, f.site_id))]
    return "\n".join(lines)
