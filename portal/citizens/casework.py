"""The clerks' side of citizens' requests: the queue, assignment, status changes with a message to the
citizen, linking the records found, reviewing the redaction boxes, and delivering the certified copy."""

from __future__ import annotations

import time
from datetime import timedelta

from pipeline.archive import Archive
from pipeline.corrections import changed_since, current_record, page_hocr_path
from pipeline.errors import DocumentNotFoundError
from pipeline.hocr import page_size

from . import codes, deliveries
from .desk import Context
from .embargo import Embargo, embargo_on
from .store import Box, Request, digest
from .workflow import DELIVERABLE, FINAL, NEEDS_MESSAGE, NEXT, ActionRefused


class Casework:
    def __init__(self, context: Context):
        self.context = context
        self.store = context.store

    def request(self, request_id: int) -> Request:
        request = self.store.get(request_id)
        if request is None:
            raise DocumentNotFoundError(f"no request {request_id}")
        return request

    def queue(self, status: str | None = None, service: str | None = None, assigned: str | None = None,
              overdue: bool = False, limit: int = 50, offset: int = 0) -> tuple[int, list[Request]]:
        return self.store.queue(status, service, assigned, overdue, limit, offset)

    def unsent_mail(self, request_id: int) -> list[tuple[str, str | None]]:
        return self.context.outbox.unsent(request_id)

    # --- moving a request along ---------------------------------------------------------------------------
    def assign(self, user: str, request_id: int, clerk: str | None) -> None:
        request = self._open(request_id)
        with self.store.connect() as conn:
            conn.execute("UPDATE requests SET assigned = ? WHERE id = ?", (clerk or None, request.id))
            self.store.add_event(conn, request.id, request.status, user, "note",
                                 f"assigned to {clerk}" if clerk else "unassigned")

    def move(self, user: str, request_id: int, status: str, message: str, base_url: str) -> None:
        request = self._open(request_id)
        message = message.replace("\r\n", "\n").strip()[:4000]
        if status not in NEXT.get(request.status, ()):
            raise ActionRefused("This request cannot go from “%(current)s” to “%(wanted)s”.",
                                current=request.status, wanted=status)
        if status in NEEDS_MESSAGE and not message:
            raise ActionRefused("Write the reason or the question for the citizen.")
        if status == "found" and not request.records:
            raise ActionRefused("Link at least one record first.")
        if status == "awaiting_payment" and not self.context.card(request.service).fee:
            raise ActionRefused("This service has no fee.")
        if status == "awaiting_payment" and self.embargoes(request):  # the citizen paid for what could not come
            raise ActionRefused("An embargo holds a record back: the fee is asked once the copy can be delivered.")
        with self.store.connect() as conn:
            if status == "paid":
                conn.execute("UPDATE requests SET paid = 1 WHERE id = ?", (request.id,))
            self.store.add_event(conn, request.id, status, user, "status", message or None, closed=status in FINAL)
        self.context.notify(request.id, base_url, message or None)

    def note(self, user: str, request_id: int, text: str) -> None:
        """An internal note: staff see it, the citizen does not."""
        request = self.request(request_id)
        text = text.replace("\r\n", "\n").strip()[:4000]
        if text:
            with self.store.connect() as conn:
                self.store.add_event(conn, request.id, request.status, user, "note", text)

    # --- records found --------------------------------------------------------------------------------
    def suggested_search(self, request: Request) -> tuple[str, str]:
        """Search words from the fields the card marks for searching, and the card's document type."""
        card = self.context.card(request.service)
        words = [request.fields[f.name] for f in card.fields if f.search and request.fields.get(f.name)]
        return " ".join(words)[:500], card.doc_type

    def link(self, user: str, request_id: int, doc_id: str) -> None:
        """Link a record to the request; its redaction proposals become the first boxes to review."""
        request = self._open(request_id)
        record = self._record(doc_id)
        if any(r.document == record["id"] for r in request.records):
            return
        proposed = deliveries.proposals(self.context.options, record["id"])
        with self.store.connect() as conn:
            conn.execute("INSERT INTO request_records (request_id, document, linked_by, at) VALUES (?, ?, ?, ?)",
                         (request.id, record["id"], user, time.time()))
            self._add_proposals(conn, request.id, record["id"], proposed)
            self.store.add_event(conn, request.id, request.status, user, "note", f"record {record['id']} linked")

    def propose_again_if_changed(self, user: str, request_id: int, doc_id: str) -> bool:
        """Whether the record's text was corrected (a line, a page read again, a new ingest) since its boxes were
        proposed so that its proposals changed; if so, the proposals that changed are replaced by the new ones
        (the others and the clerk's own boxes stay as the clerk left them) and its redactions wait for a new
        confirmation. They were taken once, when the
        record was linked: an e-mail address corrected afterwards went out in the copy, image and text."""
        request = self.request(request_id)
        linked = next((r for r in request.records if r.document == doc_id), None)
        if linked is None or request.closed is not None or not changed_since(
                self.context.archive, doc_id, linked.at.timestamp()):
            return False
        fresh = deliveries.proposals(self.context.options, doc_id)
        proposed = [b for b in self.boxes(request_id, doc_id) if b.kind != "manual"]
        if sorted((b.page, b.kind, b.words) for b in proposed) == sorted((p.page, p.kind, p.words) for p in fresh):
            return False
        # A proposal the correction left as it was keeps what the clerk did with it (moved, enlarged, unticked):
        # all were replaced, and a box widened over a second name shrank back to the first one unnoticed.
        new, gone = list(fresh), []
        for box in proposed:
            same = next((p for p in new if (p.page, p.kind, p.words) == (box.page, box.kind, box.words)), None)
            if same is None:
                gone.append(box.id)
            else:
                new.remove(same)
        with self.store.connect() as conn:
            conn.executemany("DELETE FROM redaction_boxes WHERE id = ?", [(box_id,) for box_id in gone])
            self._add_proposals(conn, request_id, doc_id, new)
            self._unconfirm(conn, request_id, doc_id)
            self.store.add_event(conn, request_id, request.status, user, "note",
                                 f"text of {doc_id} changed: redactions proposed again")
        return True

    @staticmethod
    def _add_proposals(conn, request_id: int, doc_id: str, proposed: list) -> None:
        conn.executemany(
            "INSERT INTO redaction_boxes (request_id, document, page, left, top, right, bottom, kind, words, "
            "reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(request_id, doc_id, p.page, *p.box, p.kind, p.words, p.reason) for p in proposed])

    def unlink(self, user: str, request_id: int, doc_id: str) -> None:
        request = self._open(request_id)
        with self.store.connect() as conn:
            conn.execute("DELETE FROM redaction_boxes WHERE request_id = ? AND document = ?", (request.id, doc_id))
            if conn.execute("DELETE FROM request_records WHERE request_id = ? AND document = ?",
                            (request.id, doc_id)).rowcount:
                self.store.add_event(conn, request.id, request.status, user, "note", f"record {doc_id} unlinked")

    def embargoes(self, request: Request) -> list[Embargo]:
        requested = self.context.card(request.service).doc_type
        held = (embargo_on(self.context.policy, self._record(r.document), request.relation, requested_type=requested)
                for r in request.records)
        return [e for e in held if e is not None]

    # --- redaction ----------------------------------------------------------------------------------------
    def boxes(self, request_id: int, doc_id: str, page: int | None = None) -> list[Box]:
        where, params = "request_id = ? AND document = ?", [request_id, doc_id]
        if page is not None:
            where += " AND page = ?"
            params.append(page)
        with self.store.connect() as conn:
            rows = conn.execute("SELECT id, document, page, left, top, right, bottom, kind, words, reason, keep "
                                f"FROM redaction_boxes WHERE {where} ORDER BY page, top, left", params).fetchall()
        return [Box(*row[:10], bool(row[10])) for row in rows]

    def page_size(self, doc_id: str, page: int) -> tuple[int, int]:
        hocr = page_hocr_path(self.context.archive, doc_id, page)
        if not hocr.is_file():
            raise DocumentNotFoundError(f"document {doc_id} has no page {page}")
        return page_size(hocr)

    def save_boxes(self, user: str, request_id: int, doc_id: str, page: int, shown: set[int],
                   kept: set[int], moved: dict[int, tuple[int, int, int, int]]) -> None:
        """Of the boxes the form showed (`shown`), keep those in `kept` (the others are not burned in); `moved`
        gives new (x, y, width, height) to some of them. A box the form did not show (proposed again since it
        was opened) stays as proposed: a form opened before unticked it."""
        self._linked(request_id, doc_id)
        width, height = self.page_size(doc_id, page)
        boxes = {b.id: b for b in self.boxes(request_id, doc_id, page) if b.id in shown}
        # Only a box moved is checked: one proposed partly off the page (OCR's boxes are not always inside it)
        # left the whole form refused, so that no box of the page could be unticked.
        changes = [(_inside(box, width, height), id_) for id_, box in moved.items() if id_ in boxes and box != (
            boxes[id_].left, boxes[id_].top, boxes[id_].right - boxes[id_].left, boxes[id_].bottom - boxes[id_].top)]
        ticks = [id_ for id_, box in boxes.items() if box.keep != (id_ in kept)]
        with self.store.connect() as conn:
            for id_ in boxes:
                conn.execute("UPDATE redaction_boxes SET keep = ? WHERE id = ?", (int(id_ in kept), id_))
            for (left, top, right, bottom), id_ in changes:
                conn.execute("UPDATE redaction_boxes SET left = ?, top = ?, right = ?, bottom = ? "
                             "WHERE id = ? AND request_id = ? AND document = ? AND page = ?",
                             (left, top, right, bottom, id_, request_id, doc_id, page))
            if ticks or changes:  # who blacked out what, for the request's history (it said nothing of boxes)
                self._note(conn, request_id, user, f"redactions of {doc_id} page {page} changed: "
                           f"{sum(id_ in kept for id_ in boxes)} of {len(boxes)} boxes kept ({len(ticks)} ticked "
                           f"or unticked), {len(changes)} moved")
                self._unconfirm(conn, request_id, doc_id)  # only a change asks for a new confirmation: turning
                # the page sends the form too (see redaction.html)

    def add_box(self, user: str, request_id: int, doc_id: str, page: int, x: int, y: int, w: int, h: int) -> None:
        self._linked(request_id, doc_id)
        width, height = self.page_size(doc_id, page)
        left, top, right, bottom = _inside((x, y, w, h), width, height)
        with self.store.connect() as conn:
            conn.execute("INSERT INTO redaction_boxes (request_id, document, page, left, top, right, bottom, kind) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, 'manual')", (request_id, doc_id, page, left, top, right, bottom))
            self._note(conn, request_id, user, f"redaction box drawn on {doc_id} page {page} "
                                               f"({left}, {top}, {right}, {bottom})")
            self._unconfirm(conn, request_id, doc_id)

    def _note(self, conn, request_id: int, user: str, text: str) -> None:
        status = conn.execute("SELECT status FROM requests WHERE id = ?", (request_id,)).fetchone()[0]
        self.store.add_event(conn, request_id, status, user, "note", text)

    def confirm(self, user: str, request_id: int, doc_id: str) -> None:
        self._linked(request_id, doc_id)
        if self.propose_again_if_changed(user, request_id, doc_id):
            raise ActionRefused("The record's text was corrected since its boxes were shown: they were proposed "
                                "again. Review them, then confirm.")
        with self.store.connect() as conn:
            conn.execute("UPDATE request_records SET confirmed_by = ? WHERE request_id = ? AND document = ?",
                         (user, request_id, doc_id))
            status = conn.execute("SELECT status FROM requests WHERE id = ?", (request_id,)).fetchone()[0]
            self.store.add_event(conn, request_id, status, user, "note", f"redactions of {doc_id} confirmed")

    def _unconfirm(self, conn, request_id: int, doc_id: str) -> None:
        conn.execute("UPDATE request_records SET confirmed_by = NULL WHERE request_id = ? AND document = ?",
                     (request_id, doc_id))

    # --- delivering -----------------------------------------------------------------------------------------
    def deliver(self, user: str, request_id: int, base_url: str) -> None:
        """Make the redacted, certified copy of every linked record; by e-mail: send the download links
        (delivered), at the counter: tell the citizen it is ready (ready)."""
        request = self._open(request_id)
        card = self.context.card(request.service)
        if any([self.propose_again_if_changed(user, request.id, r.document) for r in request.records]):
            request = self._open(request_id)  # those records wait for a new confirmation: refused below
        self._check_deliverable(request, card)
        # Claimed before the copies are made: two clerks' Deliver at once made two certified copies into one
        # file (the first, still registered, lost its file) and two e-mails. The second is refused as a late one.
        if not self.store.change_status(request.id, request.status, "ready"):
            raise ActionRefused("This request cannot go from “%(current)s” to “%(wanted)s”.",
                                current=self.request(request_id).status, wanted="ready")
        try:
            made = []
            for record in request.records:
                boxes = [(b.page, (b.left, b.top, b.right, b.bottom))
                         for b in self.boxes(request.id, record.document) if b.keep]
                out = self.context.request_folder(request.id) / "copies" / f"{record.document}.pdf"
                copy = deliveries.certified_copy(self.context.options, record.document, boxes, out, request.language,
                                                 request.number, request.submitted.astimezone().date())
                made.append((record.document, copy.copy_id, copy.sha256,
                             str(copy.path.relative_to(self.context.archive.root))))
            links = self._issue_links(request, made, base_url)
        except BaseException:
            self.store.change_status(request.id, "ready", request.status)  # as it was: the clerk may try again
            raise
        with self.store.connect() as conn:
            self.store.add_event(conn, request.id, "ready", user, "status")
            if request.delivery == "electronic":
                self.store.add_event(conn, request.id, "delivered", user, "status", closed=True)
        self.context.notify(request.id, base_url, links=links if request.delivery == "electronic" else [])

    def reissue_links(self, user: str, request_id: int, base_url: str) -> None:
        """A new download link for each copy of a request delivered by e-mail, mailed to the citizen; the links
        before it stop working. For a link that expired or was used up (a lost file, a second device): the 410
        page said to ask the archive for a new one, and nothing could issue it."""
        request = self.request(request_id)
        if request.status != "delivered" or request.delivery != "electronic" or not request.copies:
            raise ActionRefused("Only a copy delivered by e-mail gets a new download link.")
        with self.store.connect() as conn:
            conn.execute("UPDATE issued_copies SET expires = MIN(expires, ?) WHERE request_id = ?",
                         (time.time(), request.id))
            self.store.add_event(conn, request.id, request.status, user, "note", "download links issued again")
        current = [(link.document, link.copy_id, link.sha256, link.path) for link in request.current_copies]
        self.context.notify(request.id, base_url, links=self._issue_links(request, current, base_url))

    def hand_over(self, user: str, request_id: int, base_url: str) -> None:
        """The citizen collected the copy at the counter."""
        self.move(user, request_id, "delivered", "", base_url)

    def _check_deliverable(self, request: Request, card) -> None:
        if request.status not in DELIVERABLE:
            raise ActionRefused("This request cannot go from “%(current)s” to “%(wanted)s”.",
                                current=request.status, wanted="ready")
        held = self.embargoes(request)  # first: no fee is asked while an embargo holds (see move)
        if held:
            raise ActionRefused("Delivery refused: %(reason)s", reason=", ".join(
                f"{e.document} ({e.doc_type}, {e.record_year or '?'}: {e.years} years)" for e in held), embargo=held)
        if card.fee and not request.paid:
            raise ActionRefused("The fee has not been paid yet.")
        if not request.records:
            raise ActionRefused("Link at least one record first.")
        if any(r.confirmed_by is None for r in request.records):
            raise ActionRefused("Confirm the redactions of every linked record first.")

    def _issue_links(self, request: Request, copies: list[tuple[str, str, str, str]], base_url: str) -> list:
        """A download link for each of `copies` (document, copy id, SHA-256, path in the archive): its url and
        its IssuedLink."""
        settings = self.context.settings
        now = time.time()
        expires = now + timedelta(days=settings.download_days).total_seconds()
        issued = []
        with self.store.connect() as conn:
            for document, copy_id, sha256, path in copies:
                token = codes.download_token()
                cursor = conn.execute(
                    "INSERT INTO issued_copies (request_id, document, copy_id, sha256, path, token_hash, issued, "
                    "expires, max_downloads) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (request.id, document, copy_id, sha256, path, digest(token), now, expires,
                     settings.download_limit))
                issued.append((token, cursor.lastrowid))
        links = {link.id: link for link in self.store.get(request.id).copies}
        url = self.context.public_url(base_url)
        return [(f"{url}/download/{token}", links[link_id]) for token, link_id in issued]

    # --- helpers --------------------------------------------------------------------------------------------
    def _open(self, request_id: int) -> Request:
        request = self.request(request_id)
        if request.closed is not None:
            raise ActionRefused("This request is closed.")
        return request

    def _linked(self, request_id: int, doc_id: str) -> None:
        request = self._open(request_id)
        if not any(r.document == doc_id for r in request.records):
            raise DocumentNotFoundError(f"record {doc_id} is not linked to request {request_id}")

    def _record(self, doc_id: str) -> dict:
        archive: Archive = self.context.archive
        if len(doc_id) != 16 or any(c not in "0123456789abcdef" for c in doc_id):
            raise DocumentNotFoundError(f"no document '{doc_id}'")
        return current_record(archive, archive.load_document(doc_id))


def _inside(box: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) -> (left, top, right, bottom), refused unless it lies on the page and is not empty."""
    x, y, w, h = box
    if w < 1 or h < 1 or x < 0 or y < 0 or x + w > width or y + h > height:
        raise ActionRefused("The box must lie inside the page.")
    return x, y, x + w, y + h
