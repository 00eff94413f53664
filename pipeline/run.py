"""Ingest orchestration: discover, preflight, fan pages out to the executor, assemble, publish, index.

This module only orchestrates; the work lives in the stages. The page and document stages (numpy, OpenCV,
Pillow, pikepdf, dateparser) are imported when there is a page to work on: a rerun of a finished batch then
costs a few tenths of a second, not the second those imports take.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ._exec import tesseract
from .archive import Archive
from .backends.search import note_kept_in, open_search
from .errors import (ArchiveError, ArchiveFullError, DamagedArchiveError, InputError, MissingDependencyError,
                     PageDependencyError, RetrodigError, SiblingFailedError, UnexpectedPageError, UnreadableFileError,
                     UsageError, disk_full_error, is_disk_full, shown_path, unwritable_error)
from .executor import Executor, make_executor, prepare_executor, refuse_in_a_starting_worker
from .indexing import all_indexed_documents, indexed_document, indexed_documents
from .options import Options, given_options
from .profiles import load_profile
from .progress import BothEvents, ProgressFile, stopped_report, take_stale
from .report import FAILED, PROCESSED, SKIPPED, IngestReport, ItemReport
from .scan_cache import ScanCache
from .stages.discover import DocumentPlan, check_inputs, find_scan_files, group_documents
from .stages.metadata import load_doctype_rules
from .stages.preflight import IMAGE_FORMATS, ScanFile, check_name, inspect_scan, master_suffix, ocr_cost

if TYPE_CHECKING:
    from .pagework import PageResult, PageTask
    from .stages.document import DocumentInput

log = logging.getLogger(__name__)


class IngestEvents(Protocol):
    """What a front end (progress bar, portal) hears while an ingest runs."""

    def started(self, documents: int, pages: int) -> None: ...
    def page_done(self) -> None: ...
    def item(self, item: ItemReport) -> None: ...


class NoEvents:
    def started(self, documents: int, pages: int) -> None: ...
    def page_done(self) -> None: ...
    def item(self, item: ItemReport) -> None: ...


@dataclass
class _DocumentJob:
    doc: DocumentInput
    page_count: int
    results: list[PageResult] = field(default_factory=list)  # a split spread gives two
    errors: list[InputError | BaseException] = field(default_factory=list)
    scans_done: int = 0
    kept_before: tuple[str, ...] = ()  # checksums of its files whose masters were kept before
    overlaps: tuple[str, ...] = ()  # the other documents that hold some of its files ...
    shared: int = 0  # ... and how many of its files they hold

    @property
    def finished(self) -> bool:
        return self.scans_done == self.page_count


def document_id(files: list[ScanFile]) -> str:
    """Content-derived: the same scans always make the same document, so reruns skip it."""
    joined = "\n".join(f.sha256 for f in files)
    return hashlib.sha256(f"retrodig-document\n{joined}".encode()).hexdigest()[:16]


def ingest(inputs: list[str | os.PathLike] | str | os.PathLike, options: Options, events: IngestEvents | None = None,
           executor: Executor | None = None) -> IngestReport:
    """Ingest the scans `inputs` names into the archive. A full disk stops the batch (ArchiveFullError): what
    was finished stays archived, and the same call resumes there once there is space."""
    refuse_in_a_starting_worker("ingest")
    options = given_options(options)
    if isinstance(inputs, (str, os.PathLike)):  # one path given alone (a string is not a list of letters)
        inputs = [inputs]
    try:
        inputs = [os.fspath(item) for item in inputs]
    except TypeError as exc:
        raise UsageError(f"inputs are a list of files, folders or globs ({exc})") from None
    try:
        return _ingest(inputs, options, events, executor)
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(exc) from exc
        if unwritable := unwritable_error(exc, options.archive):
            raise unwritable from exc
        raise


def _ingest(inputs: list[str], options: Options, events: IngestEvents | None,
            executor: Executor | None) -> IngestReport:
    events = events or NoEvents()
    tesseract.require_languages(options.languages)
    profile = load_profile(options.profile, options.configs_dir)
    rules = load_doctype_rules(options.configs_dir / "doctypes.yaml")
    check_inputs(inputs)
    archive = Archive(options.archive).create()
    report = IngestReport(archive=str(archive.root), grouping=options.grouping)
    started = time.monotonic()
    with archive.writer_lock():
        archive.clear_work()
        for stopped in take_stale(archive.runs):  # filed under the time the killed run started
            _save_report(archive, stopped_report(stopped, str(archive.root)), _started(stopped))
        try:
            _run_batch(inputs, options, events, executor, archive, report, profile, rules)
        except BaseException as exc:  # Ctrl-C, a full disk: what was done is kept, and said in runs/
            # Also a batch stopped before any file was done (a cluster lost, a worker without a language): the
            # README promises a report of every stopped run. Not one refused for what was typed (no such input).
            if report.items or not isinstance(exc, UsageError):
                report.stopped(unwritable_error(exc, archive.root) or exc)
                report.seconds = time.monotonic() - started
                with contextlib.suppress(OSError):  # a full disk: its own error is the one to tell
                    _save_report(archive, report.to_dict())
            raise
    report.seconds = time.monotonic() - started
    _save_report(archive, report.to_dict())
    return report


def _run_batch(inputs: list[str], options: Options, events: IngestEvents, executor: Executor | None,
               archive: Archive, report: IngestReport, profile, rules) -> None:
    """Plan the batch, then run its pages; the finished documents are archived and indexed as they come."""
    progress = ProgressFile(archive.runs, inputs)  # what the portal shows while the batch runs
    events = BothEvents(events, progress)
    try:
        search = open_search(archive.root, options.search)
    except BaseException:  # an index that cannot be opened ends the run here: no leftover progress file, which
        progress.close()  # the next run would take for a killed run's
        raise
    try:
        damaged: list[DamagedArchiveError] = []  # `verify` names them; ingesting their scans with --force mends them
        archive.forget_unpublished_marks()
        if getattr(search, "needs_rebuild", False):  # lost, or built by an older retrodig: rebuild from disk first
            search.rebuild(all_indexed_documents(archive, damaged))
            archive.mark_indexed(archive.unindexed_documents())
        elif unindexed := archive.unindexed_documents():  # published by a run stopped before it indexed them
            documents = indexed_documents(archive, unindexed, damaged)
            search.index_documents(documents)
            archive.mark_indexed(document.id for document in documents)
        for error in damaged:
            log.warning("%s; not searchable until its scans are ingested again with --force", error)
        note_kept_in(archive.root, options.search)  # where its documents are searched from now (see open_search)
        # A file not seen before means pages to read: the workers' fork server starts then, not after planning.
        on_new_file = (lambda: prepare_executor(options.jobs, options.cluster)) if executor is None else None
        jobs = _plan(inputs, options, archive, search, report, events, on_new_file)
        events.started(len(jobs), sum(j.page_count for j in jobs))
        if jobs:  # a rerun of a finished batch starts no workers
            executor = executor or make_executor(options.jobs, options.cluster, tuple(options.languages))
            batch = _IndexBatch(search, archive)
            try:
                _run_pages(_longest_first(jobs), options, profile, rules, archive, batch, report, events,
                           executor)
            finally:
                executor.close()
                batch.flush()
    finally:
        search.close()
        progress.close()


def _started(state: dict) -> datetime | None:
    """When a run whose progress file this is started (None: not said, or not a time)."""
    try:
        return datetime.fromisoformat(state["started"]).astimezone(timezone.utc)
    except (KeyError, TypeError, ValueError):
        return None


class _IndexBatch:
    """Finished documents go into the search index in batches: one commit per batch rather than one per
    document (a commit of the embedded index costs ~40 ms, more than indexing a short document itself).
    Documents published but not yet indexed when a run stops are indexed by the next ingest (see _job_for).
    A document is read from disk when its batch is committed, not when it was published: a clerk may have
    corrected it in the portal meanwhile, and the older text would have replaced the correction in the index."""

    MAX_DOCUMENTS = 50
    MAX_SECONDS = 20.0  # the portal finds new documents at most this long after they are published

    def __init__(self, search, archive: Archive):
        self.search, self.archive = search, archive
        self.pending: list[str] = []  # document ids
        self.since = 0.0

    def add(self, doc_id: str) -> None:
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append(doc_id)
        if len(self.pending) >= self.MAX_DOCUMENTS or time.monotonic() - self.since >= self.MAX_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            ids, self.pending = self.pending, []
            self.search.index_documents([indexed_document(self.archive, self.archive.load_document(doc_id))
                                         for doc_id in ids])
            self.archive.mark_indexed(ids)


def _longest_first(jobs: list[_DocumentJob]) -> list[_DocumentJob]:
    """Documents with the heaviest pages first, so that no long page is left running alone at the end of the
    batch while the other workers idle (see preflight.ocr_cost)."""
    def cost(job: _DocumentJob) -> float:
        return sum(ocr_cost(scan) * scan.page_count for scan in job.doc.files) / max(1, job.page_count)

    return sorted(jobs, key=cost, reverse=True)


def _plan(inputs, options, archive, search, report, events, on_new_file=None) -> list[_DocumentJob]:
    def inspect_new(path: Path, max_pixels: int) -> ScanFile:  # what the scan cache does not know yet
        if on_new_file:
            on_new_file()
        return inspect_scan(path, max_pixels)

    found = find_scan_files(inputs, exclude=archive.root)
    files = found.scans
    for path in found.not_scans:
        _add(report, events, ItemReport(shown_path(path), SKIPPED, "not-a-scan", "not a scan file; passed over"))
    for path, why in found.unreadable:
        _add(report, events, ItemReport(shown_path(path), FAILED, UnreadableFileError.reason, why))
    cache = ScanCache(archive.index / "scans.sqlite")
    try:
        checked = {path: check_file(path, cache, options, inspect_new) for path in files}
    finally:
        cache.close()
    single_page = {p for p, c in checked.items()
                   if isinstance(c, InputError) or (c.format in IMAGE_FORMATS and c.page_count == 1)}
    jobs: dict[str, _DocumentJob] = {}
    for plan in group_documents(files, single_page, options.grouping):
        job = _job_for(plan, checked, options, archive, search, report, events, jobs)
        if job:
            jobs[job.doc.doc_id] = job
    _find_overlaps(list(jobs.values()), archive)
    return list(jobs.values())


def _find_overlaps(jobs: list[_DocumentJob], archive: Archive) -> None:
    """The documents archived before that hold files of a new one: a page added to a series still being scanned,
    or a page scanned again, makes a new document beside the old one (a document is its files), and both were
    searchable and deliverable without a word. Said for each (ItemReport.detail, and a warning now). The catalog
    is read once, only when a new document has such a file."""
    wanted = {sha for job in jobs for sha in job.kept_before}
    if not wanted:
        return
    holders: dict[str, set[str]] = {}
    for record in archive.iter_documents(damaged=[]):  # a damaged record is `verify`'s to name
        for entry in record.get("files", []):
            if isinstance(entry, dict) and entry.get("sha256") in wanted:
                holders.setdefault(entry["sha256"], set()).add(str(record.get("id", "")))
    for job in jobs:
        others = {sha: holders.get(sha, set()) - {job.doc.doc_id, ""} for sha in job.kept_before}
        found = sorted(set().union(*others.values())) if others else []
        if found:
            job.overlaps, job.shared = tuple(found), sum(1 for held in others.values() if held)
            log.warning("%s: %s", job.doc.source, overlap_note(job.shared, found))


def overlap_note(files: int, documents: list[str] | tuple[str, ...]) -> str:
    return (f"{files} of its files {'are' if files != 1 else 'is'} in document {', '.join(documents)} already: "
            "archived as a new document beside it (the earlier one stays, searchable and deliverable)")


def check_file(path: Path, cache: ScanCache, options: Options, inspect=inspect_scan) -> ScanFile | InputError:
    """What preflight says of one file found for the batch (the cache's answer for a file it knows unchanged),
    or why it cannot be archived. Only a full disk stops the batch."""
    try:
        check_name(path)  # before the cache, which keeps names as UTF-8
        return cache.inspect(path, options.max_pixels, inspect, use_cached=not options.force)
    except InputError as exc:
        return exc
    except FileNotFoundError:  # it was there when the batch looked for its files
        return UnreadableFileError(path, "it is gone: deleted or moved after the batch found it")
    except ArchiveError:  # the scan cache cannot be written: the archive's trouble, not this file's
        raise
    except Exception as exc:  # a bug in reading one file's header: that file fails, not the batch
        if is_disk_full(exc):
            raise
        log.exception("preflight of %s failed unexpectedly", path)
        return UnexpectedPageError(path, f"unexpected error (please report it): {exc!r}")


def _job_for(plan: DocumentPlan, checked, options, archive, search, report, events,
             planned: dict[str, _DocumentJob]) -> _DocumentJob | None:
    errors = {p: checked[p] for p in plan.files if isinstance(checked[p], InputError)}
    if errors:
        _fail_document(plan, errors, report, events)
        return None
    scans = [checked[p] for p in plan.files]
    doc_id = document_id(scans)
    if doc_id in planned:  # the same bytes twice in one batch (a file copied into two folders): one document
        first = planned[doc_id].doc.files
        for scan, original in zip(scans, first):
            _add(report, events, ItemReport(str(scan.path), SKIPPED, "duplicate",
                                            f"the same bytes as {original.path}, read once as document {doc_id}",
                                            doc_id, str(archive.document_dir(doc_id) / "document.pdf"),
                                            scan.page_count))
        return None
    if archive.has_document(doc_id) and not options.force:
        if not search.has_document(doc_id):  # an earlier run stopped between publishing and indexing
            try:
                search.index_documents([indexed_document(archive, archive.load_document(doc_id))])
            except DamagedArchiveError as exc:  # its record cannot be read: these files fail, not the batch
                for scan in scans:
                    _add(report, events, ItemReport(
                        shown_path(scan.path), FAILED, "damaged-record",
                        f"already in the archive as document {doc_id}, but its record cannot be read ({exc.reason}): "
                        "ingest this file again with --force to make the document anew", doc_id))
                return None
        for scan in scans:
            _add(report, events, ItemReport(str(scan.path), SKIPPED, "already-archived",
                                            f"already in the archive as document {doc_id}", doc_id,
                                            str(archive.document_dir(doc_id) / "document.pdf"), scan.page_count))
        return None
    from .stages.document import DocumentInput

    kept_before = tuple(s.sha256 for s in scans if archive.has_master(s.sha256))  # before this one keeps them
    try:
        masters = tuple(archive.store_master(s.path, s.sha256, master_suffix(s)) for s in scans)
    except InputError as exc:  # gone or rewritten since it was checked: that file fails, not the batch
        _fail_document(plan, {exc.path: exc}, report, events)
        return None
    # The record names where the scans came from in full: named from a working folder ("multi.tif"), that was
    # lost once the command ended (the run's report keeps what was typed).
    doc = DocumentInput(doc_id=doc_id, source=os.path.abspath(plan.source), collection=options.collection,
                        files=tuple(scans), masters=masters, languages=options.languages, profile=options.profile)
    return _DocumentJob(doc, page_count=sum(s.page_count for s in scans), kept_before=kept_before)


def _page_tasks(job: _DocumentJob, options: Options, profile, archive: Archive):
    from .pagework import PageTask

    number = 0
    for scan, master in zip(job.doc.files, job.doc.masters):
        for index in range(scan.page_count):
            number += 1
            yield PageTask(  # absolute paths: a Dask worker's working folder is not ours
                source=master.absolute(), format=scan.format, index=index, number=number,
                work_dir=(archive.work / job.doc.doc_id).absolute(), languages=options.tesseract_languages,
                profile=profile, max_pixels=options.max_pixels, default_dpi=options.default_dpi,
                jpeg_quality=options.jpeg_quality, tesseract_timeout=options.tesseract_timeout,
                split_spreads=True,  # when the profile says so: _run_pages numbers the two pages
            )


def _run_pages(jobs, options, profile, rules, archive, batch: _IndexBatch, report, events, executor) -> None:
    from .pagework import all_pages, process_page

    owner: dict[int, _DocumentJob] = {}

    def tasks():
        for job in jobs:
            for task in _page_tasks(job, options, profile, archive):
                owner[id(task)] = job
                yield task

    for outcome in executor.run(process_page, tasks()):
        job = owner.pop(id(outcome.task))
        events.page_done()
        job.scans_done += 1
        if outcome.ok:
            job.results.extend(all_pages(outcome.result))
        else:
            if isinstance(outcome.error, ArchiveFullError):
                raise outcome.error  # every page after would fail so too (see ingest)
            if outcome.crash:
                log.error("page %s of %s failed unexpectedly:\n%s", outcome.task.number, job.doc.source, outcome.crash)
            job.errors.append(_as_input_error(outcome.error, outcome.task))
        if job.finished:
            _finish(job, rules, archive, batch, report, events)


def _finish(job: _DocumentJob, rules, archive: Archive, batch: _IndexBatch, report, events) -> None:
    try:
        _conclude(job, rules, archive, batch, report, events)
    finally:
        shutil.rmtree(archive.work / job.doc.doc_id, ignore_errors=True)


def _conclude(job: _DocumentJob, rules, archive: Archive, batch: _IndexBatch, report, events) -> None:
    doc = job.doc
    if job.errors:
        _fail_document(DocumentPlan(doc.source, tuple(f.path for f in doc.files)),
                       {_original(doc, e.path): e for e in job.errors}, report, events)
        return
    from .pagework import renumbered
    from .stages.document import assemble_document

    staging = archive.staging_dir(doc.doc_id)
    try:
        record = assemble_document(doc, renumbered(job.results), rules, staging, archive.root)
    except RetrodigError as exc:
        _fail_document(DocumentPlan(doc.source, tuple(f.path for f in doc.files)),
                       {doc.files[0].path: _as_input_error(exc, None, doc.files[0].path)}, report, events)
        return
    archive.mark_unindexed(doc.doc_id)
    folder = archive.publish(staging, doc.doc_id)
    batch.add(doc.doc_id)
    report.pages += len(job.results)  # the pages archived: a failed document's read pages are not counted
    review = record.get("review_pages", [])
    for scan in doc.files:
        _add(report, events, ItemReport(str(scan.path), PROCESSED, document=doc.doc_id,
                                        pdf=str(folder / "document.pdf"), pages=scan.page_count,
                                        review_pages=review,
                                        detail=overlap_note(job.shared, job.overlaps) if job.overlaps else ""))


def _fail_document(plan: DocumentPlan, errors: dict[Path, InputError], report, events) -> None:
    failed, first = next(iter(errors.items()))  # the user's file (a worker's error names the master copy)
    for path in plan.files:
        error = errors.get(path) or SiblingFailedError(
            path, f"not archived because {shown_path(failed.name)} in the same document failed ({first.reason})")
        _add(report, events, ItemReport(shown_path(path), FAILED, error.reason, error.detail))


def _original(doc: DocumentInput, master_or_source: Path) -> Path:
    """Errors from workers name the master copy; report them against the user's file."""
    for scan, master in zip(doc.files, doc.masters):
        # Workers are given absolute paths: with a relative --archive (./archive by default) the master's
        # relative path never matched, and the document's first file was blamed for another's failure.
        if Path(master_or_source).absolute() in (master.absolute(), scan.path.absolute()):
            return scan.path
    return doc.files[0].path


def _as_input_error(error: BaseException, task: PageTask | None, path: Path | None = None) -> InputError:
    if isinstance(error, InputError):
        return error
    where = path or (task.source if task else Path("?"))
    if isinstance(error, MissingDependencyError):  # a worker without a language pack: it said "please report it"
        return PageDependencyError(where, str(error))
    return UnexpectedPageError(where, f"unexpected error (please report it): {error}")


def _add(report: IngestReport, events, item: ItemReport) -> None:
    report.items.append(item)
    events.item(item)


def _save_report(archive: Archive, report: dict, when: datetime | None = None) -> None:
    stamp = (when or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
    (archive.runs / f"{stamp}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
