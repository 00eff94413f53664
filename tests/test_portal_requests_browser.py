"""Citizens' requests in a real browser (Debian's chromium through Playwright), with uvicorn and a real SMTP
server: a citizen files a request in Polish, a clerk finds the record, confirms the proposed redactions and
delivers; the citizen's tracking page says delivered, the e-mailed link downloads the signed PDF, the
verification page confirms it, and the link, once expired, is refused. Screenshots in
test-artifacts/portal/requests-*.png (look at them)."""

from __future__ import annotations

import hashlib
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from portal.settings import PortalSettings
from portal.web import create_app

from .browser_support import chromium, screenshot, served
from .portal_support import PASSWORDS, add_staff, only_document
from .requests_support import (
    free_port, identity_jpeg, link_in, portal_options, request_settings, set_in_portal_db,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def portal_url(requests_archive, smtp):
    add_staff(requests_archive)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = PortalSettings(options=portal_options(requests_archive, verify_url=f"{url}/verify"),
                              requests=request_settings(smtp.port, public_url=url))
    with served(create_app(settings), port) as served_url:
        yield served_url


@pytest.fixture
def browser():
    with chromium() as browser:
        yield browser


def shot(page, name: str) -> None:
    screenshot(page, f"requests-{name}")


def _validate_signature(data: bytes, archive):
    """pyHanko's validator, trusting the archive's demo certificate (made by the copy core)."""
    import io

    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    _, certificate, _ = pkcs12.load_key_and_certificates((archive / "copies" / "demo-signing.p12").read_bytes(), None)
    root = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]
    return signature.sig_object["/SubFilter"], validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))


def test_a_citizen_asks_in_polish_and_downloads_the_certified_copy(browser, portal_url, smtp, requests_archive,
                                                                    tmp_path):
    from playwright.sync_api import expect

    only_document(requests_archive, "pozwolenie-12-1978.png")  # the permit asked for is in the archive
    identity = tmp_path / "dowod.jpg"
    identity.write_bytes(identity_jpeg())

    # --- the citizen, in Polish --------------------------------------------------------------------------
    citizen = browser.new_context(viewport={"width": 1280, "height": 900}, locale="pl-PL").new_page()
    citizen.goto(portal_url + "/services")
    expect(citizen.locator("html")).to_have_attribute("lang", "pl")
    shot(citizen, "01-services-pl")
    citizen.click("text=Kopia pozwolenia na budowę")
    citizen.fill("input[name=applicant]", "Anna Nowak")
    citizen.fill("input[name=email]", "anna.nowak@example.pl")
    citizen.select_option("select[name=relation]", "self")
    citizen.fill("input[name=address]", "ul. Mickiewicza 5, Przemyśl")
    citizen.fill("input[name=owner]", "Jan Kowalski")
    citizen.fill("input[name=year]", "1978")
    citizen.set_input_files("input[name=file_identity]", str(identity))
    citizen.check("input[name=consent]")
    shot(citizen, "02-form-pl")
    citizen.click("form.request button.primary")
    expect(citizen.locator("strong.status")).to_have_text("przyjęty")
    tracking = citizen.url.split("?")[0]
    shot(citizen, "03-tracking-received-pl")
    (received,) = smtp.wait_for(1)
    assert "przyjęty" in received["Subject"] and link_in(received, "/track/") == tracking

    # --- the clerk -----------------------------------------------------------------------------------------
    clerk = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-GB").new_page()
    clerk.goto(portal_url + "/requests")
    clerk.fill("input[name=name]", "clara")
    clerk.fill("input[name=password]", PASSWORDS["clara"])
    clerk.click("button.primary")
    expect(clerk.locator("tr.request-row")).to_have_count(1)
    shot(clerk, "04-queue")
    clerk.click("tr.request-row a")
    clerk.click("button[value=searching]")
    hit = clerk.locator("li.hit", has_text="Pozwolenie na budowę nr 12/1978")
    expect(hit).to_have_count(1)  # found by the search made from the request's own fields
    shot(clerk, "05-request-search")
    hit.locator("button.link-record").click()
    clerk.click("button[value=found]")
    clerk.click("a.review-redactions")
    boxes = clerk.locator("rect.redaction-box")
    assert boxes.count() >= 1
    expect(clerk.locator("table.boxes")).to_contain_text("44051401359")
    clerk.wait_for_load_state("networkidle")
    image, box = clerk.locator(".scan img").bounding_box(), boxes.first.bounding_box()
    assert image["x"] <= box["x"] < box["x"] + box["width"] <= image["x"] + image["width"]
    shot(clerk, "06-redaction-review")
    # The PESEL's box unticked and saved, then ticked again and confirmed without saving: Confirm took the boxes
    # as last saved, and the copy went out with the number showing.
    pesel = clerk.locator("tr.box-row", has_text="44051401359").locator("input[name=keep]")
    pesel.uncheck()
    clerk.click("text=Save the boxes")
    expect(pesel).not_to_be_checked()
    pesel.check()
    clerk.click("button.confirm-redactions")
    expect(clerk.locator(".confirmed")).to_contain_text("clara")
    clerk.click("button.deliver")
    expect(clerk.locator("strong.status")).to_have_text("delivered")
    shot(clerk, "07-delivered")

    # --- the citizen again: delivered, the link, the verification -------------------------------------------
    citizen.goto(tracking)
    expect(citizen.locator("strong.status")).to_have_text("wydany")
    shot(citizen, "08-tracking-delivered-pl")
    delivered = smtp.messages[-1]
    assert delivered["Content-Language"] == "pl" and "Twoja kopia" in delivered["Subject"]
    link = link_in(delivered, "/download/")
    assert link.startswith(portal_url)
    download = citizen.context.request.get(link)
    assert download.status == 200 and download.headers["content-type"] == "application/pdf"
    pdf = download.body()
    with ThreadPoolExecutor(1) as thread:  # pyHanko runs its own event loop; Playwright's holds this thread
        sub_filter, status = thread.submit(_validate_signature, pdf, requests_archive).result()
    assert sub_filter == "/ETSI.CAdES.detached" and status.intact and status.valid
    copy = tmp_path / "copy.pdf"  # its text is in compressed streams: the bytes never held the number as typed
    copy.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(copy), "-"], capture_output=True, text=True, check=True).stdout
    assert "44051401359" not in text and "Pozwolenie" in text
    citizen.click("text=Sprawdź tę kopię")
    expect(citizen.locator("p.verified")).to_have_text("Tę kopię wydało archiwum.")
    expect(citizen.locator("code.sha256")).to_have_text(hashlib.sha256(pdf).hexdigest())
    shot(citizen, "09-verified-pl")

    # --- two weeks later the link has expired --------------------------------------------------------------
    set_in_portal_db(requests_archive, "UPDATE issued_copies SET expires = expires - 15 * 86400")
    expired = citizen.goto(link)
    assert expired.status == 410
    expect(citizen.locator("p.error")).to_contain_text("wygasł")
    shot(citizen, "10-expired-link-pl")


def test_the_tracking_page_fits_a_phone(browser, portal_url):
    """Its tracking code (24 letters unbroken) widened the page to 414 px on a 390 px screen."""
    import httpx2
    from playwright.sync_api import expect

    from .requests_support import file_request, tracking_code

    with httpx2.Client(base_url=portal_url, timeout=60) as client:
        code = tracking_code(file_request(client, language="uk"))
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="uk-UA").new_page()
    page.goto(f"{portal_url}/track/{code}")
    expect(page.locator("code.tracking-code")).to_have_text(code)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "11-tracking-on-a-phone-uk")


@pytest.mark.parametrize("locale", ["uk-UA", "en-GB", "ro-RO", "pl-PL"])
def test_the_request_form_fits_a_phones_screen(browser, portal_url, locale):
    """The relation's long option widened its field past a 390 px screen (477 px in Ukrainian): the form
    scrolled sideways."""
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale).new_page()
    page.goto(portal_url + "/services/building-permit-copy")
    assert page.locator("form.request select").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
