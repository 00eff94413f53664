"""E-mail to citizens: every message goes into the outbox table first, then is sent over SMTP at once; what
could not be sent (no server configured, server down) stays queued with its error and is tried again with
the next message, and the clerk sees it on the request's page. A sent message keeps its subject and time;
its body, which holds the tracking and download links, is blanked."""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from pipeline.options import resolve_secret

from ..labels import N_
from .cards import ascii_domain
from .settings import SmtpSettings
from .store import RequestStore

NO_SERVER = N_("no SMTP server is configured (smtp: in retrodig.yaml)")  # kept as the reason, shown translated

log = logging.getLogger(__name__)
BATCH = 20
# What the server says of one message (its recipient, its size, an address it cannot carry without SMTPUTF8),
# as against what ends the connection (server down, login refused, disconnected): those stop the batch.
_ONE_MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPNotSupportedError,
                       UnicodeError)
REFUSED_ALONE = "refused by the mail server: "  # how the error of a message refused alone begins


def _refusal(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reason = next(iter(exc.recipients.values()))
        return f"{REFUSED_ALONE}the address ({code} {reason.decode(errors='replace')})"
    return f"{REFUSED_ALONE}{type(exc).__name__}: {exc}"


class Outbox:
    def __init__(self, store: RequestStore, smtp: SmtpSettings | None):
        self.store = store
        self.smtp = smtp
        # The portal sends after a page's answer has gone out (`send_queued`): sent within the page's request,
        # a mail server that took connections and never answered held each citizen's and clerk's page 20 s.
        self.deferred = False
        self._queued = threading.Event()
        self._sending = threading.Lock()  # one flush at a time: two at once could both send a message

    def queue(self, request_id: int | None, recipient: str, subject: str, body: str, language: str) -> None:
        with self.store.connect() as conn:
            conn.execute("INSERT INTO outbox (request_id, recipient, subject, body, language, queued) "
                         "VALUES (?, ?, ?, ?, ?, ?)", (request_id, recipient, subject, body, language, time.time()))
        if self.deferred:
            self._queued.set()
        else:
            self.flush()

    @property
    def waiting(self) -> bool:
        """Whether a message was queued since `send_queued` last ran."""
        return self._queued.is_set()

    def send_queued(self) -> None:
        """Send what was queued since the last call (the portal calls it after an answer that queued mail)."""
        if self._queued.is_set():
            self._queued.clear()
            self.flush()

    def flush(self) -> int:
        """Send what is queued, in the order it was queued; the number sent. A message the server refused alone
        (its address, say) fails alone, and waits with its error behind the others, to be tried again: it was
        first in every batch, its refusal failed the whole batch, and no message after it went out."""
        with self._sending:
            return self._send_batch()

    def _send_batch(self) -> int:
        with self.store.connect() as conn:
            pending = conn.execute("SELECT id, recipient, subject, body, language FROM outbox WHERE sent IS NULL "
                                   "ORDER BY coalesce(error, '') LIKE ?, id LIMIT ?",
                                   (REFUSED_ALONE + "%", BATCH)).fetchall()
        if not pending:
            return 0
        if self.smtp is None:
            self._failed([row[0] for row in pending], NO_SERVER)
            return 0
        sent = 0
        try:
            with self._connection() as server:
                for message_id, recipient, subject, body, language in pending:
                    try:
                        server.send_message(self._message(recipient, subject, body, language))
                    except _ONE_MESSAGE_ERRORS as exc:  # this message only: the connection serves the next
                        log.warning("e-mail %s of the outbox refused: %s", message_id, exc)
                        self._failed([message_id], _refusal(exc))
                        continue
                    with self.store.connect() as conn:
                        conn.execute("UPDATE outbox SET sent = ?, error = NULL, body = '' WHERE id = ?",
                                     (time.time(), message_id))
                    sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("e-mail not sent: %s", exc)
            self._failed([row[0] for row in pending], f"{type(exc).__name__}: {exc}")
        return sent

    def unsent(self, request_id: int) -> list[tuple[str, str | None]]:
        """(subject, error) of the messages for one request still waiting to go out."""
        with self.store.connect() as conn:
            return conn.execute("SELECT subject, error FROM outbox WHERE request_id = ? AND sent IS NULL ORDER BY id",
                                (request_id,)).fetchall()

    def _failed(self, ids: list[int], error: str) -> None:  # the sent ones are left alone (sent IS NULL)
        with self.store.connect() as conn:
            conn.executemany("UPDATE outbox SET error = ? WHERE id = ? AND sent IS NULL", [(error, i) for i in ids])

    def _connection(self) -> smtplib.SMTP:
        smtp = self.smtp
        if smtp.security == "tls":
            server = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
            if smtp.security == "starttls":
                server.starttls(context=ssl.create_default_context())
        if smtp.username:
            server.login(resolve_secret(smtp.username), resolve_secret(smtp.password) or "")
        return server

    def _message(self, recipient: str, subject: str, text: str, language: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = ascii_domain(recipient) or recipient  # primăria.ro as xn--primria-d2a.ro: no SMTPUTF8
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=self.smtp.sender.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to the archive, please
        message.set_content(text)
        message["Content-Language"] = language  # after set_content, which clears Content-* headers
        return message
