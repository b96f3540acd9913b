"""Lookup (one value, a batch), value pages and sightings through the API."""

from __future__ import annotations

import pytest

from certhub.intel import queries, services
from certhub.intel.models import Sighting


@pytest.fixture
def report(world):
    return services.create_report(user=world.thai_analyst, title="Scanners", tlp="green",
                                  observables=[("", "203.0.113.50"), ("", "scan.example.net")])


def test_single_lookup_normalises_and_flags_warninglists(world, api, report):
    hit = api.get(world.my_analyst, "/lookup", value="203.0.113[.]50").json()
    assert (hit["value"], hit["found"], hit["reports"]) == ("203.0.113.50", True, [report.pk])
    resolver = api.get(world.my_analyst, "/lookup", value="8.8.8.8").json()
    assert not resolver["found"]
    assert any("DNS resolvers" in name for name in resolver["warninglists"])
    bad = api.get(world.my_analyst, "/lookup", value="what is this?").json()
    assert bad["error"]
    assert not bad["found"]


def test_batch_lookup_answers_in_order(world, api, report):
    response = api.post(world.my_analyst, "/lookup",
                        {"values": ["scan[.]example[.]net", "198.51.100.99", "nonsense value!"]})
    assert response.status_code == 200
    data = response.json()
    assert (data["count"], data["found"]) == (3, 1)
    assert [r["query"] for r in data["results"]] == ["scan[.]example[.]net", "198.51.100.99",
                                                     "nonsense value!"]
    assert data["results"][0]["reports"] == [report.pk]
    assert data["results"][2]["error"]


def test_batch_lookup_limits_and_needs_a_user(world, api):
    too_many = api.post(world.my_analyst, "/lookup",
                        {"values": ["1.1.1.1"] * (queries.LOOKUP_LIMIT + 1)})
    assert too_many.status_code == 400
    assert too_many.json()["field"].startswith("values")
    assert api.post(None, "/lookup", {"values": ["1.1.1.1"]}).status_code == 401
    assert api.post(world.my_analyst, "/lookup", "nope",
                    content_type="application/json").status_code == 400


def test_value_page(world, api, report):
    services.add_sighting(user=world.my_analyst, value="203.0.113.50", count=3, tlp="green",
                          country="MY")
    page = api.get(world.sg_analyst, "/values/ipv4-addr/203.0.113[.]50")
    assert page.status_code == 200
    data = page.json()
    assert data["defanged"] == "203.0.113[.]50"
    assert [r["report"]["id"] for r in data["reports"]] == [report.pk]
    assert data["sighting_totals"] == {"count": 3, "organisations": 1}
    url_page = api.get(world.sg_analyst, "/values/domain-name/scan.example.net")
    assert url_page.status_code == 200
    assert api.get(world.sg_analyst, "/values/ipv4-addr/192.0.2.200").status_code == 404
    assert api.get(world.sg_analyst, "/values/ipv4-addr/not-an-ip").status_code == 400


def test_sightings_recorded_and_aggregated_within_visibility(world, api, report):
    first = api.post(world.my_analyst, "/sightings", {
        "value": "scan[.]example[.]net", "count": 5, "country": "MY", "tlp": "green",
        "source": "border sensor"})
    assert first.status_code == 201, first.content
    assert first.json()["value"] == "scan.example.net"
    assert first.json()["seen_by"] == "MyCERT"
    private = api.post(world.sg_analyst, "/sightings", {
        "value": "scan.example.net", "count": 7, "tlp": "amber"})
    assert private.status_code == 201
    indicator = api.post(world.thai_analyst, "/sightings", {
        "indicator_stix_id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "tlp": "green"})
    assert indicator.status_code == 201
    seen_by_thai = api.get(world.thai_analyst, "/sightings", value="scan.example.net").json()
    assert (seen_by_thai["count"], seen_by_thai["organisations"]) == (5, 1)
    assert seen_by_thai["countries"] == {"MY": 5}
    seen_by_sg = api.get(world.sg_analyst, "/sightings", value="scan.example.net").json()
    assert (seen_by_sg["count"], seen_by_sg["records"]) == (12, 2)
    by_indicator = api.get(world.my_analyst, "/sightings",
                           indicator="indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").json()
    assert by_indicator["count"] == 1
    assert api.post(world.thai_viewer, "/sightings", {"value": "1.2.3.4"}).status_code == 403
    assert api.post(world.my_analyst, "/sightings", {}).status_code == 400
    assert api.get(world.my_analyst, "/sightings").status_code == 400
    assert Sighting.unrestricted.count() == 3


def test_value_page_of_a_url_given_encoded(world, api):
    from urllib.parse import quote

    url = "http://bad.example/login?next=/home"
    services.create_report(user=world.thai_analyst, title="Phish", tlp="green",
                           observables=[("url", url)])
    page = api.get(world.my_analyst, f"/values/url/{quote(url, safe='')}")
    assert page.status_code == 200, page.content
    assert page.json()["value"] == url
    assert page.json()["defanged"] == "hxxp[:]//bad[.]example/login?next=/home"
