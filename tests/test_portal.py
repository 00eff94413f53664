"""The clerks' portal, every route in-process (FastAPI's TestClient) on an archive ingested from real scans:
who may see and do what, CSRF, the login limit, escaping of OCR text, path traversal, corrections that are
reindexed and audited, the review queue, ingest status, languages and the REST API."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest
from PIL import Image

from pipeline.progress import ProgressFile

from .conftest import SAMPLES, SCRIPT_LINE
from .portal_support import PASSWORDS, csrf_of, only_document, portal_client, serving, sign_in, token


@pytest.fixture
def client(portal_archive):
    with portal_client(portal_archive) as client:
        yield client


@pytest.fixture
def clujul(portal_archive):
    return only_document(portal_archive, "Clujul.jpg")


@pytest.fixture
def script_doc(portal_archive):
    return only_document(portal_archive, "script-page.png")


def _run_id(archive):
    return next(p.stem for p in (archive / "runs").glob("*.json"))


# --- who may do what --------------------------------------------------------------------------------

def test_every_page_but_login_needs_a_session(client, portal_archive, clujul):
    pages = ["/", "/?q=cluj", "/hit?q=cluj&n=0", f"/documents/{clujul}", f"/documents/{clujul}/pages/1.jpg",
             f"/documents/{clujul}/document.pdf", f"/documents/{clujul}/pages/1/original", "/review", "/ingest",
             f"/ingest/{_run_id(portal_archive)}", "/audit", "/users"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path
    api = ["/api/search?q=cluj", f"/api/documents/{clujul}", f"/api/documents/{clujul}/pages/1",
           f"/api/documents/{clujul}/pages/1/image", f"/api/documents/{clujul}/pdf", "/api/review", "/api/runs",
           "/api/audit", "/api/session", "/api/hits/0?q=cluj"]
    for path in api:
        assert client.get(path).status_code == 401, path
    login = client.get("/login", headers={"Accept-Language": "uk"})
    assert login.status_code == 200  # the portal's address opens here: a citizen is shown the way to the services
    assert '<a href="/services">Замовте копію документа' in login.text
    assert client.get("/openapi.json").status_code == 200  # the API's description is public; its data is not
    assert client.get("/static/portal.css").status_code == 200


def test_dates_found_in_a_record_are_written_as_the_reader_writes_dates():
    """The record's "Dates found" showed 1954-03-12 to every reader."""
    from portal.i18n import Formats

    assert Formats("uk").found_date("1954-03-12") == "12 березня 1954\u202fр."  # CLDR: a narrow no-break space
    assert Formats("pl").found_date("1954-03-12") == "12 marca 1954" and Formats("ro").found_date("1954-03") == "martie 1954"
    assert Formats("en").found_date("1954") == "1954"


def test_a_preference_written_in_capitals_is_the_same_language(client):
    """"Accept-Language: UK" (or RO-ro) gave an English page headed <html lang="UK">."""
    for header, language, said in (("UK", "uk", "Вхід"), ("RO-ro", "ro", "Autentificare"),
                                   ("hu-RO,hu;q=0.9,ro;q=0.8", "ro", "Autentificare")):
        page = client.get("/login", headers={"Accept-Language": header}).text
        assert f'<html lang="{language}">' in page and said in page, header


def test_head_is_answered_as_get_without_its_body(client, clujul):
    # FastAPI routes name GET only: HEAD got 405 (uptime monitors and link checkers send it).
    for path in ("/login", "/static/portal.css", "/openapi.json"):
        get, head = client.get(path), client.head(path)
        assert head.status_code == 200 and head.content == b"", path
        assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content)), path
    assert client.head(f"/documents/{clujul}").status_code == 303  # still behind the sign-in
    assert client.head("/api/runs").status_code == 401
    sign_in(client, "clara")
    head = client.head(f"/documents/{clujul}/document.pdf")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-type"] == "application/pdf"


def test_signing_in_and_out(client):
    assert sign_in(client, "clara", "not her password").status_code == 401
    response = sign_in(client, "clara")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "retrodig_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # only with --secure-cookies
    assert client.get("/").status_code == 200
    assert client.post("/logout", data={"csrf_token": token(client)}).status_code == 303
    assert client.get("/").status_code == 303


def test_the_portal_database_is_its_owner_s_alone_and_a_read_only_archive_is_said(portal_archive, tmp_path):
    """portal.sqlite (citizens' addresses and phones, password hashes, mail waiting with its links) was readable by
    every user of the machine; on a read-only archive `user list` and `serve` were internal errors (exit 1)."""
    import os
    import shutil

    from .conftest import run_without_write_rights

    portal_client(portal_archive)
    assert os.stat(portal_archive / "portal" / "portal.sqlite").st_mode & 0o777 == 0o600
    archive = tmp_path / "read-only"
    shutil.copytree(portal_archive, archive, ignore=shutil.ignore_patterns("portal"))
    done = run_without_write_rights(archive, ["--archive", str(archive), "user", "list"])
    assert done.returncode == 7 and "portal.sqlite cannot be opened" in done.stderr, done.stderr
    assert "internal error" not in done.stderr


def test_the_access_log_keeps_no_tracking_code_token_or_search(portal_archive):
    """`retrodig serve`'s log kept every tracking code and download token (which open a citizen's request and
    copy: the database keeps only their digests) and every search (people's names), line by line."""
    import httpx

    secrets = ["Zq8vN3kP1xR7tY2uW5eA0cLm", "Hd4Gf6Jk8Lz0Xc2Vb4Nm6Qw8Er0Ty2Ui"]
    with serving(portal_archive, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as (server, url):
        for path in (f"/track/{secrets[0]}", f"/download/{secrets[1]}", f"/api/track/{secrets[0]}",
                     "/?q=Ionescu+Maria", f"/track?code={secrets[0]}"):
            assert httpx.get(url + path, timeout=30).status_code in (303, 404, 410)
        server.terminate()
        log = server.communicate(timeout=60)[0]
    assert '"GET /track/… HTTP/1.1" 404' in log and '"GET /download/… HTTP/1.1"' in log
    assert '"GET /?… HTTP/1.1" 303' in log
    assert not any(secret in log for secret in secrets) and "Ionescu" not in log


def test_secure_cookies_behind_tls(portal_archive):
    with portal_client(portal_archive, secure_cookies=True) as client:
        client.base_url = "https://testserver"
        response = sign_in(client, "clara")
        assert "Secure" in response.headers["set-cookie"]


def test_login_limit_per_address_and_name(client):
    for _ in range(5):
        assert sign_in(client, "clara", "wrong-password").status_code == 401
    refused = sign_in(client, "clara")  # even the right password waits now
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Try again in 15 min." in refused.text  # when: it said "later"
    assert sign_in(client, "ana").status_code == 303  # another name from the same address is not blocked


def test_unknown_and_disabled_users_cannot_sign_in(client, portal_archive):
    from portal.accounts import Accounts
    from portal.db import staff_database

    assert sign_in(client, "nobody", "whatever-password").status_code == 401
    Accounts(staff_database(portal_archive)).set_active("clara", False)
    assert sign_in(client, "clara").status_code == 401


def test_clerk_reads_but_cannot_correct_or_manage(client, clujul):
    sign_in(client, "clara")
    assert client.get(f"/documents/{clujul}").status_code == 200
    csrf = token(client)
    assert client.post(f"/documents/{clujul}/pages/1/lines",
                       data={"csrf_token": csrf, "line": "line_1_1", "text": "x"}).status_code == 403
    assert client.post(f"/documents/{clujul}/metadata",
                       data={"csrf_token": csrf, "field": "title", "value": "x"}).status_code == 403
    assert client.get("/users").status_code == 403
    assert client.get("/audit").status_code == 403
    assert 'action="/documents' not in client.get(f"/documents/{clujul}").text  # no edit forms shown


# --- CSRF -------------------------------------------------------------------------------------------

def test_writes_without_the_session_token_are_refused(client, portal_archive, clujul):
    sign_in(client, "ana")
    line = {"line": "line_1_1", "text": "FORGED"}
    assert client.post(f"/documents/{clujul}/pages/1/lines", data=line).status_code == 403
    assert client.post(f"/documents/{clujul}/pages/1/lines", data={**line, "csrf_token": "guess"}).status_code == 403
    assert client.put(f"/api/documents/{clujul}/pages/1/lines/line_1_1", json={"text": "FORGED"}).status_code == 403
    assert client.post("/logout").status_code == 403
    assert not (portal_archive / "corrections" / clujul / "pages").exists()
    assert client.get("/").status_code == 200  # still signed in


def test_a_form_sent_after_signing_out_offers_signing_in_again(client, clujul):
    """Signed out in another tab (or the session expired), a correction sent from the page still open was
    refused with a link to the citizens' services; it offers signing in again, back to that page."""
    sign_in(client, "ana")
    page = f"/documents/{clujul}/pages/1"
    csrf = token(client)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    refused = client.post(f"/documents/{clujul}/pages/1/lines", data={"csrf_token": csrf, "line": "line_1_1",
                          "text": "x"}, headers={"Referer": f"http://testserver{page}", "Accept-Language": "pl"})
    assert refused.status_code == 403
    assert f'href="/login?next={page.replace("/", "%2F")}"' in refused.text and "Zaloguj się ponownie" in refused.text
    # The page's own query too: the clerk came back to page 1 of a document read on page 2.
    on_page_two = client.post(f"/documents/{clujul}/metadata", data={"csrf_token": csrf, "field": "title"},
                              headers={"Referer": f"http://testserver/documents/{clujul}?page=2"})
    assert f'href="/login?next=%2Fdocuments%2F{clujul}%3Fpage%3D2"' in on_page_two.text
    citizen = client.post("/services/building-permit-copy", data={"csrf_token": "stale"})
    assert citizen.status_code == 403 and 'href="/services"' in citizen.text


def test_login_form_needs_its_pre_session_token(client):
    response = client.post("/login", data={"name": "ana", "password": PASSWORDS["ana"], "next": "/"})
    assert response.status_code == 403
    assert "retrodig_session" not in response.headers.get("set-cookie", "")


# --- searching and reading ---------------------------------------------------------------------------

def test_search_typed_without_diacritics_with_facets_and_thumbnails(client, clujul):
    sign_in(client, "clara")
    html = client.get("/", params={"q": "somesului"}).text
    assert "<mark>Someșului</mark>" in html or "<mark>Someşului</mark>" in html
    assert f"/documents/{clujul}/pages/1.jpg?size=thumb" in html
    assert "Fond 12 – Urbanism" in html  # the collection facet
    assert "1 matching page" in html
    assert "No page matches" in client.get("/", params={"q": "somesului", "from": "1990", "to": "1995"}).text


def test_query_syntax_never_reaches_the_engine(client):
    sign_in(client, "clara")
    for text in ['"unclosed', "NEAR(a b)", "a OR b AND", "col:value", "*", ")(", "' OR 1=1 --"]:
        assert client.get("/", params={"q": text}).status_code == 200, text
        assert client.get("/api/search", params={"q": text}).status_code == 200, text


def test_a_snippet_marks_its_matches_and_shows_the_pages_own_brackets_as_text():
    from portal.labels import snippet_html

    html = str(snippet_html("pentru \\[sic\\] [primăria], cota C:\\\\arhiva <b>"))
    assert html == "pentru [sic] <mark>primăria</mark>, cota C:\\arhiva &lt;b&gt;"  # [sic] was marked


def test_next_hit_opens_the_viewer_with_boxes_on_the_page(client, clujul):
    sign_in(client, "clara")
    response = client.get("/hit", params={"q": "somesului", "n": 0})
    assert response.status_code == 303
    viewer = client.get(response.headers["location"])
    assert viewer.status_code == 200
    assert viewer.text.count('class="hit-box"') >= 2  # "Someșului" and "Someșului"/"Someș" on the page
    assert 'viewBox="0 0 ' in viewer.text
    assert f"/documents/{clujul}/document.pdf" in viewer.text
    assert "SITUAȚIA GEOGRAFICĂ" in viewer.text  # the page text beside the image
    # An address kept from before corrections left fewer hits: it said "Hit 6 of 1".
    stale = client.get(f"/documents/{clujul}", params={"page": 1, "q": "somesului", "hit": 5}).text
    assert "Hit 6 of" not in stale and "Back to the results" in stale
    # A results page past the last one said "1 matching page" and "No page matches every word" together.
    past = client.get("/", params={"q": "somesului", "p": 99}).text
    assert "No page matches every word" not in past and "No more hits past this page." in past
    # The thumbnail repeats its title's link: out of the tab order and unnamed links read to a screen reader.
    assert '<a class="thumb" tabindex="-1" aria-hidden="true"' in client.get("/", params={"q": "somesului"}).text


def test_a_correction_made_on_a_page_opened_from_a_search_keeps_the_search(client, clujul):
    """Saving a line or a catalog field reloaded the page without its hit boxes, next and previous hit and the way
    back to the results."""
    import re

    sign_in(client, "ana")
    opened = client.get(client.get("/hit", params={"q": "somesului", "n": 0}).headers["location"])
    action = re.search(r'<form method="post" action="([^"]*/lines[^"]*)"', opened.text).group(1).replace("&amp;", "&")
    assert "q=somesului" in action and "hit=0" in action
    line = re.search(r'name="line" value="([^"]+)"', opened.text).group(1)
    expected = re.search(r'name="expected" value="([^"]*)"', opened.text).group(1)
    saved = client.post(action, data={"csrf_token": csrf_of(opened.text), "line": line, "text": "Someșului",
                                      "expected": expected}, follow_redirects=False)
    assert saved.status_code == 303 and "q=somesului" in saved.headers["location"]
    again = client.get(saved.headers["location"])
    assert 'class="hit-nav"' in again.text and 'class="hit-box"' in again.text and "saved" in again.text
    field = re.search(r'<form method="post" action="([^"]*/metadata[^"]*)"', again.text).group(1).replace("&amp;", "&")
    kept = client.post(field, data={"csrf_token": csrf_of(again.text), "field": "title", "value": "Clujul",
                                    "page": "1"}, follow_redirects=False)
    assert kept.status_code == 303 and "q=somesului" in kept.headers["location"] and "hit=0" in kept.headers["location"]


def test_documents_without_a_collection_have_no_empty_facet_entry(client, clujul):
    """The facet listed them as a link with no text (zero pixels wide), which filtered nothing when followed."""
    import re

    sign_in(client, "ana")
    assert client.post(f"/documents/{clujul}/metadata", data={"csrf_token": token(client, f"/documents/{clujul}"),
                                                              "field": "collection", "value": ""}).status_code == 303
    page = client.get("/", params={"q": "somesului"}).text
    assert 'class="facets"' in page and "Romanian" in page  # the other facets are there
    assert not re.search(r'collection=(&amp;|")', page), "an empty collection is offered as a facet"


def test_page_images_are_scaled_copies_never_the_master(client, portal_archive, clujul):
    sign_in(client, "clara")
    view = client.get(f"/documents/{clujul}/pages/1.jpg")
    thumb = client.get(f"/documents/{clujul}/pages/1.jpg?size=thumb")
    assert view.headers["content-type"] == thumb.headers["content-type"] == "image/jpeg"
    scan = (SAMPLES / "Clujul.jpg").read_bytes()  # a PNG: its master is named for what it holds, .png
    master = next(m for m in (portal_archive / "masters").rglob("*.png") if m.read_bytes() == scan).read_bytes()
    assert view.content != master
    (tmp := portal_archive / "view.jpg").write_bytes(view.content)
    with Image.open(tmp) as image:
        assert max(image.size) == 1600
    tmp.write_bytes(thumb.content)
    with Image.open(tmp) as image:
        assert max(image.size) == 240
    pdf = client.get(f"/documents/{clujul}/document.pdf")
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]


def test_ocr_text_that_says_script_is_shown_as_text(client, script_doc):
    sign_in(client, "ana")
    search = client.get("/", params={"q": "alert"}).text
    viewer = client.get(f"/documents/{script_doc}").text
    original = client.get(f"/documents/{script_doc}/pages/1/original").text
    for html in (search, viewer, original):
        assert "<script>alert" not in html and "<b>bold" not in html
        assert "&lt;script&gt;" in html and "&lt;/script&gt;" in html
    assert "script-src 'self'" in client.get("/").headers["content-security-policy"]
    page = client.get(f"/api/documents/{script_doc}/pages/1").json()
    assert "<script>alert('xss')</script>" in page["text"]  # JSON carries the text as read
    assert SCRIPT_LINE.split()[1] in page["text"]


@pytest.mark.parametrize("path", [
    "/documents/..%2F..%2F..%2Fetc%2Fpasswd",
    "/documents/../../../../etc/passwd",
    "/documents/%2e%2e%2f%2e%2e%2fportal%2fportal.sqlite/document.pdf",
    "/documents/0123456789abcdef",  # well formed, not in the archive
    "/documents/0123456789ABCDEF",
    "/documents/{doc}/pages/0.jpg",
    "/documents/{doc}/pages/99.jpg",
    "/documents/{doc}/pages/1.jpg?size=../../../../etc/passwd",
    "/documents/{doc}/pages/..%2F..%2Fdocument.json",
    "/documents/{doc}/pages/1/original/..%2F..%2F..%2Fdocument.json",
    "/ingest/..%2F..%2Fportal%2Fportal.sqlite",
    "/ingest/20261125T222538847273Z%2F..%2F..%2Fretrodig.yaml",
    "/static/..%2F..%2Fportal%2Fdb.py",
    "/static/../service.py",
    "/api/documents/..%2F..%2Fetc%2Fpasswd/pdf",
    "/api/documents/{doc}/pages/1/image?size=..%2F..%2Fdocument.json",
    "/api/runs/..%2Fin-progress-1",
])
def test_file_routes_stay_inside_the_archive(client, clujul, path):
    sign_in(client, "ana")
    response = client.get(path.format(doc=clujul))
    assert response.status_code in (404, 422), (path, response.status_code)
    assert b"root:" not in response.content and b"SQLite format" not in response.content
    assert b'"files"' not in response.content and b"import " not in response.content


# --- corrections --------------------------------------------------------------------------------------

def test_correcting_a_line_keeps_the_original_reindexes_and_audits(client, portal_archive, clujul):
    sign_in(client, "ana")
    original = portal_archive / "documents" / clujul / "pages" / "0001.txt"
    original_hash = hashlib.sha256(original.read_bytes()).hexdigest()
    page = client.get(f"/api/documents/{clujul}/pages/1").json()
    line = next(line for line in page["lines"] if "Someșului" in line["text"] or "Someşului" in line["text"])
    assert client.get("/api/search", params={"q": "Zăpodie"}).json()["total"] == 0
    new_text = line["text"].replace("mic,", "Zăpodie,")
    viewer = client.get(f"/documents/{clujul}").text
    response = client.post(f"/documents/{clujul}/pages/1/lines", data={
        "csrf_token": csrf_of(viewer), "line": line["id"], "text": new_text, "expected": line["text"]})
    assert response.status_code == 303
    # found at once, typed without diacritics, and the box is drawn where the corrected line is
    results = client.get("/api/search", params={"q": "zapodie"}).json()
    assert [hit["document"] for hit in results["hits"]] == [clujul]
    boxed = client.get("/api/hits/0", params={"q": "zapodie"}).json()
    assert [box["word"] for box in boxed["boxes"]] == ["Zăpodie,"]
    (listed,) = results["hits"]  # the search's own hits carry them too (empty, and page_width 0, they were)
    assert listed["boxes"] == boxed["boxes"] and listed["page_width"] == boxed["page_width"] > 0
    left, top, right, bottom = line["bbox"]
    assert left <= boxed["boxes"][0]["left"] < boxed["boxes"][0]["right"] <= right
    # the original OCR is untouched and still shown
    assert hashlib.sha256(original.read_bytes()).hexdigest() == original_hash
    page = client.get(f"/api/documents/{clujul}/pages/1").json()
    assert "Zăpodie" in page["text"] and "Zăpodie" not in page["original_text"] and page["corrected"]
    # the audit log says who, when, before, after
    entry = client.get("/api/audit", params={"document": clujul}).json()[0]
    assert (entry["user"], entry["action"], entry["page"], entry["target"]) == ("ana", "correct-line", 1, line["id"])
    assert entry["before"] == line["text"] and entry["after"] == new_text and entry["at"]
    assert "Zăpodie" in client.get("/audit").text


def test_a_stale_edit_is_refused_not_lost(client, clujul):
    sign_in(client, "ana")
    line = client.get(f"/api/documents/{clujul}/pages/1").json()["lines"][0]
    csrf = client.get("/api/session").json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    url = f"/api/documents/{clujul}/pages/1/lines/{line['id']}"
    assert client.put(url, json={"text": "first edit", "expected": line["text"]}, headers=headers).status_code == 200
    second = client.put(url, json={"text": "second edit", "expected": line["text"]}, headers=headers)
    assert second.status_code == 409
    assert client.get(f"/api/documents/{clujul}/pages/1").json()["lines"][0]["text"] == "first edit"
    assert client.put(f"/api/documents/{clujul}/pages/1/lines/no_such_line", json={"text": "x"},
                      headers=headers).status_code == 400


def test_a_stale_edit_in_the_form_keeps_what_was_typed_to_save_again(client, clujul):
    """The form sent after someone else saved the line: the refusal page offered only "Back to search", and the
    clerk's typed text was lost."""
    import html

    sign_in(client, "ana")
    page = client.get(f"/documents/{clujul}", params={"page": 1}).text
    line = client.get(f"/api/documents/{clujul}/pages/1").json()["lines"][0]
    form = {"csrf_token": csrf_of(page), "line": line["id"], "expected": line["text"]}
    assert client.post(f"/documents/{clujul}/pages/1/lines", data={**form, "text": "Their version"}).status_code == 303
    stale = client.post(f"/documents/{clujul}/pages/1/lines", data={**form, "text": "My long, careful version"})
    assert stale.status_code == 409 and "Someone else changed this line meanwhile" in stale.text
    shown = html.unescape(stale.text)
    assert 'value="My long, careful version"' in shown and 'name="expected" value="Their version"' in shown
    again = client.post(f"/documents/{clujul}/pages/1/lines", data={**form, "expected": "Their version",
                                                                     "text": "My long, careful version"})
    assert again.status_code == 303
    assert client.get(f"/api/documents/{clujul}/pages/1").json()["lines"][0]["text"] == "My long, careful version"


def test_a_correction_typed_with_cedillas_on_a_romanian_page_is_spelt_with_commas(client, clujul):
    # Romanian text is spelt with ș and ț throughout (the OCR's too); a correction kept the keyboard's ş and ţ.
    sign_in(client, "ana")
    headers = {"X-CSRF-Token": client.get("/api/session").json()["csrf_token"]}
    line = client.get(f"/api/documents/{clujul}/pages/1").json()["lines"][0]
    url = f"/api/documents/{clujul}/pages/1/lines/{line['id']}"
    assert client.put(url, json={"text": "Şcoala din Ţara Moţilor", "expected": line["text"]},
                      headers=headers).status_code == 200
    assert client.get(f"/api/documents/{clujul}/pages/1").json()["lines"][0]["text"] == "Școala din Țara Moților"


def test_control_characters_typed_into_a_line_are_dropped_and_the_page_still_opens(client, clujul):
    """The hOCR is XML, which cannot hold a backspace: kept, it left the page unreadable for good."""
    sign_in(client, "ana")
    headers = {"X-CSRF-Token": client.get("/api/session").json()["csrf_token"]}
    line = client.get(f"/api/documents/{clujul}/pages/1").json()["lines"][-1]
    url = f"/api/documents/{clujul}/pages/1/lines/{line['id']}"
    response = client.put(url, json={"text": "Vlădeasa\x08 \x01peaks\x00", "expected": line["text"]}, headers=headers)
    assert response.status_code == 200
    page = client.get(f"/api/documents/{clujul}/pages/1")
    assert page.status_code == 200 and page.json()["lines"][-1]["text"] == "Vlădeasa peaks"
    assert client.get(f"/documents/{clujul}", params={"page": 1}).status_code == 200
    assert client.get("/api/hits/0", params={"q": "vladeasa"}).status_code == 200
    again = client.put(url, json={"text": "Vlădeasa peaks.", "expected": "Vlădeasa peaks"}, headers=headers)
    assert again.status_code == 200


def test_a_correction_pasted_decomposed_or_with_invisible_characters_is_stored_as_typed_to_the_eye(client, clujul):
    """A Mac or a word processor gives ș as s and a comma below, and hides soft hyphens and zero-width spaces in
    words: stored so, the corrected words were found by no search (nor by the names redaction), and a collection
    so corrected could not be filtered on, even by its own facet."""
    import unicodedata

    sign_in(client, "ana")
    headers = {"X-CSRF-Token": client.get("/api/session").json()["csrf_token"]}
    line = client.get(f"/api/documents/{clujul}/pages/1").json()["lines"][0]
    url = f"/api/documents/{clujul}/pages/1/lines/{line['id']}"
    typed = unicodedata.normalize("NFD", "Ștefania Țărănescu") + " Chełmi\u00adński Hotă\u200brârea \u202eabc"
    assert client.put(url, json={"text": typed, "expected": line["text"]}, headers=headers).status_code == 200
    assert client.get(f"/api/documents/{clujul}/pages/1").json()["lines"][0]["text"] == \
        "Ștefania Țărănescu Chełmiński Hotărârea abc"
    for word in ("Țărănescu", "taranescu", "chelminski", "hotărârea"):
        assert client.get("/api/search", params={"q": word}).json()["total"] == 1, word
    # The same text pasted again is no change, and no conflict with what the editor saw.
    logged = len(client.get("/api/audit").json())
    assert client.put(url, json={"text": typed, "expected": typed}, headers=headers).status_code == 200
    assert len(client.get("/api/audit").json()) == logged
    csrf = token(client, f"/documents/{clujul}")
    collection = unicodedata.normalize("NFD", "Fond Județean Nouă")
    assert client.post(f"/documents/{clujul}/metadata",
                       data={"csrf_token": csrf, "field": "collection", "value": collection}).status_code == 303
    for typed_collection in ("Fond Județean Nouă", collection):
        assert client.get("/api/search", params={"q": "chelminski", "collection": typed_collection}
                          ).json()["total"] == 1, typed_collection


def test_odd_api_input_is_refused_plainly(client):
    lone_surrogate = b'{"name": "\\ud800", "password": "x"}'  # valid JSON, not encodable text
    refused = client.post("/api/session", content=lone_surrogate, headers={"Content-Type": "application/json"})
    assert refused.status_code == 422 and refused.json()["detail"]
    sign_in(client, "ana")
    assert client.get("/api/audit", params={"offset": 10**20}).status_code == 422  # SQLite holds 8 bytes
    headers = {"X-CSRF-Token": client.get("/api/session").json()["csrf_token"]}
    out = client.delete("/api/session", headers=headers)
    assert out.status_code == 204 and out.content == b""  # a 204 has no body (a server refuses to send one)

def test_correcting_metadata_is_searchable_and_audited(client, portal_archive, clujul):
    sign_in(client, "ana")
    csrf = token(client, f"/documents/{clujul}")
    for field, value in [("title", "Monografia Clujului <i>1930</i>"), ("doc_type", "correspondence"),
                         ("years", "1930, 1931")]:
        assert client.post(f"/documents/{clujul}/metadata",
                           data={"csrf_token": csrf, "field": field, "value": value}).status_code == 303
    hits = client.get("/api/search", params={"q": "somesului", "doc_type": "correspondence",
                                             "year_from": 1930, "year_to": 1930}).json()["hits"]
    assert [hit["title"] for hit in hits] == ["Monografia Clujului <i>1930</i>"]
    assert "&lt;i&gt;1930" in client.get("/", params={"q": "somesului"}).text
    record = client.get(f"/api/documents/{clujul}").json()
    assert record["corrections"]["metadata"] == ["doc_type", "title", "years"]
    original = json.loads((portal_archive / "documents" / clujul / "document.json").read_text(encoding="utf-8"))
    assert original["metadata"]["title"] != record["metadata"]["title"]  # the catalog record is untouched
    actions = [(e["action"], e["target"]) for e in client.get("/api/audit").json()]
    assert actions[:3] == [("correct-metadata", "years"), ("correct-metadata", "doc_type"), ("correct-metadata", "title")]
    assert client.post(f"/documents/{clujul}/metadata",
                       data={"csrf_token": csrf, "field": "years", "value": "last year"}).status_code == 400
    # A year to come (2050 typed for 1950) was kept: the year facet showed it, and an embargo ran to 2150.
    future = client.post(f"/documents/{clujul}/metadata", data={"csrf_token": csrf, "field": "years",
                                                                 "value": "1950, 2050"})
    assert future.status_code == 400 and "between 1000 and" in future.text
    # The type is chosen among the archive's, by their names: a Ukrainian clerk had to type its English code.
    page = client.get(f"/documents/{clujul}", headers={"Accept-Language": "uk"}).text
    assert '<option value="council_decision">Рішення ради</option>' in page
    assert '<option value="correspondence" selected>' in page
    assert client.post(f"/documents/{clujul}/metadata",
                       data={"csrf_token": csrf, "field": "source", "value": "/etc/passwd"}).status_code == 400
    # A type misspelt became a facet of its own, which the filters and embargo rules naming the type passed over.
    misspelt = client.post(f"/documents/{clujul}/metadata", data={"csrf_token": csrf, "field": "doc_type",
                                                                   "value": "buildng_permit"},
                           headers={"Referer": f"http://testserver/documents/{clujul}?page=1"})
    assert misspelt.status_code == 400 and "building_permit" in misspelt.text
    # Its language switch goes back to the page the form was on: the form's own address takes no GET (405).
    assert f'name="next" value="/documents/{clujul}?page=1"' in misspelt.text
    # And its way back is to that page (only "Back to search" was offered: the document and its context lost).
    assert f'<a href="/documents/{clujul}?page=1">Back to the page you came from</a>' in misspelt.text
    assert client.get("/api/documents/" + clujul).json()["metadata"]["doc_type"] == "correspondence"


def test_reindex_from_disk_keeps_the_corrections(client, portal_archive, clujul):
    from pipeline import api
    from pipeline.options import Options

    sign_in(client, "ana")
    csrf = client.get("/api/session").json()["csrf_token"]
    line = client.get(f"/api/documents/{clujul}/pages/1").json()["lines"][0]
    client.put(f"/api/documents/{clujul}/pages/1/lines/{line['id']}", json={"text": "Heliotrop"},
               headers={"X-CSRF-Token": csrf})
    api.reindex(Options(archive=portal_archive))  # while the portal runs
    from pipeline.backends.search.protocol import SearchQuery

    assert api.search(Options(archive=portal_archive), SearchQuery("heliotrop")).total == 1
    assert client.get("/api/search", params={"q": "heliotrop"}).json()["total"] == 1


# --- review queue ---------------------------------------------------------------------------------------

def test_a_search_index_to_rebuild_is_said_in_the_reader_s_language(client, portal_archive, caplog):
    """The archive's ingests had indexed into Elasticsearch since: the clerk got the server's English message, its
    folders named, in every language."""
    from pipeline.backends.search import note_kept_in
    from pipeline.options import SearchSettings

    note_kept_in(portal_archive, SearchSettings(backend="elasticsearch", url="http://es.example:9200"))
    sign_in(client, "ana")
    page = client.get("/?q=cluj", headers={"Accept-Language": "ro"})
    assert page.status_code == 503 and "Indexul de căutare trebuie reconstruit" in page.text
    assert str(portal_archive) not in page.text
    answer = client.get("/api/search?q=cluj")
    assert answer.status_code == 503 and "retrodig reindex" in answer.json()["detail"]
    assert "last indexed in Elasticsearch at http://es.example:9200" in caplog.text  # for the administrator


def test_review_queue_lists_flagged_pages_until_accepted(client, portal_archive):
    faded = only_document(portal_archive, "faded-register.png")
    sign_in(client, "ana")
    html = client.get("/review").text
    assert f"/documents/{faded}?page=1" in html and "1 page waits" in html
    accepted = client.post(f"/review/{faded}/1/accept", data={"csrf_token": csrf_of(html), "p": "2"})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/review?p=2"  # back where it was
    assert f"/documents/{faded}?page=1" not in client.get("/review").text
    assert client.get("/api/review").json()["total"] == 0
    # Sent again (a double click): done already, not a second decision in the audit log.
    assert client.post(f"/review/{faded}/1/accept", data={"csrf_token": csrf_of(html)}).status_code == 303
    assert [e["action"] for e in client.get("/api/audit").json()].count("review-accept") == 1


def test_an_accept_sent_several_times_at_once_is_one_decision(client, portal_archive):
    # A double click sends two requests together: each found no decision yet, and the audit log had two.
    import threading

    from portal.accounts import User

    faded = only_document(portal_archive, "faded-register.png")
    service, start = client.app.state.service, threading.Barrier(4)

    def accept():
        start.wait()
        service.accept(User("ana", "admin", True), faded, 1)

    clicks = [threading.Thread(target=accept) for _ in range(4)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join(timeout=60)
    sign_in(client, "ana")
    assert [e["action"] for e in client.get("/api/audit").json()].count("review-accept") == 1


def test_lines_saved_at_once_are_all_found_by_search(client, portal_archive, clujul):
    """Ten archivists saving a line each at the same moment, through `retrodig serve`: all were saved, but only
    three to seven of the ten new words were found. Each save read the page's text for the index, and one that read
    before another's save could commit after it."""
    import threading

    import httpx

    sign_in(client, "ana")
    lines = client.get(f"/api/documents/{clujul}/pages/1").json()["lines"][:10]
    words = [f"cuvant{n}nou" for n in range(len(lines))]  # with a figure: no word finds another one letter away
    archivists = []
    with serving(portal_archive) as (_, url):
        for _ in lines:
            session = httpx.Client(base_url=url, timeout=60)
            archivists.append(session)
            sign_in(session, "ana")
            session.headers["X-CSRF-Token"] = session.get("/api/session").json()["csrf_token"]
        start, saved = threading.Barrier(len(lines)), []

        def save(session, line, word):
            start.wait()
            saved.append(session.put(f"/api/documents/{clujul}/pages/1/lines/{line['id']}",
                                     json={"text": word}).status_code)

        savers = [threading.Thread(target=save, args=work) for work in zip(archivists, lines, words)]
        for saver in savers:
            saver.start()
        for saver in savers:
            saver.join(timeout=120)
        for session in archivists:
            session.close()
    assert len(lines) == 10 and saved == [200] * 10
    missing = [word for word in words if client.get("/api/search", params={"q": word}).json()["total"] != 1]
    assert missing == []


def test_review_queue_shows_the_title_and_collection_staff_gave(client, portal_archive):
    # It showed the pipeline's, when the viewer, search and `show` had the corrected ones.
    faded = only_document(portal_archive, "faded-register.png")
    sign_in(client, "ana")
    csrf = csrf_of(client.get("/review").text)
    for field, value in (("title", "Registrul agricol 1931"), ("collection", "Fond 99")):
        assert client.post(f"/documents/{faded}/metadata", data={"csrf_token": csrf, "field": field,
                                                                  "value": value}).status_code == 303
    (item,) = client.get("/api/review").json()["items"]
    assert (item["title"], item["collection"]) == ("Registrul agricol 1931", "Fond 99")
    assert "Registrul agricol 1931" in client.get("/review").text


def test_only_a_flagged_page_can_be_accepted(client, portal_archive, clujul):
    sign_in(client, "ana")
    csrf = client.get("/api/session").json()["csrf_token"]
    # The Cluj page reads well: it was never in the queue. Accepting it was recorded, and audited, as a review.
    client.cookies.set("retrodig_lang", "ro")  # the refusal is translated
    refused = client.post(f"/review/{clujul}/1/accept", data={"csrf_token": csrf})
    assert refused.status_code == 409 and "printre cele de verificat" in refused.text
    assert client.post(f"/api/review/{clujul}/1", json={"decision": "accept"},
                       headers={"X-CSRF-Token": csrf}).status_code == 409
    assert [e for e in client.get("/api/audit").json() if e["action"] == "review-accept"] == []


def test_review_re_ocr_with_another_profile_makes_a_new_version(client, portal_archive):
    faded = only_document(portal_archive, "faded-register.png")
    sign_in(client, "ana")
    csrf = client.get("/api/session").json()["csrf_token"]
    refused = client.post(f"/api/review/{faded}/1", json={"decision": "reocr", "languages": "ron",
                                                          "profile": "../../etc/passwd"}, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 400
    response = client.post(f"/api/review/{faded}/1", json={"decision": "reocr", "languages": "ron+eng",
                                                           "profile": "photocopy"}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200, response.text
    entry = client.get("/api/audit").json()[0]
    assert (entry["action"], entry["target"]) == ("reocr", "ron+eng photocopy")
    assert (portal_archive / "corrections" / faded / "pages" / "0001.hocr").is_file()
    assert (portal_archive / "documents" / faded / "pages" / "0001.hocr").is_file()  # the original stays
    assert client.get("/api/review").json()["total"] == 0


def test_reading_a_page_again_does_not_wipe_staff_corrections_unasked(client, portal_archive, clujul):
    """"Read again", sent from a review queue opened before another archivist corrected the page, replaced the page's
    text and the corrections with it, without a word; so did the API on any corrected page."""
    faded = only_document(portal_archive, "faded-register.png")
    sign_in(client, "ana")
    headers = {"X-CSRF-Token": client.get("/api/session").json()["csrf_token"]}
    queue = client.get("/review").text  # the queue as opened, its forms ready to send
    assert f"/review/{faded}/1/reocr" in queue
    # the profiles by their names in the reader's language, sent by their codes (the codes were shown)
    in_polish = client.get("/review", headers={"Accept-Language": "pl"}).text
    assert '<option value="printed-book">książka drukowana</option>' in in_polish
    line = client.get(f"/api/documents/{faded}/pages/1").json()["lines"][0]
    assert client.put(f"/api/documents/{faded}/pages/1/lines/{line['id']}",
                      json={"text": "Registrul agricol", "expected": line["text"]}, headers=headers).status_code == 200
    stale = client.post(f"/review/{faded}/1/reocr", data={"csrf_token": csrf_of(queue), "languages": "ron",
                                                          "profile": "default"})
    assert stale.status_code == 409 and "it was not read again" in stale.text
    assert client.get(f"/api/documents/{faded}/pages/1").json()["lines"][0]["text"] == "Registrul agricol"

    line = client.get(f"/api/documents/{clujul}/pages/1").json()["lines"][0]
    assert client.put(f"/api/documents/{clujul}/pages/1/lines/{line['id']}",
                      json={"text": "Heliotrop", "expected": line["text"]}, headers=headers).status_code == 200
    reocr = {"decision": "reocr", "languages": "ron"}
    refused = client.post(f"/api/review/{clujul}/1", json=reocr, headers=headers)
    assert refused.status_code == 409 and "would replace their corrections" in refused.text
    assert "Heliotrop" in client.get(f"/api/documents/{clujul}/pages/1").json()["text"]
    asked = client.post(f"/api/review/{clujul}/1", json={**reocr, "replace_corrections": True}, headers=headers)
    assert asked.status_code == 200 and "Heliotrop" not in client.get(f"/api/documents/{clujul}/pages/1").json()["text"]
    assert client.post(f"/api/review/{clujul}/1", json=reocr, headers=headers).status_code == 200  # none since


def test_a_page_from_a_damaged_scan_file_says_so_in_the_queue(client, portal_archive, tmp_path):
    """A bit flipped in a JPEG's coded data left most of its page grey: flagged for review (pagework.file_doubt),
    and the queue says why, in the reader's language."""
    from pipeline.api import ingest
    from pipeline.options import Options

    from .conftest import SAMPLES

    data = bytearray((SAMPLES / "EHRI-DR-19390519-US_03.jpg").read_bytes())
    data[len(data) // 3] ^= 0x10
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "bitrot.jpg").write_bytes(bytes(data))
    ingest([str(scans)], Options(archive=portal_archive, languages="eng"))
    damaged = only_document(portal_archive, "bitrot.jpg")
    sign_in(client, "ana")
    (item,) = [i for i in client.get("/api/review").json()["items"] if i["document"] == damaged]
    assert item["file_doubt"] is True
    queue = client.get("/review", headers={"Accept-Language": "ro"}).text
    (entry,) = [e for e in queue.split('<li class="review-item">') if f"/documents/{damaged}?page=1" in e]
    assert "fișierul scanat este deteriorat" in entry


def test_writing_read_unsurely_or_not_at_all_is_counted_in_the_queue_and_marked_on_the_page(client, portal_archive,
                                                                                           tmp_path):
    import shutil

    from pipeline.api import ingest
    from pipeline.options import Options

    from .conftest import DATA

    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(DATA / "pages" / "EHRI-NISKO-19391112_DE_04.jpg", scans)  # a typed letter signed by hand
    ingest([str(scans)], Options(archive=portal_archive, languages="deu", profile="handwritten-mixed"))
    letter = only_document(portal_archive, "EHRI-NISKO-19391112_DE_04.jpg")
    record = json.loads((portal_archive / "documents" / letter / "document.json").read_text())
    unsure = [line["id"] for line in record["pages"][0]["unsure_lines"]]
    assert len(unsure) >= 3
    sign_in(client, "ana")
    queue = client.get("/review").text
    assert f"/documents/{letter}?page=1" in queue and f"{len(unsure)} lines read unsurely" in queue
    (item,) = [i for i in client.get("/api/review").json()["items"] if i["document"] == letter]
    assert item["unsure_lines"] == len(unsure)
    # Reading it again starts from how it was read: German, handwritten-mixed (not the default profile).
    (entry,) = [e for e in queue.split('<li class="review-item">') if f"/documents/{letter}?page=1" in e]
    assert '<option value="deu" selected>' in entry
    assert '<option value="handwritten-mixed" selected>print with handwriting</option>' in entry
    assert entry.count(" selected>") == 2  # German alone, and the profile
    page = client.get(f"/documents/{letter}?page=1").text
    assert f"{len(unsure)} lines read unsurely" in page
    assert all(f'<li id="{line_id}" class="unsure"' in page for line_id in unsure)
    assert page.count('class="unsure-box"') == len(unsure)  # and outlined on the scan
    lines = client.get(f"/api/documents/{letter}/pages/1").json()["lines"]
    assert sorted(line["id"] for line in lines if line["unsure"]) == sorted(unsure)
    # The places with writing no word was read from (the signatures Tesseract skipped) are counted and outlined.
    unread = record["pages"][0]["unread_writing"]
    assert len(unread) >= 3 and item["unread_places"] == len(unread)
    assert f"{len(unread)} places with writing left unread" in entry
    assert page.count('class="unread-box"') == len(unread)
    assert client.get(f"/api/documents/{letter}/pages/1").json()["unread_writing"] == unread
    # A line staff transcribed is no longer the unsure reading; the others stay marked until they are.
    csrf = client.get("/api/session").json()["csrf_token"]
    corrected = client.put(f"/api/documents/{letter}/pages/1/lines/{unsure[0]}", json={"text": "Hislak Rafaela"},
                           headers={"X-CSRF-Token": csrf})
    assert corrected.status_code == 200, corrected.text
    lines = client.get(f"/api/documents/{letter}/pages/1").json()["lines"]
    assert sorted(line["id"] for line in lines if line["unsure"]) == sorted(unsure[1:])
    assert f'<li id="{unsure[0]}" class="unsure"' not in client.get(f"/documents/{letter}?page=1").text
    # A place stays outlined until staff correct a line in it: "Hochachtung" lies in the signature beside it.
    (closing,) = [line for line in lines if line["text"] == "Hochachtung"]
    x, y = (closing["bbox"][0] + closing["bbox"][2]) / 2, (closing["bbox"][1] + closing["bbox"][3]) / 2
    around = [box for box in unread if box[0] <= x <= box[2] and box[1] <= y <= box[3]]
    assert around
    corrected = client.put(f"/api/documents/{letter}/pages/1/lines/{closing['id']}", json={"text": "Hochachtungsvoll"},
                           headers={"X-CSRF-Token": csrf})
    assert corrected.status_code == 200, corrected.text
    left_unread = client.get(f"/api/documents/{letter}/pages/1").json()["unread_writing"]
    assert left_unread == [box for box in unread if box not in around]


# --- ingest status ---------------------------------------------------------------------------------------

def test_ingest_runs_show_finished_running_and_killed_batches(client, portal_archive):
    sign_in(client, "clara")
    run_id = _run_id(portal_archive)
    assert f"/ingest/{run_id}" in client.get("/ingest").text
    detail = client.get(f"/ingest/{run_id}").text
    assert "faded-register.png" in detail and "review pages 1" in detail
    running = ProgressFile(portal_archive / "runs", ["/scans/fond-3"])  # this test process: alive
    running.started(documents=4, pages=40)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    killed = portal_archive / "runs" / f"in-progress-{dead.stdout.strip()}.json"
    killed.write_text(json.dumps({"pid": int(dead.stdout), "started": "2026-01-02T03:04:05+00:00", "pages": 9,
                                  "pages_done": 3, "failed": 1, "failures": [
                                      {"source": "/scans/x.tif", "reason": "truncated", "detail": "file ends early"}]}))
    runs = client.get("/api/runs").json()
    states = {(run["running"], run["stopped"]) for run in runs}
    assert {(True, False), (False, True), (False, False)} <= states
    html = client.get("/ingest").text
    assert 'max="40"' in html and "file ends early" in html and "stopped before the end" in html
    running.close()
    # The next ingest files the killed run's report (it left no trace once its progress file was removed),
    # under the time it started; the portal lists it as stopped, and says why in the reader's language.
    from pipeline.api import ingest
    from pipeline.options import Options

    (portal_archive.parent / "nothing").mkdir()
    ingest([str(portal_archive.parent / "nothing")], Options(archive=portal_archive, jobs=1))
    reports = {run["id"]: run for run in client.get("/api/runs").json()}
    killed_run = reports["20260102T030405000000Z"]
    assert killed_run["stopped"] and not killed_run["running"] and killed_run["state"]["failed"] == 1
    assert not [run for run in reports.values() if run["running"]]
    detail = client.get("/ingest/20260102T030405000000Z", headers={"Accept-Language": "ro"}).text
    assert "procesul său s-a încheiat" in detail and "file ends early" in detail
    assert "trunchiat" in detail and "<code>truncated</code>" not in detail  # the reason named, not its code
    assert "2 ian. 2026" in detail  # the run's start, not its id (20260102T030405000000Z)


def test_a_running_ingest_writes_progress_the_portal_can_read(tmp_path, phototest):
    from pipeline.api import ingest
    from pipeline.options import Options

    seen = []

    class Watch:
        def started(self, documents, pages): ...

        def page_done(self): ...

        def item(self, item):  # the document is done: the progress file has its totals
            seen.append(json.loads(next((tmp_path / "archive" / "runs").glob("in-progress-*.json")).read_text()))

    ingest([str(phototest)], Options(archive=tmp_path / "archive", jobs=1), events=Watch())
    assert seen and seen[0]["pages"] == 1 and seen[0]["documents"] == 1
    assert not list((tmp_path / "archive" / "runs").glob("in-progress-*.json"))  # gone when the run ends


# --- languages ----------------------------------------------------------------------------------------

def test_language_switch_and_locale_formats(client, portal_archive):
    sign_in(client, "ana")
    csrf = token(client)
    assert client.post("/language", data={"csrf_token": csrf, "lang": "uk", "next": "/ingest"}).headers["location"] == "/ingest"
    html = client.get("/ingest").text
    assert 'lang="uk"' in html and "Пошук" in html and "Журнал змін" in html
    client.post("/language", data={"csrf_token": csrf, "lang": "ro", "next": "https://evil.example/"})
    assert "Căutare" in client.get("/").text
    client.post("/language", data={"csrf_token": csrf, "lang": "pl"})
    assert "Wyszukiwanie" in client.get("/").text or "Szukaj" in client.get("/").text
    client.cookies.delete("retrodig_lang")
    assert "Căutare" in client.get("/", headers={"Accept-Language": "ro-RO,ro;q=0.9,en;q=0.5"}).text


def test_an_address_opened_with_the_wrong_method_gets_the_error_page(client):
    # A bookmarked /logout (a form's action) answered {"detail":"Method Not Allowed"}, in English, as raw JSON.
    page = client.get("/logout", headers={"Accept-Language": "ro"})
    assert page.status_code == 405 and page.headers["content-type"].startswith("text/html")
    assert "Această adresă nu deschide o pagină" in page.text and "POST" in page.headers["allow"]
    assert client.put("/api/session").json()["detail"].startswith("This address opens no page")  # the API: JSON


def test_every_message_is_translated_in_every_language():
    from babel.messages.pofile import read_po

    from portal.i18n import LANGUAGES, LOCALES_DIR

    for language in set(LANGUAGES) - {"en"}:
        with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle, locale=language)
        assert len(catalog) > 100
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings), f"{language}: '{message.id}' is not translated"
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            for placeholder in {p for i in ids for p in __import__("re").findall(r"%\(\w+\)s", i)}:
                assert all(placeholder in s for s in strings), f"{language}: {placeholder} lost in '{message.id}'"


def test_every_template_message_is_in_the_catalogs():
    import re

    from babel.messages.pofile import read_po

    from portal.i18n import LOCALES_DIR
    from portal.labels import LABELS

    with (LOCALES_DIR / "uk" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle)}
    used = set()
    for template in (LOCALES_DIR.parent / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        used |= set(re.findall(r"""_\((["'])(.+?)\1\)""", text) and
                    [m[1] for m in re.findall(r"""_\((["'])(.+?)\1\)""", text)])
        used |= {m[1] for m in re.findall(r"""ngettext\((["'])(.+?)\1""", text)}
    used |= {label for kind in LABELS.values() for label in kind.values()}
    missing = {u.replace('\\"', '"') for u in used} - known
    assert not missing


# --- REST API and OpenAPI --------------------------------------------------------------------------------

def test_api_session_search_and_openapi(client, clujul):
    assert client.post("/api/session", json={"name": "clara", "password": "wrong-password"}).status_code == 401
    signed = client.post("/api/session", json={"name": "clara", "password": PASSWORDS["clara"]})
    assert signed.status_code == 200 and signed.json()["role"] == "clerk"
    results = client.get("/api/search", params={"q": "situatia geografica"}).json()
    assert results["hits"][0]["document"] == clujul
    assert {"collection", "doc_type", "language", "year"} <= set(results["facets"])
    record = client.get(f"/api/documents/{clujul}").json()
    assert record["id"] == clujul and record["pages"][0]["number"] == 1
    schema = client.get("/openapi.json").json()
    for path in ["/api/search", "/api/documents/{doc_id}", "/api/documents/{doc_id}/pages/{number}",
                 "/api/documents/{doc_id}/pages/{number}/lines/{line_id}", "/api/documents/{doc_id}/metadata",
                 "/api/review", "/api/runs", "/api/audit"]:
        assert path in schema["paths"], path
    assert client.delete("/api/session").status_code == 403  # a write: needs the CSRF header
    assert client.delete("/api/session", headers={"X-CSRF-Token": signed.json()["csrf_token"]}).status_code == 204
    assert client.get("/api/search", params={"q": "cluj"}).status_code == 401


# --- accounts: CLI and admin page ---------------------------------------------------------------------------

def test_user_commands(run_cli, archive_dir, portal_archive_template):
    import shutil

    shutil.copytree(portal_archive_template, archive_dir)
    assert run_cli("user", "add", "maria", "--role", "archivist", "--password-stdin").exit_code != 0  # no input
    from click.testing import CliRunner

    from cli.main import cli

    def run(*args, stdin=None):
        return CliRunner().invoke(cli, ["--archive", str(archive_dir), *args], input=stdin)

    assert run("user", "add", "Maria", "--role", "archivist", "--password-stdin", stdin="short\n").exit_code == 2
    assert run("user", "add", "maria", "--role", "archivist", "--password-stdin", stdin=" " * 12 + "\n").exit_code == 2
    assert run("user", "add", "maria", "--role", "archivist", "--password-stdin", stdin="long-enough-pw\n").exit_code == 0
    assert run("user", "add", "maria", "--password-stdin", stdin="long-enough-pw\n").exit_code == 2  # exists
    listed = json.loads(run("user", "list", "--json").output)
    assert listed[0]["name"] == "maria" and listed[0]["role"] == "archivist"
    assert run("user", "passwd", "maria", "--password-stdin", stdin="another-long-pw\n").exit_code == 0
    assert run("user", "role", "maria", "admin").exit_code == 0
    refused = run("user", "disable", "maria")  # the last active admin: no one could manage users any more
    assert refused.exit_code == 2 and "last active admin" in refused.output
    assert run("user", "add", "ioana", "--role", "admin", "--password-stdin", stdin="long-enough-pw\n").exit_code == 0
    assert run("user", "disable", "maria").exit_code == 0
    assert run("user", "passwd", "nobody", "--password-stdin", stdin="another-long-pw\n").exit_code == 2
    from portal.accounts import Accounts, LoginRefused
    from portal.db import staff_database

    with pytest.raises(LoginRefused):
        Accounts(staff_database(archive_dir)).log_in("maria", "another-long-pw", "127.0.0.1")
    # A user who forgot the password and tried too often: the new one an admin sets opens at once (429 before).
    from portal.accounts import LoginThrottled

    accounts = Accounts(staff_database(archive_dir))
    for _ in range(6):
        with pytest.raises((LoginRefused, LoginThrottled)):
            accounts.log_in("ioana", "forgotten-pass", "127.0.0.1")
    with pytest.raises(LoginThrottled):
        accounts.log_in("ioana", "long-enough-pw", "127.0.0.1")
    assert run("user", "passwd", "ioana", "--password-stdin", stdin="a-new-long-pw\n").exit_code == 0
    assert accounts.log_in("ioana", "a-new-long-pw", "127.0.0.1").user.name == "ioana"
    # A name as `add` and signing in take it ("IOANA", " ioana "): passwd, role and enable said no such user.
    # A password file written on Windows: its \r was kept, and no one could type the password.
    assert run("user", "passwd", " IOANA ", "--password-stdin", stdin="windows-pass-1\r\n").exit_code == 0
    assert Accounts(staff_database(archive_dir)).log_in("ioana", "windows-pass-1", "127.0.0.1").user.name == "ioana"
    assert run("user", "role", "Maria", "clerk").exit_code == 0 and run("user", "enable", "MARIA").exit_code == 0
    # Each change made here is in the audit log, as the Users page's are (they went unrecorded).
    from portal.audit import AuditLog

    logged = [(e.user, e.action, e.target) for e in AuditLog(staff_database(archive_dir)).entries()]
    assert all(user.startswith("cli:") for user, _, _ in logged)
    assert {("user-add", "maria"), ("user-role", "maria"), ("user-active", "maria"), ("user-password", "ioana")} \
        <= {(action, target) for _, action, target in logged}
    # No terminal to ask on (a script, a pipe): "Aborted!", exit 1, as for a bug.
    scripted = run("user", "add", "radu", stdin="long-enough-pw\nlong-enough-pw\n")
    assert scripted.exit_code == 2 and "--password-stdin" in scripted.output


def test_the_audit_log_shows_roles_and_states_in_the_reader_s_language(client):
    """Its Before and After showed the codes: clerk, archivist, true."""
    sign_in(client, "adam")
    csrf = token(client, "/users")
    assert client.post("/users/clara", data={"csrf_token": csrf, "role": "archivist"}).status_code == 303
    assert client.post("/users/clara", data={"csrf_token": csrf, "active": "0"}).status_code == 303
    audit = client.get("/audit", headers={"Accept-Language": "uk"}).text
    assert '<td class="after">архівіст</td>' in audit and '<td class="before">clerk</td>' not in audit
    assert '<td class="before">активний</td>' in audit


def test_the_last_active_admin_cannot_disable_or_demote_themselves(client):
    sign_in(client, "adam")  # the only admin
    csrf = token(client, "/users")
    for change in ({"active": "0"}, {"role": "clerk"}):
        refused = client.post("/users/adam", data={"csrf_token": csrf, **change})
        assert refused.status_code == 400 and "last active admin" in refused.text
    assert client.get("/users").status_code == 200  # still an admin, still signed in
    assert client.post("/users/clara", data={"csrf_token": csrf, "role": "admin"}).status_code == 303
    assert client.post("/users/adam", data={"csrf_token": csrf, "role": "clerk"}).status_code == 303


def test_refused_input_is_explained_in_the_readers_language(client, clujul):
    """The reasons came in English on Romanian, Polish and Ukrainian pages (only the portal's own were
    translated), and a line too long was "the form was incomplete"."""
    sign_in(client, "adam")
    client.cookies.set("retrodig_lang", "ro")
    csrf = token(client, "/users")
    years = client.post(f"/documents/{clujul}/metadata", data={"csrf_token": csrf, "field": "years",
                                                               "value": "anul 1931"})
    assert years.status_code == 400 and "anii se scriu cu patru cifre" in years.text and "anul 1931" in years.text
    line = client.post(f"/documents/{clujul}/pages/1/lines", data={"csrf_token": csrf, "line": "nope", "text": "x"})
    assert line.status_code == 400 and "nu are rândul „nope”" in line.text
    long = client.post(f"/documents/{clujul}/pages/1/lines", data={"csrf_token": csrf, "line": "line_1_1",
                                                                    "text": "x" * 2001})
    assert long.status_code == 400 and "Textul este prea lung: cel mult 2000 de caractere." in long.text
    short = client.post("/users", data={"csrf_token": csrf, "name": "maria", "password": "short", "role": "clerk"})
    assert short.status_code == 400 and "parola trebuie să aibă cel puțin 10 caractere" in short.text
    again = client.post(f"/review/{clujul}/1/reocr", data={"csrf_token": csrf, "languages": "xx1",
                                                             "profile": "default"})
    assert again.status_code == 400 and "„xx1” nu este un cod de limbă Tesseract" in again.text
    client.cookies.set("retrodig_lang", "uk")
    assert "«abc» не є роком" in client.get("/", params={"q": "cluj", "from": "abc"}).text
    assert client.get("/api/search", params={"q": "cluj", "year_from": "x"}).status_code == 422  # the API: as is


def test_admin_manages_users_in_the_portal(client):
    sign_in(client, "adam")
    csrf = token(client, "/users")
    assert client.post("/users", data={"csrf_token": csrf, "name": "olena", "password": "olena-pass-1",
                                       "role": "clerk"}).status_code == 303
    assert client.post("/users", data={"csrf_token": csrf, "name": "x", "password": "short",
                                       "role": "clerk"}).status_code == 400
    assert client.post("/users/olena", data={"csrf_token": csrf, "role": "archivist", "active": "1"}).status_code == 303
    assert "olena" in client.get("/users").text
    actions = [e["action"] for e in client.get("/api/audit").json()]
    assert actions[:2] == ["user-role", "user-add"]
    sign_in(client, "olena", "olena-pass-1")
    assert client.get("/api/session").json()["role"] == "archivist"
