"""The portal in a real browser: Debian's chromium driven by Playwright, against uvicorn on a free port.

What a clerk does on a first day: sign in, search a word typed without diacritics, open the page and see the
hit drawn on the scan, correct a misread word, find the corrected word, see the change in the audit log, and
switch the interface to Ukrainian. Screenshots land in test-artifacts/portal/ (look at them).
"""

from __future__ import annotations

import pytest

from pipeline.options import Options
from portal.settings import PortalSettings
from portal.web import create_app

from .browser_support import chromium, screenshot, served
from .portal_support import PASSWORDS, add_staff
from .requests_support import free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def portal_url(portal_archive):
    add_staff(portal_archive)
    with served(create_app(PortalSettings(options=Options(archive=portal_archive))), free_port()) as url:
        yield url


@pytest.fixture
def page():
    with chromium() as browser:
        yield browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-GB").new_page()


def shot(page, name: str) -> None:
    screenshot(page, name)


def test_a_clerks_first_day(page, portal_url):
    from playwright.sync_api import expect

    page.goto(portal_url + "/")
    expect(page).to_have_url(f"{portal_url}/login?next=%2F")
    page.fill("input[name=name]", "ana")
    page.fill("input[name=password]", PASSWORDS["ana"])
    shot(page, "01-login")
    page.click("button.primary")

    page.fill("input[name=q]", "somesului")  # printed Someșului
    page.click("form.search button.primary")
    expect(page.locator("li.hit")).to_have_count(1)
    expect(page.locator("li.hit mark").first).to_have_text("Someșului")
    page.wait_for_load_state("networkidle")
    assert page.locator("li.hit img").evaluate("image => image.naturalWidth") > 0
    shot(page, "02-search")

    page.click("li.hit a.title")
    scan = page.locator(".scan img")
    expect(scan).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert scan.evaluate("image => image.naturalWidth") == 1600 or scan.evaluate("image => image.naturalHeight") == 1600
    boxes = page.locator("rect.hit-box")
    assert boxes.count() >= 2
    image_box, hit_box = scan.bounding_box(), boxes.first.bounding_box()
    assert image_box["x"] <= hit_box["x"] < hit_box["x"] + hit_box["width"] <= image_box["x"] + image_box["width"]
    assert image_box["y"] <= hit_box["y"] < hit_box["y"] + hit_box["height"] <= image_box["y"] + image_box["height"]
    assert 0 < hit_box["width"] < image_box["width"] / 3  # one word, not the page
    shot(page, "03-viewer-hit-boxes")

    line = page.locator("ol.lines li", has_text="Someșului mic").first
    line.locator("summary").click()
    field = line.locator("input[name=text]")
    field.fill(field.input_value().replace("mic,", "Zăpodie,"))
    shot(page, "04-correcting")
    line.locator("button").click()
    expect(page.locator("p.notice")).to_be_visible()

    page.goto(portal_url + "/?q=zapodie")
    expect(page.locator("li.hit")).to_have_count(1)
    expect(page.locator("li.hit mark")).to_have_text("Zăpodie")
    shot(page, "05-corrected-word-found")

    page.click("header nav a[href='/audit']")
    entry = page.locator("tr.audit-entry").first
    expect(entry.locator("td.after")).to_contain_text("Zăpodie")
    expect(entry).to_contain_text("ana")
    expect(entry.locator("td.before")).to_contain_text("mic,")
    shot(page, "06-audit-log")

    page.click("button.lang[value=uk]")
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page.locator("header nav")).to_contain_text("Пошук")
    expect(page.locator("h1")).to_have_text("Журнал змін")
    expect(page.locator("th").first).to_have_text("Коли")
    shot(page, "07-ukrainian")


@pytest.mark.parametrize("language", ["en-GB", "pl-PL", "ro-RO", "uk-UA"])
def test_the_staff_pages_fit_a_phone(portal_url, language):
    """In a 375 px window the staff menu ran off the screen (white on the page's white past the dark band, the
    page scrolled sideways: 474 px in English, 725 in Polish), and the requests table with it."""
    with chromium() as browser:
        phone = browser.new_context(viewport={"width": 375, "height": 800}, locale=language).new_page()
        phone.goto(portal_url + "/login")
        phone.fill("input[name=name]", "ana")
        phone.fill("input[name=password]", PASSWORDS["ana"])
        phone.click("button.primary")
        for path in ("/", "/requests", "/review", "/users"):
            phone.goto(portal_url + path)
            assert phone.evaluate("document.documentElement.scrollWidth") <= 375, (language, path)
            menu = phone.locator("header.top nav a").last.bounding_box()
            header = phone.locator("header.top").bounding_box()
            assert menu["x"] + menu["width"] <= 375 and menu["y"] + menu["height"] <= header["y"] + header["height"]
