"""Fixity check: every master still has the checksum it was archived with, and is still read-only; every
document still has its catalog record and the files made from its scans (the PDF/A, the text, each page's text
and hOCR), with the checksums they were archived with."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .archive import Archive, made_files
from .errors import DamagedArchiveError
from .stages.preflight import sha256_of


@dataclass(frozen=True)
class MasterProblem:
    document: str
    master: str
    problem: str  # missing | unreadable | checksum-changed | writable | outside-the-archive


@dataclass(frozen=True)
class MissingFile:
    document: str
    file: str  # a file the record names (document.pdf, pages/0001.hocr, ...), as a path: missing, or changed


@dataclass
class VerifyReport:
    masters_checked: int = 0
    documents_checked: int = 0
    problems: list[MasterProblem] = field(default_factory=list)
    damaged_records: list[str] = field(default_factory=list)  # catalog records that cannot be read: why
    damaged_documents: list[str] = field(default_factory=list)  # their documents' ids (ingest --force mends them)
    missing_files: list[MissingFile] = field(default_factory=list)
    changed_files: list[MissingFile] = field(default_factory=list)  # made files whose checksum is no longer theirs
    unreadable_files: list[MissingFile] = field(default_factory=list)  # made files that cannot be read (permissions)
    # Masters no document names: kept from files that failed after they were copied in (a page that could not be
    # read), or whose document was removed. Not damage: an ingest of the same file uses them again.
    unreferenced_masters: list[str] = field(default_factory=list)
    # Documents archived by a run stopped before it indexed them: not damage, the next ingest indexes them (those
    # of a run of an older retrodig, `reindex`).
    unindexed_documents: list[str] = field(default_factory=list)
    # Documents the search index holds whose folder is gone from the archive (search still found them).
    missing_documents: list[str] = field(default_factory=list)
    search_index: str = ""  # why the search index could not be compared with the archive, if it could not

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def problem_count(self) -> int:
        return (len(self.problems) + len(self.damaged_records) + len(self.missing_files) + len(self.changed_files)
                + len(self.unreadable_files) + len(self.missing_documents))


def compare_with_index(report: VerifyReport, archive: Archive, indexed: set[str]) -> None:
    """Name the documents the search index holds (`indexed`) whose folder is gone from the archive, and those the
    archive holds that the index does not (archived by a run of an older retrodig that was stopped before it
    indexed them, which kept no marks: `reindex` adds them)."""
    report.missing_documents = sorted(doc_id for doc_id in indexed if not archive.document_dir(doc_id).is_dir())
    archived = {folder.name for folder in archive.documents.iterdir() if archive.has_document(folder.name)} \
        if archive.documents.is_dir() else set()
    report.unindexed_documents = _not_damaged(report, set(report.unindexed_documents) | (archived - indexed))


def _not_damaged(report: VerifyReport, doc_ids) -> list[str]:
    """`doc_ids` but those whose record is damaged: reindex cannot add them, ingest --force mends them (the
    damaged records say so)."""
    return sorted(set(doc_ids) - set(report.damaged_documents))


def verify_archive(archive: Archive, progress=None) -> VerifyReport:
    report = VerifyReport()
    damaged: list[DamagedArchiveError] = []
    named: set[Path] = set()
    for record in archive.iter_documents(damaged):
        report.documents_checked += 1
        for entry in record.get("files", []):
            master = archive.root / entry["master"]
            named.add(master.resolve())
            report.masters_checked += 1
            inside = archive.masters.resolve() in master.resolve().parents  # a record edited by hand: no other file
            problem = _check_master(master, entry["sha256"]) if inside else "outside-the-archive"
            if problem:
                report.problems.append(MasterProblem(record["id"], str(master), problem))
            if progress:
                progress(entry)
        folder = archive.document_dir(record["id"])
        checksums = record.get("checksums") or {}  # records written before retrodig kept them have none
        for name in made_files(record):
            path = folder / name
            if not path.is_file():
                report.missing_files.append(MissingFile(record["id"], str(path)))
                continue
            try:
                changed = name in checksums and sha256_of(path) != checksums[name]
            except OSError:  # its permissions changed: the archive cannot serve it
                report.unreadable_files.append(MissingFile(record["id"], str(path)))
                continue
            if changed:
                report.changed_files.append(MissingFile(record["id"], str(path)))
    report.damaged_records = [str(error) for error in damaged]
    report.damaged_documents = sorted({Path(error.path).parent.name for error in damaged})
    report.unindexed_documents = _not_damaged(report, archive.unindexed_documents())
    # The masters no readable record names are checked by their names (a master is named by its checksum): a
    # damaged record's masters went unchecked, and one of them changed was neither reported nor counted.
    unnamed = sorted(path for path in archive.masters.glob("*/*")
                     if path.is_file() and not path.name.startswith(".") and path.resolve() not in named)
    for master in unnamed:
        report.masters_checked += 1
        problem = _check_master(master, master.name.split(".")[0])
        if problem in ("unreadable", "checksum-changed"):  # a master of a failed file is not kept read-only
            report.problems.append(MasterProblem("", str(master), problem))
    if not damaged:  # a record that cannot be read may name any of them
        report.unreferenced_masters = [str(path) for path in unnamed]
    return report


def _check_master(master, expected: str) -> str:
    if not master.is_file():
        return "missing"
    try:
        if sha256_of(master) != expected:
            return "checksum-changed"
    except OSError:
        return "unreadable"
    if os.stat(master).st_mode & 0o222:
        return "writable"
    return ""
