"""A few threads that own the portal's search connections.

An SQLite connection belongs to the thread that opened it, and the web server answers requests on whichever
thread is free. So searches (and the reindexing of a corrected document) are handed to these threads, each
with its own backend, and closing the pool closes every connection in the thread that owns it. A few threads
also bound how many searches run at once on the archive's server.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from pipeline.backends.search.protocol import SearchBackend

T = TypeVar("T")


class SearchPool:
    def __init__(self, open_backend: Callable[[], SearchBackend], size: int = 4):
        self._open = open_backend
        self._size = size
        self._jobs: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def run(self, work: Callable[[SearchBackend], T]) -> T:
        """Run `work(backend)` on one of the pool's threads and return what it returns (or raise what it raised)."""
        self._start()
        future: Future = Future()
        self._jobs.put((work, future))
        return future.result()

    def close(self) -> None:
        with self._lock:
            threads, self._threads = self._threads, []
            for _ in threads:
                self._jobs.put(None)
        for thread in threads:
            thread.join()

    def _start(self) -> None:
        with self._lock:
            if not self._threads:
                self._threads = [threading.Thread(target=self._serve, name=f"search-{n}", daemon=True)
                                 for n in range(self._size)]
                for thread in self._threads:
                    thread.start()

    def _serve(self) -> None:
        backend = None
        try:
            while (job := self._jobs.get()) is not None:
                work, future = job
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    if backend is None:
                        backend = self._open()
                    future.set_result(work(backend))
                except BaseException as exc:  # handed to the waiting request, which raises it
                    future.set_exception(exc)
        finally:
            if backend is not None:
                backend.close()
