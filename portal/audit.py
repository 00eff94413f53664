"""The audit log: every change staff make, with who, when, what it was before and what it became."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from .db import StaffDatabase


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    user: str
    action: str
    document: str | None
    page: int | None
    target: str | None
    before: str | None
    after: str | None


class AuditLog:
    def __init__(self, db: StaffDatabase):
        self.db = db

    def record(self, user: str, action: str, document: str | None = None, page: int | None = None,
               target: str | None = None, before=None, after=None) -> None:
        at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.db.connect() as conn:
            conn.execute(
                "INSERT INTO audit (at, user_name, action, document, page, target, before, after) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (at, user, action, document, page, target, _text(before), _text(after)),
            )

    def entries(self, document: str | None = None, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
        where, params = ("WHERE document = ?", [document]) if document else ("", [])
        with self.db.connect() as conn:
            rows = conn.execute(
                f"SELECT id, at, user_name, action, document, page, target, before, after FROM audit {where} "
                "ORDER BY id DESC LIMIT ? OFFSET ?", [*params, limit, offset]).fetchall()
        return [AuditEntry(*row) for row in rows]

    def lines_corrected_since_reading(self, document: str, page: int) -> bool:
        """Whether staff corrected a line of the page after it was last read (at ingest, or again since)."""
        with self.db.connect() as conn:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM audit WHERE document = ?1 AND page = ?2 AND action = 'correct-line' "
                "AND id > COALESCE((SELECT MAX(id) FROM audit WHERE document = ?1 AND page = ?2 AND action = 'reocr'), "
                "0))", (document, page)).fetchone()
        return bool(row[0])


def _text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
