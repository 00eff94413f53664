"""Citizens' requests in the portal's SQLite file: the requests, their status history, attachments, the
records linked to them, redaction boxes, issued copies with their download links, and satisfaction answers.

Tracking codes and download tokens are stored only as SHA-256 digests, and an e-mail's body (which carries
them) is blanked once the mail server has taken it: a copy of the database opens no request and no copy."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..db import StaffDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    number TEXT UNIQUE,                   -- the public reference, e.g. 2026-000017
    tracking_hash TEXT UNIQUE NOT NULL,   -- sha256 of the tracking code
    tracking_nonce TEXT NOT NULL,         -- the code is made from it with the portal's key (codes.py)
    service TEXT NOT NULL,
    language TEXT NOT NULL,
    applicant TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    relation TEXT NOT NULL,
    delivery TEXT NOT NULL,
    fields TEXT NOT NULL,                 -- JSON: the card's fields as the citizen gave them
    status TEXT NOT NULL,
    assigned TEXT,
    submitted REAL NOT NULL,
    deadline REAL NOT NULL,
    closed REAL,
    paid INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requests_status ON requests (status, deadline);
CREATE TABLE IF NOT EXISTS request_events (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    at REAL NOT NULL,
    status TEXT NOT NULL,                 -- the status after this event
    actor TEXT NOT NULL,                  -- a staff name, or 'citizen'
    kind TEXT NOT NULL,                   -- status, message (to the citizen), answer (from the citizen), note
    text TEXT
);
CREATE INDEX IF NOT EXISTS request_events_request ON request_events (request_id, id);
CREATE TABLE IF NOT EXISTS request_attachments (
    request_id INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    slot TEXT NOT NULL,                   -- the card's attachment name, or 'answer'
    stored TEXT NOT NULL,                 -- a generated file name under requests/<id>/
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (request_id, n)
);
CREATE TABLE IF NOT EXISTS request_records (
    request_id INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    document TEXT NOT NULL,
    linked_by TEXT NOT NULL,
    at REAL NOT NULL,
    confirmed_by TEXT,                    -- who confirmed its redactions (cleared when a box changes)
    PRIMARY KEY (request_id, document)
);
CREATE TABLE IF NOT EXISTS redaction_boxes (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL,
    document TEXT NOT NULL,
    page INTEGER NOT NULL,
    left INTEGER NOT NULL, top INTEGER NOT NULL, right INTEGER NOT NULL, bottom INTEGER NOT NULL,
    kind TEXT NOT NULL,                   -- cnp, pesel, iban, name, ... or 'manual'
    words TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    keep INTEGER NOT NULL DEFAULT 1,
    FOREIGN KEY (request_id, document) REFERENCES request_records(request_id, document) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS issued_copies (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    document TEXT NOT NULL,
    copy_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,                   -- relative to the archive
    token_hash TEXT UNIQUE NOT NULL,
    issued REAL NOT NULL,
    expires REAL NOT NULL,
    downloads INTEGER NOT NULL DEFAULT 0,
    max_downloads INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS request_feedback (
    request_id INTEGER PRIMARY KEY REFERENCES requests(id) ON DELETE CASCADE,
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment TEXT,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    request_id INTEGER REFERENCES requests(id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    language TEXT NOT NULL,
    queued REAL NOT NULL,
    sent REAL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS public_attempts (
    address TEXT NOT NULL,
    action TEXT NOT NULL,                 -- submit, track
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS public_attempts_key ON public_attempts (address, action, at);
"""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def when(stamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(stamp, timezone.utc) if stamp is not None else None


@dataclass(frozen=True)
class Event:
    at: datetime
    status: str
    actor: str
    kind: str
    text: str | None


@dataclass(frozen=True)
class Attachment:
    n: int
    slot: str
    stored: str
    media_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class LinkedRecord:
    document: str
    linked_by: str
    at: datetime
    confirmed_by: str | None


@dataclass(frozen=True)
class Box:
    id: int
    document: str
    page: int
    left: int
    top: int
    right: int
    bottom: int
    kind: str
    words: str
    reason: str
    keep: bool


@dataclass(frozen=True)
class IssuedLink:
    id: int
    request_id: int
    document: str
    copy_id: str
    sha256: str
    path: str
    issued: datetime
    expires: datetime
    downloads: int
    max_downloads: int

    @property
    def state(self) -> str:
        """usable, expired or used_up (as many downloads as allowed)."""
        if datetime.now(timezone.utc) >= self.expires:
            return "expired"
        return "used_up" if self.downloads >= self.max_downloads else "usable"


@dataclass(frozen=True)
class Request:
    id: int
    number: str
    service: str
    language: str
    applicant: str
    email: str
    phone: str | None
    relation: str
    delivery: str
    fields: dict
    status: str
    assigned: str | None
    submitted: datetime
    deadline: datetime
    closed: datetime | None
    paid: bool
    events: list[Event] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    records: list[LinkedRecord] = field(default_factory=list)
    copies: list[IssuedLink] = field(default_factory=list)
    feedback: tuple[int, str | None] | None = None

    @property
    def overdue(self) -> bool:
        return self.closed is None and datetime.now(timezone.utc) > self.deadline

    @property
    def current_copies(self) -> list[IssuedLink]:
        """The latest link of each record's copy (a link issued again replaces the one before)."""
        return list({link.document: link for link in self.copies}.values())


_REQUEST_COLUMNS = ("id, number, service, language, applicant, email, phone, relation, delivery, fields, status, "
                    "assigned, submitted, deadline, closed, paid")


def _request(row) -> Request:
    (id_, number, service, language, applicant, email, phone, relation, delivery, fields, status, assigned,
     submitted, deadline, closed, paid) = row
    return Request(id_, number, service, language, applicant, email, phone, relation, delivery, json.loads(fields),
                   status, assigned, when(submitted), when(deadline), when(closed), bool(paid))


class RequestStore:
    def __init__(self, db: StaffDatabase):
        self.db = db
        with db.connect() as conn:
            conn.executescript(SCHEMA)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        with self.db.connect() as conn:
            conn.execute("PRAGMA secure_delete = ON")  # what is blanked (links in sent e-mail) is overwritten
            yield conn

    # --- requests ---------------------------------------------------------------------------------------
    def insert(self, conn: sqlite3.Connection, values: dict) -> int:
        columns = ", ".join(values)
        cursor = conn.execute(f"INSERT INTO requests ({columns}) VALUES ({', '.join('?' * len(values))})",
                              list(values.values()))
        request_id = cursor.lastrowid
        year = time.gmtime(values["submitted"]).tm_year
        conn.execute("UPDATE requests SET number = ? WHERE id = ?", (f"{year}-{request_id:06d}", request_id))
        return request_id

    def get(self, request_id: int, full: bool = True) -> Request | None:
        with self.connect() as conn:
            row = conn.execute(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ?", (request_id,)).fetchone()
            if not row:
                return None
            request = _request(row)
            return self._complete(conn, request) if full else request

    def by_tracking(self, code: str) -> Request | None:
        if not code or len(code) > 100:
            return None
        with self.connect() as conn:
            row = conn.execute("SELECT id FROM requests WHERE tracking_hash = ?", (digest(code),)).fetchone()
        return self.get(row[0]) if row else None

    def _complete(self, conn: sqlite3.Connection, request: Request) -> Request:
        rid = request.id
        request.events.extend(Event(when(at), status, actor, kind, text) for at, status, actor, kind, text in conn.execute(
            "SELECT at, status, actor, kind, text FROM request_events WHERE request_id = ? ORDER BY id", (rid,)))
        request.attachments.extend(Attachment(*row) for row in conn.execute(
            "SELECT n, slot, stored, media_type, size, sha256 FROM request_attachments WHERE request_id = ? "
            "ORDER BY n", (rid,)))
        request.records.extend(LinkedRecord(doc, by, when(at), confirmed) for doc, by, at, confirmed in conn.execute(
            "SELECT document, linked_by, at, confirmed_by FROM request_records WHERE request_id = ? ORDER BY at",
            (rid,)))
        request.copies.extend(self._links(conn, "request_id = ?", (rid,)))
        feedback = conn.execute("SELECT score, comment FROM request_feedback WHERE request_id = ?", (rid,)).fetchone()
        return Request(**{**request.__dict__, "feedback": tuple(feedback) if feedback else None})

    def queue(self, status: str | None, service: str | None, assigned: str | None, overdue: bool,
              limit: int, offset: int) -> tuple[int, list[Request]]:
        where, params = [], []
        if status == "open":
            where.append("closed IS NULL")
        elif status:
            where.append("status = ?")
            params.append(status)
        if service:
            where.append("service = ?")
            params.append(service)
        if assigned == "-":
            where.append("assigned IS NULL")
        elif assigned:
            where.append("assigned = ?")
            params.append(assigned)
        if overdue:
            where.append("closed IS NULL AND deadline < ?")
            params.append(time.time())
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self.connect() as conn:
            total = conn.execute(f"SELECT count(*) FROM requests {clause}", params).fetchone()[0]
            rows = conn.execute(f"SELECT {_REQUEST_COLUMNS} FROM requests {clause} "
                                "ORDER BY closed IS NOT NULL, deadline, id LIMIT ? OFFSET ?",
                                [*params, limit, offset]).fetchall()
        return total, [_request(row) for row in rows]

    def add_event(self, conn: sqlite3.Connection, request_id: int, status: str, actor: str, kind: str,
                  text: str | None = None, closed: bool = False) -> None:
        now = time.time()
        conn.execute("INSERT INTO request_events (request_id, at, status, actor, kind, text) VALUES (?, ?, ?, ?, ?, ?)",
                     (request_id, now, status, actor, kind, text))
        conn.execute("UPDATE requests SET status = ? WHERE id = ?", (status, request_id))
        if closed:
            conn.execute("UPDATE requests SET closed = ? WHERE id = ?", (now, request_id))

    def change_status(self, request_id: int, current: str, wanted: str) -> bool:
        """Set the request's status to `wanted` if it is still `current` (checked and set in one statement);
        False when another clerk changed it first. The event that records the change is the caller's."""
        with self.connect() as conn:
            return conn.execute("UPDATE requests SET status = ? WHERE id = ? AND status = ?",
                                (wanted, request_id, current)).rowcount == 1

    # --- download links ---------------------------------------------------------------------------------
    def _links(self, conn: sqlite3.Connection, where: str, params: tuple) -> list[IssuedLink]:
        rows = conn.execute("SELECT id, request_id, document, copy_id, sha256, path, issued, expires, downloads, "
                            f"max_downloads FROM issued_copies WHERE {where} ORDER BY id", params).fetchall()
        return [IssuedLink(*row[:6], when(row[6]), when(row[7]), row[8], row[9]) for row in rows]

    def link_by_token(self, token: str) -> IssuedLink | None:
        if not token or len(token) > 100:
            return None
        with self.connect() as conn:
            links = self._links(conn, "token_hash = ?", (digest(token),))
        return links[0] if links else None

    def count_download(self, link_id: int) -> bool:
        """One more download, if the link still allows one (checked and counted in one statement)."""
        with self.connect() as conn:
            cursor = conn.execute("UPDATE issued_copies SET downloads = downloads + 1 WHERE id = ? "
                                  "AND downloads < max_downloads AND expires > ?", (link_id, time.time()))
            return cursor.rowcount == 1

    def can_download(self, link_id: int) -> bool:
        """Whether the link still allows a download, without counting one."""
        with self.connect() as conn:
            return conn.execute("SELECT 1 FROM issued_copies WHERE id = ? AND downloads < max_downloads "
                                "AND expires > ?", (link_id, time.time())).fetchone() is not None

    # --- rate limits on the public forms ----------------------------------------------------------------
    def attempts(self, address: str, action: str, window: float) -> int:
        since = time.time() - window
        with self.connect() as conn:
            conn.execute("DELETE FROM public_attempts WHERE at < ?", (since,))
            return conn.execute("SELECT count(*) FROM public_attempts WHERE address = ? AND action = ? AND at >= ?",
                                (address, action, since)).fetchone()[0]

    def note_attempt(self, address: str, action: str) -> None:
        with self.connect() as conn:
            conn.execute("INSERT INTO public_attempts VALUES (?, ?, ?)", (address, action, time.time()))
