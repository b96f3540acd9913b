from __future__ import annotations

import json
from collections import Counter

import pytest
from pymisp import MISPEvent

from certhub.core.errors import InvalidInput
from certhub.intel import services
from certhub.intel.models import Observable, Report, Sighting, StixObject


def _attributes(event: MISPEvent) -> Counter:
    found = Counter((a.type, str(a.value)) for a in event.attributes)
    for obj in event.objects:
        found.update((a.type, str(a.value)) for a in obj.attributes)
    return found


@pytest.fixture
def imported(world, misp_event):
    [report] = services.import_misp(json.dumps(misp_event), user=world.thai_analyst,
                                    tlp="green", audience_orgs=[world.my])
    return report


def test_event_imports_with_tlp_tags_galaxy_and_observables(imported):
    report = imported
    assert report.tlp == "amber"  # the event's tlp:amber tag wins over the asked GREEN
    assert report.stix_id == "report--5f4a2b1c-8d3e-4f6a-9b7c-1d2e3f4a5b6c"
    assert 'rsit:fraud="phishing"' in report.labels
    assert 'misp-galaxy:mitre-attack-pattern="Phishing - T1566"' in report.labels
    values = set(Observable.unrestricted.filter(report=report).values_list("type", "value"))
    assert ("domain-name", "secure-login-bank.example.com") in values
    assert ("ipv4-addr", "203.0.113.45") in values
    assert ("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08") in values
    assert ("file-name", "bank_kit_v3.zip") in values
    # to_ids attributes became STIX indicators with patterns
    indicators = StixObject.unrestricted.filter(report=report, type="indicator")
    assert indicators.count() == 5
    assert indicators.filter(pattern="[ipv4-addr:value = '203.0.113.45']").exists()
    sighting = Sighting.unrestricted.get(report=report)
    assert (sighting.count, sighting.value) == (2, "secure-login-bank.example.com")


def test_misp_export_loads_in_pymisp_with_the_same_attributes(world, imported, misp_event):
    exported = services.export_misp(imported.pk, user=world.my_analyst)
    event = MISPEvent()
    event.load(json.dumps(exported))
    original = MISPEvent()
    original.load(misp_event)
    assert _attributes(event) == _attributes(original)
    assert event.uuid == original.uuid
    assert event.info == original.info
    assert "tlp:amber" in {tag.name for tag in event.tags}
    assert [obj.name for obj in event.objects] == ["file"]


def test_stix_export_of_a_misp_import_validates(world, imported):
    from stix2validator import ValidationOptions, validate_instance

    bundle = services.export_stix([imported.pk], user=world.thai_analyst)
    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, [error.message for error in result.errors]


def test_feed_layout_imports_every_event(world, misp_event):
    second = json.loads(json.dumps(misp_event))
    second["Event"]["uuid"] = "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"
    second["Event"]["info"] = "Second event"
    feed = {"manifest.json": {misp_event["Event"]["uuid"]: {}, second["Event"]["uuid"]: {}},
            f"{misp_event['Event']['uuid']}.json": misp_event,
            f"{second['Event']['uuid']}.json": second}
    reports = services.import_misp(feed, user=world.thai_analyst)
    assert sorted(r.title for r in reports) == sorted([misp_event["Event"]["info"],
                                                       "Second event"])


def test_feed_missing_an_event_file_imports_nothing(world, misp_event):
    feed = {"manifest.json": {misp_event["Event"]["uuid"]: {}, "0000": {}},
            f"{misp_event['Event']['uuid']}.json": misp_event}
    with pytest.raises(InvalidInput, match=r"0000\.json"):
        services.import_misp(feed, user=world.thai_analyst)
    assert not Report.unrestricted.exists()


def test_attribute_without_value_is_named(world, misp_event):
    del misp_event["Event"]["Attribute"][2]["value"]
    with pytest.raises(InvalidInput, match="Attribute 2"):
        services.import_misp(misp_event, user=world.thai_analyst)
    assert not Report.unrestricted.exists()


def test_tag_sets_tlp_and_an_asked_tlp_only_makes_it_stricter(world, misp_event):
    misp_event["Event"]["Tag"][0]["name"] = "tlp:clear"
    [public] = services.import_misp(misp_event, user=world.thai_analyst)
    assert public.tlp == "clear"
    misp_event["Event"]["uuid"] = "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9"
    [stricter] = services.import_misp(misp_event, user=world.thai_analyst, tlp="red")
    assert stricter.tlp == "red"
    del misp_event["Event"]["Tag"][0]
    misp_event["Event"]["uuid"] = "2c3d4e5f-6071-4829-93a4-b5c6d7e8f901"
    [untagged] = services.import_misp(misp_event, user=world.thai_analyst)
    assert untagged.tlp == "amber"


def test_misp_export_of_a_stix_import_loads_in_pymisp(world, stix_bundle):
    report = services.import_stix(stix_bundle, user=world.thai_analyst, tlp="green")
    event = MISPEvent()
    event.load(json.dumps(services.export_misp(report.pk, user=world.thai_analyst)))
    found = _attributes(event)
    assert found[("ip-dst", "198.51.100.7")] >= 1
    assert found[("domain", "update-check.example.net")] == 1
    assert found[("sha256",
                  "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c")] == 1
    assert "tlp:green" in {tag.name for tag in event.tags}
