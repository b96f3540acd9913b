"""The findings inbox over HTTP: API and pages, filters, acknowledge, CSV export, provenance,
and who sees what (a finding routed to MyCERT does not exist for ThaiCERT)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils.html import escape

from certhub.audit.models import AuditEntry
from certhub.feeds import services
from certhub.feeds.models import Finding, RunStatus

from .conftest import SAMPLES, logged_in, make_feed

pytestmark = pytest.mark.django_db

API = "/api/v1/feeds"


@pytest.fixture
def delivered(world):
    feed = make_feed("urlhaus-th", "urlhaus-csv", SAMPLES / "urlhaus_country.csv")
    services.run_feed(feed)
    scan = make_feed("shadow", "shadowserver-csv", SAMPLES / "2025-03-02-scan_http-asean-geo.csv")
    services.run_feed(scan)
    return world


def ids_of(org) -> set[int]:
    return set(Finding.objects.filter(organisation=org).values_list("id", flat=True))


def test_api_inbox_lists_own_findings_with_filters(delivered):
    w = delivered
    client = logged_in(w.thai_analyst)
    body = client.get(f"{API}/findings").json()
    assert body["count"] == 2
    assert {item["id"] for item in body["items"]} == ids_of(w.thai)
    assert all(item["organisation"] == "ThaiCERT" for item in body["items"])
    assert client.get(f"{API}/findings", {"feed": "shadow"}).json()["count"] == 1
    assert client.get(f"{API}/findings", {"taxonomy": "malicious-code"}).json()["count"] == 1
    assert client.get(f"{API}/findings", {"value": "mozi"}).json()["count"] == 1
    assert client.get(f"{API}/findings", {"country": "th"}).json()["count"] == 2
    assert client.get(f"{API}/findings", {"acknowledged": "true"}).json()["count"] == 0
    # Asking for another organisation's inbox gives one's own.
    asked = client.get(f"{API}/findings", {"organisation": w.my.pk}).json()
    assert {item["id"] for item in asked["items"]} == ids_of(w.thai)
    hub = logged_in(w.hub_admin)
    assert hub.get(f"{API}/findings", {"organisation": w.my.pk}).json()["count"] == 2
    assert hub.get(f"{API}/findings", {"organisation": 0}).json()["count"] == 2


def test_api_inbox_refuses_numbers_out_of_range(delivered):
    client = logged_in(delivered.thai_analyst)
    for name in ("run_id", "organisation", "asn"):
        response = client.get(f"{API}/findings", {name: "99999999999999999999"})
        assert response.status_code == 400, name
        assert response.json()["field"] == name


def test_api_finding_detail_has_provenance(delivered):
    w = delivered
    finding = Finding.objects.filter(organisation=w.thai, feed__name="urlhaus-th").get()
    body = logged_in(w.thai_viewer).get(f"{API}/findings/{finding.pk}").json()
    assert body["value"] == "http://1.0.128.1:40123/Mozi.m"
    provenance = body["provenance"]
    assert provenance["feed"] == "urlhaus-th"
    assert provenance["run"] == finding.run_id
    assert provenance["line"] == finding.line
    assert "Mozi.m" in provenance["raw"]
    lines = (SAMPLES / "urlhaus_country.csv").read_text().splitlines()
    assert lines[finding.line - 1] == provenance["raw"]


def test_thaicert_never_sees_mycert_findings(delivered):
    """404 on detail, absent from lists, counts and exports, cannot be acknowledged."""
    w = delivered
    theirs = sorted(ids_of(w.my))
    assert theirs
    client = logged_in(w.thai_analyst)
    for pk in theirs:
        response = client.get(f"{API}/findings/{pk}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert client.get(reverse("web:feeds-finding", args=[pk])).status_code == 404
        assert client.post(f"{API}/findings/{pk}/acknowledge").status_code == 404
    missing = Finding.objects.order_by("-id").first().pk + 1000
    assert client.get(f"{API}/findings/{missing}").json() == \
        client.get(f"{API}/findings/{theirs[0]}").json()
    listed = {item["id"] for item in client.get(f"{API}/findings?limit=1000").json()["items"]}
    assert not listed & set(theirs)
    counts = client.get(f"{API}/findings/counts").json()
    assert counts == [{"organisation_id": w.thai.pk, "organisation": "ThaiCERT", "total": 2,
                       "open": 2}]
    text = b"".join(client.get(f"{API}/findings.csv").streaming_content).decode()
    assert {int(row["id"]) for row in csv.DictReader(io.StringIO(text))} == ids_of(w.thai)
    page = client.get(reverse("web:feeds-inbox"), {"state": "all"})
    assert {f.pk for f in page.context["page"]} == ids_of(w.thai)
    assert page.context["page"].paginator.count == 2
    # Bulk acknowledgement ignores what the user may not see.
    assert client.post(f"{API}/findings/acknowledge", {"ids": theirs},
                       content_type="application/json").json() == {"changed": 0}
    assert not Finding.objects.filter(pk__in=theirs, acknowledged_at__isnull=False).exists()
    # The bank (ThaiCERT's client) and anonymous visitors see nothing either.
    bank = logged_in(w.bank_analyst)
    assert bank.get(f"{API}/findings").json()["count"] == 0
    assert bank.get(f"{API}/findings/{theirs[0]}").status_code == 404
    from django.test import Client

    assert Client().get(f"{API}/findings").status_code == 401


def test_findings_of_an_unfinished_run_are_invisible(delivered):
    w = delivered
    finding = Finding.objects.filter(organisation=w.thai).first()
    finding.run.status = RunStatus.RUNNING
    finding.run.save()
    client = logged_in(w.thai_analyst)
    assert client.get(f"{API}/findings/{finding.pk}").status_code == 404
    assert finding.pk not in {item["id"] for item in client.get(f"{API}/findings").json()["items"]}


def test_api_acknowledge_single_and_bulk(delivered):
    w = delivered
    mine = sorted(ids_of(w.thai))
    client = logged_in(w.thai_analyst)
    assert client.post(f"{API}/findings/{mine[0]}/acknowledge").json() == {"changed": 1}
    assert client.get(f"{API}/findings", {"acknowledged": "false"}).json()["count"] == 1
    body = client.post(f"{API}/findings/acknowledge", {"ids": mine},
                       content_type="application/json").json()
    assert body == {"changed": 1}
    detail = client.get(f"{API}/findings/{mine[0]}").json()
    assert detail["acknowledged"]
    assert detail["acknowledged_by"] == w.thai_analyst.email
    assert client.post(f"{API}/findings/{mine[0]}/reopen").json() == {"changed": 1}
    # Viewers read, never write.
    viewer = logged_in(w.thai_viewer)
    assert viewer.post(f"{API}/findings/{mine[1]}/acknowledge").status_code == 403
    assert client.post(f"{API}/findings/acknowledge", {"ids": []},
                       content_type="application/json").status_code in (400, 422)


def test_inbox_page_filters_and_bulk_acknowledge(delivered):
    w = delivered
    client = logged_in(w.thai_analyst)
    url = reverse("web:feeds-inbox")
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 2
    assert b"Mozi.m" in page.content
    assert client.get(url, {"q": "mozi"}).context["page"].paginator.count == 1
    assert client.get(url, {"q": "TH"}).context["page"].paginator.count == 2
    assert client.get(url, {"feed": "shadow"}).context["page"].paginator.count == 1
    assert client.get(url, {"taxonomy": "malicious-code"}).context["page"].paginator.count == 1
    assert client.get(url, {"taxonomy": "vulnerable/vulnerable-system"}
                      ).context["page"].paginator.count == 1
    fragment = client.get(url, {"q": "mozi"}, headers={"HX-Request": "true"})
    assert b"<html" not in fragment.content
    assert b"Mozi.m" in fragment.content
    mine = sorted(ids_of(w.thai))
    response = client.post(reverse("web:feeds-acknowledge"),
                           {"ids": mine, "action": "acknowledge", "next": url + "?state=all"})
    assert response.status_code == 302
    assert response["Location"] == url + "?state=all"
    assert Finding.objects.filter(pk__in=mine, acknowledged_by=w.thai_analyst).count() == 2
    assert client.get(url).context["page"].paginator.count == 0  # open ones by default
    assert client.get(url, {"state": "acknowledged"}).context["page"].paginator.count == 2
    # An outside redirect target is refused; a finding of someone else is the 404 page.
    response = client.post(reverse("web:feeds-acknowledge"),
                           {"ids": mine[:1], "action": "reopen", "next": "https://evil.example/"})
    assert response["Location"] == url
    theirs = sorted(ids_of(w.my))
    assert client.post(reverse("web:feeds-acknowledge"),
                       {"ids": theirs[:1], "action": "acknowledge"}).status_code == 404


def test_inbox_csv_export_follows_filters_and_is_audited(delivered):
    w = delivered
    client = logged_in(w.thai_analyst)
    response = client.get(reverse("web:feeds-inbox-csv"), {"q": "mozi"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["value"] for row in rows] == ["http://1.0.128.1:40123/Mozi.m"]
    assert AuditEntry.objects.filter(action="export", object_type="feeds.finding").exists()


def test_finding_page_shows_provenance(delivered):
    w = delivered
    finding = Finding.objects.filter(organisation=w.thai, feed__name="urlhaus-th").get()
    response = logged_in(w.thai_viewer).get(reverse("web:feeds-finding", args=[finding.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert escape(finding.raw) in text
    assert "urlhaus-th" in text
    assert f">{finding.line}<" in text
    assert "Acknowledge</button>" not in text  # a viewer


def test_run_pages_for_hub_staff_only(delivered):
    w = delivered
    run = Finding.objects.filter(feed__name="urlhaus-th").first().run
    hub = logged_in(w.hub_admin)
    listing = hub.get(reverse("web:feeds-runs"))
    assert listing.status_code == 200
    assert b"urlhaus-th" in listing.content
    assert b"hx-trigger" not in listing.content
    page = hub.get(reverse("web:feeds-run", args=[run.pk]))
    assert page.status_code == 200
    assert page.context["routed"]
    assert hub.get(f"{API}/runs/{run.pk}").json()["read"] == run.read
    assert hub.get(f"{API}/runs").json()["count"] == 2
    for who in (w.thai_admin, w.my_analyst, w.bank_analyst):
        client = logged_in(who)
        assert client.get(reverse("web:feeds-runs")).status_code == 404
        assert client.get(reverse("web:feeds-run", args=[run.pk])).status_code == 404
        assert client.get(f"{API}/runs/{run.pk}").status_code == 404
        assert client.get(f"{API}/runs").json()["count"] == 0
        assert client.get(f"{API}/feeds").json() == []


def test_running_run_status_is_polled(delivered):
    w = delivered
    run = Finding.objects.filter(feed__name="urlhaus-th").first().run
    run.status = RunStatus.RUNNING
    run.save()
    hub = logged_in(w.hub_admin)
    page = hub.get(reverse("web:feeds-run", args=[run.pk]))
    assert b'hx-trigger="every 2s"' in page.content
    fragment = hub.get(reverse("web:feeds-run", args=[run.pk]), headers={"HX-Request": "true"})
    assert b"<html" not in fragment.content
    assert b'id="run-status"' in fragment.content
    assert b'hx-trigger="every 2s"' in hub.get(reverse("web:feeds-runs")).content


def test_run_now_by_hub_admin(delivered, django_capture_on_commit_callbacks):
    from certhub.feeds.models import FeedRun

    w = delivered
    hub = logged_in(w.hub_admin)
    before = Finding.objects.count()
    runs = FeedRun.objects.filter(feed__name="urlhaus-th").count()
    with django_capture_on_commit_callbacks(execute=True):
        response = hub.post(f"{API}/feeds/urlhaus-th/run")
    assert response.status_code == 202
    # In-process without a broker: the run happened (every value a duplicate now).
    newest = FeedRun.objects.filter(feed__name="urlhaus-th").order_by("-pk").first()
    assert FeedRun.objects.filter(feed__name="urlhaus-th").count() == runs + 1
    assert newest.status == RunStatus.SUCCEEDED
    assert newest.trigger.endswith(w.hub_admin.email)
    assert Finding.objects.count() == before
    assert logged_in(w.thai_admin).post(f"{API}/feeds/urlhaus-th/run").status_code == 404
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = hub.post(reverse("web:feeds-run-feed", args=["urlhaus-th"]))
    assert page.status_code == 302
    assert len(callbacks) == 1


def test_feed_choices_are_the_feeds_that_delivered_to_the_organisation(delivered):
    from certhub.feeds import queries

    w = delivered
    assert sorted(queries.feed_names(w.thai_analyst)) == ["shadow", "urlhaus-th"]
    assert sorted(queries.feed_names(w.sg_analyst)) == ["urlhaus-th"]
    assert queries.feed_names(w.partner_analyst) == []
    assert sorted(queries.feed_names(w.hub_admin)) == ["shadow", "urlhaus-th"]
