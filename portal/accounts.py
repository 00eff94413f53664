"""Staff accounts, passwords (argon2id), sessions and the login rate limit.

Roles, each allowed what the one before it may do: a clerk searches, reads and downloads; an archivist also
corrects text and metadata and works the review queue; an admin also manages accounts.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipeline.errors import UsageError

from .db import StaffDatabase

ROLES = ("clerk", "archivist", "admin")
MIN_PASSWORD_LENGTH = 10
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Checked against when a name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("retrodig: no such user")


class LoginRefused(Exception):
    """Wrong name or password (deliberately not saying which)."""


class LoginThrottled(Exception):
    """Too many failed logins for this address and name: wait."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many failed logins; try again in {retry_after} s")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    active: bool = True
    created: str = ""

    def may(self, role: str) -> bool:
        """At least `role`'s rights."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    token: str = ""  # the cookie value: only known right after login


class Accounts:
    def __init__(self, db: StaffDatabase, session_seconds: float = 12 * 3600, max_failures: int = 5,
                 window_seconds: float = 900):
        self.db = db
        self.session_seconds = session_seconds
        self.max_failures = max_failures
        self.window_seconds = window_seconds

    # --- users ------------------------------------------------------------------------------------
    def add_user(self, name: str, password: str, role: str) -> User:
        name = _valid_name(name)
        _check_role(role)
        _check_password(password)
        with self.db.connect() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise UsageError.said("a user named '%(name)s' exists already", name=name)
            conn.execute("INSERT INTO users VALUES (?, ?, ?, 1, ?)", (name, _hasher.hash(password), role, _now()))
        return User(name, role, True)

    def users(self) -> list[User]:
        with self.db.connect() as conn:
            rows = conn.execute("SELECT name, role, active, created FROM users ORDER BY name").fetchall()
        return [User(name, role, bool(active), created) for name, role, active, created in rows]

    def user(self, name: str) -> User:
        name = _as_stored(name)
        with self.db.connect() as conn:
            row = conn.execute("SELECT name, role, active, created FROM users WHERE name = ?", (name,)).fetchone()
        if not row:
            raise UsageError.said("no user named '%(name)s'", name=name)
        return User(row[0], row[1], bool(row[2]), row[3])

    def set_password(self, name: str, password: str) -> None:
        name = _as_stored(name)
        _check_password(password)
        self._update(name, "password_hash = ?", _hasher.hash(password))
        self.end_sessions(name)  # a new password logs out every browser that knew the old one
        with self.db.connect() as conn:  # the failures were against the old one: the user who forgot it may sign in
            conn.execute("DELETE FROM login_failures WHERE user_name = ?", (name,))

    def set_role(self, name: str, role: str) -> None:
        _check_role(role)
        self._update(name, "role = ?", role)

    def set_active(self, name: str, active: bool) -> None:
        name = _as_stored(name)
        self._update(name, "active = ?", int(active))
        if not active:
            self.end_sessions(name)

    def _update(self, name: str, assignment: str, value) -> None:
        name = _as_stored(name)
        with self.db.connect() as conn:  # an error below undoes the update
            admins = _active_admins(conn)
            if conn.execute(f"UPDATE users SET {assignment} WHERE name = ?", (value, name)).rowcount == 0:
                raise UsageError.said("no user named '%(name)s'", name=name)
            if admins and not _active_admins(conn):
                # The only admin could disable or demote themselves: no one could manage users in the portal.
                raise UsageError.said("'%(name)s' is the last active admin: make another user admin first", name=name)

    # --- logging in -------------------------------------------------------------------------------
    def log_in(self, name: str, password: str, address: str) -> Session:
        name = name.strip().lower()
        self._refuse_if_throttled(name, address)
        with self.db.connect() as conn:
            row = conn.execute("SELECT password_hash, role, active FROM users WHERE name = ?", (name,)).fetchone()
        if not _password_matches(row[0] if row else _DUMMY_HASH, password) or not row or not row[2]:
            self._note_failure(name, address)
            raise LoginRefused()
        if _hasher.check_needs_rehash(row[0]):
            self._update(name, "password_hash = ?", _hasher.hash(password))
        with self.db.connect() as conn:
            conn.execute("DELETE FROM login_failures WHERE address = ? AND user_name = ?", (address, name))
        return self._new_session(User(name, row[1]))

    def _refuse_if_throttled(self, name: str, address: str) -> None:
        since = time.time() - self.window_seconds
        with self.db.connect() as conn:
            conn.execute("DELETE FROM login_failures WHERE at < ?", (since,))
            times = [at for (at,) in conn.execute(
                "SELECT at FROM login_failures WHERE address = ? AND user_name = ? ORDER BY at",
                (address, name))]
        if len(times) >= self.max_failures:
            raise LoginThrottled(max(1, int(times[-self.max_failures] + self.window_seconds - time.time())))

    def _note_failure(self, name: str, address: str) -> None:
        with self.db.connect() as conn:
            conn.execute("INSERT INTO login_failures VALUES (?, ?, ?)", (address, name, time.time()))

    # --- sessions ---------------------------------------------------------------------------------
    def _new_session(self, user: User) -> Session:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = time.time()
        with self.db.connect() as conn:
            conn.execute("DELETE FROM sessions WHERE last_seen < ?", (now - self.session_seconds,))
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", (_digest(token), user.name, csrf, now, now))
        return Session(user, csrf, token)

    def session(self, token: str | None) -> Session | None:
        """The live session for a cookie value, or None; each use keeps it alive."""
        if not token or len(token) > 100:
            return None
        now = time.time()
        with self.db.connect() as conn:
            row = conn.execute(
                "SELECT u.name, u.role, u.active, s.csrf, s.last_seen FROM sessions s "
                "JOIN users u ON u.name = s.user_name WHERE s.token_hash = ?", (_digest(token),)).fetchone()
            if not row or not row[2] or row[4] < now - self.session_seconds:
                return None
            if now - row[4] > 60:  # write at most once a minute per session
                conn.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (now, _digest(token)))
        return Session(User(row[0], row[1]), row[3])

    def log_out(self, token: str | None) -> None:
        if token:
            with self.db.connect() as conn:
                conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_digest(token),))

    def end_sessions(self, name: str) -> None:
        with self.db.connect() as conn:
            conn.execute("DELETE FROM sessions WHERE user_name = ?", (name,))


def _password_matches(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _as_stored(name: str) -> str:
    """A user name as accounts are kept: `add` and signing in took "ANA" and " ana " for ana, `passwd`, `role`
    and `disable` said there was no such user."""
    return name.strip().lower()


def _valid_name(name: str) -> str:
    name = _as_stored(name)
    if not _NAME.match(name):
        raise UsageError.said("'%(name)s' is not a valid user name (2-40 of a-z, 0-9, '.', '_', '-')", name=name)
    return name


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UsageError.said("'%(role)s' is not a role (roles: %(roles)s)", role=role, roles=", ".join(ROLES))


def _check_password(password: str) -> None:
    if len(password.strip()) < MIN_PASSWORD_LENGTH:  # twelve spaces are no password
        raise UsageError.said("a password needs at least %(count)s characters, not counting spaces at its ends",
                              count=MIN_PASSWORD_LENGTH)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _active_admins(conn) -> int:
    return conn.execute("SELECT count(*) FROM users WHERE role = 'admin' AND active = 1").fetchone()[0]

