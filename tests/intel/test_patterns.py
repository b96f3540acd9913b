from __future__ import annotations

import pytest

from certhub.core.errors import InvalidInput
from certhub.intel.stix.patterns import pattern_for, values_in_object, values_in_pattern


def _values(pattern: str) -> set[tuple[str, str]]:
    return set(values_in_pattern(pattern))


def test_equality_and_in_on_value_paths():
    assert _values("[ipv4-addr:value = '198.51.100.1'] OR "
                   "[domain-name:value IN ('A.example', 'b.example')]") == {
        ("ipv4-addr", "198.51.100.1"), ("domain-name", "a.example"),
        ("domain-name", "b.example")}


def test_hashes_under_any_spelling_of_the_algorithm():
    md5 = "D41D8CD98F00B204E9800998ECF8427E"
    assert _values(f"[file:hashes.MD5 = '{md5}' AND file:hashes.'SHA-1' = '{'a' * 40}']") == {
        ("md5", md5.lower()), ("sha1", "a" * 40)}


def test_negations_and_fuzzy_operators_name_no_value():
    assert _values("[domain-name:value != 'a.example'] AND [url:value LIKE 'http://%'] "
                   "AND [file:name MATCHES '^x']") == set()
    assert _values("[domain-name:value NOT = 'a.example']") == set()


def test_references_addresses_asn_and_prefix_subsets():
    found = _values("[email-message:from_ref.value = 'Boss@Corp.example' AND "
                    "email-message:to_refs[*].value = 'x@corp.example'] OR "
                    "[network-traffic:dst_ref.value = '2001:db8::1'] OR "
                    "[autonomous-system:number = 4788] OR "
                    "[ipv4-addr:value ISSUBSET '203.0.113.0/24']")
    assert found == {("email-addr", "Boss@corp.example"), ("email-addr", "x@corp.example"),
                     ("ipv6-addr", "2001:db8::1"), ("asn", "AS4788"),
                     ("ip-prefix", "203.0.113.0/24")}


def test_escaped_quotes_in_constants():
    assert _values(r"[url:value = 'http://a.example/it\'s']") == {
        ("url", "http://a.example/it's")}


def test_malformed_constants_are_reported_not_indexed():
    rejected: list[str] = []
    assert set(values_in_pattern("[ipv4-addr:value = '999.1.1.1']", rejected)) == set()
    assert rejected == ["999.1.1.1"]


def test_invalid_pattern_is_invalid_input():
    with pytest.raises(InvalidInput, match="invalid STIX pattern"):
        list(values_in_pattern("[ipv4-addr:value = ]"))


def test_observable_objects():
    assert set(values_in_object({"type": "file", "name": "a.exe",
                                 "hashes": {"SHA-256": "B" * 64}})) == {
        ("file-name", "a.exe"), ("sha256", "b" * 64)}
    assert set(values_in_object({"type": "vulnerability", "name": "cve-2021-44228"})) == {
        ("vulnerability", "CVE-2021-44228")}


@pytest.mark.parametrize(("kind", "value"), [
    ("ipv4-addr", "192.0.2.1"), ("ip-prefix", "192.0.2.0/24"), ("ipv6-addr", "2001:db8::1"),
    ("domain-name", "evil.example"), ("url", "http://evil.example/it's"),
    ("email-addr", "a@evil.example"), ("sha256", "c" * 64), ("asn", "AS64500"),
    ("file-name", "back\\slash.exe"),
])
def test_generated_patterns_parse_back_to_the_same_value(kind, value):
    assert set(values_in_pattern(pattern_for(kind, value))) == {(kind, value)}
