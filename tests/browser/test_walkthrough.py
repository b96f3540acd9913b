"""A member logs in, switches to Thai and back, looks up an address and opens the responsible
CERT's page, in a real browser."""

from __future__ import annotations

import re

import pytest
from tests.conftest import PASSWORD, add_constituency

from .conftest import screenshot

pytestmark = [pytest.mark.browser]

THAI_PREFIX = "1.0.128.0/17"  # TOT, Thailand (APNIC)
THAI_ADDRESS = "1.0.130.7"


@pytest.fixture
def walkthrough_data(transactional_db, world):
    from certhub.directory import lookup
    from certhub.directory.models import Contact

    add_constituency(world.thai, "prefix", THAI_PREFIX)
    world.thai.name = "Thailand Computer Emergency Response Team"
    world.thai.website = "https://www.thaicert.or.th"
    world.thai.save()
    Contact.unrestricted.create(owner=world.thai, tlp="clear", role="incident_reports",
                                name="Incident reports", email="report@thaicert.example",
                                is_example=True)
    amber = Contact.unrestricted.create(owner=world.thai, tlp="amber", role="emergency_24x7",
                                        name="Night duty officer", phone="+6621234567")
    amber.audience_orgs.set([world.sg])  # not MyCERT: its analyst must not see it
    lookup.invalidate()
    return world


@pytest.mark.usefixtures("_no_proxy")
def test_login_language_lookup_and_organisation_page(walkthrough_data, live_server,
                                                     browser_page):
    from playwright.sync_api import expect

    page = browser_page
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    analyst = walkthrough_data.my_analyst  # an analyst: no second factor required

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Email").fill(analyst.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    expect(page.locator("body")).to_contain_text("MyCERT")
    screenshot(page, "dashboard-en")

    # Thai, then back to English, staying on the same page.
    page.get_by_role("button", name="ไทย").click()
    expect(page.locator("html")).to_have_attribute("lang", "th")
    expect(page.get_by_role("heading", level=1)).to_contain_text("ยินดีต้อนรับ")
    expect(page.get_by_role("navigation", name="เมนูหลัก")).to_contain_text("ทำเนียบหน่วยงาน")
    screenshot(page, "dashboard-th")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")

    # Live filtering of the directory (htmx), and the language switch keeps the filtered page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Directory").click()
    page.get_by_label("Search").fill("sing")
    expect(page).to_have_url(re.compile(r"/directory/\?q=sing"))
    expect(page.locator("#directory-results")).to_contain_text("SingCERT")
    expect(page.locator("#directory-results")).not_to_contain_text("ThaiCERT")
    page.get_by_role("button", name="ไทย").click()
    expect(page).to_have_url(re.compile(r"/directory/\?q=sing"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("ทำเนียบหน่วยงานสมาชิก")
    page.get_by_role("button", name="English").click()

    # Look up an address in a Thai prefix registered with ThaiCERT.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Lookup").click()
    page.get_by_label("Values to look up").fill(f"{THAI_ADDRESS}\nnot-a-value!")
    page.get_by_role("button", name="Look up").click()
    results = page.locator("#lookup-results table")
    expect(results).to_contain_text(THAI_ADDRESS)
    expect(results).to_contain_text("registered IP range")
    expect(results).to_contain_text(THAI_PREFIX)
    expect(page.locator("tr.row-error")).to_contain_text("not-a-value!")
    screenshot(page, "lookup")

    # The result links to the responsible CERT's page.
    results.get_by_role("link", name="ThaiCERT").click()
    expect(page).to_have_url(re.compile(r"/directory/thaicert/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("ThaiCERT")
    expect(page.locator("body")).to_contain_text("Thailand Computer Emergency Response Team")
    expect(page.locator("body")).to_contain_text(THAI_PREFIX)
    contacts = page.locator("#contacts")
    expect(contacts).to_contain_text("Incident reports")
    expect(contacts.locator(".badge.example")).to_be_visible()
    expect(contacts).not_to_contain_text("Night duty officer")  # TLP:AMBER, not for MyCERT
    screenshot(page, "organisation")

    assert not violations, violations  # no inline script or style anywhere on the way

    # The same page on a phone-sized screen.
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "organisation-phone")
