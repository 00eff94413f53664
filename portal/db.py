"""The portal's own SQLite file, `<archive>/portal/portal.sqlite`: staff accounts, sessions, failed logins,
the audit log and review decisions. A connection per use: they are cheap, and threads never share one."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import ArchiveError

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('clerk', 'archivist', 'admin')),
    active INTEGER NOT NULL DEFAULT 1,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,          -- sha256 of the cookie value: a stolen database opens no session
    user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    address TEXT NOT NULL,
    user_name TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (address, user_name, at);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,                     -- UTC, ISO 8601
    user_name TEXT NOT NULL,
    action TEXT NOT NULL,                 -- correct-line, correct-metadata, reocr, review-accept, user-...
    document TEXT,
    page INTEGER,
    target TEXT,                          -- the line id or field name
    before TEXT,
    after TEXT
);
CREATE INDEX IF NOT EXISTS audit_document ON audit (document, id);
CREATE TABLE IF NOT EXISTS review_decisions (
    document TEXT NOT NULL,
    page INTEGER NOT NULL,
    decision TEXT NOT NULL,               -- accepted, corrected, reocr
    user_name TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (document, page)
);
"""


class StaffDatabase:
    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _only_for_its_owner(self.path)
            with self.connect() as conn:
                conn.execute("PRAGMA journal_mode = WAL")  # persistent: readers never wait for a writer
                conn.executescript(SCHEMA)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except (OSError, sqlite3.Error) as exc:  # a read-only archive, a folder of another user: not a bug
            raise ArchiveError(f"the portal's database {self.path} cannot be opened for writing ({exc}): the "
                               "archive folder must be writable by the user running retrodig") from exc

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection whose changes commit when the block ends without an error."""
        conn = sqlite3.connect(self.path, timeout=30.0)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            with conn:
                yield conn
        finally:
            conn.close()


def _only_for_its_owner(path: Path) -> None:
    """The file readable by its owner alone (SQLite gives its -wal and -shm files the same rights): it holds
    citizens' names, addresses and phones, staff password hashes, and the mail not yet sent, links and all. It
    was made readable by every user of the machine."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    elif path.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):  # another user's file: its owner mends it
            os.chmod(path, 0o600)


def staff_database(archive_root: Path) -> StaffDatabase:
    return StaffDatabase(Path(archive_root) / "portal" / "portal.sqlite")
