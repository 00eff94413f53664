"""Run tasks on a Dask cluster (`--cluster tcp://scheduler:8786`): the same tasks, the same outcomes as locally.

Workers run the same retrodig code on the same paths: masters and the archive's work folder must be on storage
that every worker sees at the same path as the machine running `retrodig ingest` (an NFS or CephFS mount, a
shared volume in docker compose). Only small task descriptions and page results travel through the scheduler;
images stay on that storage.

Like LocalExecutor, only a bounded window of tasks is submitted at a time (twice the cluster's worker threads,
looked up again as workers come and go), so a batch of millions of pages does not become millions of futures.
A worker that dies (out of memory, a crash in native code) makes Dask retry its task elsewhere; when a task has
killed workers too often Dask gives up on it and it is reported as WorkerDiedError, as LocalExecutor does.

What stops a batch, with ClusterUnavailableError (exit 3) and a sentence, rather than a hang or a bug report: no
scheduler answering at the address (a dashboard's port held the connection forever), a worker that cannot run
retrodig or lacks a language pack the batch reads with (it read without it, or failed every page it took), at the
start or when it joins later, no worker connected for NO_WORKER_SECONDS, the scheduler lost mid-batch.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from ._exec import tesseract
from .errors import ClusterUnavailableError
from .executor import Outcome, WorkerDiedError, call_task, init_worker

CONNECT_SECONDS = 20.0
WINDOW_REFRESH_SECONDS = 5.0
MIN_WINDOW = 4
POLL_SECONDS = 2.0  # how often a batch waiting on the cluster looks whether it still has workers
READY_POLL_SECONDS = 0.02  # how often it looks for finished pages (a page takes seconds)
NO_WORKER_SECONDS = 120.0  # a batch without any worker for this long stops (one restarting has time to come)

log = logging.getLogger(__name__)

_worker_ready = False


def run_on_worker(fn: Callable[[Any], Any], task: Any) -> Outcome:
    """What a Dask worker runs: the same wrapper as a local pool process, after the same one-time setup."""
    global _worker_ready
    if not _worker_ready:
        init_worker()
        _worker_ready = True
    return call_task(fn, task)


class DaskExecutor:
    def __init__(self, address: str, connect_seconds: float | None = None, languages: tuple[str, ...] = (),
                 no_worker_seconds: float = NO_WORKER_SECONDS):
        try:
            from distributed import Client
        except ImportError as exc:
            raise ClusterUnavailableError(
                "--cluster needs the Dask `distributed` package: pip install 'retrodig[dask]'") from exc
        self.address = address
        # The client's own log (its attempts to reconnect, with tracebacks) buried the one sentence said here;
        # Dask's configuration gives several of its loggers levels of their own.
        for name in [name for name in logging.root.manager.loggerDict if name.split(".")[0] == "distributed"]:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        self._client = _connect(Client, address, connect_seconds or CONNECT_SECONDS)
        self._window = MIN_WINDOW
        self._window_checked = 0.0
        self._no_worker_seconds = no_worker_seconds
        self._alone_since: float | None = None
        self._languages = tuple(languages)
        self._checked: set[str] = set()  # the workers found able to read the batch
        self._check_workers(self._client.nthreads(), joined=False)

    def _check_workers(self, nthreads: dict[str, int], joined: bool = True) -> None:
        """Every connected worker (the addresses of `nthreads`, the scheduler's list) not checked before can run
        retrodig and has the batch's language data. One without `ron` read Romanian pages with English alone and
        said nothing; one that joined during a batch failed every page it took as missing-dependency, and took
        them as fast as it failed them."""
        new = sorted(set(nthreads) - self._checked)
        if not new:
            return
        answers = self._client.run(tesseract.missing_languages, self._languages, workers=new, on_error="return")
        errors = {worker: answer for worker, answer in answers.items() if isinstance(answer, BaseException)}
        missing = {worker: codes for worker, codes in answers.items() if worker not in errors}
        # A worker that left before it was asked had no answer to give: only those still there count.
        if errors := {worker: error for worker, error in errors.items() if worker in self._client.nthreads()}:
            worker, error = min(errors.items())  # a worker without retrodig could not even unpickle the call
            raise ClusterUnavailableError(
                f"the Dask worker {worker} of {self.address} cannot run retrodig ({type(error).__name__}: "
                f"{error}): install the same retrodig on every worker") from error
        lacking = {worker: codes for worker, codes in missing.items() if codes}
        if lacking:
            later = " (joined during the batch: run the same command again to resume)" if joined else ""
            raise ClusterUnavailableError("Dask workers lack Tesseract language data: " + "; ".join(
                f"{worker} has no {', '.join(codes)}" for worker, codes in sorted(lacking.items())) + later)
        self._checked.update(missing)

    def window(self) -> int:
        """Tasks to keep in flight: enough to keep every worker thread busy while results travel back."""
        now = time.monotonic()
        if now - self._window_checked > WINDOW_REFRESH_SECONDS:
            nthreads = self._client.nthreads()
            self._check_workers(nthreads)
            self._window = max(MIN_WINDOW, 2 * sum(nthreads.values()))
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
            waited_since = time.monotonic()
            while pending:
                if not finished.has_ready():  # waited on without a limit, it hung when no worker was left
                    time.sleep(READY_POLL_SECONDS)
                    if time.monotonic() - waited_since > POLL_SECONDS:
                        self._check_still_served()
                        waited_since = time.monotonic()
                    continue
                for future in finished.next_batch(block=False):
                    task = pending.pop(future)
                    outcome = self._outcome(future, task)
                    future.release()  # the scheduler forgets the result as soon as we have it
                    yield outcome
                top_up()
                waited_since = time.monotonic()
        finally:
            if pending and self._client.status == "running":  # stopped: leave the cluster no work for nobody
                self._client.cancel(list(pending))

    def _check_still_served(self) -> None:
        """Stop the batch when the scheduler is gone, or when no worker has been connected for a while (it
        waited forever, without a word)."""
        if self._client.status != "running":
            raise ClusterUnavailableError(f"lost the connection to the Dask scheduler at {self.address}: run the "
                                          "same command again to resume")
        if nthreads := self._client.nthreads():
            self._check_workers(nthreads)
            self._alone_since = None
            return
        now = time.monotonic()
        if self._alone_since is None:
            self._alone_since = now
            log.warning("no Dask worker is connected to %s: waiting %.0f s for one", self.address,
                        self._no_worker_seconds)
        elif now - self._alone_since > self._no_worker_seconds:
            raise ClusterUnavailableError(
                f"no Dask worker has been connected to {self.address} for {self._no_worker_seconds:.0f} s: start "
                "workers (`dask worker ADDRESS --nthreads 1`), then run the same command again to resume")

    def _outcome(self, future: Any, task: Any) -> Outcome:
        from distributed import KilledWorker

        try:
            # The worker sent back a copy of the task: hand the caller its own object again.
            return replace(future.result(), task=task)
        except KilledWorker as exc:
            return Outcome(task, error=WorkerDiedError(
                f"Dask workers died while processing this page, so it was given up ({exc})"))
        except Exception as exc:  # lost connection, cancelled by the scheduler
            if self._client.status != "running" or "scheduler-connection-lost" in str(exc):
                raise ClusterUnavailableError(  # every page in flight is lost with it: not this page's fault
                    f"lost the connection to the Dask scheduler at {self.address}: run the same command again "
                    "to resume") from exc
            return Outcome(task, error=WorkerDiedError(f"the cluster lost this page: {type(exc).__name__}: {exc}"),
                           crash=traceback.format_exc())

    def close(self) -> None:
        try:
            self._client.close(timeout=5)
        except Exception:  # the scheduler is gone already: nothing to close on its side
            pass


def _connect(client_type: type, address: str, seconds: float) -> Any:
    """A client of the scheduler at `address`, or ClusterUnavailableError within about `seconds`. Dask's own
    timeout covers reaching the address, not the handshake after it: a web server's port (the dashboard, 8787,
    beside the scheduler's 8786) held the connection forever; so the client is made in a thread and waited for.
    Anything that is not a scheduler (a port that speaks first: "MemoryError"), or a tls:// address without
    Dask's TLS settings (a TypeError), is said the same way."""
    made: dict[str, Any] = {}

    def connect() -> None:
        try:
            made["client"] = client_type(address, timeout=f"{seconds}s", set_as_default=False)
        except Exception as exc:
            made["error"] = exc

    thread = threading.Thread(target=connect, name="dask-connect", daemon=True)
    thread.start()
    thread.join(seconds + 5)
    if "client" in made:
        return made["client"]
    if thread.is_alive():
        raise ClusterUnavailableError(f"no Dask scheduler answered at {address} within {seconds:.0f} s (a web "
                                      "page's port? the scheduler's is 8786 unless it was started otherwise)")
    error = made["error"]
    hint = " (tls:// needs Dask's TLS settings: distributed.comm.tls in its configuration)" \
        if address.startswith("tls://") else ""
    raise ClusterUnavailableError(f"cannot reach a Dask scheduler at {address}: {type(error).__name__}: "
                                  f"{error}{hint}") from error


_END = object()
