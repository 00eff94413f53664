"""The citizens' side of requests: service cards, filing a request, following it, answering the archive,
rating the service, downloading the copy and verifying one. The staff side is casework.py; both share the
Context (what one archive's requests need)."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from pipeline.archive import Archive
from pipeline.errors import DocumentNotFoundError
from pipeline.options import Options

from ..db import StaffDatabase
from ..labels import N_
from ..i18n import LANGUAGES, Formats
from . import codes, deliveries, notices
from .cards import (RELATIONS, FormErrors, ServiceCard, clean_email, clean_fields, clean_phone, clean_text,
                    load_cards)
from .mail import Outbox
from .settings import Policy, RequestSettings, load_policy
from .store import IssuedLink, Request, RequestStore, digest
from .uploads import UploadRefused, store_upload
from .workflow import ActionRefused, Gone, Throttled

HOUR = 3600.0


@dataclass(frozen=True)
class Upload:
    """A file from the form: the slot it was attached to and its content (the citizen's file name is ignored)."""

    slot: str
    content: BinaryIO


class Context:
    """What both sides of the requests work with, for one archive."""

    def __init__(self, options: Options, db: StaffDatabase, settings: RequestSettings):
        self.options = options
        self.archive = Archive(options.archive)
        self.settings = settings
        self.store = RequestStore(db)
        self.outbox = Outbox(self.store, settings.smtp)
        self.key = codes.portal_key(self.archive.root / "portal")
        self.folder = self.archive.root / "requests"

    @property
    def cards(self) -> dict[str, ServiceCard]:
        return load_cards(self.options.configs_dir)

    @property
    def policy(self) -> Policy:
        return load_policy(self.options.configs_dir)

    def card(self, card_id: str) -> ServiceCard:
        card = self.cards.get(card_id)
        if card is None:
            raise DocumentNotFoundError(f"no service '{card_id}'")
        return card

    def currency(self) -> str:
        return self.policy.countries[self.settings.country].currency

    def deadline_days(self, card: ServiceCard) -> int:
        return card.deadline_days or self.policy.countries[self.settings.country].deadline_days

    def request_folder(self, request_id: int) -> Path:
        return self.folder / str(int(request_id))

    def tracking_url(self, request_id: int, base_url: str) -> str:
        with self.store.connect() as conn:
            (nonce,) = conn.execute("SELECT tracking_nonce FROM requests WHERE id = ?", (request_id,)).fetchone()
        return f"{self.public_url(base_url)}/track/{codes.tracking_code(self.key, nonce)}"

    def public_url(self, base_url: str) -> str:
        return (self.settings.public_url or base_url).rstrip("/")

    def notify(self, request_id: int, base_url: str, message: str | None = None,
               links: list[tuple[str, IssuedLink]] = ()) -> None:
        """Queue (and send) the e-mail for the request's current status."""
        request = self.store.get(request_id, full=False)
        card = self.card(request.service)
        fmt = Formats(request.language)
        values = notices.format_values(request, card.title(request.language), fmt.money(card.fee, self.currency()),
                                       self.settings.download_limit, self.settings.payment_text(request.language))
        subject, body = notices.compose(request.status, request.language, values, message,
                                        [(url, fmt.datetime(link.expires, zone=True)) for url, link in links],
                                        self.tracking_url(request_id, base_url))
        self.outbox.queue(request_id, request.email, subject, body, request.language)

    def limit(self, address: str, action: str, allowed: int) -> None:
        if self.store.attempts(address, action, HOUR) >= allowed:
            raise Throttled(int(HOUR))


class RequestDesk:
    def __init__(self, context: Context):
        self.context = context
        self.store = context.store

    def cards(self) -> list[ServiceCard]:
        return list(self.context.cards.values())

    def card(self, card_id: str) -> ServiceCard:
        return self.context.card(card_id)

    # --- filing a request ---------------------------------------------------------------------------------
    def submit(self, card_id: str, form: dict[str, str], uploads: list[Upload], language: str, address: str,
               base_url: str) -> tuple[Request, str]:
        """File a request; returns it with its tracking code. Raises FormErrors naming each refused field."""
        context, card = self.context, self.card(card_id)
        context.limit(address, "submit", context.settings.submissions_per_hour)
        errors: dict[str, str] = {}
        applicant = _text(form.get("applicant", ""), 120, "applicant", errors)
        email = clean_email(form.get("email", ""))
        if email is None:
            errors["email"] = N_("Give an e-mail address such as name@example.com.")
        phone = form.get("phone", "").strip()
        if phone and clean_phone(phone) is None:
            errors["phone"] = N_("Give a phone number such as +40 722 123 456.")
        relation = form.get("relation", "")
        if relation not in RELATIONS:
            errors["relation"] = N_("Choose one of the options.")
        delivery = form.get("delivery") or card.delivery[0]
        if delivery not in card.delivery:
            errors["delivery"] = N_("Choose one of the options.")
        if form.get("consent") != "yes":
            errors["consent"] = N_("Your consent is needed to handle the request.")
        fields = clean_fields(card, form, errors)
        self._check_uploads(card, uploads, errors)
        if errors:
            raise FormErrors(errors)
        incoming = context.folder / f".incoming-{codes.new_nonce()}"
        try:
            stored = self._store_uploads(uploads, incoming)
            request_id, code = self._insert(card, applicant, email, phone or None, relation, delivery, fields,
                                            language, stored)
            if stored:
                incoming.rename(context.request_folder(request_id))
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
        context.store.note_attempt(address, "submit")
        context.notify(request_id, base_url)
        return self.store.get(request_id), code

    def _check_uploads(self, card: ServiceCard, uploads: list[Upload], errors: dict[str, str]) -> None:
        slots = {spec.name for spec in card.attachments}
        if any(upload.slot not in slots for upload in uploads):
            errors["attachments"] = N_("Attach files only where the form asks for them.")
        if len(uploads) > self.context.settings.attachments_max:
            errors["attachments"] = N_("Too many files.")
        for spec in card.attachments:
            given = sum(1 for upload in uploads if upload.slot == spec.name)
            if spec.required and not given:
                errors[f"file_{spec.name}"] = N_("This document is required.")
            elif given > 1:  # the form's field takes one file: more came only from a request made by hand
                errors[f"file_{spec.name}"] = N_("Attach one file here.")

    def _store_uploads(self, uploads: list[Upload], folder: Path) -> list[tuple[str, object]]:
        limit = int(self.context.settings.attachment_mb * 1024 * 1024)
        stored = []
        for n, upload in enumerate(uploads, start=1):
            try:
                stored.append((upload.slot, store_upload(upload.content, folder, f"{n:02d}-{upload.slot}", limit)))
            except UploadRefused as refused:
                raise FormErrors({f"file_{upload.slot}": _UPLOAD_MESSAGES[refused.reason]}) from None
        return stored

    def _insert(self, card, applicant, email, phone, relation, delivery, fields, language, stored):
        now = time.time()
        nonce = codes.new_nonce()
        code = codes.tracking_code(self.context.key, nonce)
        deadline = now + timedelta(days=self.context.deadline_days(card)).total_seconds()
        values = {"tracking_hash": digest(code), "tracking_nonce": nonce, "service": card.id,
                  "language": language if language in LANGUAGES else "en", "applicant": applicant, "email": email,
                  "phone": phone, "relation": relation, "delivery": delivery,
                  "fields": json.dumps(fields, ensure_ascii=False), "status": "received", "submitted": now,
                  "deadline": deadline}
        with self.store.connect() as conn:
            request_id = self.store.insert(conn, values)
            self.store.add_event(conn, request_id, "received", "citizen", "status")
            conn.executemany("INSERT INTO request_attachments VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [(request_id, n, slot, f.stored, f.media_type, f.size, f.sha256)
                              for n, (slot, f) in enumerate(stored, start=1)])
        return request_id, code

    # --- following it -------------------------------------------------------------------------------------
    def track(self, code: str, address: str) -> Request:
        """The request a tracking code belongs to. Wrong codes are counted per address and then refused."""
        context = self.context
        context.limit(address, "track", context.settings.tracking_failures_per_hour)
        request = self.store.by_tracking(code)
        if request is None:
            context.store.note_attempt(address, "track")
            raise DocumentNotFoundError("no request with this tracking code")
        return request

    def answer(self, code: str, address: str, text: str) -> Request:
        """The citizen's answer to a question from the archive: the request goes back to where it was. ActionRefused
        when no question waits for it (a clerk moved the request on meanwhile) or it says nothing: the page said
        "sent" and the text went nowhere."""
        request = self.track(code, address)
        text = clean_text(text, multiline=True)[:4000]
        if request.status != "needs_info":
            raise ActionRefused(N_("The archive no longer waits for an answer to this question (the request has "
                                   "moved on): your text was not sent. Call or write to the archive if it is "
                                   "still needed."))
        if not text:
            raise ActionRefused(N_("The answer is empty: write it, then send it."))
        with self.store.connect() as conn:
            self.store.add_event(conn, request.id, _status_before_question(request), "citizen", "answer", text)
        return self.store.get(request.id)

    def rate(self, code: str, address: str, score: int, comment: str) -> bool:
        """The satisfaction answer, once per delivered request; False when it is not (or no longer) asked."""
        request = self.track(code, address)
        if request.status != "delivered" or request.feedback is not None or not 1 <= score <= 5:
            return False
        with self.store.connect() as conn:
            conn.execute("INSERT OR IGNORE INTO request_feedback VALUES (?, ?, ?, ?)",
                         (request.id, score, comment.strip()[:1000] or None, time.time()))
        return True

    # --- the copy -----------------------------------------------------------------------------------------
    def download(self, token: str, counted: bool = True) -> tuple[Path, str]:
        """The file behind a download link and the name to save it as; Gone when expired or used up. The
        download counts against the link's when `counted`."""
        link = self.store.link_by_token(token)
        if link is None:
            raise DocumentNotFoundError("no such download link")
        request = self.store.get(link.request_id, full=False)
        usable = self.store.count_download(link.id) if counted else self.store.can_download(link.id)
        if request.status != "delivered" or not usable:
            raise Gone()
        path = self.context.archive.root / link.path
        return path, f"{request.number}-{link.document}.pdf"

    def verify(self, copy_id_or_sha256: str):
        key = copy_id_or_sha256.strip().lower()
        if not (len(key) == 16 or len(key) == 64) or any(c not in "0123456789abcdef" for c in key):
            return None
        return deliveries.verify(self.context.options, key)


def _status_before_question(request: Request) -> str:
    statuses = [event.status for event in request.events if event.kind == "status"]
    asked = len(statuses) - 1 - statuses[::-1].index("needs_info")
    earlier = [status for status in statuses[:asked] if status != "needs_info"]
    return earlier[-1] if earlier and earlier[-1] != "received" else "searching"


def _text(value: str, limit: int, name: str, errors: dict[str, str]) -> str:
    value = clean_text(value)
    if not value:
        errors[name] = N_("This field is required.")
    elif len(value) > limit:
        errors[name] = N_("This is too long.")
    return value


_UPLOAD_MESSAGES = {
    "too-large": N_("The file is too large."),
    "type": N_("Only PDF, JPEG and PNG files are accepted."),
    "damaged": N_("The file is damaged or cannot be opened."),
}
