"""Where tasks run. The orchestrator hands tasks to an executor and gets outcomes back, in completion order.

`LocalExecutor` is a process pool sized by `--jobs`; `SerialExecutor` runs in-process (tests, debugging);
`DaskExecutor` (pipeline/dask_executor.py, `--cluster tcp://scheduler:8786`) sends the same tasks to the workers
of a Dask cluster. All three keep a bounded window of tasks in flight and report failures the same way.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import multiprocessing.forkserver
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from .errors import RetrodigError, UsageError, disk_full_error, is_disk_full
from .process_memory import keep_freed_memory

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """A task's result, or the error it ended with (typed errors as they are; anything else as text)."""

    task: Any
    result: Any = None
    error: BaseException | None = None
    crash: str = ""  # traceback text of an unexpected exception (a bug), for the log

    @property
    def ok(self) -> bool:
        return self.error is None


class Executor(Protocol):
    def run(self, fn: Callable[[T], Any], tasks: Iterable[T]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


def call_task(fn: Callable[[T], Any], task: T) -> Outcome:
    try:
        return Outcome(task, result=fn(task))
    except RetrodigError as exc:
        return Outcome(task, error=exc)
    except Exception as exc:  # a bug in a stage: report it against this task, keep the batch going
        if is_disk_full(exc):  # no bug: the archive's disk is full (the orchestrator stops the batch)
            return Outcome(task, error=disk_full_error(exc))
        return Outcome(task, error=RuntimeError(f"{type(exc).__name__}: {exc}"), crash=traceback.format_exc())


class SerialExecutor:
    def run(self, fn, tasks):
        for task in tasks:
            yield call_task(fn, task)

    def close(self) -> None:
        pass


def init_worker() -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    import cv2

    cv2.setNumThreads(1)  # parallelism comes from the pool; OpenCV's own threads would oversubscribe
    keep_freed_memory()  # the page arrays a worker frees serve its next page (process_memory.py)


_FORKSERVER = multiprocessing.get_context("forkserver")
BATCH_PID = "RETRODIG_BATCH_PID"


def start_fork_server() -> None:
    """Start the process that local workers are forked from (once; later calls do nothing). It imports the
    page code, so every worker starts with it loaded; started early, it does so while the batch is planned."""
    _FORKSERVER.set_forkserver_preload(["pipeline.pagework", "pipeline._exec.end_with_the_batch"])
    os.environ[BATCH_PID] = str(os.getpid())  # the fork server starts with it: see _exec/end_with_the_batch.py
    multiprocessing.forkserver.ensure_running()


def prepare_executor(jobs: int, cluster: str | None = None) -> None:
    """What `make_executor(jobs, cluster)` will need, started ahead: the fork server of a local pool."""
    if not cluster and jobs > 1:
        start_fork_server()


class LocalExecutor:
    """A process pool that keeps a bounded window of tasks in flight, so memory does not grow with the batch."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self._pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        start_fork_server()
        return cf.ProcessPoolExecutor(self.jobs, mp_context=_FORKSERVER, initializer=init_worker)

    def run(self, fn, tasks):
        pending: dict[cf.Future, tuple[Any, cf.ProcessPoolExecutor]] = {}
        queue = iter(tasks)
        window = self.jobs * 2
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < window:
                task = next(queue, _END)
                if task is _END:
                    exhausted = True
                else:
                    pending[self._pool.submit(call_task, fn, task)] = (task, self._pool)
            if not pending:
                break
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for future in done:
                task, pool = pending.pop(future)
                yield self._outcome(future, task, pool)

    def _outcome(self, future: cf.Future, task: Any, pool: cf.ProcessPoolExecutor) -> Outcome:
        try:
            # The worker sent back a copy of the task: hand the caller its own object again.
            return replace(future.result(), task=task)
        except cf.process.BrokenProcessPool:
            # A worker died (out of memory, a crash in native code): every task in flight on that pool
            # fails, and the rest of the batch continues on a fresh pool.
            if pool is self._pool:
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            return Outcome(task, error=WorkerDiedError("the worker process died while processing this page"))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


_END = object()


class WorkerDiedError(RetrodigError, RuntimeError):
    """A worker process died (killed, out of memory) or could not start: its page failed, the batch goes on."""


def refuse_in_a_starting_worker(call: str) -> None:
    """Raise a UsageError when `call` runs while a local worker starts. Workers are forked from a server that
    imports the caller's script again, as multiprocessing does with every start method but fork: a script that
    calls ingest at its top level, not under `if __name__ == "__main__":`, ingested again in each worker, which
    found the archive locked, died, and failed every page of the batch as an internal error."""
    frame = sys._getframe(1)
    while frame is not None:  # the script's own code, run as multiprocessing names it when it imports it again
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__mp_main__":
            raise UsageError(f"{call} was called while a worker process started, from {frame.f_code.co_filename}: "
                             f"workers import the calling script again; call {call} under "
                             "`if __name__ == \"__main__\":` (see the README's Python API)")
        frame = frame.f_back


def make_executor(jobs: int, cluster: str | None = None, languages: tuple[str, ...] = ()) -> Executor:
    """`languages`: the batch's Tesseract languages, which every worker of a cluster must have."""
    if cluster:
        from .dask_executor import DaskExecutor  # `distributed` is an optional extra

        return DaskExecutor(cluster, languages=languages)
    return SerialExecutor() if jobs <= 1 else LocalExecutor(jobs)
