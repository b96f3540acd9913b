from __future__ import annotations

import json

import pytest
from stix2validator import ValidationOptions, validate_instance

from certhub.audit.models import Action, AuditEntry
from certhub.core.errors import Conflict, InvalidInput
from certhub.intel import services
from certhub.intel.models import Observable, Report, Sighting, StixObject
from certhub.sharing.tlp import STIX_MARKING_IDS, TLP


def _validate(bundle: dict):
    return validate_instance(bundle, ValidationOptions(version="2.1"))


@pytest.fixture
def imported(world, stix_bundle):
    return services.import_stix(json.dumps(stix_bundle), user=world.thai_analyst, tlp="amber",
                                audience_orgs=[world.my])


def test_import_stores_objects_observables_and_sighting(imported, stix_bundle):
    report = imported
    assert report.stix_id == "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3"
    assert report.title == "Poison Ivy phishing wave against ministries"
    assert report.labels == ["phishing"]
    assert StixObject.unrestricted.filter(report=report).count() == len(stix_bundle["objects"])
    values = set(Observable.unrestricted.filter(report=report).values_list("type", "value"))
    assert values == {
        ("ipv4-addr", "198.51.100.7"), ("domain-name", "update-check.example.net"),
        ("domain-name", "cdn-sync.example.org"),
        ("sha256", "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"),
    }
    sighting = Sighting.unrestricted.get(report=report)
    assert (sighting.count, sighting.value, sighting.tlp) == (14, "198.51.100.7", "amber")
    assert sighting.source == "Example National CERT"
    assert list(sighting.audience_orgs.all()) == [report.owner.__class__.objects.get(
        short_name="MyCERT")]
    assert AuditEntry.objects.filter(action=Action.CREATE, object_id=str(report.pk)).exists()


def test_export_validates_without_errors_and_holds_the_same_objects(world, imported,
                                                                   stix_bundle):
    bundle = services.export_stix([imported.pk], user=world.my_analyst)
    result = _validate(bundle)
    assert result.is_valid, [error.message for error in result.errors]
    exported = {(o["id"], o.get("modified")) for o in bundle["objects"]}
    assert {(o["id"], o.get("modified")) for o in stix_bundle["objects"]} <= exported
    amber = STIX_MARKING_IDS[TLP.AMBER]
    assert amber in {o["id"] for o in bundle["objects"]}
    ours = {o["id"] for o in stix_bundle["objects"]}
    for obj in bundle["objects"]:
        if obj["id"] in ours or obj["type"] == "report":
            assert amber in obj["object_marking_refs"], obj["id"]
    indicator = next(o for o in bundle["objects"] if o["id"].startswith("indicator--8e2e"))
    original = next(o for o in stix_bundle["objects"] if o["id"] == indicator["id"])
    assert indicator["pattern"] == original["pattern"]
    assert AuditEntry.objects.filter(action=Action.EXPORT).exists()


def test_export_of_report_without_stix_report_object_synthesises_one(world, stix_bundle):
    stix_bundle["objects"] = [o for o in stix_bundle["objects"] if o["type"] != "report"]
    report = services.import_stix(stix_bundle, user=world.thai_analyst, tlp="green",
                                  title="Loose bundle")
    assert report.title == "Loose bundle"
    bundle = services.export_stix([report.pk], user=world.thai_analyst)
    result = _validate(bundle)
    assert result.is_valid, [error.message for error in result.errors]
    reports = [o for o in bundle["objects"] if o["type"] == "report"]
    assert [r["id"] for r in reports] == [report.stix_id]
    assert reports[0]["created_by_ref"].startswith("identity--")
    assert any(o["id"] == reports[0]["created_by_ref"] for o in bundle["objects"])


def test_bundle_with_one_bad_object_imports_nothing_and_names_it(world, stix_bundle):
    bad = stix_bundle["objects"][3]
    bad["pattern"] = "[file:hashes.'SHA-256' = ]"
    with pytest.raises(InvalidInput) as caught:
        services.import_stix(stix_bundle, user=world.thai_analyst, tlp="amber")
    assert "object 3" in caught.value.message
    assert bad["id"] in caught.value.message
    assert caught.value.field == "objects[3]"
    assert not Report.unrestricted.exists()
    assert not StixObject.unrestricted.exists()
    assert not Observable.unrestricted.exists()


def test_a_mistyped_field_is_a_named_bad_object_not_a_crash(world, stix_bundle):
    """The OASIS validator raises on some mistyped fields; that is the object's fault."""
    bad = stix_bundle["objects"][3]
    bad["modified"] = 5
    with pytest.raises(InvalidInput) as caught:
        services.import_stix(stix_bundle, user=world.thai_analyst, tlp="amber")
    assert bad["id"] in caught.value.message
    assert not Report.unrestricted.exists()


def test_custom_properties_are_refused_by_default(world, stix_bundle):
    stix_bundle["objects"][1]["x_acme_score"] = 7
    with pytest.raises(InvalidInput, match="object 1"):
        services.import_stix(stix_bundle, user=world.thai_analyst, tlp="amber")
    assert not Report.unrestricted.exists()


def test_not_a_bundle(world):
    with pytest.raises(InvalidInput, match="not JSON"):
        services.import_stix("{nope", user=world.thai_analyst, tlp="amber")
    with pytest.raises(InvalidInput, match="STIX bundle"):
        services.import_stix({"type": "indicator"}, user=world.thai_analyst, tlp="amber")


def test_tlp_marking_in_the_bundle_is_never_relaxed(world, stix_bundle):
    stix_bundle["objects"][2]["object_marking_refs"] = [STIX_MARKING_IDS[TLP.RED]]
    report = services.import_stix(stix_bundle, user=world.thai_analyst, tlp="green")
    assert report.tlp == TLP.RED


def test_same_report_twice_is_a_conflict_and_stores_nothing_more(world, stix_bundle):
    services.import_stix(stix_bundle, user=world.thai_analyst, tlp="amber")
    with pytest.raises(Conflict):
        services.import_stix(stix_bundle, user=world.thai_analyst, tlp="amber")
    assert Report.unrestricted.count() == 1


def test_versions_of_one_object_are_kept(world, stix_bundle):
    newer = dict(stix_bundle["objects"][1], modified="2024-03-05T08:00:00.000Z",
                 description="Updated")
    stix_bundle["objects"].append(newer)
    report = services.import_stix(stix_bundle, user=world.thai_analyst, tlp="amber")
    versions = StixObject.unrestricted.filter(report=report, stix_id=newer["id"])
    assert versions.count() == 2


def test_pattern_values_that_do_not_normalise_are_counted_not_indexed(world, stix_bundle):
    stix_bundle["objects"][2]["pattern"] = "[domain-name:value = 'not a domain!']"
    report = services.import_stix(stix_bundle, user=world.thai_analyst, tlp="amber")
    entry = AuditEntry.objects.get(action=Action.CREATE, object_id=str(report.pk))
    assert entry.details["values_not_indexed"] == 1
    assert not Observable.unrestricted.filter(report=report, value__contains="not a").exists()


def test_object_without_id_or_not_an_object_is_named(world, stix_bundle):
    del stix_bundle["objects"][4]["id"]
    stix_bundle["objects"].append("just a string")
    with pytest.raises(InvalidInput) as caught:
        services.import_stix(stix_bundle, user=world.thai_analyst, tlp="amber")
    assert "object 4: needs a type and an id" in caught.value.message
    assert "object 8: not a JSON object" in caught.value.message
    assert caught.value.message.startswith("2 invalid object(s)")
