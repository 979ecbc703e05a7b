"""Where site jobs run. One interface, two engines:

- :class:`LocalExecutor` (default): ``workers`` sites at a time on threads of this process;
  each site gets one kernel process (:mod:`.site_engine`, started ahead by a pool of
  ``workers`` spare kernels), or each notebook its own with ``--kernel-por-notebook``.
- :class:`DaskExecutor` (``--agendador tcp://HOST:PORT``): one Dask task per site on a
  ``dask.distributed`` cluster; progress events come back through the scheduler
  (``Worker.log_event`` → ``Client.subscribe_topic``).

Both implement :class:`Executor`: they yield :class:`SiteOutcome` objects as sites finish and
call ``notify(event)`` for every notebook started and finished, so progress, run.log and the
roll-up do not depend on the engine. ``cancel()`` stops the run: running kernels are killed
(locally, or on every worker through ``Client.run``), queued sites never start.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Protocol

from ..errors import InputError
from ..ids import scrub
from . import resume
from .kernels import WATCHER
from .options import BatchOptions
from .site_engine import close_pool, open_pool
from .site_task import SiteJob, SiteOutcome, run_site

# Lazy imports: `distributed` (0.9 s) only with --agendador or on a worker; papermill (2.8 s)
# through execution.import_papermill, only when a notebook runs.

Notify = Callable[[dict[str, Any]], None]


class Executor(Protocol):
    """The interface the runner drives, whatever the engine."""

    engine: str  # "local" | "dask"

    def describe(self) -> dict[str, Any]:
        """What run.json and run.log record about the engine (workers, scheduler)."""

    def start(self, jobs: list[SiteJob], notify: Notify) -> None:
        """Submit every site; ``notify`` receives the notebook events."""

    def results(self, timeout: float | None = None) -> Iterator[SiteOutcome]:
        """Outcomes as sites end. Called again with ``timeout`` after :meth:`cancel`, it
        collects the sites that were running."""

    def cancel(self) -> None:
        """Kill the run's kernels and drop the sites that did not start."""

    def close(self) -> None:
        """Release the pool or the Dask client."""


def _failed_outcome(job: SiteJob, exc: BaseException, what: str) -> SiteOutcome:
    """The outcome of a site whose task died (worker lost, unexpected bug)."""
    message = scrub(" ".join(f"{what}: {exc.__class__.__name__}: {exc}".split()))[:500]
    out = SiteOutcome(job.site_id, host="?")
    out.errors.append(message)
    for stage in resume.mark_missing_as_error(job.site_dir, job.site_id, message):
        out.statuses[stage] = "erro"
    return out


class LocalExecutor:
    engine = "local"

    def __init__(self, workers: int):
        self.workers = max(1, int(workers))
        self._run_key: str | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._futures: dict[Any, SiteJob] = {}
        self._pending: set = set()

    def describe(self) -> dict[str, Any]:
        return {"engine": self.engine, "workers": self.workers}

    def start(self, jobs: list[SiteJob], notify: Notify) -> None:
        from .execution import import_papermill

        import_papermill()  # once, here, not in whichever site thread comes first
        self._run_key = jobs[0].run_key if jobs else None
        if jobs and not jobs[0].kernel_per_notebook:
            # the pool knows how many sites will ask: no spare kernel is started for nobody
            open_pool(jobs[0].kernel_name, jobs[0].run_key, jobs[0].run_dir,
                      spare=self.workers, budget=len(jobs))
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="site")
        self._futures = {self._pool.submit(run_site, job, notify): job for job in jobs}
        self._pending = set(self._futures)

    def results(self, timeout: float | None = None) -> Iterator[SiteOutcome]:
        """Outcomes as sites end (may be called again after an interruption to collect the
        sites that were running)."""
        while self._pending:
            done, self._pending = wait(self._pending, timeout=timeout,
                                       return_when=FIRST_COMPLETED)
            if not done:
                return
            for fut in done:
                if fut.cancelled():
                    continue
                exc = fut.exception()
                yield (fut.result() if exc is None else
                       _failed_outcome(self._futures[fut], exc, "falha inesperada do site"))

    def cancel(self) -> None:
        """Kill the running kernels and drop the sites that did not start."""
        if self._run_key is not None:
            WATCHER.cancel(self._run_key)
        for fut in list(self._pending):
            fut.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._run_key is not None:
            close_pool(self._run_key)
            WATCHER.forget(self._run_key)


# ----------------------------------------------------------------------------- Dask
def _cancel_on_worker(run_key: str) -> int:
    """Runs on every worker (``Client.run``): kill this run's kernels there."""
    return WATCHER.cancel(run_key)


def _forget_on_worker(run_key: str) -> None:
    close_pool(run_key)  # the worker's spare kernels for this run
    WATCHER.forget(run_key)


def run_site_on_worker(job: SiteJob, topic: str) -> SiteOutcome:
    """The Dask task: :func:`run_site` with progress sent as worker events, stopping when
    the client released the task (the client died or was interrupted)."""
    from distributed import get_worker

    worker = get_worker()
    try:
        from distributed.worker import thread_state

        key = thread_state.key
    except (ImportError, AttributeError):
        key = None

    def notify(event: dict[str, Any]) -> None:
        worker.log_event(topic, event)

    def abandoned() -> bool:
        if key is None:
            return False
        ts = worker.state.tasks.get(key)
        return ts is None or ts.state in ("cancelled", "released", "forgotten")

    return run_site(job, notify, abandoned, host=f"{socket.gethostname()} {worker.address}")


class DaskExecutor:
    engine = "dask"

    def __init__(self, client, address: str, in_flight: int | None,
                 workers: list[dict[str, Any]]):
        self.client = client
        self.address = address
        self.in_flight = in_flight
        self.workers = workers
        self._run_key: str | None = None
        self._topic: str | None = None
        self._jobs: dict[Any, SiteJob] = {}
        self._done: set = set()
        self._queue: list[SiteJob] = []
        self._cancelled = False
        self._ac = None

    def describe(self) -> dict[str, Any]:
        return {"engine": self.engine, "scheduler": self.address,
                "workers": [f"{w['worker']} ({w['host']})" for w in self.workers],
                "in_flight": self.in_flight}

    def start(self, jobs: list[SiteJob], notify: Notify) -> None:
        from distributed import as_completed

        self._run_key = jobs[0].run_key if jobs else "vazio"
        self._topic = f"esus-runbook-{self._run_key}"
        self.client.subscribe_topic(self._topic, lambda ev: notify(ev[1]))
        self._queue = list(jobs)
        first = self._queue if self.in_flight is None else self._queue[:self.in_flight]
        self._queue = self._queue[len(first):]
        self._ac = as_completed([self._submit(j) for j in first], loop=self.client.loop)

    def _submit(self, job: SiteJob):
        fut = self.client.submit(run_site_on_worker, job, self._topic, pure=False,
                                 key=f"esus-site-{job.site_id}-{self._run_key}")
        self._jobs[fut] = job
        return fut

    def results(self, timeout: float | None = None) -> Iterator[SiteOutcome]:
        """Outcomes as sites end. With ``timeout`` (after an interruption): wait at most that
        long for the sites still running, then yield those that ended."""
        if timeout is not None:
            from .preflight import wait_done

            left = [f for f in self._jobs if f not in self._done]
            wait_done(left, timeout)
            for fut in left:
                if fut.done():
                    self._done.add(fut)
                    yield self._outcome(fut, self._jobs[fut])
            return
        for fut in self._ac:
            self._done.add(fut)
            yield self._outcome(fut, self._jobs[fut])
            if self._queue and not self._cancelled:
                self._ac.add(self._submit(self._queue.pop(0)))

    def _outcome(self, fut, job: SiteJob) -> SiteOutcome:
        if fut.status == "finished":
            return fut.result()
        if fut.status == "cancelled":
            out = SiteOutcome(job.site_id, host="?")
            out.interrupted = True
            return out
        return _failed_outcome(job, fut.exception(), "a tarefa Dask do site falhou")

    def cancel(self) -> None:
        """Kill this run's kernels on every worker; sites not started yet are dropped."""
        self._cancelled = True
        self._queue = []
        if self._run_key is not None:
            try:
                self.client.run(_cancel_on_worker, self._run_key, wait=True)
            except Exception:
                pass

    def close(self) -> None:
        try:
            left = [f for f in self._jobs if f not in self._done]
            if left:
                self.client.cancel(left)
            if self._topic is not None:
                self.client.unsubscribe_topic(self._topic)
            if self._run_key is not None:
                self.client.run(_forget_on_worker, self._run_key)
        except Exception:
            pass
        finally:
            self.client.close()


def connect(options: BatchOptions, files: dict[str, int], probe_base: Path) -> DaskExecutor:
    """Connect to the scheduler and probe every worker (InputError, exit 2, otherwise)."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError("o suporte a Dask não está instalado", file="--agendador",
                         remedy="instale com: pip install 'esus-runbook[dask]'") from None
    from .preflight import probe_cluster

    address = options.scheduler
    try:
        client = Client(address, timeout=options.connect_timeout, set_as_default=False)
    except Exception as exc:
        raise InputError(f"não foi possível conectar ao scheduler Dask {address} "
                         f"({exc.__class__.__name__})", file="--agendador",
                         remedy="inicie o scheduler com 'dask scheduler' e os workers com "
                                "'dask worker tcp://HOST:8786', ou confira o endereço") \
            from None
    try:
        try:
            client.wait_for_workers(1, timeout=options.connect_timeout)
        except Exception:
            raise InputError(f"o scheduler Dask {address} não tem workers", file="--agendador",
                             remedy="inicie ao menos um worker: dask worker " + address) \
                from None
        reports = probe_cluster(client, probe_base, files, options.kernel_name)
    except BaseException:
        client.close()
        raise
    return DaskExecutor(client, address, options.workers, reports)


class ExecutorHandle:
    """Context manager giving the right :class:`Executor` for ``options`` and closing it
    (connecting to the Dask scheduler and probing its workers first)."""

    def __init__(self, options: BatchOptions, files: dict[str, int], probe_base: Path):
        self.options, self.files, self.probe_base = options, files, probe_base
        self.executor: LocalExecutor | DaskExecutor | None = None

    def __enter__(self):
        if self.options.scheduler:
            self.executor = connect(self.options, self.files, self.probe_base)
        else:
            self.executor = LocalExecutor(self.options.local_workers)
        return self.executor

    def __exit__(self, *exc) -> None:
        if self.executor is not None:
            self.executor.close()


def executor_for(options: BatchOptions, files: dict[str, int] | None = None,
                 probe_base: Path | None = None) -> ExecutorHandle:
    return ExecutorHandle(options, files or {}, probe_base or Path(options.out))

