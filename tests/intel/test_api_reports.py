"""Reports through /api/v1/intel/: list with filters and counts, detail, create, change, delete."""

from __future__ import annotations

import pytest

from certhub.audit.models import Action, AuditEntry
from certhub.intel import services
from certhub.intel.models import Observable, Report

from .conftest import sample


@pytest.fixture
def imported(world, api):
    bundle = sample("stix_bundle.json")
    newer = dict(bundle["objects"][1], modified="2024-03-05T08:00:00.000Z", description="New")
    bundle["objects"].append(newer)
    response = api.post(world.thai_analyst, "/import/stix", bundle,
                        query="tlp=amber&audience_orgs=MyCERT")
    assert response.status_code == 201, response.content
    return Report.unrestricted.get(pk=response.json()["reports"][0]["report"]["id"])


def test_list_filters_and_counts(world, api, imported):
    services.create_report(user=world.thai_analyst, title="Green scan list", tlp="green",
                           labels=["scanning"], observables=[("", "203.0.113.5")])
    services.create_report(user=world.my_analyst, title="MyCERT own", tlp="amber",
                           observables=[("", "evil.example.org")])
    as_my = api.get(world.my_analyst, "/reports")
    assert as_my.status_code == 200
    assert as_my.json()["count"] == 3
    titles = lambda response: sorted(r["title"] for r in response.json()["items"])  # noqa: E731
    assert titles(api.get(world.my_analyst, "/reports", tlp="green")) == ["Green scan list"]
    assert titles(api.get(world.my_analyst, "/reports", owner="MyCERT")) == ["MyCERT own"]
    assert titles(api.get(world.my_analyst, "/reports", tag="scanning")) == ["Green scan list"]
    assert titles(api.get(world.my_analyst, "/reports", type="sha256")) == [imported.title]
    assert titles(api.get(world.my_analyst, "/reports", source="stix")) == [imported.title]
    assert titles(api.get(world.my_analyst, "/reports", q="poison")) == [imported.title]
    assert titles(api.get(world.my_analyst, "/reports", value="203.0.113[.]5")) == [
        "Green scan list"]
    assert api.get(world.my_analyst, "/reports", since="2999-01-01T00:00:00Z").json()[
        "count"] == 0
    page = api.get(world.my_analyst, "/reports", limit=1, offset=1).json()
    assert page["count"] == 3
    assert len(page["items"]) == 1
    # Anonymous callers see TLP:CLEAR only; SingCERT sees the GREEN one (community) only.
    assert api.get(None, "/reports").json()["count"] == 0
    assert titles(api.get(world.sg_analyst, "/reports")) == ["Green scan list"]


def test_detail_shows_everything_of_the_report(world, api, imported):
    detail = api.get(world.my_analyst, f"/reports/{imported.pk}")
    assert detail.status_code == 200
    data = detail.json()
    assert data["title"] == "Poison Ivy phishing wave against ministries"
    assert data["audience_orgs"] == ["MyCERT"]
    assert data["object_count"] == 9
    assert len(data["objects"]) == 9
    assert {o["value"] for o in data["observables"]} >= {"198.51.100.7", "cdn-sync.example.org"}
    assert any(o["defanged"] == "198.51.100[.]7" for o in data["observables"])
    [relationship] = data["relationships"]
    assert relationship["relationship_type"] == "indicates"
    assert relationship["target_name"] == "Poison Ivy"
    assert data["sightings"][0]["count"] == 14
    assert [v["modified"] for v in data["history"]] == ["2024-03-05T08:00:00Z",
                                                         "2024-03-01T08:00:00Z"]
    assert data["editable"] is False
    assert api.get(world.thai_analyst, f"/reports/{imported.pk}").json()["editable"] is True
    objects = api.get(world.my_analyst, f"/reports/{imported.pk}/objects", limit=2).json()
    assert objects["count"] == 9
    assert objects["items"][0]["object"]["type"] == "identity"
    hashes = api.get(world.my_analyst, f"/reports/{imported.pk}/observables", type="sha256")
    assert [o["type"] for o in hashes.json()["items"]] == ["sha256"]


def test_detail_lists_correlations(world, api, imported):
    mine = services.create_report(user=world.my_analyst, title="Seen here too", tlp="amber",
                                  observables=[("", "cdn-sync[.]example[.]org")])
    data = api.get(world.my_analyst, f"/reports/{mine.pk}").json()
    assert data["correlation_count"] == 1
    assert data["correlations"][0]["report"]["id"] == imported.pk
    assert data["correlations"][0]["shared_values"] == ["cdn-sync.example.org"]
    listed = api.get(world.my_analyst, f"/reports/{mine.pk}/correlations").json()
    assert [c["report"]["id"] for c in listed] == [imported.pk]


def test_create_normalises_and_audits(world, api):
    response = api.post(world.thai_analyst, "/reports", {
        "title": "Hand-made", "tlp": "amber", "labels": ["phishing"], "confidence": 80,
        "audience_orgs": ["MyCERT"],
        "observables": [{"value": "hxxp://bad[.]example/login"},
                        {"type": "ipv4-addr", "value": "192.0.2[.]10"}]})
    assert response.status_code == 201, response.content
    data = response.json()
    assert {(o["type"], o["value"]) for o in data["observables"]} == {
        ("url", "http://bad.example/login"), ("ipv4-addr", "192.0.2.10")}
    assert data["audience_orgs"] == ["MyCERT"]
    assert AuditEntry.objects.filter(action=Action.CREATE, object_id=str(data["id"])).exists()


def test_create_errors_are_in_the_project_format(world, api):
    bad = api.post(world.thai_analyst, "/reports", {"title": "x", "observables": [
        {"value": "1.2.3.4"}, {"type": "md5", "value": "nothex"}]})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    assert "observable 2" in bad.json()["message"]
    assert api.post(world.thai_viewer, "/reports", {"title": "x"}).status_code == 403
    assert api.post(None, "/reports", {"title": "x"}).status_code == 401
    assert not Report.unrestricted.exists()


def test_change_and_delete_follow_editable_by(world, api, imported):
    changed = api.patch(world.thai_analyst, f"/reports/{imported.pk}",
                        {"title": "Renamed", "labels": ["phishing", "rat"]})
    assert changed.status_code == 200
    assert changed.json()["title"] == "Renamed"
    # MyCERT sees it but may not change it (403); SingCERT does not see it (404).
    assert api.patch(world.my_analyst, f"/reports/{imported.pk}",
                     {"title": "Mine"}).status_code == 403
    assert api.patch(world.sg_analyst, f"/reports/{imported.pk}",
                     {"title": "Mine"}).status_code == 404
    assert api.delete(world.sg_analyst, f"/reports/{imported.pk}").status_code == 404
    assert api.delete(world.my_analyst, f"/reports/{imported.pk}").status_code == 403
    added = api.post(world.thai_analyst, f"/reports/{imported.pk}/observables",
                     {"observables": [{"value": "203.0.113[.]77"}]})
    assert added.status_code == 201
    assert added.json() == {"added": 1}
    assert api.delete(world.thai_analyst, f"/reports/{imported.pk}").status_code == 204
    assert not Report.unrestricted.exists()
    assert not Observable.unrestricted.exists()
    assert AuditEntry.objects.filter(action=Action.DELETE).exists()


def test_openapi_documents_the_intel_operations(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/intel/reports", "/api/v1/intel/import/stix", "/api/v1/intel/lookup",
                 "/api/v1/intel/feed/manifest.json", "/api/v1/intel/export/suricata",
                 "/api/v1/intel/values/{type}/{value}", "/api/v1/intel/sightings"):
        assert path in paths, path
