from __future__ import annotations

import pytest

from certhub.core.errors import InvalidInput
from certhub.intel.normalise import ObservableType as T
from certhub.intel.normalise import defang, detect, normalise, refang


@pytest.mark.parametrize(("given", "kind", "expected"), [
    ("hxxp://EVIL[.]example/Path?q=A", T.URL, "http://evil.example/Path?q=A"),
    ("hxxps[:]//login.bank(.)example/x", T.URL, "https://login.bank.example/x"),
    ("1.2.3[.]4", T.IPV4, "1.2.3.4"),
    ("198.51.100.0/24", T.PREFIX, "198.51.100.0/24"),
    ("2001:DB8::1", T.IPV6, "2001:db8::1"),
    ("Evil.Example.", T.DOMAIN, "evil.example"),
    ("evil dot example", T.DOMAIN, "evil.example"),
    ("münchen.example", T.DOMAIN, "xn--mnchen-3ya.example"),
    ("Victim[@]Mail[.]Example", T.EMAIL, "Victim@mail.example"),
    ("D41D8CD98F00B204E9800998ECF8427E", T.MD5, "d41d8cd98f00b204e9800998ecf8427e"),
    ("cve-2024-3094", T.CVE, "CVE-2024-3094"),
    ("as4788", T.ASN, "AS4788"),
    ("00-1A-2B-3C-4D-5E", T.MAC, "00:1a:2b:3c:4d:5e"),
])
def test_defanged_values_are_refanged_and_normalised(given, kind, expected):
    assert detect(given) == (kind, expected)
    assert normalise(kind, given) == expected


def test_address_with_host_mask_is_an_address_and_wider_mask_a_prefix():
    assert detect("10.0.0.1/32") == (T.IPV4, "10.0.0.1")
    assert detect("10.0.0.1/8") == (T.PREFIX, "10.0.0.0/8")


def test_hash_of_wrong_length_is_refused_with_reason():
    with pytest.raises(InvalidInput, match="64 hexadecimal"):
        normalise(T.SHA256, "abc123")


def test_not_an_indicator():
    with pytest.raises(InvalidInput):
        detect("hello world")


def test_defang_for_display_round_trips_through_refang():
    for kind, value in [(T.URL, "http://evil.example/a.php"), (T.IPV4, "1.2.3.4"),
                        (T.DOMAIN, "evil.example"), (T.EMAIL, "a@evil.example")]:
        shown = defang(value, kind)
        assert shown != value
        assert normalise(kind, refang(shown)) == value
