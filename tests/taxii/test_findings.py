"""Feed findings as a TAXII collection: routed findings only, as valid STIX indicators."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from certhub.feeds.models import Feed, FeedRun, Finding, RunStatus

from .conftest import FINDINGS, TaxiiClient, objects_url
from .test_server import assert_valid_stix, body, page_through

pytestmark = pytest.mark.usefixtures("hub_root")

VALUES = [("ipv4", "192.0.2.10"), ("url", "http://bad.example/it's"), ("domain", "bad.example"),
          ("sha256", "a" * 64), ("asn", "AS64500"), ("prefix", "2001:db8::/32")]


def make_findings(org, status=RunStatus.SUCCEEDED, values=VALUES):
    feed, _ = Feed.objects.get_or_create(name="test-feed", defaults={
        "source_kind": "file", "location": "/dev/null", "parser": "urlhaus"})
    run = FeedRun.objects.create(feed=feed, status=status)
    now = timezone.now()
    return [Finding.objects.create(
        feed=feed, run=run, line=index, created=now + timedelta(seconds=index),
        expires_at=now + timedelta(days=30), taxonomy="malicious-code", type="malware-distribution",
        value_type=kind, value=value, tlp="amber+strict", dedupe_key=index, organisation=org)
        for index, (kind, value) in enumerate(values)]


def test_findings_reach_their_organisation_only_as_valid_indicators(world):
    make_findings(world.thai)
    make_findings(world.my, values=[("ipv4", "198.51.100.1")])
    make_findings(world.thai, status=RunStatus.RUNNING, values=[("ipv4", "203.0.113.1")])
    found, pages = page_through(TaxiiClient(world.thai_analyst), objects_url(FINDINGS),
                                {"limit": 4})
    assert pages == 2
    assert len(found) == len(VALUES)
    assert_valid_stix(found)
    assert "203.0.113.1" not in json.dumps(found)
    assert "198.51.100.1" not in json.dumps(found)
    mine = body(TaxiiClient(world.my_analyst).get(objects_url(FINDINGS)))["objects"]
    assert [o["pattern"] for o in mine] == ["[ipv4-addr:value = '198.51.100.1']"]
    assert "objects" not in body(TaxiiClient(world.sg_analyst).get(objects_url(FINDINGS)))


def test_one_finding_its_versions_and_the_manifest(world):
    make_findings(world.thai)
    taxii = TaxiiClient(world.thai_analyst)
    manifest = body(taxii.get(f"/taxii2/hub/collections/{FINDINGS}/manifest/"))["objects"]
    first = manifest[0]
    one = body(taxii.get(f"{objects_url(FINDINGS)}{first['id']}/"))["objects"]
    assert [o["id"] for o in one] == [first["id"]]
    assert one[0]["modified"] == first["version"]
    versions = body(taxii.get(f"{objects_url(FINDINGS)}{first['id']}/versions/"))
    assert versions["versions"] == [first["version"]]
    assert TaxiiClient(world.my_analyst).get(
        f"{objects_url(FINDINGS)}{first['id']}/").status_code == 404
    assert body(taxii.get(objects_url(FINDINGS), {"match[id]": first["id"]}))["objects"] == one
    assert "objects" not in body(taxii.get(objects_url(FINDINGS), {"match[type]": "malware"}))
