"""Citizens' requests, the citizen's side, in-process on a real archive with a real SMTP server (aiosmtpd):
service cards, the request form and its validation, attachments recognised by content, tracking codes that
cannot be guessed, rate limits, and e-mail in the request's language."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
import zlib
from urllib.parse import urlencode

import httpx2
import pytest
from PIL import Image

from pipeline.options import Options
from portal.citizens.settings import RequestSettings, SmtpSettings
from portal.settings import PortalSettings
from portal.web import create_app

from .browser_support import served
from .portal_support import add_staff, csrf_of, portal_client, sign_in
from .requests_support import (
    PERMIT_FORM, SENDER, body, file_request, free_port, identity_jpeg, link_in, request_settings, rows_in_portal_db,
    tracking_code,
)


@pytest.fixture
def client(portal_archive, smtp):
    with portal_client(portal_archive, requests=request_settings(smtp.port)) as client:
        yield client


# --- service cards ---------------------------------------------------------------------------------------

def test_service_cards_are_public_in_every_language(client):
    html = client.get("/services").text
    for title in ("Copy of a building permit", "Copy of a property deed", "Copy of a council decision",
                  "Extract from a civil-status register"):
        assert title in html
    polish = client.get("/services", headers={"Accept-Language": "pl"}).text
    assert "Kopia pozwolenia na budowę" in polish and "Odpis z księgi stanu cywilnego" in polish
    card = client.get("/services/property-deed-copy", headers={"Accept-Language": "ro"}).text
    assert "Copie după un act de proprietate" in card
    assert "20,00" in card and "RON" in card  # the fee, in the country's currency and the locale's way
    assert "30 de zile" in card  # the legal deadline
    assert "Certificat de moștenitor sau procură" in card  # a document to attach
    uk = client.get("/services/civil-status-extract", headers={"Accept-Language": "uk"}).text
    assert "Витяг з книги реєстрації актів цивільного стану" in uk and "Шлюб" in uk
    assert client.get("/services/no-such-card").status_code == 404
    assert client.get("/services/..%2F..%2Fretrodig").status_code == 404
    api = client.get("/api/services").json()
    assert {card["id"] for card in api} == {"building-permit-copy", "property-deed-copy", "council-decision-copy",
                                            "civil-status-extract"}
    assert api[0]["title"]["pl"]


# --- filing a request ------------------------------------------------------------------------------------

def test_a_request_filed_in_polish_gets_a_tracking_page_and_a_polish_email(client, portal_archive, smtp):
    response = file_request(client, language="pl")
    code = tracking_code(response)
    assert len(code) >= 24
    page = client.get(response.headers["location"], headers={"Accept-Language": "pl"})
    assert page.status_code == 200
    assert "przyjęty" in page.text and "Kopia pozwolenia na budowę" in page.text
    assert "Odpowiedź do" in page.text  # the deadline
    # the time filed, with its time zone: a citizen abroad reads it against another clock
    assert re.search(r"\d\d:\d\d:\d\d GMT[+-]\d\d:\d\d", page.text)
    (message,) = smtp.wait_for(1)
    assert message["To"] == "anna.nowak@example.pl" and message["From"] == "arhiva@primaria.example"
    assert message["Subject"].startswith("Wniosek ") and "przyjęty" in message["Subject"]
    assert message["Content-Language"] == "pl"
    assert "Dzień dobry Anna Nowak" in body(message)
    # No public_url, and not opened on this machine (localhost): the code's path only.
    assert f"/track/{code}" in body(message) and "http" not in body(message)
    # the attachment: kept under a generated name, with the type its content has
    (request_id, stored, media_type), = rows_in_portal_db(portal_archive, "SELECT request_id, stored, media_type FROM "
                                                              "request_attachments")
    kept = portal_archive / "requests" / str(request_id) / stored
    assert stored == "01-identity.jpg" and media_type == "image/jpeg"
    assert kept.read_bytes() == identity_jpeg()
    # the database keeps a digest of the code, never the code
    database = (portal_archive / "portal" / "portal.sqlite").read_bytes()
    assert code.encode() not in database


def test_spaces_pasted_into_a_form_are_spaces(client, portal_archive, smtp):
    """A no-break space (pasted from a word processor; Polish typography's after "z") or a thin space was dropped
    as unprintable: "Anna Nowak" became "AnnaNowak" in the greeting and in the clerk's suggested search."""
    form = {**PERMIT_FORM, "applicant": "Anna\u00a0Nowak", "owner": "Jan\u2009Kowalski\u00a0z\u00a0domu Nowak"}
    tracking_code(file_request(client, form=form, language="pl"))
    (message,) = smtp.wait_for(1)
    assert "Dzień dobry Anna Nowak" in body(message)
    (fields,) = rows_in_portal_db(portal_archive, "SELECT fields FROM requests")
    assert json.loads(fields[0])["owner"] == "Jan Kowalski z domu Nowak"


def test_a_label_that_says_when_to_fill_it_is_not_also_called_optional(client):
    """"Number of the decision (if known) (optional)", in every language."""
    for language, said in (("en", "(if known)"), ("uk", "(якщо відомо)")):
        page = client.get("/services/council-decision-copy", headers={"Accept-Language": language}).text
        assert said in page and re.search(re.escape(said) + r"\s*\(", page) is None, language
    assert "(optional)" in client.get("/services/council-decision-copy").text  # the phone, the details


def test_a_form_body_that_cannot_be_read_gets_a_page(client):
    """More than 1000 fields, a broken multipart body: Starlette's English JSON went to the citizen's page."""
    page = client.get("/services/building-permit-copy").text
    fields = urlencode([("csrf_token", csrf_of(page))] + [(f"f{n}", "x") for n in range(1001)])
    too_many = client.post("/services/building-permit-copy", content=fields.encode(), headers={
        "Accept-Language": "pl", "Content-Type": "application/x-www-form-urlencoded"})
    assert too_many.status_code == 400 and too_many.headers["content-type"].startswith("text/html")
    assert "Nie udało się odczytać formularza" in too_many.text
    broken = client.post("/services/building-permit-copy", content=b"--x\r\nnot a part",
                         headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert broken.status_code == 400 and "The form could not be read" in broken.text


def test_a_portal_without_a_mail_server_promises_no_e_mail(portal_archive):
    """With no `smtp:` set nothing is mailed, and the citizen was told "We also sent it to your e-mail address"."""
    with portal_client(portal_archive) as client:
        filed = file_request(client, language="en")
        page = client.get(filed.headers["location"]).text
    assert "Your request was filed" in page and "e-mail" not in page.split("Your request was filed")[1][:200]


def test_form_errors_are_named_and_nothing_is_filed(client, portal_archive, smtp):
    bad = {**PERMIT_FORM, "applicant": "", "email": "not-an-address", "year": "19x8", "relation": "cousin",
           "address": "A" * 300, "consent": ""}
    response = file_request(client, form=bad)
    assert response.status_code == 400
    for message in ("This field is required.", "Give an e-mail address such as name@example.com.",
                    "Give a year such as 1974.", "Choose one of the options.", "This is too long.",
                    "Your consent is needed to handle the request."):
        assert message in response.text, message
    assert 'value="not-an-address"' in response.text  # what was typed stays in the form
    # A screen reader hears which field is wrong and why; the files, which a browser drops, are asked for again.
    assert 'autocomplete="email" aria-invalid="true" aria-describedby="error-email">' in response.text
    assert 'id="error-email"' in response.text and "Attach your documents again" in response.text
    assert 'name="phone" value="" maxlength="25" autocomplete="tel">' in response.text  # no error, no mark
    assert 'required aria-invalid="true" aria-describedby="error-consent">' in response.text  # the box, too
    assert '<a class="skip" href="#main">' in response.text and '<main id="main">' in response.text
    hidden = file_request(client, form={**PERMIT_FORM, "email": "anna\x00.nowak@example.pl"})  # mail could not go
    assert hidden.status_code == 400 and "Give an e-mail address such as name@example.com." in hidden.text
    future = file_request(client, form={**PERMIT_FORM, "year": "2999"})
    assert future.status_code == 400 and "Give a year such as 1974." in future.text
    missing = file_request(client, files={})
    assert missing.status_code == 400 and "This document is required." in missing.text
    twice = file_request(client, files=[("file_identity", (name, identity_jpeg(), "image/jpeg"))
                                        for name in ("front.jpg", "back.jpg")])  # the field takes one: both kept
    assert twice.status_code == 400 and "Attach one file here." in twice.text
    polish = file_request(client, form={**PERMIT_FORM, "email": ""}, language="pl")
    assert "Podaj adres e-mail" in polish.text
    assert rows_in_portal_db(portal_archive, "SELECT count(*) FROM requests") == [(0,)]
    assert not list((portal_archive / "requests").glob("*/*")) if (portal_archive / "requests").exists() else True
    assert smtp.messages == []


@pytest.mark.parametrize(("typed", "stored"), [("١٩٧٤", "1974"), ("１９７４", "1974"), ("1974", "1974")])
def test_a_year_typed_in_other_digits_is_kept_in_0_to_9(client, portal_archive, typed, stored):
    # A phone's Arabic-Indic or full-width digits were kept as typed: the clerk's search for the year missed them.
    tracking_code(file_request(client, form={**PERMIT_FORM, "year": typed}))
    (fields,) = rows_in_portal_db(portal_archive, "SELECT fields FROM requests")[0]
    assert json.loads(fields)["year"] == stored


@pytest.mark.parametrize(("typed", "taken"), [("1974-05-21", True), ("19740521", False), ("1974-W21-2", False),
                                           ("0001-01-01", False), ("1974-5-21", False)])
def test_a_date_is_taken_only_as_the_form_shows_it(client, typed, taken):
    # Python's fromisoformat took 19740521, a week date and the year 1, and they were kept as typed.
    form = {**PERMIT_FORM, "subject": "Hotărârea privind bugetul", "date": typed}
    response = file_request(client, card="council-decision-copy", form=form, files={})
    assert (response.status_code == 303) == taken, response.text[-500:]
    assert taken or "Give a date such as 1974-05-21." in response.text


def _png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, "PNG")
    return out.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` pixels, with a few bytes of image data: a decompression bomb's
    shape (the portal's process has Pillow's own bomb check off: the pipeline bounds scans itself)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(bytes(1000))) + chunk(b"IEND", b"")


def test_attachments_are_recognised_by_their_content_not_their_name(portal_archive, smtp):
    with portal_client(portal_archive, requests=request_settings(smtp.port, attachment_mb=0.5)) as client:
        html_as_pdf = file_request(client, files={"file_identity": ("id.pdf", b"<html><script>alert(1)</script>",
                                                                    "application/pdf")})
        assert html_as_pdf.status_code == 400 and "Only PDF, JPEG and PNG files are accepted." in html_as_pdf.text
        damaged = file_request(client, files={"file_identity": ("id.png", _png_bytes()[:60], "image/png")})
        assert damaged.status_code == 400 and "The file is damaged or cannot be opened." in damaged.text
        cut = file_request(client, files={"file_identity": ("id.jpg", identity_jpeg()[:2000], "image/jpeg")})
        assert cut.status_code == 400 and "The file is damaged or cannot be opened." in cut.text
        bomb = file_request(client, files={"file_identity": ("id.png", _png_claiming(60_000, 60_000), "image/png")})
        assert bomb.status_code == 400 and "The file is damaged or cannot be opened." in bomb.text
        big = file_request(client, files={"file_identity": ("id.jpg", identity_jpeg() + bytes(600_000), "image/jpeg")})
        assert big.status_code == 400 and "The file is too large." in big.text
        stray = file_request(client, files={"file_identity": ("id.jpg", identity_jpeg(), "image/jpeg"),
                                            "file_passport": ("p.png", _png_bytes(), "image/png")})
        assert stray.status_code == 400
        assert rows_in_portal_db(portal_archive, "SELECT count(*) FROM requests") == [(0,)]
        assert not [p for p in (portal_archive / "requests").rglob("*") if p.is_file()]
        # a PNG sent with a traversing name and a PDF's type is kept as what it is, under the portal's name
        kept = file_request(client, files={"file_identity": ("../../../portal/portal.sqlite", _png_bytes(),
                                                             "application/pdf")})
        tracking_code(kept)
        assert rows_in_portal_db(portal_archive, "SELECT stored, media_type FROM request_attachments") == [
            ("01-identity.png", "image/png")]
        assert (portal_archive / "portal" / "portal.sqlite").read_bytes().startswith(b"SQLite format")


def test_a_body_too_large_is_refused_before_it_is_read(portal_archive, smtp):
    with portal_client(portal_archive, requests=request_settings(smtp.port, attachment_mb=0.1,
                                                                 attachments_max=1)) as client:
        csrf = csrf_of(client.get("/services/building-permit-copy").text)
        response = client.post("/services/building-permit-copy", data={**PERMIT_FORM, "csrf_token": csrf},
                               files={"file_identity": ("id.jpg", b"\xff\xd8\xff" + b"0" * 1_300_000, "image/jpeg")})
        assert response.status_code == 413
        # the limits, and that what was typed is still one page back (it said only "The files are too large.")
        assert "at most 0.1 MB each, 1 files" in response.text and "Go back one page" in response.text
        # sent in chunks, a body has no length to judge before it is read: refused (it was read whole, then 403)
        def chunks():
            for _ in range(20):
                yield b"0" * 100_000

        chunked = client.post("/services/building-permit-copy", content=chunks(),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert chunked.status_code == 411 and "without its length" in chunked.text


def test_a_json_body_too_large_is_refused_before_it_is_read_or_its_sender_known(client):
    # A PUT was read whole before its sender was asked who they are (300 MB: 600 MB more memory, kept).
    big = client.put("/api/documents/x/pages/1/lines/line_1_1", content=b"0" * (2 * 1024 * 1024),
                     headers={"Content-Type": "application/json"})
    assert big.status_code == 413
    small = client.put("/api/documents/x/pages/1/lines/line_1_1", content=b'{"text": "x"}',
                       headers={"Content-Type": "application/json"})
    assert small.status_code in (401, 403)  # asked who it is, as before
    # A POST too: 48 MB to /api/session were read whole, then echoed back in the refusal (50 MB answered).
    big_post = client.post("/api/session", content=b"0" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"})
    assert big_post.status_code == 413 and len(big_post.content) < 1000
    # And a refusal says where and why, not what was sent (the password of a malformed sign-in came back).
    odd = client.post("/api/session", json={"name": "clara", "password": ["S3cret-pass!"]})
    assert odd.status_code == 422 and "S3cret-pass!" not in odd.text and "password" in odd.text


def test_the_form_needs_its_csrf_token(client, portal_archive):
    client.get("/services/building-permit-copy")
    response = client.post("/services/building-permit-copy", data=PERMIT_FORM,
                           files={"file_identity": ("id.jpg", identity_jpeg(), "image/jpeg")})
    assert response.status_code == 403
    forged = client.post("/services/building-permit-copy", data={**PERMIT_FORM, "csrf_token": "guessed"},
                         files={"file_identity": ("id.jpg", identity_jpeg(), "image/jpeg")})
    assert forged.status_code == 403
    assert rows_in_portal_db(portal_archive, "SELECT count(*) FROM requests") == [(0,)]


def test_submissions_per_address_are_limited(portal_archive, smtp):
    with portal_client(portal_archive, requests=request_settings(smtp.port, submissions_per_hour=2)) as client:
        tracking_code(file_request(client))
        tracking_code(file_request(client))
        third = file_request(client)
        assert third.status_code == 429 and int(third.headers["retry-after"]) > 0


# --- tracking --------------------------------------------------------------------------------------------

def test_one_citizen_cannot_see_another_ones_request(client, portal_archive):
    first = tracking_code(file_request(client))
    second = tracking_code(file_request(client, form={**PERMIT_FORM, "applicant": "Maria Ionescu",
                                                      "email": "maria@example.ro"}))
    assert first != second
    numbers = [row[0] for row in rows_in_portal_db(portal_archive, "SELECT number FROM requests ORDER BY id")]
    assert numbers[0] in client.get(f"/track/{first}").text and numbers[1] not in client.get(f"/track/{first}").text
    # request numbers and ids are not tracking codes; nor is anything short, padded or near a real code
    for guess in [numbers[1], "2", first[:-1], first[:-1] + ("A" if first[-1] != "A" else "B"), first + "A",
                  first.lower() if first != first.lower() else first.upper()]:
        assert client.get(f"/track/{guess}").status_code in (404, 422), guess
    assert client.get(f"/api/track/{second}").json()["number"] == numbers[1]
    assert client.get("/api/track/AAAAAAAAAAAAAAAAAAAAAAAA").status_code == 404


def _key_when_told(folder, start, keys):
    from portal.citizens.codes import portal_key

    start.wait()
    keys.put(portal_key(folder))


def test_workers_starting_at_once_share_one_whole_portal_key(tmp_path):
    """The workers of `serve --workers N` make the key on first start: one that lost the race to create the file
    could read it before it was written, and made tracking codes with an empty key."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    start, found = context.Barrier(8), context.Queue()
    workers = [context.Process(target=_key_when_told, args=(tmp_path / "portal", start, found)) for _ in range(8)]
    for worker in workers:
        worker.start()
    keys = [found.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert len(set(keys)) == 1 and len(keys[0]) == 32
    assert [path.name for path in (tmp_path / "portal").iterdir()] == ["secret.key"]


def test_wrong_tracking_codes_are_limited_per_address(portal_archive, smtp):
    with portal_client(portal_archive, requests=request_settings(smtp.port, tracking_failures_per_hour=3)) as client:
        code = tracking_code(file_request(client))
        for n in range(3):
            assert client.get(f"/track/wrongcode{n:015d}").status_code == 404
        assert client.get(f"/track/{code}").status_code == 429  # even the right code waits now
        assert client.get(f"/api/track/{code}").status_code == 429


def test_citizen_text_is_shown_as_text(client, portal_archive):
    hostile = {**PERMIT_FORM, "applicant": "<script>alert('x')</script> Nowak",
               "details": "</textarea><img src=x onerror=alert(1)>"}
    code = tracking_code(file_request(client, form=hostile))
    sign_in(client, "clara")
    for html in (client.get("/requests").text, client.get("/requests/1").text):
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert" in html
    assert "&lt;/textarea&gt;&lt;img src=x" in client.get("/requests/1").text
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/").text)})
    refused = file_request(client, form={**hostile, "email": "<b>x"})
    assert "<img src=x" not in refused.text and "&lt;/textarea&gt;" in refused.text
    assert client.get(f"/track/{code}").status_code == 200


def test_a_filing_sent_with_another_host_does_not_put_it_in_the_citizens_email(portal_archive, smtp):
    """Anyone can send the public form with a Host header of their choosing: the town hall mailed a tracking link
    to the sender's site, to whatever address was typed (a phishing letter from the archive's own server)."""
    with portal_client(portal_archive, requests=request_settings(smtp.port)) as client:
        code = tracking_code(file_request(client, language="pl"))
        forged = file_request(client, language="pl", form={**PERMIT_FORM, "email": "victim@example.com"},
                              headers={"Host": "evil.example"})
    first, second = smtp.wait_for(2)
    assert forged.status_code == 303 and second["To"] == "victim@example.com"
    assert "evil.example" not in body(second) and "/track/" in body(second)
    assert f"/track/{code}" in body(first) and "http" not in body(first)


def test_the_portal_warns_at_start_of_addresses_citizens_cannot_reach(portal_archive, caplog):
    """The copies' QR code pointed to 127.0.0.1:8000 (the default) whatever address the portal served, and
    nothing said so."""
    with caplog.at_level("WARNING", logger="portal.web"):
        create_app(PortalSettings(options=Options(archive=portal_archive), requests=RequestSettings()))
    said = " ".join(record.getMessage() for record in caplog.records)
    assert "requests.public_url is not set" in said and "copies.verify_url" in said and "127.0.0.1:8000" in said
    caplog.clear()
    with caplog.at_level("WARNING", logger="portal.web"):
        create_app(PortalSettings(options=Options(archive=portal_archive,
                                                  copies={"verify_url": "https://arhiva.example.ro/verify"}),
                                  requests=RequestSettings(public_url="https://arhiva.example.ro")))
    assert not caplog.records


def test_the_citizens_email_links_to_the_public_address_set(portal_archive, smtp):
    with portal_client(portal_archive, requests=request_settings(
            smtp.port, public_url="https://arhiva.primaria.example")) as client:
        code = tracking_code(file_request(client, headers={"Host": "evil.example"}))
    assert link_in(smtp.wait_for(1)[-1], "/track/") == f"https://arhiva.primaria.example/track/{code}"


# --- settings from the archive's retrodig.yaml ------------------------------------------------------------

def test_requests_and_smtp_settings_come_from_retrodig_yaml(portal_archive, monkeypatch):
    from click.testing import CliRunner

    from cli.main import cli
    from pipeline.errors import UsageError
    from pipeline.options import Options
    from portal.settings import PortalSettings
    from portal.web import create_app

    (portal_archive / "retrodig.yaml").write_text(
        "requests: {country: PL, download_days: 3, public_url: 'https://archiwum.przemysl.example'}\n"
        "smtp: {host: smtp.example, port: 465, security: tls, sender: archiwum@przemysl.example,"
        " username: archiwum, password: {$env: RETRODIG_TEST_SMTP}}\n", encoding="utf-8")
    monkeypatch.delenv("RETRODIG_CONFIG", raising=False)
    settings = create_app(PortalSettings(options=Options(archive=portal_archive))).state.service.desk.context.settings
    assert (settings.country, settings.download_days, settings.smtp.security) == ("PL", 3, "tls")
    assert settings.smtp.password.env == "RETRODIG_TEST_SMTP"  # a reference, read only when sending
    result = CliRunner().invoke(cli, ["--archive", str(portal_archive), "search", "cluj"])
    assert result.exit_code == 0, result.output  # the other commands accept the portal's sections
    (portal_archive / "retrodig.yaml").write_text("requests: {country: Poland}\n", encoding="utf-8")
    with pytest.raises(UsageError, match="requests.country"):
        create_app(PortalSettings(options=Options(archive=portal_archive)))


@pytest.mark.parametrize("setting, said", [
    ("requests: {download_days: -1}", "requests.download_days"), ("requests: 5", "setting requests"),
    ("requests: {country: XX}", "XX has no rules"), ("smtp: {host: h, sender: nobody}", "setting smtp.sender"),
    # every complaint: it said only that smtp.host was missing, not that hots is no setting
    ("smtp: {hots: x}", "setting smtp.hots: Extra inputs are not permitted"),
])
def test_serve_refuses_a_bad_requests_setting_before_it_starts(portal_archive, monkeypatch, setting, said):
    """Checked in each worker as it started: with --workers 2 uvicorn started them again and again, forever (a
    service that looked running); one country without rules answered every citizen's page with a 500."""
    from .conftest import REPO

    (portal_archive / "retrodig.yaml").write_text(setting + "\n", encoding="utf-8")
    monkeypatch.delenv("RETRODIG_CONFIG", raising=False)
    done = subprocess.run([sys.executable, "-m", "cli.main", "--archive", str(portal_archive), "serve", "--port",
                           str(free_port()), "--workers", "2"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "retrodig portal on" not in done.stderr


@pytest.mark.parametrize("rules, said", [("redaction.yaml", "invalid redaction rules: name_keywrds"),
                                         ("doctypes.yaml", "unknown setting(s): min_scor")])
def test_serve_refuses_misspelt_rules_before_it_starts(portal_archive, monkeypatch, tmp_path, rules, said):
    """A misspelt key of the redaction rules turned name proposals off without a word; the clerks' pages that read
    a broken rules file failed one by one."""
    import shutil

    from pipeline.options import CONFIGS_DIR

    from .conftest import REPO

    configs = tmp_path / "configs"
    shutil.copytree(CONFIGS_DIR, configs)
    path = configs / rules
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("name_keywords:", "name_keywrds:") if rules == "redaction.yaml"
                    else "min_scor: 3\n" + text, encoding="utf-8")
    monkeypatch.delenv("RETRODIG_CONFIG", raising=False)
    done = subprocess.run([sys.executable, "-m", "cli.main", "--archive", str(portal_archive), "serve", "--port",
                           str(free_port())], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "RETRODIG_CONFIGS": str(configs)})
    assert done.returncode == 2 and said in done.stderr and str(path) in done.stderr, done.stderr


def test_serve_says_when_it_cannot_listen(portal_archive):
    """A port in use, a host of another machine: uvicorn's message with exit 3 (a missing dependency, says the
    README's table)."""
    from .conftest import REPO

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        for host, port, said in (("127.0.0.1", taken.getsockname()[1], "cannot listen on"),
                                 ("no-such-host.invalid", free_port(), "--host no-such-host.invalid")):
            done = subprocess.run([sys.executable, "-m", "cli.main", "--archive", str(portal_archive), "serve",
                                   "--host", host, "--port", str(port)], cwd=REPO, capture_output=True, text=True,
                                  timeout=60)
            assert done.returncode == 2 and said in done.stderr, done.stderr


def test_a_misspelt_retrodig_config_is_refused(portal_archive, monkeypatch):
    """A file RETRODIG_CONFIG names that is not there was passed over: the archive ran on defaults (the embedded
    index, the demo certificate), exit 0."""
    from click.testing import CliRunner

    from cli.main import cli

    monkeypatch.setenv("RETRODIG_CONFIG", str(portal_archive / "retrodg.yaml"))
    result = CliRunner().invoke(cli, ["--archive", str(portal_archive), "search", "cluj"])
    assert result.exit_code == 2 and "RETRODIG_CONFIG" in result.output and "retrodg.yaml" in result.output


def test_a_mail_server_that_never_answers_does_not_hold_the_citizens_page(portal_archive):
    """The e-mail went out within the page's request: a server that took the connection and never answered held
    the citizen's page (and each clerk's action) for its whole timeout. It is sent once the page has gone out."""
    with socket.socket() as silent:  # takes connections, says nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        smtp = SmtpSettings(host="127.0.0.1", port=silent.getsockname()[1], security="none", sender=SENDER,
                            timeout=20)
        add_staff(portal_archive)
        app = create_app(PortalSettings(options=Options(archive=portal_archive), requests=RequestSettings(smtp=smtp)))
        with served(app, free_port()) as url, httpx2.Client(base_url=url, timeout=60) as browser:
            started = time.monotonic()
            code = tracking_code(file_request(browser))
            answered = time.monotonic() - started
            silent.close()  # the server goes: the waiting message fails and stays queued
        assert answered < 10, f"the page took {answered:.1f} s"
        assert rows_in_portal_db(portal_archive, "SELECT count(*) FROM outbox WHERE sent IS NULL") == [(1,)]
        assert code


def test_the_ukrainian_receipt_ends_its_date_with_one_full_stop(client, smtp):
    # Babel writes a Ukrainian date as "28 грудня 2026 р.": the sentence's own full stop made "р..".
    tracking_code(file_request(client, language="uk"))
    (receipt,) = smtp.wait_for(1)
    text = " ".join(body(receipt).split())
    assert "Відповімо не пізніше" in text and "р.." not in text


@pytest.mark.parametrize(("typed", "sent_to"), [("ion@primăria.ro", "ion@xn--primria-c4a.ro"),
                                                ("olena@приклад.укр", "olena@xn--80aikifvh.xn--j1amh"),
                                                ("o'brien@example.ie", "o'brien@example.ie")])
def test_an_address_whose_domain_is_in_other_letters_is_taken_and_mailed(client, smtp, typed, sent_to):
    # Such addresses were refused ("Give an e-mail address such as name@example.com."), and so was an apostrophe.
    tracking_code(file_request(client, form={**PERMIT_FORM, "email": typed}))
    (receipt,) = smtp.wait_for(1)
    assert receipt["To"] == sent_to

