"""Run tasks on a Dask cluster (`--cluster tcp://scheduler:8786`): the same tasks, the same outcomes as locally.

Workers run the same retrodig code on the same paths: masters and the archive's work folder must be on storage
that every worker sees at the same path as the machine running `retrodig ingest` (an NFS or CephFS mount, a
shared volume in docker compose). Only small task descriptions and page results travel through the scheduler;
images stay on that storage.

Like LocalExecutor, only a bounded window of tasks is submitted at a time (twice the cluster's worker threads,
looked up again as workers come and go), so a batch of millions of pages does not become millions of futures.
A worker that dies (out of memory, a crash in native code) makes Dask retry its task elsewhere; when a task has
killed workers too often Dask gives up on it and it is reported as WorkerDiedError, as LocalExecutor does.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from .errors import ClusterUnavailableError
from .executor import Outcome, WorkerDiedError, call_task, init_worker

CONNECT_TIMEOUT = "20s"
WINDOW_REFRESH_SECONDS = 5.0
MIN_WINDOW = 4

_worker_ready = False


def run_on_worker(fn: Callable[[Any], Any], task: Any) -> Outcome:
    """What a Dask worker runs: the same wrapper as a local pool process, after the same one-time setup."""
    global _worker_ready
    if not _worker_ready:
        init_worker()
        _worker_ready = True
    return call_task(fn, task)


class DaskExecutor:
    def __init__(self, address: str, connect_timeout: str | None = None):
        try:
            from distributed import Client
        except ImportError as exc:
            raise ClusterUnavailableError(
                "--cluster needs the Dask `distributed` package: pip install 'retrodig[dask]'") from exc
        try:
            self._client = Client(address, timeout=connect_timeout or CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:  # ValueError: an address Dask cannot parse
            raise ClusterUnavailableError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        self.address = address
        self._window = MIN_WINDOW
        self._window_checked = 0.0

    def window(self) -> int:
        """Tasks to keep in flight: enough to keep every worker thread busy while results travel back."""
        now = time.monotonic()
        if now - self._window_checked > WINDOW_REFRESH_SECONDS:
            threads = sum(self._client.nthreads().values())
            self._window = max(MIN_WINDOW, 2 * threads)
            self._window_checked = now
        return self._window

    def run(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Outcome]:
        from distributed import as_completed

        pending: dict[Any, Any] = {}  # future -> task
        queue = iter(tasks)
        finished = as_completed(loop=self._client.loop)

        def top_up() -> None:
            while len(pending) < self.window():
                task = next(queue, _END)
                if task is _END:
                    return
                future = self._client.submit(run_on_worker, fn, task, pure=False)
                pending[future] = task
                finished.add(future)

        try:
            top_up()
            for future in finished:
                task = pending.pop(future)
                outcome = self._outcome(future, task)
                future.release()  # the scheduler forgets the result as soon as we have it
                top_up()
                yield outcome
        finally:
            if pending:  # interrupted: do not leave the cluster working for nobody
                self._client.cancel(list(pending))

    @staticmethod
    def _outcome(future: Any, task: Any) -> Outcome:
        from distributed import KilledWorker

        try:
            # The worker sent back a copy of the task: hand the caller its own object again.
            return replace(future.result(), task=task)
        except KilledWorker as exc:
            return Outcome(task, error=WorkerDiedError(
                f"Dask workers died while processing this page, so it was given up ({exc})"))
        except Exception as exc:  # lost connection, cancelled by the scheduler: this page only
            return Outcome(task, error=WorkerDiedError(f"the cluster lost this page: {type(exc).__name__}: {exc}"),
                           crash=traceback.format_exc())

    def close(self) -> None:
        self._client.close()


_END = object()
