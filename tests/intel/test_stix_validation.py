"""The fast validation path accepts nothing that the full OASIS validator plus stix2.parse would
reject, takes the common shapes, and reads the same values out of patterns as the parser."""

from __future__ import annotations

import copy
import uuid

import pytest

from certhub.core.errors import InvalidInput
from certhub.intel.stix import patterns, validation
from certhub.sharing.tlp import STIX_MARKING_IDS, TLP

from .conftest import sample
from .factories import indicator_bundle

BASE = {"type": "indicator", "spec_version": "2.1",
        "id": "indicator--4a0f3c1e-51d6-4f0e-9d2b-5b8c0c7f1a10",
        "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z",
        "name": "C2", "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '203.0.113.9']", "pattern_type": "stix",
        "valid_from": "2024-05-01T00:00:00Z"}


def _variant(**changes) -> dict:
    obj = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


VALID_FAST = [
    _variant(),
    _variant(valid_until="2025-05-01T00:00:00Z", labels=["c2"], confidence=50,
             description="Seen", object_marking_refs=[STIX_MARKING_IDS[TLP.AMBER]],
             created_by_ref="identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
             kill_chain_phases=[{"kill_chain_name": "mitre-attack",
                                 "phase_name": "command-and-control"}]),
    _variant(pattern="[domain-name:value = 'evil.example.com']"),
    _variant(pattern="[url:value = 'http://evil.example.com/a?b=c']"),
    _variant(pattern="[email-addr:value = 'boss@evil.example.com']"),
    _variant(pattern="[file:hashes.'SHA-256' = "
                     "'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']"),
    _variant(pattern="[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427e']"),
    _variant(pattern="[file:name = 'invoice.exe']"),
    _variant(pattern="[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value IN "
                     "('a.example.net', 'b.example.org')]"),
    _variant(pattern="[ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
    _variant(pattern="[domain-name:value = 'not a domain!']"),
    _variant(pattern_type="snort", pattern="alert tcp any any -> any any (sid:1;)"),
    {"type": "ipv4-addr", "spec_version": "2.1",
     "id": "ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db", "value": "198.51.100.7"},
    {"type": "domain-name", "spec_version": "2.1",
     "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5", "value": "example.com"},
    {"type": "url", "spec_version": "2.1",
     "id": "url--c1477287-23ac-5971-a010-5c287877fa60", "value": "https://example.com/x"},
]

INVALID = [
    _variant(pattern=None),
    _variant(valid_from=None),
    _variant(id="indicator--123"),
    _variant(id="malware--4a0f3c1e-51d6-4f0e-9d2b-5b8c0c7f1a10"),
    _variant(created="2024-13-01T00:00:00.000Z"),
    _variant(created="2024-02-30T00:00:00.000Z", modified="2024-02-30T00:00:00.000Z"),
    _variant(modified="2024-04-01T00:00:00.000Z"),
    _variant(valid_until="2024-05-01T00:00:00Z"),
    _variant(valid_until="2024-04-01T00:00:00Z"),
    _variant(confidence=101),
    _variant(confidence="high"),
    _variant(labels=[]),
    _variant(description=None) | {"description": None},
    _variant(kill_chain_phases=[]),
    _variant(indicator_types="malicious-activity"),
    _variant(name=123),
    _variant(pattern="[ipv4-addr:value = ]"),
    _variant(pattern="[ipv4-addr:value = '1.2.3.4'"),
    _variant(pattern="ipv4-addr:value = '1.2.3.4'"),
    _variant(pattern="[ipv4-addr:value = '1.2.3.4'] AND"),
    _variant(x_acme_score=7),
    _variant(unknown_property="x"),
    _variant(spec_version="2.2"),
    _variant(created_by_ref="malware--4a0f3c1e-51d6-4f0e-9d2b-5b8c0c7f1a10"),
    _variant(object_marking_refs=["identity--4a0f3c1e-51d6-4f0e-9d2b-5b8c0c7f1a10"]),
    _variant(kill_chain_phases=[{"phase_name": "c2"}]),
    _variant(type="indicatorx"),
    {"type": "ipv4-addr", "spec_version": "2.1",
     "id": "domain-name--12592121-be4c-5a93-a813-5a5af16e50db", "value": "198.51.100.7"},
    {"type": "ipv4-addr", "spec_version": "2.1",
     "id": "ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db"},
    {"type": "ipv4-addr", "spec_version": "2.1",
     "id": "ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db", "value": "198.51.100.7",
     "x_note": "custom"},
    {"type": "ipv4-addr", "spec_version": "2.1",
     "id": "ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db", "value": 7},
]


def _fully_valid(obj) -> bool:
    return not validation.full_errors(obj, allow_custom=False)


@pytest.mark.parametrize("obj", VALID_FAST, ids=lambda o: o.get("pattern") or o["type"])
def test_common_shapes_take_the_fast_path_and_the_full_validator_agrees(obj):
    assert _fully_valid(obj)
    assert validation.fast_check(obj) is not None


@pytest.mark.parametrize("obj", INVALID, ids=lambda o: str(sorted(o.items()))[-60:])
def test_objects_the_full_validator_rejects_are_rejected(obj):
    assert not _fully_valid(obj)
    assert validation.fast_check(obj) is None
    with pytest.raises(InvalidInput):
        validation.check(obj)


def test_both_paths_agree_on_the_sample_bundles():
    objects = sample("stix_bundle.json")["objects"] + indicator_bundle(50)["objects"]
    for obj in objects:
        fast = validation.fast_check(obj)
        assert fast is None or _fully_valid(obj), obj["id"]
        assert _fully_valid(obj), obj["id"]


@pytest.mark.parametrize("obj", [o for o in VALID_FAST if o["type"] == "indicator"
                                 and o["pattern_type"] == "stix"],
                         ids=lambda o: o["pattern"])
def test_fast_values_equal_the_parsers(obj):
    rejected: list[str] = []
    expected = list(patterns.values_in_pattern(obj["pattern"], rejected))
    checked = validation.fast_check(obj)
    assert checked.values == expected
    assert checked.rejected == rejected


def test_custom_content_allowed_goes_the_full_way():
    obj = _variant(x_acme_score=7)
    assert validation.check(obj, allow_custom=True).values is None
    assert str(uuid.UUID(obj["id"].split("--")[1]))
