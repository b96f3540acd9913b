"""The visibility rule for findings, inbox filters, counts, acknowledgement and CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import AnonymousUser

from certhub.audit.models import AuditEntry
from certhub.core.errors import NotFound, PermissionDenied
from certhub.feeds import queries, services
from certhub.feeds.models import Finding

from .conftest import SAMPLES, make_feed

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(world):
    feed = make_feed("urlhaus-th", "urlhaus-csv", SAMPLES / "urlhaus_country.csv")
    services.run_feed(feed)
    scan = make_feed("shadow", "shadowserver-csv", SAMPLES / "2025-03-02-scan_http-asean-geo.csv")
    services.run_feed(scan)
    return world


def test_only_the_routed_organisation_and_hub_staff_see_a_finding(delivered):
    w = delivered
    thai_ids = set(queries.visible_findings(w.thai_viewer).values_list("id", flat=True))
    assert thai_ids == set(Finding.objects.filter(organisation=w.thai).values_list("id", flat=True))
    assert len(thai_ids) == 2
    assert queries.visible_findings(w.hub_admin).count() == Finding.objects.count()
    assert not queries.visible_findings(w.bank_analyst).exists()  # ThaiCERT's client
    assert not queries.visible_findings(w.partner_analyst).exists()
    assert not queries.visible_findings(AnonymousUser()).exists()
    w.thai_analyst.is_active = False
    assert not queries.visible_findings(w.thai_analyst).exists()


def test_inbox_filters(delivered):
    w = delivered
    assert queries.inbox(w.thai_analyst, type="vulnerable-system").count() == 1
    assert queries.inbox(w.thai_analyst, taxonomy="malicious-code").count() == 1
    assert queries.inbox(w.thai_analyst, country="th").count() == 2
    assert queries.inbox(w.thai_analyst, feed="shadow").count() == 1
    assert queries.inbox(w.thai_analyst, value="mozi").count() == 1
    # Users cannot look into another organisation's inbox by asking for it.
    assert set(queries.inbox(w.thai_analyst, organisation_id=w.my.pk)) == set(
        queries.inbox(w.thai_analyst))
    assert queries.inbox(w.hub_admin, organisation_id=w.my.pk).count() == 2
    assert queries.inbox(w.hub_admin, organisation_id=0).count() == 2


def test_counts_per_organisation_cover_visible_rows_only(delivered):
    w = delivered
    assert queries.counts_per_organisation(w.thai_analyst) == [
        {"organisation_id": w.thai.pk, "organisation": "ThaiCERT", "total": 2, "open": 2}]
    counts = {row["organisation"]: row["total"]
              for row in queries.counts_per_organisation(w.hub_admin)}
    assert counts == {"": 2, "MyCERT": 2, "SingCERT": 1, "ThaiCERT": 2}


def test_acknowledge_own_findings_only(delivered):
    w = delivered
    mine = list(queries.inbox(w.thai_analyst).values_list("id", flat=True))
    theirs = list(queries.inbox(w.my_analyst).values_list("id", flat=True))
    assert services.acknowledge(w.thai_analyst, mine + theirs) == 2
    assert queries.inbox(w.thai_analyst, acknowledged=False).count() == 0
    assert queries.inbox(w.thai_analyst, acknowledged=True).count() == 2
    assert queries.inbox(w.my_analyst, acknowledged=False).count() == 2
    finding = Finding.objects.get(pk=mine[0])
    assert finding.acknowledged_by == w.thai_analyst
    assert finding.acknowledged_at
    assert AuditEntry.objects.filter(object_type="feeds.finding").count() == 1
    with pytest.raises(NotFound):
        services.acknowledge(w.thai_analyst, theirs[:1])
    with pytest.raises(PermissionDenied):
        services.acknowledge(w.thai_viewer, mine)
    assert services.acknowledge(w.thai_analyst, mine, acknowledged=False) == 2
    assert queries.counts_per_organisation(w.thai_analyst)[0]["open"] == 2


def test_csv_export_of_an_inbox_query(delivered):
    w = delivered
    text = "".join(services.export_inbox_csv(w.thai_analyst, type="malware-distribution"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["value"] for row in rows] == ["http://1.0.128.1:40123/Mozi.m"]
    assert rows[0]["organisation"] == "ThaiCERT"
    assert rows[0]["country"] == "TH"
    assert rows[0]["observed"] == "2025-03-02T09:58:05Z"
    assert "url_status=online" in rows[0]["details"]
    assert AuditEntry.objects.filter(action="export").count() == 1


def test_runs_are_listed_for_hub_staff(delivered):
    w = delivered
    assert queries.visible_runs(w.hub_admin).count() == 2
    assert not queries.visible_runs(w.thai_admin).exists()
