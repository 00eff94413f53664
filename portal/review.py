"""The review queue: pages the pipeline flagged as probably misread, oldest document first, until someone
accepts, corrects or re-reads them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

from pipeline.archive import Archive
from pipeline.corrections import metadata_overrides

from .db import StaffDatabase

DECISIONS = ("accepted", "corrected", "reocr")


@dataclass(frozen=True)
class ReviewItem:
    document: str
    page: int
    created: str  # when the document was ingested
    title: str
    collection: str
    quality: float | None
    unsure_lines: int = 0  # lines read too unsurely to be print (handwriting, signatures, stamps)
    unread_places: int = 0  # places with writing no word was read from (a signature Tesseract skipped)
    languages: str = ""  # what the page was read with (Tesseract's codes, ron+hun) ...
    profile: str = ""  # ... and with which cleanup profile: a second reading starts from them
    file_doubt: bool = False  # the scan file's data is in doubt (pagework.file_doubt): compare with the paper


class ReviewQueue:
    def __init__(self, db: StaffDatabase, archive: Archive):
        self.db = db
        self.archive = archive
        self._flagged: list[ReviewItem] = []
        self._seen: tuple[int, int] | None = None

    def pending(self, limit: int = 50, offset: int = 0) -> tuple[int, list[ReviewItem]]:
        """(how many pages wait, the `limit` oldest of them from `offset`)."""
        with self.db.connect() as conn:
            done = set(conn.execute("SELECT document, page FROM review_decisions").fetchall())
        waiting = [item for item in self._all_flagged() if (item.document, item.page) not in done]
        return len(waiting), [self._as_corrected(item) for item in waiting[offset:offset + limit]]

    def _as_corrected(self, item: ReviewItem) -> ReviewItem:
        """The item with the title and collection staff gave its document (they showed the pipeline's)."""
        corrected = metadata_overrides(self.archive, item.document)
        return replace(item, title=corrected.get("title", item.title),
                       collection=corrected.get("collection", item.collection))

    def decide(self, document: str, page: int, decision: str, user: str, first_only: bool = False) -> bool:
        """Record a decision on the page; `first_only`: only when it has none yet (an accept sent twice at once,
        a double click, was two decisions). Whether it was recorded."""
        if decision not in DECISIONS:
            raise ValueError(decision)
        at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.db.connect() as conn:
            done = conn.execute(f"INSERT OR {'IGNORE' if first_only else 'REPLACE'} INTO review_decisions "
                                "VALUES (?, ?, ?, ?, ?)", (document, page, decision, user, at))
            return done.rowcount == 1

    def decision(self, document: str, page: int) -> str | None:
        with self.db.connect() as conn:
            row = conn.execute("SELECT decision FROM review_decisions WHERE document = ? AND page = ?",
                               (document, page)).fetchone()
        return row[0] if row else None

    def _all_flagged(self) -> list[ReviewItem]:
        # Reading every catalog record is the slow part: redo it only when documents come or go (a
        # published document is a rename into documents/, which changes the folder's mtime).
        folder = self.archive.documents
        stamp = (folder.stat().st_mtime_ns, sum(1 for _ in folder.iterdir())) if folder.is_dir() else (0, 0)
        if stamp != self._seen:
            items = []
            for record in self.archive.iter_documents(damaged=[]):  # a damaged one is `verify`'s to name
                pages = {p["number"]: p for p in record.get("pages", [])}
                for number in record.get("review_pages", []):
                    page = pages.get(number, {})
                    items.append(ReviewItem(record["id"], number, record.get("created", ""),
                                            record.get("metadata", {}).get("title", ""),
                                            record.get("collection", ""), page.get("quality"),
                                            len(page.get("unsure_lines", [])),
                                            len(page.get("unread_writing", [])), page.get("languages", ""),
                                            page.get("profile", ""), bool(page.get("file_doubt"))))
            items.sort(key=lambda item: (item.created, item.document, item.page))
            self._flagged, self._seen = items, stamp
        return self._flagged
