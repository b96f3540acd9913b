"""The TAXII 2.1 server through Django's test client: resources, filters, paging, errors."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from stix2validator import ValidationOptions, validate_instance
from tests.intel.factories import indicator_bundle

from certhub.audit.models import AuditEntry
from certhub.intel import services as intel_services
from certhub.intel.models import Report, StixObject

from .conftest import FINDINGS, OWN, TAXII, VISIBLE, TaxiiClient, objects_url, token_for

pytestmark = pytest.mark.usefixtures("hub_root")


def body(response) -> dict:
    assert response["Content-Type"] == TAXII, response.content[:300]
    return json.loads(response.content)


def assert_valid_stix(objects) -> None:
    options = ValidationOptions(version="2.1", strict=False)
    for obj in objects:
        result = validate_instance(obj, options)
        assert not result.errors, (obj.get("id"), [str(e) for e in result.errors])


def versioned(stix_id: str, modified: str, name: str) -> dict:
    return {"type": "indicator", "spec_version": "2.1", "id": stix_id,
            "created": "2024-01-01T00:00:00.000Z", "modified": modified, "name": name,
            "indicator_types": ["malicious-activity"],
            "pattern": "[domain-name:value = 'bad.example']", "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z"}


# --- Authentication and media types ----------------------------------------------------------

def test_missing_or_bad_credentials_get_401_with_a_challenge(world):
    for client in (TaxiiClient(), TaxiiClient(token="chub_wrong")):
        response = client.get("/taxii2/hub/collections/")
        assert response.status_code == 401
        assert "Basic" in response["WWW-Authenticate"]
        assert "Bearer" in response["WWW-Authenticate"]
        assert body(response)["http_status"] == "401"


def test_basic_auth_needs_the_tokens_own_email(world):
    token = token_for(world.thai_analyst)
    assert TaxiiClient(world.thai_analyst, token=token, basic=True).get(
        "/taxii2/hub/").status_code == 200
    other = base64.b64encode(f"{world.my_analyst.email}:{token}".encode()).decode()
    response = TaxiiClient().get("/taxii2/hub/", HTTP_AUTHORIZATION=f"Basic {other}")
    assert response.status_code == 401


def test_a_browser_session_is_not_enough(world, client):
    client.force_login(world.thai_analyst)
    response = client.get("/taxii2/hub/collections/", HTTP_ACCEPT=TAXII)
    assert response.status_code == 401


def test_discovery_and_api_root(world):
    taxii = TaxiiClient(world.thai_analyst)
    discovery = body(taxii.get("/taxii2/"))
    assert discovery["default"].endswith("/taxii2/hub/")
    assert discovery["api_roots"] == [discovery["default"]]
    root = body(taxii.get("/taxii2/hub/"))
    assert root["versions"] == [TAXII]
    assert root["max_content_length"] > 0
    assert taxii.get("/taxii2/nowhere/").status_code == 404
    assert body(taxii.get("/taxii2/hub/nothing/here/"))["http_status"] == "404"


def test_unacceptable_media_types_get_406_and_415(world):
    taxii = TaxiiClient(world.thai_analyst)
    assert taxii.get("/taxii2/hub/", HTTP_ACCEPT="text/html").status_code == 406
    assert taxii.get("/taxii2/hub/",
                     HTTP_ACCEPT="application/taxii+json;version=2.0").status_code == 406
    assert taxii.get("/taxii2/hub/", HTTP_ACCEPT="application/taxii+json").status_code == 200
    # Objects may be asked for as STIX; other resources only as TAXII.
    assert taxii.get(objects_url(OWN), HTTP_ACCEPT="application/stix+json;version=2.1"
                     ).status_code == 200
    assert taxii.get("/taxii2/hub/collections/",
                     HTTP_ACCEPT="application/stix+json;version=2.1").status_code == 406
    response = taxii.post(objects_url(OWN), indicator_bundle(1), content_type="application/json")
    assert response.status_code == 415
    assert body(response)["http_status"] == "415"


def test_security_headers_do_not_get_in_the_way(world):
    response = TaxiiClient(world.thai_analyst).get("/taxii2/hub/")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"


# --- Collections -----------------------------------------------------------------------------

def test_collections_and_write_rights_per_user(world, demo_directory):
    listed = body(TaxiiClient(world.thai_analyst).get("/taxii2/hub/collections/"))["collections"]
    by_id = {c["id"]: c for c in listed}
    assert {VISIBLE, OWN, FINDINGS} <= set(by_id)
    assert by_id[OWN]["can_write"]
    assert by_id[OWN]["can_read"]
    assert not by_id[VISIBLE]["can_write"]
    assert by_id[OWN]["media_types"] == ["application/stix+json;version=2.1"]
    viewer = body(TaxiiClient(world.thai_viewer).get("/taxii2/hub/collections/"))
    assert not {c["id"]: c for c in viewer["collections"]}[OWN]["can_write"]
    read_token = token_for(world.thai_analyst, "read")
    reader = body(TaxiiClient(world.thai_analyst, token=read_token).get(
        f"/taxii2/hub/collections/{OWN}/"))
    assert reader["can_read"]
    assert not reader["can_write"]
    response = TaxiiClient(world.thai_analyst, token=read_token).post(objects_url(OWN),
                                                                       indicator_bundle(1))
    assert response.status_code == 403


def test_sharing_group_collections_reach_members_only(world):
    from certhub.sharing.models import SharingGroup

    group = SharingGroup.objects.create(name="Mekong CERTs", slug="mekong",
                                        managed_by=world.thai)
    group.members.set([world.thai, world.sg])
    ids = {c["alias"]: c["id"] for c in body(TaxiiClient(world.thai_analyst).get(
        "/taxii2/hub/collections/"))["collections"]}
    assert "group-mekong" in ids
    outsider = body(TaxiiClient(world.my_analyst).get("/taxii2/hub/collections/"))
    assert "group-mekong" not in {c.get("alias") for c in outsider["collections"]}
    assert TaxiiClient(world.my_analyst).get(
        f"/taxii2/hub/collections/{ids['group-mekong']}/").status_code == 404
    # What a member posts there is shared with the group: the other member reads it.
    posted = TaxiiClient(world.thai_analyst).post(objects_url(ids["group-mekong"]),
                                                  indicator_bundle(3))
    assert body(posted)["success_count"] == 3
    report = Report.unrestricted.get(pk=StixObject.unrestricted.latest("id").report_id)
    assert list(report.audience_groups.all()) == [group]
    assert report.tlp == "amber"
    got = body(TaxiiClient(world.sg_analyst).get(objects_url(ids["group-mekong"])))
    assert len(got["objects"]) == 3
    assert TaxiiClient(world.my_analyst).get(objects_url(ids["group-mekong"])).status_code == 404


def test_unknown_collection_and_object_are_404(world):
    taxii = TaxiiClient(world.thai_analyst)
    missing = str(uuid.uuid4())
    assert body(taxii.get(f"/taxii2/hub/collections/{missing}/"))["http_status"] == "404"
    assert taxii.get(objects_url(missing)).status_code == 404
    response = taxii.get(f"{objects_url(OWN)}indicator--{uuid.uuid4()}/")
    assert response.status_code == 404
    assert taxii.get(f"{objects_url(OWN)}indicator--{uuid.uuid4()}/versions/").status_code == 404


# --- Adding objects --------------------------------------------------------------------------

def test_post_stores_under_the_posters_organisation_and_reports_status(world):
    taxii = TaxiiClient(world.thai_analyst)
    response = taxii.post(objects_url(OWN), indicator_bundle(5))
    assert response.status_code == 202
    status = body(response)
    assert status["status"] == "complete"
    assert (status["total_count"], status["success_count"], status["failure_count"],
            status["pending_count"]) == (5, 5, 0, 0)
    again = body(taxii.get(f"/taxii2/hub/status/{status['id']}/"))
    assert again["successes"] == status["successes"]
    assert TaxiiClient(world.my_analyst).get(
        f"/taxii2/hub/status/{status['id']}/").status_code == 404
    report = Report.unrestricted.get(pk=StixObject.unrestricted.latest("id").report_id)
    assert report.owner == world.thai
    assert report.tlp == "amber"
    assert report.created_by == world.thai_analyst
    assert AuditEntry.objects.filter(action="create", object_type="intel.report",
                                     object_id=str(report.pk)).exists()


def test_posting_the_same_objects_twice_stores_them_once(world):
    taxii = TaxiiClient(world.thai_analyst)
    bundle = indicator_bundle(4)
    body(taxii.post(objects_url(OWN), bundle))
    second = body(taxii.post(objects_url(OWN), bundle))
    assert second["success_count"] == 4
    assert len(body(taxii.get(objects_url(OWN)))["objects"]) == 4


def test_bad_objects_fail_alone_with_a_reason(world):
    bundle = indicator_bundle(3)
    bundle["objects"][1]["pattern"] = "[ipv4-addr:value = "
    bundle["objects"].append({"no": "type"})
    status = body(TaxiiClient(world.thai_analyst).post(objects_url(OWN), bundle))
    assert (status["total_count"], status["success_count"], status["failure_count"]) == (4, 2, 2)
    failed = {f["id"]: f["message"] for f in status["failures"]}
    assert bundle["objects"][1]["id"] in failed
    assert failed[bundle["objects"][1]["id"]]
    assert all(f["message"] for f in status["failures"])


@pytest.mark.parametrize("payload", ["not json", "[]", '{"objects": "x"}', '{"objects": []}',
                                     '{"type": "bundle"}'])
def test_a_malformed_envelope_is_a_taxii_error(world, payload):
    response = TaxiiClient(world.thai_analyst).post(objects_url(OWN), payload)
    assert response.status_code == 400
    error = body(response)
    assert error["http_status"] == "400"
    assert error["title"]


def test_read_only_collection_refuses_posts(world):
    response = TaxiiClient(world.thai_analyst).post(objects_url(VISIBLE), indicator_bundle(1))
    assert response.status_code == 403


# --- Reading, filters, paging ----------------------------------------------------------------

def page_through(taxii, url, params, key="objects"):
    seen, pages = [], 0
    params = dict(params)
    while True:
        response = taxii.get(url, params)
        data = body(response)
        seen += data.get(key, [])
        pages += 1
        if not data["more"]:
            assert "next" not in data
            return seen, pages
        params["next"] = data["next"]


def test_paged_read_back_is_exact_and_stable_while_objects_arrive(world):
    taxii = TaxiiClient(world.thai_analyst)
    body(taxii.post(objects_url(OWN), indicator_bundle(25)))
    first = taxii.get(objects_url(OWN), {"limit": 10})
    data = body(first)
    assert data["more"]
    assert len(data["objects"]) == 10
    assert first["X-TAXII-Date-Added-First"] <= first["X-TAXII-Date-Added-Last"]
    # New objects arrive while the client pages: what it has not read yet follows, in order.
    body(taxii.post(objects_url(OWN), indicator_bundle(7, prefix="10.78")))
    rest, pages = page_through(taxii, objects_url(OWN), {"limit": 10, "next": data["next"]})
    ids = [o["id"] for o in data["objects"] + rest]
    assert len(ids) == len(set(ids)) == 32
    assert pages == 3
    assert_valid_stix(data["objects"] + rest)


def test_next_belongs_to_its_user(world):
    taxii = TaxiiClient(world.thai_analyst)
    body(taxii.post(objects_url(OWN), indicator_bundle(3)))
    following = body(taxii.get(objects_url(OWN), {"limit": 1}))["next"]
    assert TaxiiClient(world.thai_admin).get(objects_url(OWN), {"next": following}
                                             ).status_code == 400
    assert taxii.get(objects_url(OWN), {"next": "forged"}).status_code == 400


def test_next_continues_only_the_read_it_came_from(world):
    """A ``next`` of one collection, endpoint or filter set continues nothing else: later
    pages are not audited, so a replay elsewhere would be an unaudited read."""
    from tests.taxii.conftest import VISIBLE

    taxii = TaxiiClient(world.thai_analyst)
    body(taxii.post(objects_url(OWN), indicator_bundle(3)))
    following = body(taxii.get(objects_url(OWN), {"limit": 1}))["next"]
    assert taxii.get(objects_url(OWN), {"limit": 1, "next": following}).status_code == 200
    assert taxii.get(objects_url(VISIBLE), {"limit": 1, "next": following}).status_code == 400
    assert taxii.get(objects_url(OWN).replace("objects/", "manifest/"),
                     {"limit": 1, "next": following}).status_code == 400
    assert taxii.get(objects_url(OWN), {"limit": 2, "next": following}).status_code == 400


def test_filters(world):
    taxii = TaxiiClient(world.thai_analyst)
    one = f"indicator--{uuid.uuid4()}"
    bundle = indicator_bundle(3)
    bundle["objects"] += [versioned(one, "2024-01-01T00:00:00.000Z", "v1"),
                          versioned(one, "2024-02-01T00:00:00.000Z", "v2"),
                          versioned(one, "2024-03-01T00:00:00.000Z", "v3")]
    bundle["objects"].append({"type": "ipv4-addr", "spec_version": "2.1",
                              "id": f"ipv4-addr--{uuid.uuid4()}", "value": "192.0.2.9"})
    body(taxii.post(objects_url(OWN), bundle))
    url = objects_url(OWN)

    def names(params):
        found = body(taxii.get(url, params)).get("objects", [])
        return sorted(o.get("name", o["type"]) for o in found)

    assert len(body(taxii.get(url))["objects"]) == 5  # the last version of each by default
    assert names({"match[id]": one}) == ["v3"]
    assert names({"match[id]": one, "match[version]": "first"}) == ["v1"]
    assert names({"match[id]": one, "match[version]": "all"}) == ["v1", "v2", "v3"]
    assert names({"match[id]": one, "match[version]": "first,last"}) == ["v1", "v3"]
    assert names({"match[id]": one, "match[version]": "2024-02-01T00:00:00.000Z"}) == ["v2"]
    assert names({"match[type]": "ipv4-addr"}) == ["ipv4-addr"]
    assert len(names({"match[type]": "indicator,ipv4-addr"})) == 5
    assert names({"match[spec_version]": "2.0"}) == []
    assert len(names({"match[spec_version]": "2.1"})) == 5
    last = taxii.get(url)["X-TAXII-Date-Added-Last"]
    assert names({"added_after": last}) == []
    body(taxii.post(url, indicator_bundle(2, prefix="10.79")))
    assert len(names({"added_after": last})) == 2
    assert taxii.get(url, {"added_after": "yesterday"}).status_code == 400
    assert taxii.get(url, {"limit": "0"}).status_code == 400


def test_a_newer_version_posted_later_replaces_the_older_one_in_default_reads(world):
    """Versions stored by separate posts (separate reports) are judged together: the default
    read gives the last one only, wherever its older versions were stored."""
    taxii = TaxiiClient(world.thai_analyst)
    one = f"indicator--{uuid.uuid4()}"
    url = objects_url(OWN)
    body(taxii.post(url, {"objects": [versioned(one, "2024-01-01T00:00:00.000Z", "v1")]}))
    assert [o["name"] for o in body(taxii.get(url, {"match[id]": one}))["objects"]] == ["v1"]
    body(taxii.post(url, {"objects": [versioned(one, "2024-05-01T00:00:00.000Z", "v2")]}))
    everything = body(taxii.get(url))["objects"]
    assert [o["name"] for o in everything if o["id"] == one] == ["v2"]
    assert [o["name"] for o in body(taxii.get(url, {"match[version]": "first"}))["objects"]
            if o["id"] == one] == ["v1"]
    assert taxii.get(url, {"match[colour]": "red"}).status_code == 400


def test_object_versions_and_manifest(world):
    taxii = TaxiiClient(world.thai_analyst)
    one = f"indicator--{uuid.uuid4()}"
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [
        versioned(one, "2024-01-01T00:00:00.000Z", "v1"),
        versioned(one, "2024-02-01T00:00:00.123Z", "v2")]}
    body(taxii.post(objects_url(OWN), bundle))
    single = body(taxii.get(f"{objects_url(OWN)}{one}/"))
    assert [o["name"] for o in single["objects"]] == ["v2"]
    both = body(taxii.get(f"{objects_url(OWN)}{one}/", {"match[version]": "all"}))
    assert len(both["objects"]) == 2
    assert_valid_stix(both["objects"])
    versions = body(taxii.get(f"{objects_url(OWN)}{one}/versions/"))
    assert versions == {"more": False, "versions": ["2024-01-01T00:00:00.000Z",
                                                    "2024-02-01T00:00:00.123Z"]}
    manifest = body(taxii.get(f"/taxii2/hub/collections/{OWN}/manifest/",
                              {"match[version]": "all"}))
    assert {(m["id"], m["version"]) for m in manifest["objects"]} == {
        (one, "2024-01-01T00:00:00.000Z"), (one, "2024-02-01T00:00:00.123Z")}
    assert all(m["media_type"] == "application/stix+json;version=2.1" and m["date_added"]
               for m in manifest["objects"])
    paged, pages = page_through(taxii, f"/taxii2/hub/collections/{OWN}/manifest/",
                                {"limit": 1, "match[version]": "all"})
    assert len(paged) == 2
    assert pages == 2


def test_reads_are_audited_once_per_paging(world):
    taxii = TaxiiClient(world.thai_analyst)
    body(taxii.post(objects_url(OWN), indicator_bundle(3)))
    before = AuditEntry.objects.filter(object_type="taxii.collection").count()
    page_through(taxii, objects_url(OWN), {"limit": 1})
    entries = AuditEntry.objects.filter(object_type="taxii.collection")
    assert entries.count() == before + 1
    entry = entries.latest("seq")
    assert entry.action == "export"
    assert entry.details["endpoint"] == "objects"
    assert entry.actor == world.thai_analyst.email


# --- The sharing rule ------------------------------------------------------------------------

def test_each_reader_gets_exactly_what_the_sharing_rule_gives(world):
    def share(tlp, **audience):
        bundle = indicator_bundle(2, prefix=f"10.{80 + len(shared)}")
        intel_services.import_stix(bundle, user=world.thai_analyst, tlp=tlp, **audience)
        shared[tlp + str(audience)] = {o["id"] for o in bundle["objects"]}

    shared: dict[str, set[str]] = {}
    share("clear")
    share("green")
    share("amber", audience_orgs=[world.thai])
    share("amber+strict", audience_orgs=[world.thai])
    share("red", audience_users=[world.thai_viewer])
    everything = set().union(*shared.values())

    def read(user):
        found, _pages = page_through(TaxiiClient(user), objects_url(VISIBLE), {"limit": 3})
        assert_valid_stix(found)
        return {o["id"] for o in found}

    red = shared["red{'audience_users': [" + repr(world.thai_viewer) + "]}"]
    amber = shared["amber{'audience_orgs': [" + repr(world.thai) + "]}"]
    assert read(world.thai_analyst) == everything  # the creator
    assert read(world.thai_viewer) == everything  # named for RED
    assert read(world.thai_admin) == everything - red
    assert read(world.bank_analyst) == shared["clear{}"] | shared["green{}"] | amber
    assert read(world.my_analyst) == shared["clear{}"] | shared["green{}"]
    # An object the reader may not see does not exist for them.
    one_red = sorted(red)[0]
    assert TaxiiClient(world.thai_admin).get(
        f"{objects_url(VISIBLE)}{one_red}/").status_code == 404
    assert TaxiiClient(world.my_analyst).get(
        f"{objects_url(VISIBLE)}{sorted(amber)[0]}/versions/").status_code == 404
    # The organisation's own collection holds only its own.
    own, _pages = page_through(TaxiiClient(world.my_analyst), objects_url(OWN), {})
    assert own == []


def test_a_configured_group_collection_replaces_the_virtual_one(world):
    from certhub.sharing.models import SharingGroup
    from certhub.taxii.models import ApiRoot, Collection

    group = SharingGroup.objects.create(name="Banks", slug="banks", managed_by=world.thai)
    group.members.set([world.thai, world.bank])
    configured = Collection.objects.create(
        api_root=ApiRoot.objects.get(slug="hub"), kind="group", sharing_group=group,
        title="Thai banking sector", alias="banks", write_tlp="amber+strict")
    listed = body(TaxiiClient(world.bank_analyst).get("/taxii2/hub/collections/"))
    aliases = {c.get("alias") for c in listed["collections"]}
    assert "banks" in aliases
    assert "group-banks" not in aliases
    status = body(TaxiiClient(world.bank_analyst).post(objects_url("banks"),
                                                       indicator_bundle(2)))
    assert status["success_count"] == 2
    report = Report.unrestricted.get(pk=StixObject.unrestricted.latest("id").report_id)
    assert report.tlp == "amber+strict"
    assert report.owner == world.bank
    assert list(report.audience_groups.all()) == [group]
    got = body(TaxiiClient(world.thai_analyst).get(objects_url(str(configured.id))))
    assert len(got["objects"]) == 2
    assert TaxiiClient(world.my_analyst).get(objects_url("banks")).status_code == 404


def test_methods_and_sizes_outside_the_spec_are_refused(world):
    from certhub.taxii.models import ApiRoot

    taxii = TaxiiClient(world.thai_analyst)
    response = taxii.client.delete(f"/taxii2/hub/collections/{OWN}/", headers=taxii.headers)
    assert response.status_code == 405
    assert body(response)["http_status"] == "405"
    ApiRoot.objects.filter(slug="hub").update(max_content_length=100)
    assert taxii.post(objects_url(OWN), indicator_bundle(3)).status_code == 413


def test_envelopes_past_the_form_limit_answer_in_taxii(world, settings):
    """The API root's limit decides, not Django's form limit; a too-large body gets a TAXII
    error resource, and a nonsense Content-Length is not a 500."""
    from certhub.taxii.models import ApiRoot

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    taxii = TaxiiClient(world.thai_analyst)
    bundle = indicator_bundle(30)
    assert len(json.dumps(bundle)) > 1000
    assert taxii.post(objects_url(OWN), bundle).status_code == 202
    ApiRoot.objects.filter(slug="hub").update(max_content_length=500)
    response = taxii.post(objects_url(OWN), bundle)
    assert response.status_code == 413
    assert body(response)["http_status"] == "413"
    odd = taxii.post(objects_url(OWN), indicator_bundle(1), HTTP_CONTENT_LENGTH="abc")
    assert odd.status_code in (400, 413)
