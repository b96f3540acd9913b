"""Three organisations through the web pages: ThaiCERT (A) shares an AMBER report with MyCERT (B)
only. B sees it and its correlations on every page; SingCERT (C), which holds one of its values
itself, gets 404 for its page, edit and exports, and no list, count, lookup, correlation or value
page betrays it (the same story as test_api_visibility.py, through the UI)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from certhub.intel import services

from .conftest import sample

pytestmark = pytest.mark.django_db

SHARED = "c2.shared-example.net"     # in A's report and in C's own report
ONLY_A = "update-check.example.net"  # in A's report only
A_TITLE = "Poison Ivy phishing wave against ministries"


@pytest.fixture
def three(world):
    a = services.import_stix(sample("stix_bundle.json"), user=world.thai_analyst, tlp="amber",
                             audience_orgs=[world.my])
    services.add_observables(a.pk, [("domain-name", SHARED)], user=world.thai_analyst)
    services.add_sighting(user=world.thai_analyst, value=ONLY_A, count=4, tlp="amber",
                          audience_orgs=[world.my])
    b = services.create_report(user=world.my_analyst, title="B's own", tlp="amber",
                               observables=[("", SHARED)])
    c = services.create_report(user=world.sg_analyst, title="C's own", tlp="amber",
                               observables=[("", SHARED)])
    return a, b, c


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pages(a) -> list[str]:
    pages = [reverse("web:intel-report", args=[a.pk]),
             reverse("web:intel-value", args=["domain-name", ONLY_A])]
    pages += [reverse("web:intel-report-export", args=[a.pk, fmt])
              for fmt in ("stix", "misp", "csv", "suricata")]
    pages.append(reverse("web:intel-report-export", args=[a.pk, "values"]) + "?type=domain-name")
    return pages


def test_recipient_sees_the_report_its_correlations_and_values(world, three):
    a, b, _c = three
    client = as_user(world.my_analyst)
    for url in _pages(a):
        assert client.get(url).status_code == 200, url
    listed = client.get(reverse("web:intel-reports")).content.decode()
    assert A_TITLE in listed
    page = client.get(reverse("web:intel-report", args=[b.pk]))
    assert [c.report.pk for c in page.context["report"].correlation_list] == [a.pk]
    assert A_TITLE in page.content.decode()
    found = client.post(reverse("web:intel-lookup"), {"values": ONLY_A}).context["results"]
    assert found[0].report_ids == [a.pk]
    assert found[0].sightings_count == 4
    value = client.get(reverse("web:intel-value", args=["domain-name", ONLY_A]))
    assert value.context["summary"].count == 4
    assert A_TITLE in value.content.decode()


def test_outsider_gets_404_for_every_page_of_it(world, three):
    a, _b, _c = three
    client = as_user(world.sg_analyst)
    for url in [*_pages(a), reverse("web:intel-report-edit", args=[a.pk])]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert A_TITLE not in response.content.decode()
    for url in (reverse("web:intel-report-delete", args=[a.pk]),
                reverse("web:intel-report-observables", args=[a.pk])):
        assert client.post(url, {"values": "192.0.2.9"}).status_code == 404, url
    from certhub.intel.models import Observable, Report

    assert Report.unrestricted.filter(pk=a.pk).exists()  # not deleted
    assert not Observable.unrestricted.filter(report=a, value="192.0.2.9").exists()


def test_outsider_lists_counts_correlations_lookups_and_values_exclude_it(world, three):
    _a, _b, c = three
    client = as_user(world.sg_analyst)
    listed = client.get(reverse("web:intel-reports"))
    assert listed.context["page"].paginator.count == 1
    assert [r.pk for r in listed.context["reports"]] == [c.pk]
    assert A_TITLE not in listed.content.decode()
    by_value = client.get(reverse("web:intel-reports"), {"value": SHARED})
    assert by_value.context["page"].paginator.count == 1
    by_owner = client.get(reverse("web:intel-reports"), {"owner": "ThaiCERT"})
    assert by_owner.context["page"].paginator.count == 0
    assert "0 reports" in by_owner.content.decode()
    own = client.get(reverse("web:intel-report", args=[c.pk]))
    detail = own.context["report"]
    assert detail.correlation_count == 0
    assert detail.correlation_list == []
    assert A_TITLE not in own.content.decode()
    assert "0 correlated reports" in own.content.decode()
    results = client.post(reverse("web:intel-lookup"),
                          {"values": f"{SHARED}\n{ONLY_A}"}).context["results"]
    assert results[0].report_ids == [c.pk]
    assert results[1].report_ids == []
    assert not results[1].found
    assert results[1].sightings_count == 0
    page = client.get(reverse("web:intel-value", args=["domain-name", SHARED]))
    assert [r.pk for r in page.context["reports"]] == [c.pk]
    assert A_TITLE not in page.content.decode()
    assert page.context["summary"].count == 0


def test_anonymous_visitors_see_no_amber_report(client, three):
    a, _b, _c = three
    listed = client.get(reverse("web:intel-reports"))
    assert listed.status_code == 200
    assert listed.context["page"].paginator.count == 0
    assert client.get(reverse("web:intel-report", args=[a.pk])).status_code == 404
    export = client.get(reverse("web:intel-report-export", args=[a.pk, "stix"]))
    assert export.status_code == 302  # to the login page
    assert client.get(reverse("web:intel-lookup")).status_code == 302
