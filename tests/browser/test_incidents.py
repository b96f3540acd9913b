"""Cross-border coordination in a real browser, by keyboard where it matters: a ThaiCERT analyst
opens an incident, adds a Malaysian address, sends the coordination request the directory
lookup addressed to MyCERT; a MyCERT analyst acknowledges and completes it; the timeline shows
each step with its time. And the public report form, whose anti-robot check the browser solves."""

from __future__ import annotations

import re

import pytest
from tests.conftest import PASSWORD, add_constituency

from .conftest import screenshot

pytestmark = [pytest.mark.browser]

MALAYSIAN_PREFIX = "175.136.0.0/14"  # TM Net, Malaysia (APNIC)
MALAYSIAN_ADDRESS = "175.139.10.20"


@pytest.fixture
def coordination_data(transactional_db, world, settings, tmp_path):
    from certhub.directory import lookup
    from certhub.incidents import services
    from certhub.sharing.tlp import TLP

    settings.DATA_DIR = tmp_path
    add_constituency(world.my, "prefix", MALAYSIAN_PREFIX)
    lookup.invalidate()
    incident = services.create_incident(
        user=world.thai_analyst, title="Phishing kit targeting a Thai bank", tlp=TLP.AMBER,
        severity="high", sectors=["banking"], countries=["TH", "MY"],
        description="A phishing kit imitating **Example Bank** is hosted abroad.")
    incident.audience_orgs.set([world.thai])
    yield world, incident
    lookup.invalidate()


@pytest.fixture(autouse=True)
def _warm(db):
    """Import the URLconf (every app's API) before the browser's first request does it."""
    from django.urls import get_resolver

    assert get_resolver().url_patterns


def _log_in(page, base_url, user):
    page.goto(f"{base_url}/accounts/login/", timeout=60_000)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def _log_out(page):
    page.get_by_role("button", name="Log out").click()


@pytest.mark.usefixtures("_no_proxy")
def test_request_to_mycert_acknowledged_and_completed(coordination_data, live_server,
                                                      browser_page):
    from playwright.sync_api import expect

    world, _incident = coordination_data
    page = browser_page
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)

    # ThaiCERT's analyst opens the incident from the list.
    _log_in(page, live_server.url, world.thai_analyst)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Incidents").click()
    screenshot(page, "incident-list")
    page.get_by_role("link", name="Phishing kit targeting a Thai bank").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Phishing kit targeting a Thai bank")
    expect(page.locator("#description")).to_contain_text("Example Bank")

    # "?" shows the keyboard help; Escape closes it.
    page.locator("body").press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    # "a" goes to the address field; the lookup names MyCERT and addresses the request to it.
    page.keyboard.press("a")
    address = page.get_by_label("Address, domain, URL, email or AS number")
    expect(address).to_be_focused()
    page.keyboard.type(MALAYSIAN_ADDRESS)
    page.keyboard.press("Enter")
    expect(page.locator("#lookup-result")).to_contain_text("MyCERT")
    expect(page.locator("#linked")).to_contain_text(MALAYSIAN_ADDRESS)
    recipient = page.get_by_label("Recipient")
    expect(recipient.locator("option:checked")).to_have_text("MyCERT")
    screenshot(page, "incident-lookup-suggestion")

    # "r" opens the request form at its first field; the rest by keyboard.
    page.locator("body").press("r")
    expect(recipient).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("What you ask")).to_be_focused()
    page.get_by_label("What you ask").select_option("takedown")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Request", exact=True)).to_be_focused()
    page.keyboard.type("Please take down the phishing kit on " + MALAYSIAN_ADDRESS + ".")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send request")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Request sent to MyCERT.")
    expect(page.locator("#timeline")).to_contain_text("sent coordination request")
    _log_out(page)

    # MyCERT's analyst finds the request in the incoming list and answers it.
    _log_in(page, live_server.url, world.my_analyst)
    page.goto(f"{live_server.url}/incidents/requests/")
    requests_table = page.locator("table")
    expect(requests_table).to_contain_text("ThaiCERT")
    requests_table.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Phishing kit targeting a Thai bank")
    # "c" goes to the comment box; Tab reaches its button.
    page.locator("body").press("c")
    expect(page.get_by_label("Comment")).to_be_focused()
    page.keyboard.type("Looking at it now.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add comment")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Comment added.")
    page.get_by_role("button", name=re.compile("Acknowledge and accept")).click()
    expect(page.locator(".messages")).to_contain_text("Request acknowledged.")
    page.get_by_label("What was done").fill("Kit removed; hosting customer notified.")
    page.get_by_role("button", name=re.compile("Mark completed")).click()
    expect(page.locator(".messages")).to_contain_text("Request completed.")

    # The timeline shows each step, each with its time in the user's zone.
    timeline = page.locator("#timeline ol.timeline")
    steps = ["opened the incident", f"added ipv4-addr {MALAYSIAN_ADDRESS}",
             "sent coordination request", "Looking at it now.",
             "acknowledged and accepted coordination request", "completed coordination request"]
    for step in steps:
        entry = timeline.locator("li", has_text=step)
        expect(entry).to_have_count(1)
        expect(entry.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(timeline).to_contain_text("Kit removed; hosting customer notified.")
    expect(timeline).to_contain_text(world.my_analyst.email)
    expect(timeline).to_contain_text(world.thai_analyst.email)
    expect(page.locator("#coordination")).to_contain_text("Completed")
    screenshot(page, "incident-timeline")

    assert not violations, violations


@pytest.mark.usefixtures("_no_proxy")
def test_public_report_form_in_a_browser(transactional_db, world, live_server, browser_page,
                                         settings):
    """Anonymous, no account: the browser solves the proof of work and the report lands in the
    hub's triage queue."""
    from playwright.sync_api import expect

    from certhub.incidents.models import Incident

    settings.PUBLIC_REPORT_POW_BITS = 14
    page = browser_page
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{live_server.url}/incidents/report/", timeout=60_000)
    expect(page.get_by_role("heading", level=1)).to_have_text("Report an incident")
    expect(page.locator("#challenge-status")).to_be_visible(timeout=30_000)
    expect(page.locator("#challenge-question")).to_be_hidden()
    page.get_by_label("What happened, in one line").fill("Fake bank login page")
    page.get_by_label("Details", exact=True).fill(
        "Seen at https://login-examplebank.example.my/ today.")
    screenshot(page, "incident-public-report")
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("your report was received")
    found = Incident.unrestricted.get(title="Fake bank login page")
    assert found.in_triage
    assert found.owner == world.hub
    assert not violations, violations
