"""Three organisations through the API: ThaiCERT (A) shares an AMBER report with MyCERT (B) only.
B sees it everywhere; SingCERT (C), which holds one of its values itself, gets 404 for its
detail, exports, feed file and value page, and no list, count, lookup, correlation or feed entry
betrays it."""

from __future__ import annotations

import pytest

from certhub.intel import services

from .conftest import sample

SHARED = "c2.shared-example.net"   # in A's report and in C's own report
ONLY_A = "update-check.example.net"  # in A's report only


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


def _urls(a) -> list[str]:
    return [f"/reports/{a.pk}", f"/reports/{a.pk}/objects", f"/reports/{a.pk}/observables",
            f"/reports/{a.pk}/correlations", f"/export/stix?report={a.pk}",
            f"/export/misp?report={a.pk}", f"/export/csv?report={a.pk}",
            f"/export/values?report={a.pk}&type=domain-name",
            f"/export/suricata?report={a.pk}", f"/values/domain-name/{ONLY_A}",
            f"/feed/{a.stix_id.split('--')[1]}.json"]


def test_recipient_reaches_every_view_of_it(world, api, three):
    a, b, _c = three
    for url in _urls(a):
        assert api.get(world.my_analyst, url).status_code == 200, url
    correlated = api.get(world.my_analyst, f"/reports/{b.pk}").json()
    assert [c["report"]["id"] for c in correlated["correlations"]] == [a.pk]
    assert api.get(world.my_analyst, "/lookup", value=ONLY_A).json()["reports"] == [a.pk]
    manifest = api.get(world.my_analyst, "/feed/manifest.json").json()
    assert a.stix_id.split("--")[1] in manifest


def test_outsider_gets_404_for_every_view_of_it(world, api, three):
    a, _b, _c = three
    for url in _urls(a):
        response = api.get(world.sg_analyst, url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
        assert a.title not in response.content.decode()


def test_outsider_lists_counts_lookups_and_feed_exclude_it(world, api, three):
    a, _b, c = three
    listed = api.get(world.sg_analyst, "/reports").json()
    assert listed["count"] == 1
    assert [r["id"] for r in listed["items"]] == [c.pk]
    assert api.get(world.sg_analyst, "/reports", value=SHARED).json()["count"] == 1
    detail = api.get(world.sg_analyst, f"/reports/{c.pk}").json()
    assert detail["correlation_count"] == 0
    assert detail["correlations"] == []
    assert api.get(world.sg_analyst, f"/reports/{c.pk}/correlations").json() == []
    one = api.get(world.sg_analyst, "/lookup", value=SHARED).json()
    assert one["reports"] == [c.pk]
    assert one["sightings_count"] == 0
    batch = api.post(world.sg_analyst, "/lookup", {"values": [SHARED, ONLY_A]}).json()
    assert batch["found"] == 1
    assert batch["results"][1]["reports"] == []
    assert not batch["results"][1]["found"]
    page = api.get(world.sg_analyst, f"/values/domain-name/{SHARED}").json()
    assert [r["report"]["id"] for r in page["reports"]] == [c.pk]
    sightings = api.get(world.sg_analyst, "/sightings", value=ONLY_A).json()
    assert sightings["count"] == 0
    assert sightings["sightings"] == []
    everything = api.get(world.sg_analyst, "/export/stix").json()
    assert a.stix_id not in {o["id"] for o in everything["objects"]}
    values = api.get(world.sg_analyst, "/export/values", type="domain-name").content.decode()
    assert values.split() == [SHARED]
    manifest = api.get(world.sg_analyst, "/feed/manifest.json").json()
    assert list(manifest) == [c.stix_id.split("--")[1]]
    hashes = api.get(world.sg_analyst, "/feed/hashes.csv").content.decode()
    assert a.stix_id.split("--")[1] not in hashes
