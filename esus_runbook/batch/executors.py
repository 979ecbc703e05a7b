"""Where site jobs run. One interface (``run(jobs, notify)`` yielding outcomes as sites
finish), engines: a local thread pool (default; each notebook still gets its own kernel
process)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager

from .options import BatchOptions
from .site_task import SiteJob, SiteOutcome, run_site

Notify = Callable[..., None]


class LocalExecutor:
    """Sites in parallel on ``workers`` threads; Ctrl-C stops starting new notebooks and
    lets running ones end (their kernels receive the same SIGINT)."""

    def __init__(self, workers: int):
        self.workers = max(1, int(workers))
        self.cancel = threading.Event()

    def run(self, jobs: list[SiteJob], notify: Notify) -> Iterator[SiteOutcome]:
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="site")
        pending = {pool.submit(run_site, job, notify, self.cancel) for job in jobs}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
        except BaseException:
            self.cancel.set()
            for fut in pending:
                fut.cancel()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def executor_for(options: BatchOptions):
    yield LocalExecutor(options.workers)
