"""Citizens' requests, the clerks' side, in-process on a real archive with a real SMTP server (aiosmtpd): the
queue and its filters, status changes that e-mail the citizen in the request's language, asking for more
information, linking the record found by search, redaction review, embargo refusal, fees, delivery of the
redacted certified copy with a download link that expires and counts, verification, satisfaction, metrics,
the REST API, and what a visitor without a session cannot reach."""

from __future__ import annotations

import hashlib
import re
import subprocess
import threading

import pytest

from .portal_support import csrf_of, only_document, portal_client, sign_in, token
from .requests_support import (
    PERMIT_FORM, body, file_request, free_port, link_in, request_settings, rows_in_portal_db, set_in_portal_db,
    start_smtp, tracking_code,
)

BIRTH_FORM = {"applicant": "Elena Marin", "email": "elena@example.ro", "relation": "other", "event": "birth",
              "person": "Ion Popescu", "year": "1980", "delivery": "electronic", "consent": "yes"}


@pytest.fixture
def client(requests_archive, smtp):
    with portal_client(requests_archive, requests=request_settings(smtp.port, download_limit=2)) as client:
        yield client


@pytest.fixture
def permit(requests_archive):
    return only_document(requests_archive, "pozwolenie-12-1978.png")


@pytest.fixture
def birth(requests_archive):
    return only_document(requests_archive, "certificat-nastere-1980.png")


def _post(client, path, **data):
    return client.post(path, data={"csrf_token": token(client, "/requests"), **data})


def _file_and_sign_in(client, form=None, card="building-permit-copy", language="pl"):
    code = tracking_code(file_request(client, card=card, form=form, language=language))
    sign_in(client, "clara")
    return code


# --- who may see what ------------------------------------------------------------------------------------

def test_staff_pages_need_a_session(client, permit):
    code = tracking_code(file_request(client))
    for path in ["/requests", "/requests/1", "/requests/1/attachments/1", f"/requests/1/records/{permit}",
                 "/metrics"]:
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    for path in ["/api/requests", "/api/requests/1", "/api/metrics"]:
        assert client.get(path).status_code == 401, path
    csrf = csrf_of(client.get("/services").text)  # a visitor's own (pre-session) token does not help
    for path in ["/requests/1/status", "/requests/1/deliver", "/requests/1/records", "/requests/1/assign"]:
        response = client.post(path, data={"csrf_token": csrf, "status": "refused", "message": "x",
                                           "document": permit})
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    assert client.get(f"/track/{code}").status_code == 200  # still received, untouched
    assert "received" in client.get(f"/api/track/{code}").json()["status"]


TRAVERSALS = [
    "/requests/1/attachments/..%2F..%2Fportal%2Fportal.sqlite",
    "/requests/1/attachments/%2e%2e%2fsecret.key",
    "/requests/1/attachments/2",
    "/requests/2/attachments/1",
    "/requests/..%2F..%2Fetc%2Fpasswd",
    "/requests/1/records/..%2F..%2Fretrodig.yaml",
    "/download/..%2F..%2Fportal%2Fportal.sqlite",
    "/download/..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/download/%2e%2e%2f%2e%2e%2fcopies%2fregistry.sqlite",
    "/track/..%2F..%2Fportal%2Fsecret.key",
    "/verify/..%2F..%2Fcopies%2Fregistry.sqlite",
]


def test_request_file_routes_stay_inside_the_archive(client):
    tracking_code(file_request(client))
    sign_in(client, "clara")
    for path in TRAVERSALS:
        response = client.get(path)
        assert response.status_code in (404, 422), (path, response.status_code)
        assert b"SQLite format" not in response.content and b"root:" not in response.content


def test_attachments_reach_clerks_only_as_downloads_of_their_real_type(client, requests_archive):
    _file_and_sign_in(client)
    response = client.get("/requests/1/attachments/1")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


# --- working a request -----------------------------------------------------------------------------------

def test_every_status_change_emails_the_citizen_in_the_requests_language(client, smtp, permit):
    code = _file_and_sign_in(client)
    queue = client.get("/requests").text
    assert "Anna Nowak" in queue and "overdue" not in queue.split("<tbody>")[1]
    assert _post(client, "/requests/1/assign", clerk="clara").status_code == 303
    assert "clara" in client.get("/requests", params={"assigned": "clara"}).text
    assert "Anna Nowak" not in client.get("/requests", params={"assigned": "-"}).text
    assert _post(client, "/requests/1/status", status="searching").status_code == 303
    # asking the citizen needs the question; the citizen answers on the tracking page
    assert _post(client, "/requests/1/status", status="needs_info").status_code == 409
    assert _post(client, "/requests/1/status", status="needs_info",
                 message="Proszę podać numer działki.").status_code == 303
    _post(client, "/requests/1/note", text="Internal: the applicant called twice.")
    page = client.get(f"/track/{code}", headers={"Accept-Language": "pl"}).text
    assert "Proszę podać numer działki." in page and "Archiwum potrzebuje więcej informacji" in page
    assert "Internal: the applicant called twice." not in page and "assigned to" not in page
    assert "Internal" not in str(client.get(f"/api/track/{code}").json())
    citizen_csrf = csrf_of(page)
    answered = client.post(f"/track/{code}/answer", data={"csrf_token": citizen_csrf, "text": "Działka nr\x00 1234/5.\x1b"},
                           headers={"Accept-Language": "pl"}, follow_redirects=True)
    assert "Twoja odpowiedź została wysłana do archiwum" in answered.text  # the citizen is told (nothing was said)
    detail = client.get("/requests/1").text
    assert "Działka nr 1234/5." in detail and "being searched" in detail  # control characters are not kept
    assert "\x1b" not in detail and "\x00" not in detail and "&#0;" not in detail
    # found needs a linked record
    assert _post(client, "/requests/1/status", status="found").status_code == 409
    assert _post(client, "/requests/1/status", status="delivered").status_code == 409  # not a clerk's button here
    subjects = [m["Subject"] for m in smtp.wait_for(3)]
    assert len(subjects) == 3 and all(s.startswith("Wniosek 20") for s in subjects)
    assert "szukamy w archiwum" in subjects[1] and "potrzebujemy więcej informacji" in subjects[2]
    assert "Proszę podać numer działki." in body(smtp.messages[2])
    assert link_in(smtp.messages[2], "/track/").endswith(code)  # every message carries the tracking link


def test_clerk_finds_the_record_reviews_redactions_and_delivers_a_certified_copy(client, smtp, permit,
                                                                                  requests_archive, tmp_path):
    code = _file_and_sign_in(client)
    _post(client, "/requests/1/status", status="searching")
    detail = client.get("/requests/1").text  # the search is made from the request's own fields
    assert 'value="ul. Mickiewicza 5, Przemyśl Jan Kowalski"' in detail
    assert f'name="document" value="{permit}"' in detail
    assert _post(client, "/requests/1/records", document=permit).status_code == 303
    _post(client, "/requests/1/status", status="found")
    # the proposals include the PESEL (found by its checksum)
    review = client.get(f"/requests/1/records/{permit}")
    assert review.status_code == 200 and 'class="redaction-box' in review.text
    assert "Polish personal number (PESEL)" in review.text and "44051401359" in review.text
    # delivering before the redactions are confirmed is refused
    assert _post(client, "/requests/1/deliver").status_code == 409
    # the clerk adds a box over the street address, then confirms
    street = _line_box(client, permit, "Mickiewicza")
    added = _post(client, f"/requests/1/records/{permit}/pages/1/boxes/new", x=street[0], y=street[1],
                  w=street[2] - street[0], h=street[3] - street[1])
    assert added.status_code == 303
    off_page = _post(client, f"/requests/1/records/{permit}/pages/1/boxes/new", x=1, y=1, w=99999, h=5)
    assert off_page.status_code == 409
    for odd in ("²", "1" * 20):  # a digit int() refuses, a number SQLite cannot hold: refused, not a crash
        moved = _post(client, f"/requests/1/records/{permit}/pages/1/boxes", x_1=odd, y_1="1", w_1="1", h_1="1")
        assert moved.status_code == 400, odd
    assert _post(client, f"/requests/1/records/{permit}/confirm").status_code == 303
    assert _post(client, "/requests/1/deliver").status_code == 303
    # the citizen's tracking page says delivered, and the e-mail carries the download link
    assert "wydany" in client.get(f"/track/{code}", headers={"Accept-Language": "pl"}).text
    mail = smtp.messages[-1]
    assert "Twoja kopia" in mail["Subject"]
    link = link_in(mail, "/download/")
    path = link.split("testserver", 1)[1]
    client.cookies.clear()  # the citizen is not signed in
    pdf = client.get(path)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf" and "attachment" in pdf.headers["content-disposition"]
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(copy), "-"], capture_output=True, text=True, check=True).stdout
    assert "44051401359" not in text and "Mickiewicza" not in text
    assert "Pozwolenie" in text and "budowę" in text  # the rest of the page is still there
    # the verification page confirms the copy by its id (from the register) and by its hash
    digest = hashlib.sha256(pdf.content).hexdigest()
    verified = client.get(f"/verify/{digest}")
    assert verified.status_code == 200 and "This copy was issued by the archive." in verified.text
    number = client.get(f"/api/track/{code}").json()["number"]
    assert digest in verified.text and number in verified.text and permit in verified.text
    copy_id = client.get(f"/api/verify/{digest}").json()["copy_id"]
    assert client.get(f"/verify/{copy_id}").status_code == 200
    assert client.get("/verify/" + "0" * 64).status_code == 404
    # or by the file itself, which the portal hashes (the citizen was left to compute a SHA-256)
    form = client.get("/verify").text
    checked = client.post("/verify", data={"csrf_token": csrf_of(form)},
                          files={"file": ("kopia <b>.pdf", pdf.content, "application/pdf")})
    assert checked.status_code == 200 and "is a copy issued by the archive, unchanged" in checked.text
    assert "kopia &lt;b&gt;.pdf" in checked.text and digest in checked.text
    changed = client.post("/verify", data={"csrf_token": csrf_of(form)},
                          files={"file": ("kopia.pdf", pdf.content + b"\n", "application/pdf")})
    assert changed.status_code == 404 and "not a copy issued by the archive, or it was changed" in changed.text
    # the link counts: the limit is 2
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 410


def test_a_box_proposed_partly_off_the_page_does_not_block_the_form(client, permit, requests_archive):
    """Every box the form showed was checked against the page, moved or not: one proposed past the page's edge
    had the whole form refused ("The box must lie inside the page."), and no box of the page could be unticked."""
    _file_and_sign_in(client)
    _post(client, "/requests/1/records", document=permit)
    set_in_portal_db(requests_archive, "UPDATE redaction_boxes SET right = right + 5000 WHERE id = 1")
    form = client.get(f"/requests/1/records/{permit}").text
    shown = re.findall(r'name="shown" value="(\d+)"', form)
    fields = {f"{c}_{n}": re.search(rf'name="{c}_{n}" value="(-?\d+)"', form).group(1) for n in shown for c in "xywh"}
    kept = [n for n in shown if n != "1"]
    saved = client.post(f"/requests/1/records/{permit}/pages/1/boxes",
                        data={"csrf_token": token(client, "/requests"), "shown": shown, "keep": kept, **fields})
    assert saved.status_code == 303
    assert rows_in_portal_db(requests_archive, "SELECT keep FROM redaction_boxes WHERE id = 1") == [(0,)]


def test_who_drew_or_unticked_a_redaction_box_is_in_the_requests_history(client, permit, requests_archive):
    """Adding, unticking or moving a box was recorded nowhere: only the link and the confirmation were."""
    _file_and_sign_in(client)
    _post(client, "/requests/1/records", document=permit)
    _post(client, f"/requests/1/records/{permit}/pages/1/boxes/new", x=100, y=100, w=200, h=40)
    form = client.get(f"/requests/1/records/{permit}").text
    shown = re.findall(r'name="shown" value="(\d+)"', form)
    fields = {f"{c}_{n}": re.search(rf'name="{c}_{n}" value="(-?\d+)"', form).group(1) for n in shown for c in "xywh"}
    client.post(f"/requests/1/records/{permit}/pages/1/boxes",
                data={"csrf_token": token(client, "/requests"), "shown": shown, "keep": shown[1:], **fields})
    history = rows_in_portal_db(requests_archive, "SELECT actor, text FROM request_events WHERE kind = 'note'")
    assert ("clara", f"redaction box drawn on {permit} page 1 (100, 100, 300, 140)") in history
    assert ("clara", f"redactions of {permit} page 1 changed: {len(shown) - 1} of {len(shown)} boxes kept "
                     "(1 ticked or unticked), 0 moved") in history
    page = client.get("/requests/1", headers={"Accept-Language": "pl"}).text  # in the reader's language
    assert f"Ramka zaczernienia narysowana w {permit}, strona 1" in page and "zachowano" in page


def _line_box(client, doc, word):
    page = client.get(f"/api/documents/{doc}/pages/1").json()
    line = next(line for line in page["lines"] if word in line["text"])
    return line["bbox"]


def _deliver_permit(client, permit):
    _post(client, "/requests/1/status", status="searching")
    _post(client, "/requests/1/records", document=permit)
    _post(client, "/requests/1/status", status="found")
    _post(client, f"/requests/1/records/{permit}/confirm")
    assert _post(client, "/requests/1/deliver").status_code == 303


def test_an_expired_link_is_refused_and_works_only_for_its_copy(client, smtp, permit, requests_archive):
    _file_and_sign_in(client)
    _deliver_permit(client, permit)
    path = link_in(smtp.messages[-1], "/download/").split("testserver", 1)[1]
    token = path.rsplit("/", 1)[1]
    for other in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[::-1], token[:20]):
        assert client.get(f"/download/{other}").status_code == 404
    set_in_portal_db(requests_archive, "UPDATE issued_copies SET expires = expires - 30 * 86400")  # time passes
    gone = client.get(path)
    assert gone.status_code == 410 and b"%PDF" not in gone.content
    assert "expired" in gone.text
    assert client.get(path, headers={"Accept-Language": "uk"}).status_code == 410


def test_two_clerks_delivering_at_once_make_one_copy(client, smtp, permit, requests_archive):
    """Both deliveries went through: two certified copies registered at one file (the first lost its file while
    still listed as valid) and two e-mails. The second now finds the request taken."""
    from portal.citizens.workflow import ActionRefused

    _file_and_sign_in(client)
    _post(client, "/requests/1/status", status="searching")
    _post(client, "/requests/1/records", document=permit)
    _post(client, "/requests/1/status", status="found")
    _post(client, f"/requests/1/records/{permit}/confirm")
    casework, start = client.app.state.service.casework, threading.Barrier(2)
    outcomes = []

    def deliver(user):
        start.wait()
        try:
            casework.deliver(user, 1, "http://testserver/")
            outcomes.append("delivered")
        except ActionRefused as refused:
            outcomes.append(refused.message)

    clerks = [threading.Thread(target=deliver, args=(name,)) for name in ("clara", "ana")]
    for clerk in clerks:
        clerk.start()
    for clerk in clerks:
        clerk.join(timeout=120)
    assert sorted(outcomes) == ["This request cannot go from “%(current)s” to “%(wanted)s”.", "delivered"]
    assert rows_in_portal_db(requests_archive, "SELECT count(*) FROM issued_copies") == [(1,)]
    assert [event["status"] for event in client.get("/api/requests/1").json()["events"]
            if event["kind"] == "status"][-2:] == ["ready", "delivered"]


def test_the_history_reads_in_the_clerks_language(client, permit):
    # The portal's own notes ("record … linked", "assigned to …") and the actor "citizen" were shown in English.
    _file_and_sign_in(client)
    _post(client, "/requests/1/records", document=permit)
    _post(client, "/requests/1/assign", clerk="clara")
    page = client.get("/requests/1", headers={"Accept-Language": "ro"}).text
    assert f"Documentul {permit} a fost legat" in page and "Atribuită lui clara" in page and "Solicitant" in page
    assert f"record {permit} linked" not in page and "assigned to" not in page


def test_every_download_of_the_copy_counts_and_a_head_does_not(client, smtp, permit):
    """A HEAD (a mail system's link scanner) used up one of the link's downloads (two here), and the citizen's own
    was refused. A range not starting at the first byte was served and not counted: `bytes=-100000000` or
    `bytes=1-` fetched the copy as often as anyone liked. Every GET now gets the whole file and counts."""
    _file_and_sign_in(client)
    _deliver_permit(client, permit)
    path = link_in(smtp.messages[-1], "/download/").split("testserver", 1)[1]
    assert client.head(path).status_code == 200
    for asked in ("bytes=-100000000", "bytes=1-"):  # the link's two downloads
        whole = client.get(path, headers={"Range": asked})
        assert whole.status_code == 200 and whole.content.startswith(b"%PDF")
        assert whole.headers["accept-ranges"] == "none"
    assert client.get(path).status_code == 410
    assert client.get(path, headers={"Range": "bytes=1-"}).status_code == 410
    assert client.head(path).status_code == 410


def test_embargo_refuses_a_young_civil_status_record_to_a_third_party(client, smtp, birth):
    _file_and_sign_in(client, form=BIRTH_FORM, card="civil-status-extract", language="ro")
    _post(client, "/requests/1/status", status="searching")
    _post(client, "/requests/1/records", document=birth)
    _post(client, "/requests/1/status", status="found")
    # No fee is asked for a copy an embargo holds back: the citizen paid for what could not come.
    asked = _post(client, "/requests/1/status", status="awaiting_payment")
    assert asked.status_code == 409 and "An embargo holds a record back" in asked.text
    _post(client, f"/requests/1/records/{birth}/confirm")
    detail = client.get("/requests/1").text  # OCR found no year in it: young until a clerk says otherwise
    assert "Delivery is refused: embargo" in detail and 'class="primary deliver" disabled' in detail
    assert "Civil-status record from an unknown year" in detail and "Set the record&#39;s years" in detail
    sign_in(client, "ana")  # an archivist sets the record's year in the catalog
    client.post(f"/documents/{birth}/metadata", data={"csrf_token": token(client, f"/documents/{birth}"),
                                                      "field": "years", "value": "1980"})
    detail = client.get("/requests/1").text
    assert "Civil-status record from 1980" in detail and "younger than 100 years" in detail
    assert "Third parties may have it from 2080." in detail and "Legal representative" in detail
    refused = _post(client, "/requests/1/deliver")
    assert refused.status_code == 409 and "Delivery refused" in refused.text and birth in refused.text
    assert "civil_status" not in refused.text  # the type by its name, as the page above says it
    in_romanian = client.post("/requests/1/deliver", data={"csrf_token": token(client, "/requests")},
                              headers={"Accept-Language": "ro"})
    assert in_romanian.status_code == 409 and "Eliberare refuzată" in in_romanian.text
    assert "Act de stare civilă" in in_romanian.text
    assert client.get("/api/requests/1").json()["embargoes"][0]["until"] == 2080
    assert client.get("/api/requests/1").json()["status"] == "found" and not client.get("/api/requests/1").json()["copies"]
    assert all("copia" not in m["Subject"] for m in smtp.messages)


def test_embargo_holds_for_the_type_the_card_copies_whatever_the_catalog_guessed(client, smtp, permit):
    """A civil-status extract asked for by a third party, linked to a record the catalog typed otherwise (here
    the permit, 1978): the embargo looked at the catalog's type only, and the copy was delivered."""
    _file_and_sign_in(client, form=BIRTH_FORM, card="civil-status-extract", language="ro")
    _post(client, "/requests/1/status", status="searching")
    _post(client, "/requests/1/records", document=permit)
    _post(client, "/requests/1/status", status="found")
    assert _post(client, "/requests/1/status", status="awaiting_payment").status_code == 409  # held back
    _post(client, f"/requests/1/records/{permit}/confirm")
    refused = _post(client, "/requests/1/deliver")
    assert refused.status_code == 409 and "Delivery refused" in refused.text
    (embargo,) = client.get("/api/requests/1").json()["embargoes"]
    assert embargo["doc_type"] == "civil_status" and not client.get("/api/requests/1").json()["copies"]


def test_the_person_concerned_may_have_the_young_record(client, smtp, birth):
    _file_and_sign_in(client, form={**BIRTH_FORM, "relation": "self"}, card="civil-status-extract", language="ro")
    _post(client, "/requests/1/status", status="searching")
    _post(client, "/requests/1/records", document=birth)
    _post(client, "/requests/1/status", status="found")
    assert _post(client, f"/requests/1/records/{birth}/confirm").status_code == 303
    assert _post(client, "/requests/1/deliver").status_code == 409  # the fee first
    _post(client, "/requests/1/status", status="awaiting_payment")
    assert "10,00" in body(smtp.messages[-1]) and "RON" in body(smtp.messages[-1])
    _post(client, "/requests/1/status", status="paid")
    assert _post(client, "/requests/1/deliver").status_code == 303
    assert "Cererea 20" in smtp.messages[-1]["Subject"] and "copia dumneavoastră" in smtp.messages[-1]["Subject"]


def test_a_citizen_asked_for_the_fee_is_told_how_to_pay(requests_archive, smtp, birth):
    """The e-mail said what the fee was and that the copy waits for it, with no account and no reference: a
    citizen abroad could not pay. The town hall's text, in the request's language, goes in it and on the page."""
    payment = {"pl": "Przelew na konto PL61 1090 1014 0000 0712 1981 2874\nUrząd Miasta", "default": "IBAN RO49..."}
    with portal_client(requests_archive, requests=request_settings(smtp.port, download_limit=2,
                                                                   payment=payment)) as client:
        code = _file_and_sign_in(client, form={**BIRTH_FORM, "relation": "self"}, card="civil-status-extract")
        _post(client, "/requests/1/records", document=birth)
        for status in ("searching", "found", "awaiting_payment"):
            assert _post(client, "/requests/1/status", status=status).status_code == 303, status
        asked = body(smtp.wait_for(4)[3])
        number = client.get(f"/api/track/{code}").json()["number"]
        assert "PL61 1090 1014 0000 0712 1981 2874" in asked and f"Podaj {number} jako tytuł płatności." in asked
        page = client.get(f"/track/{code}", headers={"Accept-Language": "pl"}).text
        assert "PL61 1090" in page and "Opłata do uiszczenia" in page and "10,00" in page
        english = client.get(f"/track/{code}", headers={"Accept-Language": "en"}).text
        assert "IBAN RO49..." in english and f"Give {number} as the payment" in english


def test_refusal_needs_a_reason_and_closes_the_request(client, smtp):
    code = _file_and_sign_in(client)
    assert _post(client, "/requests/1/status", status="refused").status_code == 409
    assert _post(client, "/requests/1/status", status="refused",
                 message="Nie jest Pani właścicielką <działki>.").status_code == 303
    page = client.get(f"/track/{code}").text
    assert "Nie jest Pani właścicielką &lt;działki&gt;." in page
    assert "Nie jest Pani właścicielką <działki>." in body(smtp.messages[-1])  # plain text mail, as written
    assert _post(client, "/requests/1/status", status="searching").status_code == 409  # closed
    assert "refused" in client.get("/requests", params={"status": "all"}).text
    assert "Anna Nowak" not in client.get("/requests").text  # open ones only by default


def test_overdue_requests_are_flagged_and_filtered(client, requests_archive):
    _file_and_sign_in(client)
    tracking_code(file_request(client, form={**PERMIT_FORM, "applicant": "Piotr Zieliński"}))
    set_in_portal_db(requests_archive, "UPDATE requests SET deadline = deadline - 40 * 86400 WHERE id = 1")
    overdue = client.get("/requests", params={"overdue": "true"}).text
    assert "Anna Nowak" in overdue and "Piotr Zieliński" not in overdue
    assert 'class="request-row overdue"' in client.get("/requests").text
    assert client.get("/api/metrics").json()["overdue"] == 1


def test_satisfaction_once_after_delivery_and_the_metrics(client, smtp, permit):
    code = _file_and_sign_in(client)
    csrf = csrf_of(client.get(f"/track/{code}").text)
    assert "How satisfied" not in client.get(f"/track/{code}").text  # not before delivery
    early = client.post(f"/track/{code}/rating", data={"csrf_token": csrf, "score": "5", "comment": ""})
    assert early.status_code == 303 and "rated" not in early.headers["location"]  # no thanks for what was not kept
    _deliver_permit(client, permit)
    page = client.get(f"/track/{code}").text
    assert "How satisfied are you with this service?" in page
    client.post(f"/track/{code}/rating", data={"csrf_token": csrf, "score": "4", "comment": "Szybko <b>i</b> sprawnie"})
    client.post(f"/track/{code}/rating", data={"csrf_token": csrf, "score": "1", "comment": "second try"})
    page = client.get(f"/track/{code}").text
    assert "Your rating: 4 of 5" in page and "How satisfied" not in page
    assert "Szybko &lt;b&gt;i&lt;/b&gt; sprawnie" in client.get("/requests/1").text
    metrics = client.get("/api/metrics").json()
    assert metrics["by_status"]["delivered"] == 1 and metrics["satisfaction"] == 4.0
    assert metrics["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert metrics["median_days_to_deliver"] is not None and metrics["median_days_to_deliver"] < 0.1
    html = client.get("/metrics").text
    assert "Service metrics" in html and "4.0 / 5" in html
    # The unit in the label: "0,0 днів", "1,4 день" (a plural form chosen for the rounded number) read wrong.
    ukrainian = client.get("/metrics", headers={"Accept-Language": "uk"}).text
    assert "Медіанний час видачі, у днях" in ukrainian and "днів" not in ukrainian.split('class="median"')[1][:40]


def test_rest_api_for_requests(client, permit):
    _file_and_sign_in(client)
    csrf = client.get("/api/session").json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    queue = client.get("/api/requests", params={"status": "received"}).json()
    assert queue["total"] == 1 and queue["items"][0]["applicant"] == "Anna Nowak"
    for every in ({"status": "all"}, {"status": "open"}, {}):  # "all" answered none, as the queue page's all does
        assert client.get("/api/requests", params=every).json()["total"] == 1, every
    assert client.get("/api/requests", params={"status": "bogus"}).status_code == 422  # not "no requests"
    assert client.post("/api/requests/1/status", json={"status": "searching"}).status_code == 403  # no token
    assert client.post("/api/requests/1/status", json={"status": "searching"}, headers=headers).status_code == 204
    assert client.post("/api/requests/1/records", json={"document": permit}, headers=headers).status_code == 204
    assert client.post("/api/requests/1/status", json={"status": "refused"}, headers=headers).status_code == 409
    assert client.get("/api/requests/1").json()["records"][0]["document"] == permit
    schema = client.get("/openapi.json").json()["paths"]
    for path in ["/api/services", "/api/track/{code}", "/api/verify/{key}", "/api/requests",
                 "/api/requests/{request_id}", "/api/requests/{request_id}/status", "/api/requests/{request_id}/deliver",
                 "/api/metrics"]:
        assert path in schema, path


def test_mail_that_cannot_be_sent_waits_and_goes_with_the_next_one(requests_archive):
    port = free_port()  # nothing listens there yet: the mail server is down
    with portal_client(requests_archive, requests=request_settings(port)) as client:
        _file_and_sign_in(client)
        detail = client.get("/requests/1").text
        assert "E-mail not sent yet" in detail and "ConnectionRefusedError" in detail
        controller, inbox = start_smtp(port)  # the server is back
        try:
            _post(client, "/requests/1/status", status="searching")
            first, second = inbox.wait_for(2)
            assert first["Subject"].endswith("przyjęty") and second["Subject"].endswith("szukamy w archiwum")
        finally:
            controller.stop()
        assert "E-mail not sent yet" not in client.get("/requests/1").text


def test_a_message_queued_by_the_last_action_is_being_sent_not_failed(client, smtp):
    """The mail an action queues goes out once its page has: the page the clerk was sent to said, in red,
    "E-mail not sent yet" after every status change, and it was gone on reload."""
    _file_and_sign_in(client)
    smtp.wait_for(1)
    client.app.state.service.desk.context.outbox.queue(1, "anna.nowak@example.pl", "Wniosek: szukamy", "…", "pl")
    page = client.get("/requests/1").text
    assert "E-mail being sent: Wniosek: szukamy" in page and "E-mail not sent yet" not in page


def test_a_message_the_server_refuses_fails_alone(client, smtp):
    """The refused message was first in every batch: its refusal failed the batch, so no later message went out,
    and every request's page showed the other citizen's address in its error."""
    smtp.refused.add("bounce@example.com")
    file_request(client, form={**PERMIT_FORM, "email": "bounce@example.com"})
    for n in (1, 2):
        file_request(client, form={**PERMIT_FORM, "email": f"citizen{n}@example.com"})
    assert sorted(m["To"] for m in smtp.wait_for(2)) == ["citizen1@example.com", "citizen2@example.com"]
    sign_in(client, "clara")
    assert "No such mailbox" in client.get("/requests/1").text
    assert "bounce@example.com" not in client.get("/requests/2").text
    assert "E-mail not sent yet" not in client.get("/requests/3").text
    smtp.refused.clear()  # the address is mended: it goes out with the next message
    _post(client, "/requests/2/status", status="searching")
    assert {m["To"] for m in smtp.wait_for(4)} == {"bounce@example.com", "citizen1@example.com", "citizen2@example.com"}


def test_an_answer_no_question_waits_for_is_refused_and_the_text_given_back(client, smtp):
    """The clerk moved the request on while the citizen was typing: the page said "Your answer was sent" and the
    text went nowhere (a blank answer too). The tracking page also shows its code, which the e-mail's link ends
    with, and the box for it takes the whole link pasted in."""
    code = _file_and_sign_in(client, language="en")
    _post(client, "/requests/1/status", status="searching")
    _post(client, "/requests/1/status", status="needs_info", message="Which floor?")
    citizen_csrf = csrf_of(client.get(f"/track/{code}").text)
    blank = client.post(f"/track/{code}/answer", data={"csrf_token": citizen_csrf, "text": " \u00a0\n "})
    assert blank.status_code == 409 and "The answer is empty" in blank.text
    _post(client, "/requests/1/status", status="searching")
    late = client.post(f"/track/{code}/answer", data={"csrf_token": citizen_csrf, "text": "The second floor."},
                       headers={"Accept-Language": "ro"})
    assert late.status_code == 409 and "nu a fost trimis" in late.text and "The second floor." in late.text
    assert "The second floor." not in client.get("/requests/1").text
    assert f'<code class="tracking-code">{code}</code>' in client.get(f"/track/{code}").text
    pasted = client.get("/track", params={"code": f" https://arhiva.example.ro/track/{code}?filed=1 "})
    assert pasted.status_code == 303 and pasted.headers["location"] == f"/track/{code}"
    # The address the filing gave (kept, as it asks) says "filed" only while the request is as filed.
    assert "Your request was filed" not in client.get(f"/track/{code}?filed=1").text


def test_a_link_used_up_or_expired_is_issued_again_by_the_clerk(client, smtp, permit, requests_archive):
    """The 410 page said to ask the archive for a new link, and nothing could issue one (Deliver: "This request is
    closed"); the tracking page still said the link worked, with 0 downloads left or until a time past."""
    code = _file_and_sign_in(client, language="en")
    assert _post(client, "/requests/1/links").status_code == 409  # nothing delivered yet
    _post(client, "/requests/1/status", status="searching")
    _post(client, "/requests/1/records", document=permit)
    _post(client, "/requests/1/status", status="found")
    _post(client, f"/requests/1/records/{permit}/confirm")
    assert _post(client, "/requests/1/deliver").status_code == 303
    first = link_in(smtp.messages[-1], "/download/").split("testserver", 1)[1]
    copy = client.get(first).content
    assert client.get(first).status_code == 200 and client.get(first).status_code == 410  # the limit is 2
    assert "used as many times as allowed" in client.get(f"/track/{code}").text

    assert _post(client, "/requests/1/links").status_code == 303
    second = link_in(smtp.messages[-1], "/download/").split("testserver", 1)[1]
    assert second != first and "your copy" in smtp.messages[-1]["Subject"]
    assert client.get(second).content == copy  # the same certified copy, not a new one
    assert "downloads left: 1" in client.get(f"/track/{code}").text
    assert "Download links issued again" in client.get("/requests/1").text
    set_in_portal_db(requests_archive, "UPDATE issued_copies SET expires = 0")  # time passes
    assert "The download link has expired" in client.get(f"/track/{code}").text
    assert client.get(second).status_code == 410
    assert _post(client, "/requests/1/links").status_code == 303  # and again, after it expired
    third = link_in(smtp.messages[-1], "/download/").split("testserver", 1)[1]
    assert client.get(third).content == copy and client.get(second).status_code == 410


def test_staff_read_the_citizens_relation_to_the_record_in_the_third_person(client, smtp):
    """The request's page (and its embargo notice) said "I am the person the record is about" of the citizen."""
    _file_and_sign_in(client, language="en")
    page = client.get("/requests/1", headers={"Accept-Language": "uk"}).text
    assert "Особа, якої стосується документ" in page and "Я особа" not in page


def test_a_copy_for_the_counter_is_ready_then_handed_over(client, smtp, permit):
    code = _file_and_sign_in(client, form={**PERMIT_FORM, "delivery": "counter"}, language="en")
    _post(client, "/requests/1/status", status="searching")
    _post(client, "/requests/1/records", document=permit)
    _post(client, "/requests/1/status", status="found")
    _post(client, "/requests/1/status", status="needs_info", message="Which floor plan do you need?")
    client.post(f"/track/{code}/answer", data={"csrf_token": token(client, f"/track/{code}"), "text": "All."})
    assert client.get("/api/requests/1").json()["status"] == "found"  # back where the question was asked
    _post(client, f"/requests/1/records/{permit}/confirm")
    assert _post(client, "/requests/1/deliver").status_code == 303
    ready = smtp.messages[-1]
    assert ready["Subject"].endswith("your copy is ready at the counter") and "/download/" not in body(ready)
    assert client.get("/api/requests/1").json()["status"] == "ready"
    ready_page = client.get("/requests/1").text  # one button hands it over (a second, "delivered", did the same)
    assert "/requests/1/handover" in ready_page and 'value="delivered"' not in ready_page
    assert _post(client, "/requests/1/handover").status_code == 303
    assert "collected your copy at the archive's counter" in body(smtp.messages[-1])
    assert client.get(f"/api/track/{code}").json()["status"] == "delivered"
    tracked = client.get(f"/track/{code}").text  # it said a download link had been e-mailed
    assert "download link" not in tracked and "Verify this copy" in tracked


def test_proposals_a_correction_left_alone_keep_what_the_clerk_did_with_them(client, smtp, permit,
                                                                             requests_archive):
    """A clerk widened a proposed box (over a second name, say) or unticked it; a correction of another line that
    changed the proposals replaced them all: the box shrank back to the proposal, ticked again."""
    from pipeline.archive import Archive
    from pipeline.corrections import correct_line

    _file_and_sign_in(client)
    _post(client, "/requests/1/status", status="searching")
    _post(client, "/requests/1/records", document=permit)
    work = client.app.state.service.casework
    pesel = next(box for box in work.boxes(1, permit) if box.kind == "pesel")  # the street's is proposed too
    form = {"csrf_token": token(client, "/requests"), "shown": [str(pesel.id)], "keep": [],
            f"x_{pesel.id}": str(pesel.left), f"y_{pesel.id}": str(pesel.top),
            f"w_{pesel.id}": str(pesel.right - pesel.left + 200), f"h_{pesel.id}": str(pesel.bottom - pesel.top)}
    assert client.post(f"/requests/1/records/{permit}/pages/1/boxes", data=form).status_code == 303
    page = client.get(f"/api/documents/{permit}/pages/1").json()
    line = next(line for line in page["lines"] if "jednorodzinny" in line["text"])
    correct_line(Archive(requests_archive), permit, 1, line["id"], "kontakt jan.kowalski@example.pl", line["text"])
    assert work.propose_again_if_changed("ana", 1, permit)
    after = {box.kind: box for box in work.boxes(1, permit)}
    assert after["pesel"].id == pesel.id and after["pesel"].right == pesel.right + 200 and not after["pesel"].keep
    assert after["email"].keep  # the new proposal, to review


def test_a_record_corrected_after_it_was_linked_is_proposed_again_and_confirmed_again(client, smtp, permit,
                                                                                          requests_archive, tmp_path):
    """Proposals were taken once, when the record was linked: an e-mail address a correction put into the text
    later went out in the copy, though its redactions had been confirmed."""
    from pipeline.archive import Archive
    from pipeline.corrections import correct_line

    _file_and_sign_in(client)
    _post(client, "/requests/1/status", status="searching")
    _post(client, "/requests/1/records", document=permit)
    _post(client, "/requests/1/status", status="found")
    assert _post(client, f"/requests/1/records/{permit}/confirm").status_code == 303
    opened = re.findall(r'name="shown" value="(\d+)"', client.get(f"/requests/1/records/{permit}").text)
    page = client.get(f"/api/documents/{permit}/pages/1").json()
    line = next(line for line in page["lines"] if "jednorodzinny" in line["text"])
    correct_line(Archive(requests_archive), permit, 1, line["id"], "kontakt jan.kowalski@example.pl", line["text"])

    assert _post(client, "/requests/1/deliver").status_code == 409  # its redactions wait for a new confirmation
    review = client.get(f"/requests/1/records/{permit}")
    assert "jan.kowalski@example.pl" in review.text and "44051401359" in review.text  # the new box, and the old
    # A form opened before the correction, sent now, leaves the new box as proposed (it unticked it).
    stale = client.post(f"/requests/1/records/{permit}/pages/1/boxes", data={
        "csrf_token": token(client, "/requests"), "shown": opened, "keep": opened})
    assert stale.status_code == 303
    history = client.get("/requests/1", headers={"Accept-Language": "ro"}).text
    assert f"Textul din {permit} a fost corectat" in history
    assert _post(client, f"/requests/1/records/{permit}/confirm").status_code == 303
    assert _post(client, "/requests/1/deliver").status_code == 303
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(client.get(link_in(smtp.messages[-1], "/download/").split("testserver", 1)[1]).content)
    text = subprocess.run(["pdftotext", str(copy), "-"], capture_output=True, text=True, check=True).stdout
    assert "kowalski@example" not in text and "kontakt" in text and "Pozwolenie" in text


def test_turning_the_redaction_page_keeps_the_boxes_as_shown_and_a_confirmation_stands_without_a_change(
        client, permit):
    """The page links dropped boxes ticked or moved and not saved; and the boxes form sent unchanged (as turning
    the page sends it now) took back the record's confirmation."""
    _file_and_sign_in(client)
    _post(client, "/requests/1/status", status="searching")
    _post(client, "/requests/1/records", document=permit)
    work = client.app.state.service.casework
    boxes = work.boxes(1, permit, 1)
    pesel = next(box for box in boxes if box.kind == "pesel")
    shown = [str(box.id) for box in boxes]
    fields = {f"{c}_{box.id}": str(value) for box in boxes for c, value in
              zip("xywh", (box.left, box.top, box.right - box.left, box.bottom - box.top))}
    turned = _post(client, f"/requests/1/records/{permit}/pages/1/boxes", shown=shown,
                   keep=[n for n in shown if n != str(pesel.id)], go="1", **fields)
    assert turned.status_code == 303 and turned.headers["location"].endswith(f"/records/{permit}?page=1")
    assert not next(box for box in work.boxes(1, permit, 1) if box.id == pesel.id).keep
    assert _post(client, f"/requests/1/records/{permit}/confirm").status_code == 303
    unchanged = _post(client, f"/requests/1/records/{permit}/pages/1/boxes", shown=shown,
                      keep=[n for n in shown if n != str(pesel.id)], go="1", **fields)
    assert unchanged.status_code == 303
    assert work.request(1).records[0].confirmed_by == "clara"
    assert 'href="?page=' not in client.get(f"/requests/1/records/{permit}").text  # no page link drops them
