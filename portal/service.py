"""The one service layer under the portal's HTML pages and its REST API: what staff can see and do.

Search goes only through the search protocol (`SearchQuery` in, `SearchResults` out), so what people type
never reaches an engine's own syntax. Every change is reindexed at once and written to the audit log.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline import api
from pipeline._exec import tesseract
from pipeline.archive import Archive
from pipeline.backends.search import open_search
from pipeline.backends.search.protocol import SearchHit, SearchQuery, SearchResults
from pipeline.corrections import (
    EDITABLE_FIELDS, correct_line, correct_metadata, current_record, document_lock, field_value, original_text_path,
    page_hocr_path, page_text_path,
)
from pipeline.errors import DamagedArchiveError, DocumentNotFoundError, UsageError
from pipeline.hit_boxes import with_word_boxes
from pipeline.hocr import HocrPage, Line, read_hocr
from pipeline.indexing import indexed_document
from pipeline.stages.metadata import load_doctype_rules
from pipeline.model import PixelBox
from pipeline.options import Options, archive_config, parse_languages
from pipeline.profiles import AUTO_PROFILE, available_profiles
from pipeline.progress import PREFIX as PROGRESS_PREFIX, is_running, progress_files

from .accounts import Accounts, User
from .audit import AuditEntry, AuditLog
from .citizens.casework import Casework
from .citizens.workflow import ActionRefused
from .citizens.desk import Context, RequestDesk
from .citizens.metrics import ServiceMetrics, service_metrics
from .citizens.settings import request_settings
from .db import staff_database
from .images import SIZES, PageImages
from .labels import N_
from .review import ReviewItem, ReviewQueue
from .search_pool import SearchPool
from .settings import PortalSettings

_RUN_ID = re.compile(r"^\d{8}T\d{6,12}Z$")
_DOC_ID = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class PageView:
    document: dict  # the current catalog record (corrections applied)
    number: int
    entry: dict  # the page's entry in the record
    lines: list[Line]
    width: int  # size of the OCR'd page image the line and word boxes refer to
    height: int
    corrected: bool  # the text differs from what the pipeline read
    needs_review: bool
    review_decision: str | None
    # Ids of the lines the pipeline read too unsurely to be print (stages.quality.unsure_lines) that still say
    # what it read: a line staff corrected, or a page read again, is no longer that reading.
    unsure_lines: frozenset[str] = frozenset()
    # Places with writing the pipeline read no word from (stages.unread.writing_left_unread), in the boxes' pixels,
    # while the words in each are still the ones it read: once staff correct a line there, or the page is read
    # again with words there, the place is no longer unread.
    unread_writing: tuple[PixelBox, ...] = ()


@dataclass(frozen=True)
class RunSummary:
    id: str
    running: bool
    stopped: bool  # the batch stopped before its end: a progress file whose process is gone, or a report saying so
    state: dict  # the report's summary, or the progress file's content

    @property
    def progress_file(self) -> bool:
        return self.id.startswith(PROGRESS_PREFIX)


class PortalService:
    def __init__(self, settings: PortalSettings):
        self.settings = settings
        self.options = settings.options
        self.archive = Archive(self.options.archive)
        if not self.archive.exists():
            raise UsageError(f"no archive at {self.archive.root} (run `retrodig ingest` first, or pass --archive)")
        db = staff_database(self.archive.root)
        self.accounts = Accounts(db, settings.session_hours * 3600, settings.login_failures,
                                 settings.login_window_minutes * 60)
        self.audit = AuditLog(db)
        self.review = ReviewQueue(db, self.archive)
        self.images = PageImages(self.archive)
        self._search = SearchPool(lambda: open_search(self.archive.root, self.options.search))
        self._run_cache: dict[str, tuple[int, dict]] = {}
        citizens = Context(self.options, db, settings.requests
                           or request_settings(archive_config(self.archive.root), self.options.configs_dir))
        self.desk = RequestDesk(citizens)  # what citizens do (public pages)
        self.casework = Casework(citizens)  # what clerks do with their requests

    def close(self) -> None:
        self._search.close()

    # --- searching ------------------------------------------------------------------------------
    def search(self, query: SearchQuery, with_boxes: bool = False) -> SearchResults:
        """The hits; `with_boxes`: with the matched words' boxes on each page image (the API's, as the
        command line's `search --json`; the search page draws them from one hit at a time, `hit`)."""
        results = self._search.run(lambda backend: backend.search(query))
        return with_word_boxes(self.archive, results) if with_boxes else results

    def hit(self, query: SearchQuery, index: int) -> tuple[SearchHit | None, int]:
        """The `index`-th hit (0-based) of a search, with its word boxes, and the number of hits."""
        one = replace(query, limit=1, offset=max(index, 0))
        results = self._search.run(lambda backend: backend.search(one))
        located = with_word_boxes(self.archive, results)
        return (located.hits[0] if located.hits else None), results.total

    # --- reading --------------------------------------------------------------------------------
    def document(self, doc_id: str) -> dict:
        return current_record(self.archive, self.archive.load_document(_checked_id(doc_id)))

    def page(self, doc_id: str, number: int) -> PageView:
        record = self.document(doc_id)
        entry = _page_entry(record, number)
        hocr = page_hocr_path(self.archive, doc_id, number)
        if hocr.is_file():
            try:
                read = read_hocr(hocr)
            except ET.ParseError as exc:
                raise DamagedArchiveError.of(hocr, exc) from exc
            lines, (width, height) = list(read.lines), read.size
        else:
            read, lines, width, height = None, [], entry.get("width", 0), entry.get("height", 0)
        unsure = {line["id"]: line["text"] for line in entry.get("unsure_lines", [])}  # see PageView
        return PageView(
            document=record, number=number, entry=entry, lines=lines, width=width, height=height,
            corrected=number in record["corrections"]["pages"],
            needs_review=number in record.get("review_pages", []),
            review_decision=self.review.decision(doc_id, number),
            unsure_lines=frozenset(line.id for line in lines if unsure.get(line.id) == line.text),
            unread_writing=_still_unread(entry, read, self.archive.page_hocr(doc_id, number), hocr),
        )

    def page_text(self, doc_id: str, number: int, original: bool = False) -> str:
        _page_entry(self.document(doc_id), number)
        path = (original_text_path if original else page_text_path)(self.archive, doc_id, number)
        return path.read_text(encoding="utf-8").strip()

    def page_image(self, doc_id: str, number: int, size: str) -> Path:
        if size not in SIZES:
            raise DocumentNotFoundError(f"no image size '{size}' (sizes: {', '.join(SIZES)})")
        _page_entry(self.document(doc_id), number)
        return self.images.path(doc_id, number, size)

    def pdf(self, doc_id: str) -> Path:
        record = self.document(doc_id)
        return self.archive.document_dir(record["id"]) / "document.pdf"

    # --- correcting -----------------------------------------------------------------------------
    def correct_line(self, user: User, doc_id: str, number: int, line_id: str, text: str,
                     expected: str | None = None) -> tuple[str, str]:
        record = self.document(doc_id)
        _page_entry(record, number)
        before, after = correct_line(self.archive, doc_id, number, line_id, text, expected)
        if before != after:  # recorded before the (slower) reindex: a portal killed between them keeps who did it
            self.audit.record(user.name, "correct-line", doc_id, number, line_id, before, after)
            self._reindex(doc_id)
            if number in record.get("review_pages", []) and not self.review.decision(doc_id, number):
                self.review.decide(doc_id, number, "corrected", user.name)
        return before, after

    def doc_types(self) -> set[str]:
        """The document types a record may be filed as: those of configs/doctypes.yaml, and "unknown"."""
        rules = load_doctype_rules(self.options.configs_dir / "doctypes.yaml")
        return {doc_type.name for doc_type in rules.types} | {"unknown"}

    def correct_metadata(self, user: User, doc_id: str, field: str, value: str) -> tuple[object, object]:
        original = self.archive.load_document(_checked_id(doc_id))
        before, after = correct_metadata(self.archive, original, field, value, self.doc_types())
        if before != after:
            self.audit.record(user.name, "correct-metadata", doc_id, None, field, before, after)
            self._reindex(doc_id)
        return before, after

    def reocr(self, user: User, doc_id: str, number: int, languages: str, profile: str,
              replace_corrections: bool = False, undecided_only: bool = False) -> tuple[str, str]:
        """Read the page again from its master with other languages or another cleanup profile. The new reading
        replaces the page's text, staff's corrections of its lines with it: a page corrected since its last
        reading is read again only with `replace_corrections`. `undecided_only`: sent from a form offered while
        the page waited for a decision, which someone may have taken since (corrected its lines, say: a form
        left open in the review queue wiped another archivist's corrections)."""
        _page_entry(self.document(doc_id), number)
        if profile not in self.profiles():  # a name from configs/profiles, never a path someone typed
            raise UsageError.said("unknown cleanup profile '%(name)s'", name=profile)
        codes = parse_languages(languages)
        unknown = set(codes) - set(self.languages())
        if unknown:
            raise UsageError.said("OCR language(s) not installed: %(languages)s", languages=", ".join(sorted(unknown)))
        if undecided_only and self.review.decision(doc_id, number):
            raise ActionRefused(N_("Someone decided on this page meanwhile: it was not read again. "
                                   "Open it to see what was done."))
        if not replace_corrections and self.audit.lines_corrected_since_reading(doc_id, number):
            raise ActionRefused(N_("Staff have corrected lines of this page since it was read: reading it again "
                                   "would replace their corrections. It was not read again."))
        options = Options.model_validate({**self.options.model_dump(), "languages": codes, "profile": profile})
        before, after = api.reocr_page(options, doc_id, number)
        self.audit.record(user.name, "reocr", doc_id, number, f"{'+'.join(options.languages)} {profile}",
                          before, after)
        self.review.decide(doc_id, number, "reocr", user.name)
        return before, after

    def profiles(self) -> list[str]:
        return [AUTO_PROFILE, *available_profiles(self.options.configs_dir)]

    def languages(self) -> list[str]:
        return sorted(set(tesseract.installed_languages()) - {"osd"})

    def accept(self, user: User, doc_id: str, number: int) -> None:
        record = self.document(doc_id)
        _page_entry(record, number)
        if number not in record.get("review_pages", []):  # the queue's button, sent for another page
            raise ActionRefused(N_("This page is not in the review queue."))
        # Sent again (a double click, a page reloaded, two at once): the first is the decision.
        if self.review.decide(doc_id, number, "accepted", user.name, first_only=True):
            self.audit.record(user.name, "review-accept", doc_id, number)

    def _reindex(self, doc_id: str) -> None:
        # Read and committed under the document's lock: two saves at once each read the text for the index, and
        # the one that read first could commit last, leaving the other's words out of search (ten archivists
        # saving a line each at once: four of the ten new words were not found).
        with document_lock(self.archive, doc_id):
            record = self.archive.load_document(doc_id)
            document = indexed_document(self.archive, record)
            self._search.run(lambda backend: backend.index_documents([document]))

    # --- review queue, ingest runs, audit ---------------------------------------------------------
    def review_queue(self, limit: int = 50, offset: int = 0) -> tuple[int, list[ReviewItem]]:
        return self.review.pending(limit, offset)

    def runs(self, limit: int = 50) -> list[RunSummary]:
        running = []
        for path in progress_files(self.archive.runs):
            state = _read_json(path)
            if state is not None:
                alive = is_running(state)
                running.append(RunSummary(path.stem, alive, not alive, state))
        reports = sorted((p for p in self.archive.runs.glob("*.json") if _RUN_ID.match(p.stem)), reverse=True)
        finished = [(p.stem, self._report(p).get("summary", {})) for p in reports[:limit]]
        return running + [RunSummary(stem, False, bool(summary.get("interrupted")), summary)
                          for stem, summary in finished]

    def run(self, run_id: str) -> dict:
        if not _RUN_ID.match(run_id) or not (self.archive.runs / f"{run_id}.json").is_file():
            raise DocumentNotFoundError(f"no ingest run '{run_id}'")
        return self._report(self.archive.runs / f"{run_id}.json")

    def _report(self, path: Path) -> dict:
        stamp = path.stat().st_mtime_ns
        cached = self._run_cache.get(path.name)
        if not cached or cached[0] != stamp:
            cached = (stamp, _read_json(path) or {})
            self._run_cache[path.name] = cached
        return cached[1]

    def service_metrics(self) -> ServiceMetrics:
        return service_metrics(self.desk.store)

    def audit_entries(self, document: str | None = None, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
        if document:
            _checked_id(document)
        return self.audit.entries(document, limit, offset)


def editable_value(record: dict, field: str) -> str:
    """A catalog field as the correction form shows it."""
    value = field_value(record, field)
    return ", ".join(str(v) for v in value) if isinstance(value, list) else (value or "")


def _checked_id(doc_id: str) -> str:
    if not _DOC_ID.match(doc_id or ""):
        raise DocumentNotFoundError(f"no document '{doc_id}'")
    return doc_id


def _page_entry(record: dict, number: int) -> dict:
    for entry in record.get("pages", []):
        if entry["number"] == number:
            return entry
    raise DocumentNotFoundError(f"document {record['id']} has no page {number}")


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # a report being replaced, or damaged: shown as missing rather than failing the page


__all__ = ["PortalService", "PageView", "RunSummary", "EDITABLE_FIELDS", "editable_value", "build_query"]


def build_query(text: str, collection: str | None = None, doc_type: str | None = None,
                language: str | None = None, year_from: str | int | None = None, year_to: str | int | None = None,
                exact: bool = False, offset: int = 0, limit: int = 20) -> SearchQuery:
    """A SearchQuery from what a form or an API call sent: empty fields are no filter; the text goes to the
    search protocol as it was typed (the protocol reads it as plain words, phrases and prefixes only)."""
    low, high = _year(year_from), _year(year_to)
    if low and high and low > high:
        low, high = high, low
    return SearchQuery(text=text.strip()[:500], collection=collection or None, doc_type=doc_type or None,
                       language=language or None, year_from=low, year_to=high, fuzzy=not exact,
                       offset=max(offset, 0), limit=min(max(limit, 1), 100))


def _year(value: str | int | None) -> int | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if not re.fullmatch(r"\d{3,4}", text):
        raise UsageError.said("'%(text)s' is not a year", text=text)
    return int(text)


def _still_unread(entry: dict, now: HocrPage | None, original: Path, current: Path) -> tuple:
    """The page's places with writing left unread (see PageView) whose words are still the ones the pipeline
    read from its `original` hOCR (`now` is the `current` one, corrected or not)."""
    places = tuple(tuple(box) for box in entry.get("unread_writing", []))
    if not places or now is None or current == original or not original.is_file():
        return places
    then = read_hocr(original)
    return tuple(box for box in places if _words_in(then, box) == _words_in(now, box))


def _words_in(page: HocrPage, box) -> list:
    """The words of `page` whose centre lies in `box` (left, top, right, bottom)."""
    left, top, right, bottom = box
    return [word for word in page.words if left <= (word.bbox[0] + word.bbox[2]) / 2 <= right
            and top <= (word.bbox[1] + word.bbox[3]) / 2 <= bottom]
