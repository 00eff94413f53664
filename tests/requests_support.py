"""Helpers for the citizens' requests tests: a real SMTP server (aiosmtpd) that keeps what it receives, a portal
whose notifications go to it, and a citizen filing a request as a browser does."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import sqlite3
import time
from pathlib import Path

from aiosmtpd.controller import Controller

from pipeline.options import Options
from portal.citizens.settings import RequestSettings, SmtpSettings

from .portal_support import add_staff, csrf_of

SENDER = "arhiva@primaria.example"


class Inbox:
    """An aiosmtpd handler: every message the portal sends, parsed as a mail program would."""

    def __init__(self, port: int):
        self.port = port
        self.messages: list[email.message.EmailMessage] = []
        self.refused: set[str] = set()  # addresses answered "550 no such mailbox", as a real server would

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, count: int, seconds: float = 10.0) -> list:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_smtp(port: int | None = None) -> tuple[Controller, Inbox]:
    inbox = Inbox(port or free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    return controller, inbox


def request_settings(smtp_port: int | None, **values) -> RequestSettings:
    smtp = SmtpSettings(host="127.0.0.1", port=smtp_port, security="none", sender=SENDER) if smtp_port else None
    return RequestSettings(smtp=smtp, **values)


def portal_options(archive: Path, verify_url: str = "http://testserver/verify") -> Options:
    return Options(archive=archive, copies={"verify_url": verify_url})


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def link_in(message, path: str) -> str:
    """The first link to `path` (e.g. /download/) in a message."""
    match = re.search(rf"https?://\S+{re.escape(path)}[A-Za-z0-9_-]+", body(message))
    assert match, f"no {path} link in: {body(message)}"
    return match.group(0)


def identity_jpeg() -> bytes:
    """A real JPEG (Pillow's encoder) standing for the photo of an identity card."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 400), (214, 226, 240))
    ImageDraw.Draw(image).text((40, 40), "DOWOD OSOBISTY / ANNA NOWAK", fill=(20, 20, 60))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


PERMIT_FORM = {"applicant": "Anna Nowak", "email": "anna.nowak@example.pl", "relation": "self",
               "address": "ul. Mickiewicza 5, Przemyśl", "owner": "Jan Kowalski", "year": "1978",
               "delivery": "electronic", "consent": "yes"}


def file_request(client, card: str = "building-permit-copy", form: dict | None = None, files: dict | None = None,
                 language: str | None = None, headers: dict | None = None):
    """Open the card's form, fill it in and send it; returns the response."""
    headers = {**({"Accept-Language": language} if language else {}), **(headers or {})}
    page = client.get(f"/services/{card}", headers=headers)
    data = {"csrf_token": csrf_of(page.text), **(PERMIT_FORM if form is None else form)}
    if files is None:
        files = {"file_identity": ("dowod.jpg", identity_jpeg(), "image/jpeg")}
    return client.post(f"/services/{card}", data=data, files=files, headers=headers)


def tracking_code(response) -> str:
    assert response.status_code == 303, response.text[-2000:]
    return response.headers["location"].split("/track/")[1].split("?")[0]


def rows_in_portal_db(archive: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(archive / "portal" / "portal.sqlite") as conn:
        return conn.execute(sql).fetchall()


def set_in_portal_db(archive: Path, sql: str, params: tuple = ()) -> None:
    """Move a stored moment (a link's expiry, a request's deadline) into the past: time passing, which a
    test cannot wait for."""
    with sqlite3.connect(archive / "portal" / "portal.sqlite") as conn:
        conn.execute(sql, params)


__all__ = ["add_staff"]
