"""The intel pages render, filter, create and edit through the services, and say clearly what
is wrong with bad input. Values are shown defanged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from certhub.intel import services
from certhub.intel.models import Report

from .conftest import sample

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def reports(world):
    misp = services.import_misp(sample("misp_event.json"), user=world.thai_analyst,
                                audience_orgs=[world.my])[0]
    stix = services.import_stix(sample("stix_bundle.json"), user=world.thai_analyst,
                                tlp="green")
    manual = services.create_report(user=world.my_analyst, title="Scanner sweep", tlp="clear",
                                    description="Mass scanning of member networks",
                                    labels=["PAP:GREEN", "scanning"],
                                    observables=[("", "hxxp://evil[.]example/payload"),
                                                 ("", "192.0.2[.]77")])
    Report.unrestricted.filter(pk=manual.pk).update(
        created=timezone.now() - timedelta(days=40))
    return {"misp": misp, "stix": stix, "manual": manual}


def _listed(client, **params) -> list[str]:
    response = client.get(reverse("web:intel-reports"), params)
    assert response.status_code == 200
    return sorted(r.title for r in response.context["reports"])


def test_report_list_filters(world, reports):
    client = as_user(world.my_analyst)
    every = _listed(client)
    assert len(every) == 3
    assert _listed(client, tlp="clear") == ["Scanner sweep"]
    assert _listed(client, owner="MyCERT") == ["Scanner sweep"]
    assert _listed(client, tag="PAP:GREEN") == ["Scanner sweep"]
    with_urls = _listed(client, type="url")
    assert "Scanner sweep" in with_urls
    assert reports["stix"].title not in with_urls
    assert _listed(client, type="sha256") == sorted([reports["stix"].title,
                                                     reports["misp"].title])
    assert _listed(client, source="stix") == [reports["stix"].title]
    assert _listed(client, q="mass scanning") == ["Scanner sweep"]
    assert _listed(client, value="192.0.2[.]77") == ["Scanner sweep"]
    old = (timezone.now() - timedelta(days=30)).date().isoformat()
    assert "Scanner sweep" not in _listed(client, since=old)
    assert _listed(client, until=old) == ["Scanner sweep"]
    # htmx asks for the results only
    fragment = client.get(reverse("web:intel-reports"), {"tlp": "clear"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content
    assert b"Scanner sweep" in fragment.content
    bad = client.get(reverse("web:intel-reports"), {"since": "2025-02-01", "until": "2025-01-01"})
    assert "The start date is after the end date." in bad.content.decode()


def test_anonymous_list_shows_clear_reports_only(client, reports):
    assert _listed(client) == ["Scanner sweep"]


def test_report_page_shows_everything_defanged_with_recognised_tags(world, reports):
    client = as_user(world.my_analyst)
    misp = client.get(reverse("web:intel-report", args=[reports["misp"].pk]))
    assert misp.status_code == 200
    text = misp.content.decode()
    known = {t.tag: t for t in misp.context["tags"]}
    assert known['rsit:fraud="phishing"'].known
    assert known['misp-galaxy:mitre-attack-pattern="Phishing - T1566"'].known
    assert "MISP threat level" in text
    assert "Attack Pattern" in text
    assert "Phishing - T1566" in text
    for export in ("stix", "misp", "csv", "suricata"):
        assert reverse("web:intel-report-export", args=[reports["misp"].pk, export]) in text
    manual = client.get(reverse("web:intel-report", args=[reports["manual"].pk]))
    text = manual.content.decode()
    assert "hxxp[:]//evil[.]example/payload" in text
    assert "192.0.2[.]77" in text
    assert ">http://evil.example" not in text
    assert 'href="http://evil' not in text
    assert "PAP:GREEN" in text
    stix = client.get(reverse("web:intel-report", args=[reports["stix"].pk]))
    text = stix.content.decode()
    assert "Poison Ivy C2" in text          # indicator
    assert "uses" in text or "indicates" in text  # relationship
    assert stix.context["report"].relationship_list


def test_exports_download_with_audit(world, reports):
    from certhub.audit.models import AuditEntry

    client = as_user(world.my_analyst)
    pk = reports["manual"].pk
    stix = client.get(reverse("web:intel-report-export", args=[pk, "stix"]))
    assert stix.status_code == 200
    assert stix.json()["type"] == "bundle"
    assert client.get(reverse("web:intel-report-export", args=[pk, "misp"])).json()["Event"]
    csv = client.get(reverse("web:intel-report-export", args=[pk, "csv"])).content.decode()
    assert "evil.example" in csv
    rules = client.get(reverse("web:intel-report-export", args=[pk, "suricata"]))
    assert b"alert" in rules.content
    url = reverse("web:intel-report-export", args=[pk, "values"])
    assert client.get(url, {"type": "ipv4-addr"}).content.decode().split() == ["192.0.2.77"]
    assert client.get(url, {"type": "nonsense"}).status_code == 400
    assert client.get(reverse("web:intel-report-export", args=[pk, "pdf"])).status_code == 404
    assert AuditEntry.objects.filter(action="export").count() >= 5


def test_create_report_saves_and_bad_input_is_explained(world):
    client = as_user(world.thai_analyst)
    url = reverse("web:intel-report-new")
    assert client.get(url).status_code == 200
    response = client.post(url, {"title": "Ransomware wave", "tlp": "amber",
                                 "audience_orgs": "MyCERT",
                                 "labels": 'pap:green\nmisp-galaxy:threat-actor="apt32"',
                                 "observables": "hxxps://bad[.]example/x\n198.51.100.9"})
    assert response.status_code == 302
    report = Report.unrestricted.get(title="Ransomware wave")
    assert report.labels == ["PAP:GREEN", 'misp-galaxy:threat-actor="APT32"']
    assert list(report.audience_orgs.all()) == [world.my]
    assert response["Location"] == reverse("web:intel-report", args=[report.pk])

    bad_tag = client.post(url, {"title": "T", "tlp": "amber",
                                "labels": 'rsit:malicious-code="ransomware"'})
    assert bad_tag.status_code == 200
    assert "infected-system" in bad_tag.content.decode()
    bad_org = client.post(url, {"title": "T", "tlp": "amber", "audience_orgs": "NoSuchCERT"})
    assert "NoSuchCERT" in bad_org.content.decode()
    bad_value = client.post(url, {"title": "T", "tlp": "amber", "observables": "not a value"})
    assert "not a value" in bad_value.content.decode()
    clear_audience = client.post(url, {"title": "T", "tlp": "clear", "audience_orgs": "MyCERT"})
    assert "TLP:CLEAR is public" in clear_audience.content.decode()
    assert not Report.unrestricted.filter(title="T").exists()  # nothing half-saved


def test_viewers_cannot_create(world):
    assert as_user(world.thai_viewer).get(reverse("web:intel-report-new")).status_code == 403
    assert Client().get(reverse("web:intel-report-new")).status_code == 302


def test_edit_add_observables_and_delete(world, reports):
    client = as_user(world.my_analyst)
    pk = reports["manual"].pk
    url = reverse("web:intel-report-edit", args=[pk])
    form = client.get(url)
    assert form.status_code == 200
    assert form.context["form"].initial["labels"] == "PAP:GREEN\nscanning"
    saved = client.post(url, {"title": "Scanner sweep (updated)", "tlp": "green",
                              "labels": "scanning", "confidence": "70"})
    assert saved.status_code == 302
    report = Report.unrestricted.get(pk=pk)
    assert (report.title, report.tlp, report.confidence) == ("Scanner sweep (updated)", "green",
                                                              70)
    bad = client.post(url, {"title": "", "tlp": "green"})
    assert bad.status_code == 200
    assert bad.context["form"].errors["title"]
    added = client.post(reverse("web:intel-report-observables", args=[pk]),
                        {"values": "evil2[.]example\n203.0.113.5"}, follow=True)
    assert "2 indicator(s) added." in added.content.decode()
    # Another organisation's analyst sees it (GREEN, community) but may not change it.
    other = as_user(world.sg_analyst)
    assert other.get(reverse("web:intel-report", args=[pk])).status_code == 200
    assert other.get(url).status_code == 403
    assert other.post(reverse("web:intel-report-delete", args=[pk])).status_code == 403
    gone = client.post(reverse("web:intel-report-delete", args=[pk]))
    assert gone.status_code == 302
    assert not Report.unrestricted.filter(pk=pk).exists()


def test_value_page_and_recording_a_sighting(world, reports):
    client = as_user(world.sg_analyst)
    url = reverse("web:intel-value", args=["ipv4-addr", "192.0.2.77"])
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "192.0.2[.]77" in text
    assert "Scanner sweep" in text
    assert client.get(reverse("web:intel-value", args=["ipv4-addr", "192.0.2.200"])
                      ).status_code == 404
    assert client.get(reverse("web:intel-value", args=["ipv4-addr", "nonsense"])
                      ).status_code == 404
    recorded = client.post(reverse("web:intel-sighting-new"),
                           {"value": "192.0.2.77", "type": "ipv4-addr", "count": "3",
                            "country": "SG", "source": "honeypot", "tlp": "green"})
    assert recorded.status_code == 302
    assert recorded["Location"] == url
    page = client.get(url)
    assert page.context["summary"].count == 3
    assert "honeypot" in page.content.decode()
    bad = client.post(reverse("web:intel-sighting-new"),
                      {"value": "192.0.2.77", "type": "ipv4-addr", "count": "0",
                       "tlp": "green"})
    assert bad.status_code == 400
    assert bad.context["sighting_form"].errors["count"]
    wrong_order = client.post(reverse("web:intel-sighting-new"), {
        "value": "192.0.2.77", "type": "ipv4-addr", "count": "1", "tlp": "green",
        "first_seen": "2025-02-02T10:00", "last_seen": "2025-02-01T10:00"})
    assert "Last seen cannot be before first seen." in wrong_order.content.decode()


def test_lookup_page(world, reports):
    client = as_user(world.my_analyst)
    assert client.get(reverse("web:intel-lookup")).status_code == 200
    response = client.post(reverse("web:intel-lookup"),
                           {"values": "hxxp://evil[.]example/payload\n8.8.8.8\nnot a value"})
    results = response.context["results"]
    assert results[0].report_ids == [reports["manual"].pk]
    assert not results[1].found
    assert results[2].error
    text = response.content.decode()
    assert "Scanner sweep" in text
    assert "hxxp[:]//evil[.]example/payload" in text
    assert "1 of 3 values seen" in text
    empty = client.post(reverse("web:intel-lookup"), {"values": "  \n"})
    assert "Enter at least one value." in empty.content.decode()


def test_tag_finder_fragment(client):
    response = client.get(reverse("web:intel-tags"), {"tag_query": "apt32"})
    assert response.status_code == 200
    assert 'data-tag="misp-galaxy:threat-actor=&quot;APT32&quot;"' in response.content.decode()
    assert b"No tag matches." in client.get(reverse("web:intel-tags"),
                                            {"tag_query": "zzqqxx"}).content


def test_pages_keep_to_the_strict_csp(world, reports):
    """No inline script or style anywhere on the intel pages (CSP: script-src 'self')."""
    import re

    client = as_user(world.my_analyst)
    pages = [reverse("web:intel-reports"), reverse("web:intel-report", args=[reports["misp"].pk]),
             reverse("web:intel-report-new"), reverse("web:intel-import"),
             reverse("web:intel-import-stix"), reverse("web:intel-import-misp"),
             reverse("web:intel-import-csv"), reverse("web:intel-import-text"),
             reverse("web:intel-lookup"), reverse("web:intel-value", args=["ipv4-addr",
                                                                        "192.0.2.77"])]
    for url in pages:
        text = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), url
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", text), url
        assert "/static/web/intel/intel.js" in text, url


def test_value_page_shows_routed_feed_findings_to_their_organisation_only(world, settings,
                                                                          tmp_path):
    from tests.feeds.conftest import SAMPLES, make_feed

    from certhub.directory import lookup
    from certhub.feeds import services as feed_services
    from certhub.feeds.models import Finding

    settings.ASN_DB = ""
    settings.COUNTRY_DB = ""
    settings.DATA_DIR = tmp_path / "data"
    lookup.invalidate()
    try:
        feed = make_feed("urlhaus-th", "urlhaus-csv", SAMPLES / "urlhaus_country.csv")
        feed_services.run_feed(feed)
    finally:
        lookup.invalidate()
    finding = Finding.objects.filter(organisation=world.thai).exclude(ip=None).first()
    assert finding is not None
    url = reverse("web:intel-value", args=["ipv4-addr", finding.ip])
    page = as_user(world.thai_analyst).get(url)
    assert page.status_code == 200  # no report holds it: the finding alone makes the page
    assert [f.pk for f in page.context["findings"]] == [finding.pk]
    assert reverse("web:feeds-finding", args=[finding.pk]) in page.content.decode()
    assert as_user(world.my_analyst).get(url).status_code == 404
