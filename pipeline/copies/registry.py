"""The register of issued certified copies, <archive>/copies/registry.sqlite: what the public verification
page reads to confirm a copy (by its id from the QR code, or by the SHA-256 of the file someone holds)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..errors import ArchiveError

REGISTRY_FILE = "registry.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS copies (
    copy_id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    document TEXT NOT NULL,
    request_number TEXT NOT NULL,
    issued TEXT NOT NULL,          -- date of the copy (the stamp's date)
    issued_at TEXT NOT NULL,       -- when it was made, ISO 8601 with time zone
    language TEXT NOT NULL,
    pages INTEGER NOT NULL,
    redactions INTEGER NOT NULL,   -- boxes burned in
    signer TEXT NOT NULL,
    demo_certificate INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class IssuedCopy:
    copy_id: str
    sha256: str  # of the delivered (signed) file
    document: str
    request_number: str
    issued: str
    issued_at: str
    language: str
    pages: int
    redactions: int
    signer: str
    demo_certificate: bool

    def to_dict(self) -> dict:
        return asdict(self)


def _connect(folder: Path) -> sqlite3.Connection:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(folder / REGISTRY_FILE, timeout=30)
        connection.execute(_SCHEMA)
    except (OSError, sqlite3.Error) as exc:
        raise ArchiveError(f"cannot open the register of copies in {folder}: {exc}") from exc
    return connection


def register(folder: Path, copy: IssuedCopy) -> None:
    names = [f.name for f in fields(IssuedCopy)]
    try:
        with closing(_connect(folder)) as connection, connection:
            connection.execute(f"INSERT INTO copies ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                               [getattr(copy, name) for name in names])
    except sqlite3.Error as exc:  # read-only, its disk full: no copy is issued that the register does not list
        raise ArchiveError(f"cannot write the register of copies {folder / REGISTRY_FILE}: {exc}") from exc


def find(folder: Path, copy_id_or_sha256: str) -> IssuedCopy | None:
    if not (folder / REGISTRY_FILE).is_file():
        return None
    key = copy_id_or_sha256.strip().lower()
    with closing(_connect(folder)) as connection:
        connection.row_factory = sqlite3.Row
        row = connection.execute("SELECT * FROM copies WHERE copy_id = ? OR sha256 = ?", (key, key)).fetchone()
    if row is None:
        return None
    values = dict(row)
    values["demo_certificate"] = bool(values["demo_certificate"])
    return IssuedCopy(**values)
