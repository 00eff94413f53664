"""What an ingest did, per input file: the summary people read and the JSON scripts read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .errors import ExitCode, StopRequested, disk_full_error, is_disk_full

PROCESSED, SKIPPED, FAILED = "processed", "skipped", "failed"


@dataclass
class ItemReport:
    source: str
    status: str  # processed | skipped | failed
    reason: str = ""  # failed/skipped: a short stable slug, e.g. "encrypted", "already-archived"
    detail: str = ""  # failed/skipped: the sentence a person reads; processed: a note (run.overlap_note)
    document: str = ""  # document id, when the file is (or already was) in the archive
    pdf: str = ""  # path of the document's PDF/A
    pages: int = 0
    review_pages: list[int] = field(default_factory=list)  # pages of the document OCR may have misread


@dataclass
class IngestReport:
    archive: str
    grouping: str
    items: list[ItemReport] = field(default_factory=list)
    pages: int = 0  # pages archived in this run (those of documents that failed are not)
    seconds: float = 0.0
    interrupted: str = ""  # why the run stopped before its end (Ctrl-C, an error that stops a batch) ...
    stopped_by: str = ""  # ... in a word: ctrl-c | sigterm | error (a killed run's report says killed)
    ended_with: int | None = None  # the exit code the command ended with, when not the report's own

    def stopped(self, error: BaseException) -> None:
        """Say that `error` stopped the run before its end, and the exit code the command ends with."""
        if isinstance(error, StopRequested):
            self.interrupted, self.stopped_by = "stopped by SIGTERM (a shutdown or a service manager)", "sigterm"
            self.ended_with = int(ExitCode.terminated)
            return
        if isinstance(error, KeyboardInterrupt):
            self.interrupted, self.stopped_by, self.ended_with = "interrupted (Ctrl-C)", "ctrl-c", 130
            return
        said = disk_full_error(error) if is_disk_full(error) else error  # as `ingest` raises it
        self.interrupted, self.stopped_by = f"stopped by an error: {said or type(error).__name__}", "error"
        self.ended_with = int(getattr(said, "exit_code", ExitCode.internal_error))

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)

    @property
    def documents(self) -> int:
        return len({i.document for i in self.items if i.status == PROCESSED and i.document})

    @property
    def pages_to_review(self) -> int:
        """Pages flagged for review, counted once per document."""
        return sum(len(r) for r in {i.document: i.review_pages for i in self.items if i.status == PROCESSED}.values())

    @property
    def exit_code(self) -> ExitCode:
        failed = self.count(FAILED)
        if not failed:
            return ExitCode.ok
        # In the archive: processed, or skipped as archived already (a duplicate, an earlier run). A file passed
        # over as no scan (notes.txt beside a failed page) made "some inputs landed" of a batch where none did.
        landed = self.count(PROCESSED) + sum(1 for item in self.items
                                             if item.status == SKIPPED and item.reason != "not-a-scan")
        return ExitCode.partial if landed else ExitCode.bad_input

    def to_dict(self) -> dict:
        return {
            "archive": self.archive,
            "grouping": self.grouping,
            "items": [asdict(item) for item in self.items],
            "summary": {
                "processed": self.count(PROCESSED),
                "skipped": self.count(SKIPPED),
                "failed": self.count(FAILED),
                "documents": self.documents,
                "pages_to_review": self.pages_to_review,
                "pages": self.pages,
                "seconds": round(self.seconds, 2),
                "pages_per_minute": round(60 * self.pages / self.seconds, 1) if self.seconds else 0.0,
                "exit_code": int(self.exit_code if self.ended_with is None else self.ended_with),
                **({"interrupted": self.interrupted, "stopped_by": self.stopped_by} if self.interrupted else {}),
            },
        }
