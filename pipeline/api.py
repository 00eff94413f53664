"""The Python API: what the CLI (and later the portal) call. Errors are raised, never turned into exit codes here."""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

from ._exec import tesseract
from .archive import Archive
from .backends.search import note_kept_in, open_search
from .backends.search.protocol import SearchQuery, SearchResults
from .corrections import changed_since, current_record, page_text_path, save_page_version
from .errors import (DamagedArchiveError, RetrodigError, UsageError, disk_full_error, is_disk_full,
                     unwritable_error)
from .executor import refuse_in_a_starting_worker
from .hit_boxes import with_word_boxes
from .indexing import all_indexed_documents, indexed_document, indexed_documents
from .model import PageText
from .options import Options, given_options
from .pagework import PageResult, PageTask, all_pages, process_page, renumbered
from .profiles import load_profile
from .run import IngestEvents, ingest
from .stages.preflight import inspect_scan
from .verify import VerifyReport, compare_with_index, verify_archive

__all__ = ["IngestEvents", "ingest", "search", "show", "ocr_file", "read_file", "reocr_page", "verify", "reindex",
           "Options", "SearchQuery"]


def search(options: Options, query: SearchQuery | str) -> SearchResults:
    """The hits of `query` (a SearchQuery, or words to find as a clerk types them)."""
    archive = _existing_archive(options)
    query = SearchQuery(text=query) if isinstance(query, str) else query
    if not isinstance(query, SearchQuery):
        raise UsageError(f"expected a SearchQuery or the words to find, got {type(query).__name__}")
    backend = open_search(archive.root, options.search)
    try:
        results = with_word_boxes(archive, backend.search(query))
    finally:
        backend.close()
    # A run killed before it indexed what it archived left search answering "no hits" without a word.
    return replace(results, not_yet_indexed=len(archive.unindexed_documents()))


def show(options: Options, doc_id: str) -> dict:
    """The catalog record as staff corrected it (`corrections` names what differs from the pipeline's)."""
    archive = _existing_archive(options)
    record = current_record(archive, archive.load_document(doc_id))
    record["folder"] = str(archive.document_dir(doc_id))
    return record


def document_text(options: Options, doc_id: str) -> str:
    """The document's text as staff corrected it, page by page (form feeds between pages, as document.txt)."""
    archive = _existing_archive(options)
    pages = indexed_document(archive, archive.load_document(doc_id)).pages  # as search reads them
    return "\n\f".join(page.text.rstrip("\n") for page in pages) + "\n"


def ocr_file(path: Path, options: Options, debug_dir: Path | None = None) -> list[PageText]:
    """Clean and OCR every page of one file and return the text; nothing is written to any archive."""
    return [page.text for page in read_file(path, options, debug_dir)]


def _make_debug_dir(debug_dir: Path) -> None:
    """The folder for the cleanup steps' images, made before any work (a path through a file, or a folder that
    cannot be written, was an internal error after the page's cleanup)."""
    try:
        Path(debug_dir).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=debug_dir):
            pass
    except OSError as exc:
        raise UsageError(f"--debug-dir {debug_dir}: cannot write there ({exc.strerror or exc})") from exc


def read_file(path: Path, options: Options, debug_dir: Path | None = None) -> list[PageResult]:
    """Like `ocr_file`, with what cleanup and OCR found out about each page (quality, turn, languages,
    timings). A two-page spread comes back as two pages; pages are numbered 1.. in reading order."""
    options = given_options(options)
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such file" + (" (a folder: `ingest` reads folders)" if path.is_dir() else ""))
    tesseract.require_languages(options.languages)
    profile = load_profile(options.profile, options.configs_dir)
    if debug_dir is not None:
        _make_debug_dir(debug_dir)
    scan = inspect_scan(path, options.max_pixels)
    pages: list[PageResult] = []
    with tempfile.TemporaryDirectory(prefix="retrodig-ocr-") as tmp:
        for index in range(scan.page_count):
            page_debug = debug_dir / f"page-{index + 1:04d}" if debug_dir and scan.page_count > 1 else debug_dir
            if page_debug:
                page_debug.mkdir(parents=True, exist_ok=True)
            task = PageTask(
                source=path, format=scan.format, index=index, number=index + 1, work_dir=Path(tmp),
                languages=options.tesseract_languages, profile=profile, max_pixels=options.max_pixels,
                default_dpi=options.default_dpi, jpeg_quality=options.jpeg_quality,
                tesseract_timeout=options.tesseract_timeout, debug_dir=page_debug, split_spreads=True,
            )
            pages.extend(all_pages(process_page(task)))
    return renumbered(pages)


def reocr_page(options: Options, doc_id: str, number: int) -> tuple[str, str]:
    """Read one archived page again from its master, with `options.languages` and `options.profile`; the new
    reading becomes the page's current version (a correction: the original OCR stays in the document folder)
    and is reindexed. Returns the page text (before, after)."""
    tesseract.require_languages(options.languages)
    archive = _existing_archive(options)
    record = archive.load_document(doc_id)
    master, fmt, index, part = _master_page(archive, record, number)
    profile = load_profile(options.profile, options.configs_dir)
    read_from = page_text_path(archive, doc_id, number).read_text(encoding="utf-8")  # a correction meanwhile wins
    with tempfile.TemporaryDirectory(prefix="retrodig-reocr-") as tmp:
        task = PageTask(
            source=master, format=fmt, index=index, number=number, work_dir=Path(tmp),
            languages=options.tesseract_languages, profile=profile, max_pixels=options.max_pixels,
            default_dpi=options.default_dpi, jpeg_quality=options.jpeg_quality,
            tesseract_timeout=options.tesseract_timeout, split_spreads=bool(part),
        )
        halves = all_pages(process_page(task))
        if part and len(halves) != 2:
            raise UsageError(f"page {number} of document {doc_id} is half of a two-page spread, which the "
                             f"cleanup profile '{profile.name}' does not split; choose one that does "
                             "(e.g. printed-book)")
        result = halves[part - 1] if part else halves[0]
        before, after = save_page_version(archive, doc_id, number, result.hocr, read_from)
    backend = open_search(archive.root, options.search)
    try:
        backend.index_documents([indexed_document(archive, record)])
    finally:
        backend.close()
    return before, after


def _master_page(archive: Archive, record: dict, number: int) -> tuple[Path, str, int, int]:
    """The master file, the page within it and the half of a split spread (0: the whole scan) that became
    page `number` of the document."""
    entry = next((p for p in record.get("pages", []) if p.get("number") == number), None)
    if entry is None:
        raise UsageError(f"document {record['id']} has no page {number}")
    files = record.get("files", [])
    if "scan_page" not in entry and sum(f["pages"] for f in files) != len(record.get("pages", [])):
        raise UsageError(f"document {record['id']} was archived before pages recorded their scan; "
                         "re-read the whole file with `retrodig ingest --force` instead")
    scan_page = entry.get("scan_page", number)
    first = 1
    for file in files:
        if first <= scan_page < first + file["pages"]:
            return archive.root / file["master"], file["format"], scan_page - first, entry.get("part", 0)
        first += file["pages"]
    raise UsageError(f"document {record['id']} has no page {number}")


def verify(options: Options, progress=None) -> VerifyReport:
    """The fixity check (verify.verify_archive), and the search index compared with the archive's documents."""
    archive = _existing_archive(options)
    report = verify_archive(archive, progress)
    try:
        backend = open_search(archive.root, options.search)
        try:
            compare_with_index(report, archive, backend.document_ids())
        finally:
            backend.close()
    except RetrodigError as exc:  # lost, outdated, a cluster away: said, and the archive's own check stands
        report.search_index = str(exc)
    return report


def reindex(options: Options, progress=None, damaged: list[DamagedArchiveError] | None = None) -> int:
    """Rebuild the search index from the documents on disk; the new index replaces the old in one step.

    It holds the archive's writer lock, as an ingest does: an ingest (or another reindex) meanwhile is refused
    (ArchiveBusyError), where its documents used to be committed to the index the rebuild then replaced. The
    portal's corrections go on meanwhile: those made after the rebuild read a document go into the old index,
    so every document changed since the rebuild began is indexed again once the new index is live."""
    refuse_in_a_starting_worker("reindex")
    archive = _existing_archive(options)
    with archive.writer_lock():
        backend = open_search(archive.root, options.search)
        try:
            started = time.time()
            documents = all_indexed_documents(archive, damaged)
            if progress:
                documents = progress(documents, archive.count_documents())
            count = backend.rebuild(documents)
            note_kept_in(archive.root, options.search)
            changed = [folder.name for folder in archive.documents.iterdir()
                       if changed_since(archive, folder.name, started)]
            if changed:  # read again only these: the others' records are not parsed a second time
                backend.index_documents(indexed_documents(archive, changed, damaged))
            if damaged:  # one found damaged by both passes is named once
                damaged[:] = list({str(error): error for error in damaged}.values())
            archive.mark_indexed(archive.unindexed_documents())
            archive.forget_unpublished_marks()
            return count
        except OSError as exc:  # an index folder it may not write, a full disk: the archive's errors (exit 7)
            raise unwritable_error(exc, archive.root) or (disk_full_error(exc) if is_disk_full(exc) else exc) from exc
        finally:
            backend.close()


def _existing_archive(options: Options) -> Archive:
    archive = Archive(given_options(options).archive)
    if not archive.exists():
        raise UsageError(f"no archive at {archive.root} (run `retrodig ingest` first, or pass --archive)")
    return archive

