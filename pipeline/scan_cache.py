"""Remembered preflight results, so a rerun of a finished batch does not read every input again.

Preflight reads each input's header and its whole content for the SHA-256 that identifies it. For a rerun of
a batch of hundreds of thousands of scans that is most of the rerun's cost, for nothing: the files have not
changed. The archive keeps, per input path, what preflight found with the file's (size, mtime, ctime, inode)
at the time; while those are unchanged the result is reused, and a file whose stat changed in any way is
inspected and hashed again. (ctime cannot be set back by a program, so a rewrite that restores size and mtime
is still noticed.) `--force` ignores the cache. The cache is an optimisation only: delete it at any time.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .errors import ArchiveError
from .stages.preflight import ScanFile

_SCHEMA = """CREATE TABLE IF NOT EXISTS scans (
    path TEXT PRIMARY KEY, stat TEXT NOT NULL, max_pixels INTEGER NOT NULL,
    format TEXT NOT NULL, page_count INTEGER NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL)"""


def _opened(file: Path) -> sqlite3.Connection:
    db = sqlite3.connect(file)
    try:
        db.execute(_SCHEMA)
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _stat_key(path: Path) -> str:
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{st.st_dev}"


class ScanCache:
    def __init__(self, file: Path):
        self._file = file
        try:
            self._db = _opened(file)
        except sqlite3.DatabaseError:  # damaged: it is only a cache, so it starts again empty
            file.unlink(missing_ok=True)
            self._db = _opened(file)

    def get(self, path: Path, max_pixels: int) -> ScanFile | None:
        """The remembered ScanFile of `path`, or None when it is unknown or changed since."""
        row = self._db.execute("SELECT stat, max_pixels, format, page_count, sha256, size FROM scans WHERE path = ?",
                               (str(path.absolute()),)).fetchone()
        if row is None or row[0] != _stat_key(path) or row[1] != max_pixels:
            return None
        return ScanFile(path=path, format=row[2], page_count=row[3], sha256=row[4], size=row[5])

    def put(self, scan: ScanFile, stat_key: str, max_pixels: int) -> ScanFile:
        try:
            self._db.execute("INSERT OR REPLACE INTO scans VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (str(scan.path.absolute()), stat_key, max_pixels, scan.format, scan.page_count,
                              scan.sha256, scan.size))
        except sqlite3.OperationalError as exc:  # the archive's, not the scan's: each file failed as a bug
            raise ArchiveError(f"the archive's scan cache {self._file} cannot be written ({exc})") from exc
        return scan

    def inspect(self, path: Path, max_pixels: int, inspect, use_cached: bool = True) -> ScanFile:
        """`inspect(path, max_pixels)` (preflight), or its remembered result for an unchanged file."""
        if use_cached and (cached := self.get(path, max_pixels)):
            return cached
        before = _stat_key(path)  # taken before reading: a change while we read is seen next time
        return self.put(inspect(path, max_pixels), before, max_pixels)

    def close(self) -> None:
        self._db.commit()
        self._db.close()
