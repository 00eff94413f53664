"""Fixity check: every master still has the checksum it was archived with, and is still read-only."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .archive import Archive
from .errors import DamagedArchiveError
from .stages.preflight import sha256_of


@dataclass(frozen=True)
class MasterProblem:
    document: str
    master: str
    problem: str  # missing | checksum-changed | writable | outside-the-archive


@dataclass
class VerifyReport:
    masters_checked: int = 0
    documents_checked: int = 0
    problems: list[MasterProblem] = field(default_factory=list)
    damaged_records: list[str] = field(default_factory=list)  # catalog records that cannot be read: why

    @property
    def ok(self) -> bool:
        return not self.problems and not self.damaged_records


def verify_archive(archive: Archive, progress=None) -> VerifyReport:
    report = VerifyReport()
    damaged: list[DamagedArchiveError] = []
    for record in archive.iter_documents(damaged):
        report.documents_checked += 1
        for entry in record.get("files", []):
            master = archive.root / entry["master"]
            report.masters_checked += 1
            inside = archive.masters.resolve() in master.resolve().parents  # a record edited by hand: no other file
            problem = _check_master(master, entry["sha256"]) if inside else "outside-the-archive"
            if problem:
                report.problems.append(MasterProblem(record["id"], str(master), problem))
            if progress:
                progress(entry)
    report.damaged_records = [str(error) for error in damaged]
    return report


def _check_master(master, expected: str) -> str:
    if not master.is_file():
        return "missing"
    if sha256_of(master) != expected:
        return "checksum-changed"
    if os.stat(master).st_mode & 0o222:
        return "writable"
    return ""
