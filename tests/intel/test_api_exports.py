"""Exports through the API (STIX, MISP, CSV, value lists, Suricata rules) and the MISP feed."""

from __future__ import annotations

import csv
import hashlib
import io
import re

import pytest
from pymisp import MISPEvent
from stix2validator import ValidationOptions, validate_instance

from certhub.audit.models import Action, AuditEntry
from certhub.intel import exports, services

from .conftest import sample


@pytest.fixture
def reports(world):
    stix = services.import_stix(sample("stix_bundle.json"), user=world.thai_analyst,
                                tlp="amber", audience_orgs=[world.my])
    [misp] = services.import_misp(sample("misp_event.json"), user=world.thai_analyst,
                                  audience_orgs=[world.my])
    manual = services.create_report(
        user=world.thai_analyst, title="Network list", tlp="green",
        observables=[("", "203.0.113.9"), ("", "2001:db8::7"), ("", "198.51.100.0/24"),
                     ("", "bad-domain.example"), ("", "http://bad-domain.example/a;b?c=\"d\""),
                     ("", "d41d8cd98f00b204e9800998ecf8427e")])
    return stix, misp, manual


def test_stix_export_validates_and_holds_the_objects(world, api, reports):
    stix, _misp, _manual = reports
    response = api.get(world.my_analyst, "/export/stix", report=stix.pk)
    assert response.status_code == 200
    bundle = response.json()
    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, [error.message for error in result.errors]
    ids = {o["id"] for o in bundle["objects"]}
    assert {o["id"] for o in sample("stix_bundle.json")["objects"]} <= ids
    everything = api.get(world.my_analyst, "/export/stix").json()
    assert validate_instance(everything, ValidationOptions(version="2.1")).is_valid
    assert AuditEntry.objects.filter(action=Action.EXPORT, details__format="stix").count() == 2


def test_misp_export_loads_in_pymisp_with_the_same_attributes(world, api, reports):
    _stix, misp, _manual = reports
    response = api.get(world.my_analyst, "/export/misp", report=misp.pk)
    assert response.status_code == 200
    event = MISPEvent()
    event.load(response.json())
    exported = {(a.type, str(a.value)) for a in event.attributes}
    for obj in event.objects:
        exported |= {(a.type, str(a.value)) for a in obj.attributes}
    original = sample("misp_event.json")["Event"]
    expected = {(a["type"], a["value"]) for a in original["Attribute"]}
    for obj in original.get("Object", []):
        expected |= {(a["type"], a["value"]) for a in obj["Attribute"]}
    assert expected <= exported
    several = api.get(world.my_analyst, "/export/misp").json()
    assert isinstance(several, list)
    assert len(several) == 3


def test_csv_export(world, api, reports):
    _stix, _misp, manual = reports
    response = api.get(world.my_analyst, "/export/csv", report=manual.pk)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == list(exports.CSV_COLUMNS)
    assert {r["value"] for r in rows} >= {"203.0.113.9", "bad-domain.example"}
    assert {r["report_id"] for r in rows} == {str(manual.pk)}


def test_plain_value_lists_by_type(world, api, reports):
    response = api.get(world.my_analyst, "/export/values", type="ipv4-addr")
    lines = response.content.decode().splitlines()
    assert "203.0.113.9" in lines
    assert lines == sorted(set(lines))
    assert all(re.fullmatch(r"[\d.]+", line) for line in lines)
    two = api.get(world.my_analyst, "/export/values?type=ipv6-addr&type=md5").content.decode()
    assert set(two.split()) >= {"2001:db8::7", "d41d8cd98f00b204e9800998ecf8427e"}
    assert api.get(world.my_analyst, "/export/values").status_code == 400
    assert api.get(world.my_analyst, "/export/values", type="teapot").status_code == 400


RULE = re.compile(r'alert (ip|dns|tls|http) any any (->|<>) \S+ any \(msg:"[^";\\]+"; '
                  r'(?:[a-z.]+; (?:dotprefix; )?)?(?:content:"[^";\\]*"; [a-z; ]*)*'
                  r'(?:[a-z.]+; content:"[^";\\]*"; [a-z; ]*)?'
                  r"classtype:trojan-activity; sid:(\d+); rev:1; metadata:created_by certhub;\)")


def test_suricata_rules_are_plausible_with_unique_stable_sids(world, api, reports):
    _stix, _misp, manual = reports
    first = api.get(world.my_analyst, "/export/suricata", report=manual.pk).content.decode()
    rules = [line for line in first.splitlines() if not line.startswith("#")]
    sids = []
    for rule in rules:
        match = RULE.fullmatch(rule)
        assert match, rule
        sids.append(int(match.group(3)))
    assert len(sids) == len(set(sids))
    assert all(0 < sid < 2**32 for sid in sids)
    assert any("<> 203.0.113.9 any" in r for r in rules)
    assert any("<> 198.51.100.0/24 any" in r for r in rules)
    assert any("dns.query; dotprefix; content:\".bad-domain.example\"" in r for r in rules)
    assert any("tls.sni; dotprefix;" in r for r in rules)
    url_rule = next(r for r in rules if "http.uri" in r)
    assert 'content:"/a|3B|b?c=|22|d|22|"' in url_rule  # ; and " as hex bytes
    assert not any("d41d8cd98f00b204e9800998ecf8427e" in r for r in rules)  # not network
    again = api.get(world.my_analyst, "/export/suricata").content.decode()
    again_sids = {r.split("sid:")[1].split(";")[0] for r in again.splitlines() if "sid:" in r}
    assert {str(s) for s in sids} <= again_sids


def test_exports_need_a_user_and_are_audited(world, api, reports):
    assert api.get(None, "/export/stix").status_code == 401
    before = AuditEntry.objects.filter(action=Action.EXPORT).count()
    for fmt in ("stix", "misp", "csv", "suricata"):
        assert api.get(world.my_analyst, f"/export/{fmt}").status_code == 200
    assert AuditEntry.objects.filter(action=Action.EXPORT).count() == before + 4


# --- MISP feed -------------------------------------------------------------------------------

def test_feed_manifest_event_and_hashes(world, api, reports):
    stix, misp, manual = reports
    manifest = api.get(world.my_analyst, "/feed/manifest.json").json()
    uuids = {r.stix_id.split("--")[1] for r in (stix, misp, manual)}
    assert set(manifest) == uuids
    entry = manifest[misp.stix_id.split("--")[1]]
    assert entry["info"] == misp.title
    assert {"name": "tlp:amber", "colour": "#ffffff"} in entry[
        "Tag"]
    assert {"Orgc", "date", "analysis", "threat_level_id", "timestamp"} <= set(entry)
    event = api.get(world.my_analyst, f"/feed/{misp.stix_id.split('--')[1]}.json").json()
    loaded = MISPEvent()
    loaded.load(event)
    assert loaded.info == misp.title
    hashes = api.get(world.my_analyst, "/feed/hashes.csv").content.decode().splitlines()
    assert all(re.fullmatch(r"[0-9a-f]{32},[0-9a-f-]{36}", line) for line in hashes)
    expected = hashlib.md5(b"203.0.113.9", usedforsecurity=False).hexdigest()
    assert f"{expected},{manual.stix_id.split('--')[1]}" in hashes


def test_feed_needs_a_token(world, api, client, reports):
    assert api.get(None, "/feed/manifest.json").status_code == 401
    client.force_login(world.my_analyst)
    for path in ("manifest.json", "hashes.csv"):
        response = client.get(f"/api/v1/intel/feed/{path}")
        assert response.status_code == 401, path
        assert "token" in response.json()["message"]
    assert api.get(world.my_analyst, "/feed/not-a-uuid.json").status_code == 404
