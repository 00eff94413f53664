"""A running ingest's progress, on disk: `runs/in-progress-<pid>.json`, rewritten about once a second.

Front ends in other processes (the portal) read it to show batches that are still running; it is removed
when the run ends and its report lands in `runs/`. One left behind by a killed run names a process that is
gone (`is_running` says so), and the next ingest, which holds the archive's writer lock, removes it.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from .errors import shown_path
from .report import FAILED, PROCESSED, ItemReport

PREFIX = "in-progress-"
_EVERY_SECONDS = 1.0
_FAILURES_KEPT = 200


class ProgressFile:
    """IngestEvents that keep the progress file up to date."""

    def __init__(self, runs: Path, inputs: list[str]):
        self.path = runs / f"{PREFIX}{os.getpid()}.json"
        self.state = {
            "pid": os.getpid(), "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            # shown_path: a name in another encoding failed the batch (the file is written as UTF-8)
            "inputs": [shown_path(i) for i in inputs][:20], "documents": 0, "pages": 0, "pages_done": 0,
            "processed": 0, "skipped": 0, "failed": 0, "failures": [],
        }
        self._written = 0.0
        self._write(force=True)

    def started(self, documents: int, pages: int) -> None:
        self.state.update(documents=documents, pages=pages)
        self._write(force=True)

    def page_done(self) -> None:
        self.state["pages_done"] += 1
        self._write()

    def item(self, item: ItemReport) -> None:
        self.state[item.status] = self.state.get(item.status, 0) + 1
        if item.status == FAILED and len(self.state["failures"]) < _FAILURES_KEPT:
            self.state["failures"].append({"source": item.source, "reason": item.reason, "detail": item.detail})
        # A document archived is written down at once: a run killed within the second after was reported with one
        # document fewer, and its next run skips it as archived already, so no report ever counted it. (Skipped
        # and failed files are many on a rerun, and each is said again by the next run.)
        self._write(force=item.status == PROCESSED)

    def close(self) -> None:
        self.path.unlink(missing_ok=True)

    def _write(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._written < _EVERY_SECONDS:
            return
        self._written = now
        self.state["updated"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        partial = self.path.with_name(f".{self.path.name}.part")
        partial.write_text(json.dumps(self.state, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, self.path)


class BothEvents:
    """Tell two listeners (the caller's progress bar and the progress file) the same things."""

    def __init__(self, first, second):
        self.first, self.second = first, second

    def started(self, documents: int, pages: int) -> None:
        self.first.started(documents, pages)
        self.second.started(documents, pages)

    def page_done(self) -> None:
        self.first.page_done()
        self.second.page_done()

    def item(self, item: ItemReport) -> None:
        self.first.item(item)
        self.second.item(item)


def progress_files(runs: Path) -> list[Path]:
    return sorted(runs.glob(f"{PREFIX}*.json")) if runs.is_dir() else []


def is_running(state: dict) -> bool:
    try:
        os.kill(int(state.get("pid", 0)), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return int(state.get("pid", 0)) > 0


def take_stale(runs: Path) -> list[dict]:
    """Under the writer lock no other ingest runs: any progress file left is from a killed run. Removed; their
    contents returned, for the runs' reports (a killed run left no trace once the next one began)."""
    states = []
    for path in progress_files(runs):
        try:
            states.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            pass  # cut short by the kill: nothing to tell
        path.unlink(missing_ok=True)
    for partial in runs.glob(f".{PREFIX}*.part"):  # being written when its run stopped (a full disk, a kill)
        partial.unlink(missing_ok=True)
    return states


def stopped_report(state: dict, archive: str) -> dict:
    """The report of a run killed before its end, from what its progress file said last."""
    failures = [{"status": FAILED, **failure} for failure in state.get("failures", [])]
    counts = {status: int(state.get(status, 0)) for status in ("processed", "skipped", "failed")}
    return {"archive": archive, "grouping": None, "items": failures, "summary": {
        **counts, "documents": counts["processed"], "pages": int(state.get("pages_done", 0)),
        "pages_to_review": None, "exit_code": None,  # not known: the progress file does not keep them
        "started": state.get("started"), "inputs": state.get("inputs", []), "stopped_by": "killed",
        "interrupted": "the ingest's process ended before its batch did (killed, or the machine stopped); "
                       "running it again resumes where it stopped"}}
