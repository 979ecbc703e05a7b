"""Real processes the batch tests need: a Dask scheduler with worker processes on
127.0.0.1 (one of them optionally without the shared storage), a batch started as a user
would (own process group), and a sampler that records every kernel a process starts so a
test can prove none outlives it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

from esus_runbook.batch.zygote.client import SERVER_MODULE

from .project import ROOT, demo_env, require

BIN = Path(sys.executable).parent


def dask_cli() -> str:
    path = BIN / "dask"
    require(path.exists(), "the 'dask' command (pip install 'esus-runbook[dask]')")
    return str(path)


def hiding_prefix(folder: Path) -> list[str]:
    """A command prefix that runs a process in its own mount namespace with an empty tmpfs
    over ``folder`` (util-linux ``unshare``; root, or unprivileged user namespaces)."""
    script = f'mount -t tmpfs tmpfs "{folder}" && exec "$@"'
    prefix = ["unshare", "--mount", "--propagation", "private",
              *(["--map-root-user"] if os.geteuid() != 0 else []), "sh", "-c", script, "sh"]
    works = shutil.which("unshare") is not None and subprocess.run(
        [*prefix, "true"], capture_output=True).returncode == 0
    require(works, "mount namespaces ('unshare --mount' with a tmpfs)")
    return prefix


class DaskCluster:
    """``dask scheduler`` and ``dask worker`` processes (each worker behind its nanny)."""

    def __init__(self, folder: Path, workers: int = 2, env: dict[str, str] | None = None,
                 hide: Path | None = None):
        self.folder = folder
        self.scheduler_file = folder / "scheduler.json"
        self.procs: list[subprocess.Popen] = []
        self.env = {**os.environ, **demo_env(), **(env or {})}
        self.n_workers = workers
        self.hide = hide  # a folder the *second* worker sees as an empty tmpfs

    @property
    def address(self) -> str:
        return json.loads(self.scheduler_file.read_text())["address"]

    def _spawn(self, args: list[str], name: str, prefix: list[str] | None = None):
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 - closed by the process
        proc = subprocess.Popen([*(prefix or []), *args], stdout=log, stderr=subprocess.STDOUT,
                                env=self.env, cwd=self.folder, start_new_session=True)
        self.procs.append(proc)
        return proc

    def start(self, timeout: float = 60) -> DaskCluster:
        dask = dask_cli()
        self._spawn([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--dashboard-address", ":0", "--no-show",
                     "--scheduler-file", str(self.scheduler_file)], "scheduler")
        deadline = time.monotonic() + timeout
        while not self.scheduler_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(self.logs())
            time.sleep(0.1)
        for i in range(self.n_workers):
            prefix = None
            args = [dask, "worker", "--scheduler-file", str(self.scheduler_file),
                    "--nthreads", "1", "--host", "127.0.0.1", "--dashboard-address", ":0",
                    "--local-directory", str(self.folder / f"worker-{i}")]
            if self.hide is not None and i == 1:
                # this worker gets its own mount namespace where `hide` is an empty tmpfs:
                # same path, different storage — what a worker without the share sees
                prefix = hiding_prefix(self.hide)
            self._spawn(args, f"worker-{i}", prefix)
        from distributed import Client

        with Client(self.address, timeout=timeout, set_as_default=False) as client:
            client.wait_for_workers(self.n_workers, timeout=timeout)
        return self

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:]
                         for p in sorted(self.folder.glob("*.log")))

    def descendants(self) -> list[int]:
        pids = []
        for proc in self.procs:
            try:
                pids += [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        return pids

    def kernels(self) -> list[int]:
        """Live ipykernel processes started by the workers."""
        out = []
        for pid in self.descendants():
            try:
                p = psutil.Process(pid)
                if p.status() != psutil.STATUS_ZOMBIE and _is_kernel(p):
                    out.append(pid)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return out

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@contextmanager
def dask_cluster(folder: Path, **kwargs):
    folder.mkdir(parents=True, exist_ok=True)
    cluster = DaskCluster(folder, **kwargs)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


ZYGOTE = SERVER_MODULE  # the zygote runs as python -m SERVER_MODULE


def _is_kernel(proc: psutil.Process) -> bool:
    """An ipykernel process: started as one, or forked by the site engine's zygote (same
    command line as its parent, the zygote, whose own parent is not a zygote). A process a
    forked kernel starts shows the zygote's command line too until it execs: it is the
    kernel's child, not the zygote's, and is not counted."""
    cmd = proc.cmdline()
    if any("ipykernel" in part for part in cmd):
        return True
    parent = proc.parent()
    if ZYGOTE not in cmd or parent is None or ZYGOTE not in parent.cmdline():
        return False
    grandparent = parent.parent()
    return grandparent is None or ZYGOTE not in grandparent.cmdline()


class KernelSampler:
    """Records, every 0.1 s, the ipykernel processes descending from ``pid``."""

    def __init__(self, pid: int):
        self.pid = pid
        self.seen: dict[int, float] = {}  # pid -> create_time (pids are reused)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> KernelSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> list[int]:
        try:
            children = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        found = []
        for c in children:
            try:
                if _is_kernel(c):
                    self.seen.setdefault(c.pid, c.create_time())
                    found.append(c.pid)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(0.1)

    def alive(self) -> list[int]:
        """Sampled kernels still running (a reused pid with another start time is not)."""
        out = []
        for pid, created in self.seen.items():
            try:
                p = psutil.Process(pid)
                if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                    out.append(pid)
            except psutil.NoSuchProcess:
                continue
        return out


def start_batch(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``python -m esus_runbook batch …`` in its own process group (a terminal's job)."""
    return subprocess.Popen([sys.executable, "-m", "esus_runbook", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **demo_env(), **(env or {})}, cwd=ROOT,
                            start_new_session=True, preexec_fn=terminal_signals)


def kill_if_running(proc: subprocess.Popen) -> None:
    """Kill a batch a failed test left running (its group and whatever it started), so a
    hanging notebook does not load the machine for the tests after it."""
    if proc.poll() is not None:
        return
    started = []
    try:
        started = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    for p in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    proc.wait(timeout=30)


def terminal_signals() -> None:
    """A terminal starts its jobs with Ctrl-C's default action, even when these tests run
    from a background job of a script (where SIGINT is inherited as ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def hanging_sites(run: Path) -> list[str]:
    """Sites of ``run`` whose kernel is inside the endless cell of tests/notebooks/hangs.ipynb
    (it marks ``<run>/.pendurado-<site>`` right before sleeping)."""
    return sorted(p.name.removeprefix(".pendurado-") for p in run.glob(".pendurado-*"))


def rollup_triples(run_dir: Path) -> set[tuple[str, str, str]]:
    import pandas as pd

    df = pd.read_csv(run_dir / "rollup.csv", dtype=str)
    return set(df[["site_id", "stage", "status"]].itertuples(index=False, name=None))


def only_run(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(runs) == 1, runs
    return runs[0]
