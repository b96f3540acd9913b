"""An analyst pastes a MISP event, checks the preview (recognised tags, defanged values), saves
it, lands on the report page, and adds a galaxy tag with the tag finder, in a real browser."""

from __future__ import annotations

import json
import re

import pytest
from tests.conftest import PASSWORD
from tests.intel.conftest import sample

from .conftest import screenshot

pytestmark = [pytest.mark.browser]


@pytest.mark.usefixtures("_no_proxy")
def test_import_preview_save_and_tag(transactional_db, world, live_server, browser_page):
    from playwright.sync_api import expect

    from certhub.intel import tags, warninglists
    from certhub.intel.models import Report

    # Load the taxonomies, galaxies and warning lists before the clock of the page starts
    # (the server loads them once per process, on first use).
    tags.suggest("apt32")
    warninglists.check("ipv4-addr", "192.0.2.1")
    page = browser_page
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    analyst = world.thai_analyst

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(analyst.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Intelligence").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Intelligence reports")
    page.get_by_role("navigation", name="Intelligence").get_by_role("link",
                                                                    name="Import").click()
    page.get_by_role("link", name="MISP event").click()
    page.get_by_label("…or paste it").fill(json.dumps(sample("misp_event.json")))
    page.get_by_label("Share with organisations").fill("MyCERT")
    page.get_by_role("button", name="Preview").click()

    preview = page.locator("section.preview")
    expect(preview).to_contain_text("OSINT - Credential phishing kit targeting regional banks")
    expect(preview).to_contain_text("Attack Pattern")     # a recognised galaxy cluster
    expect(preview).to_contain_text('rsit:fraud="phishing"')
    expect(preview).to_contain_text("[.]")                 # values are shown defanged
    assert not Report.unrestricted.exists()                # nothing saved by the preview
    screenshot(page, "intel-import-preview")

    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/intel/reports/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("OSINT - Credential phishing")
    expect(page.locator(".messages")).to_contain_text("Imported: 1 report(s).")
    expect(page.locator("body")).to_contain_text("Phishing - T1566")
    report = Report.unrestricted.get()
    assert list(report.audience_orgs.values_list("short_name", flat=True)) == ["MyCERT"]
    screenshot(page, "intel-report")

    # The tag finder (htmx) adds a threat actor to the tags.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Find a tag").fill("apt32")
    suggestion = page.locator("button.tag-pick", has_text='misp-galaxy:threat-actor="APT32"')
    suggestion.click()
    expect(page.get_by_label("Tags", exact=False).first).to_have_value(
        re.compile(r'misp-galaxy:threat-actor="APT32"'))
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".intel-tags")).to_contain_text("APT32")
    report.refresh_from_db()
    assert 'misp-galaxy:threat-actor="APT32"' in report.labels

    assert not violations, violations  # no inline script or style on the way
