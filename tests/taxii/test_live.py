"""The server as OASIS's taxii2-client sees it, over real HTTP (pytest-django's live server)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages
from tests.intel.factories import indicator_bundle

from certhub.intel import services as intel_services

from .conftest import OWN, VISIBLE, token_for
from .test_server import assert_valid_stix, versioned

pytestmark = pytest.mark.usefixtures("transactional_db", "hub_root", "_close_connections")
_OPEN: list = []


@pytest.fixture
def _close_connections(live_server):
    """Close the clients' kept-alive connections before the live server goes away (otherwise
    its request threads close the shared SQLite connection after the test)."""
    yield
    while _OPEN:
        _OPEN.pop().close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
            "process_request_thread" in thread.name for thread in threading.enumerate()):
        time.sleep(0.01)


def connect(live_server, user, path: str = "/taxii2/", cls=Server):
    return _opened(cls(f"{live_server.url}{path}", user=user.email, password=token_for(user)))


def _opened(endpoint):
    _OPEN.append(endpoint)
    return endpoint


def read_all(collection, per_request: int = 10, **filters) -> tuple[list[dict], int]:
    objects, pages = [], 0
    for envelope in as_pages(collection.get_objects, per_request=per_request, **filters):
        objects += envelope.get("objects", [])
        pages += 1
    return objects, pages


def test_discovery_collections_post_status_and_paged_read_back(world, live_server):
    server = connect(live_server, world.thai_analyst)
    assert server.title
    assert len(server.api_roots) == 1
    root = server.default
    assert root.versions == ["application/taxii+json;version=2.1"]
    by_id = {c.id: c for c in root.collections}
    own = by_id[OWN]
    assert own.can_read
    assert own.can_write
    assert not by_id[VISIBLE].can_write

    status = own.add_objects(indicator_bundle(50), poll_interval=0.1, timeout=10)
    while status.status != "complete":
        status.refresh()
    assert (status.total_count, status.success_count, status.failure_count) == (50, 50, 0)
    again = root.get_status(status.id)
    assert again.status == "complete"
    assert len(again.successes) == 50

    objects, pages = read_all(own, per_request=10)
    assert len(objects) == 50
    assert len({o["id"] for o in objects}) == 50
    assert pages == 5
    assert_valid_stix(objects)

    manifest = own.get_manifest()
    assert len(manifest["objects"]) == 50
    first = manifest["objects"][0]
    assert own.get_object(first["id"])["objects"][0]["id"] == first["id"]
    assert own.object_versions(first["id"])["versions"] == [first["version"]]
    assert len(own.get_objects(type="indicator", limit=1000)["objects"]) == 50
    assert own.get_objects(type="malware").get("objects") is None
    assert own.get_objects(added_after=manifest["objects"][-1]["date_added"]).get(
        "objects") is None


def test_filters_and_versions_through_the_client(world, live_server):
    one = f"indicator--{uuid.uuid4()}"
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [
        versioned(one, "2024-01-01T00:00:00.000Z", "v1"),
        versioned(one, "2024-06-01T00:00:00.000Z", "v2")]}
    own = connect(live_server, world.thai_analyst,
                  f"/taxii2/hub/collections/{OWN}/", Collection)
    own.add_objects(bundle)
    assert [o["name"] for o in own.get_objects(id=one)["objects"]] == ["v2"]
    assert [o["name"] for o in own.get_objects(id=one, version="first")["objects"]] == ["v1"]
    assert len(own.get_objects(id=one, version="all")["objects"]) == 2
    assert [o["name"] for o in own.get_object(one, version="2024-01-01T00:00:00.000Z")[
        "objects"]] == ["v1"]
    assert own.get_objects(spec_version="2.0").get("objects") is None
    assert own.object_versions(one)["versions"] == ["2024-01-01T00:00:00.000Z",
                                                    "2024-06-01T00:00:00.000Z"]


def failure(call) -> str:
    """The error a client call raised, as text (not kept: it holds the connection open)."""
    try:
        call()
    except Exception as exc:  # requests' HTTPError or taxii2client's own
        return str(exc)
    return ""


def test_errors_through_the_client(world, live_server):
    root = connect(live_server, world.thai_analyst, "/taxii2/hub/", ApiRoot)
    missing = connect(live_server, world.thai_analyst,
                      f"/taxii2/hub/collections/{uuid.uuid4()}/", Collection)
    assert "404" in failure(missing.refresh)
    own = next(c for c in root.collections if c.id == OWN)
    assert "404" in failure(lambda: own.get_object(f"indicator--{uuid.uuid4()}"))
    assert "400" in failure(lambda: own.add_objects('{"objects": "not a list"}'))
    assert "401" in failure(_opened(Server(f"{live_server.url}/taxii2/")).refresh)


def test_two_organisations_read_the_same_collection_through_the_rule(world, live_server):
    amber = indicator_bundle(3, prefix="10.91")
    red = indicator_bundle(2, prefix="10.92")
    green = indicator_bundle(4, prefix="10.93")
    intel_services.import_stix(amber, user=world.thai_analyst, tlp="amber")
    intel_services.import_stix(red, user=world.thai_analyst, tlp="red",
                               audience_users=[world.my_analyst])
    intel_services.import_stix(green, user=world.thai_analyst, tlp="green")

    def ids(user):
        collection = connect(live_server, user, f"/taxii2/hub/collections/{VISIBLE}/",
                             Collection)
        objects, _pages = read_all(collection, per_request=2)
        assert_valid_stix(objects)
        return {o["id"] for o in objects}

    def of(bundle):
        return {o["id"] for o in bundle["objects"]}

    assert ids(world.thai_admin) == of(amber) | of(green)  # RED: not even its own org
    assert ids(world.my_analyst) == of(red) | of(green)  # named for RED; AMBER is not theirs
    assert ids(world.sg_analyst) == of(green)
