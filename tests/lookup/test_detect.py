"""Recognising lookup values: kinds, normal forms, refanging and malformed input."""

from __future__ import annotations

import pytest

from certhub.core.errors import InvalidInput
from certhub.directory.lookup.detect import parse, refang


@pytest.mark.parametrize(("value", "kind", "normalised"), [
    ("1.0.128.1", "ipv4", "1.0.128.1"),
    ("  203.116.0.1 ", "ipv4", "203.116.0.1"),
    ("2001:DB8::1", "ipv6", "2001:db8::1"),
    ("2001:0db8:0000::0001", "ipv6", "2001:db8::1"),
    ("::ffff:1.0.128.1", "ipv4", "1.0.128.1"),
    ("1.0.128.0/17", "prefix", "1.0.128.0/17"),
    ("1.0.128.1/24", "prefix", "1.0.128.0/24"),
    ("2001:DB8::/32", "prefix", "2001:db8::/32"),
    ("https://www.example.co.th/login.php?a=1", "url", "www.example.co.th"),
    ("HTTP://User:pw@Example.SG:8080/", "url", "example.sg"),
    ("http://[2001:db8::1]:8080/x", "url", "2001:db8::1"),
    ("https://1.0.128.1/wp-admin/", "url", "1.0.128.1"),
    ("example.co.th/path/x.php", "url", "example.co.th"),
    ("analyst@Mail.Example.MY", "email", "mail.example.my"),
    ("mailto:cert@example.sg?subject=x", "email", "example.sg"),
    ("abuse@[1.0.128.1]", "email", "1.0.128.1"),
    ("AS4788", "asn", "AS4788"),
    ("as4788", "asn", "AS4788"),
    ("4788", "asn", "AS4788"),
    ("TH", "country", "TH"),
    ("th", "country", "TH"),
    ("uk", "country", "GB"),
    ("Example.CO.TH.", "domain", "example.co.th"),
    ("www.example.co.th:443", "domain", "www.example.co.th"),
    ("1.0.128.1:8080", "ipv4", "1.0.128.1"),
    ("[2001:db8::1]:443", "ipv6", "2001:db8::1"),
    ("bücher.example.de", "domain", "xn--bcher-kva.example.de"),
    ("_dmarc.example.sg", "domain", "_dmarc.example.sg"),
])
def test_kinds_and_normal_forms(value, kind, normalised):
    parsed = parse(value)
    assert (parsed.kind, parsed.normalised) == (kind, normalised)


@pytest.mark.parametrize(("value", "kind", "normalised"), [
    ("hxxps://www[.]example[.]co[.]th/x", "url", "www.example.co.th"),
    ("hXXp://evil(.)example(.)sg", "url", "evil.example.sg"),
    ("1[.]0[.]128[.]1", "ipv4", "1.0.128.1"),
    ("2001[:]db8[:][:]1", "ipv6", "2001:db8::1"),
    ("user[at]example[dot]my", "email", "example.my"),
    ("example{.}co{.}th", "domain", "example.co.th"),
])
def test_defanged_values_are_refanged(value, kind, normalised):
    parsed = parse(value)
    assert (parsed.kind, parsed.normalised) == (kind, normalised)


def test_refang_leaves_ipv6_literals_alone():
    assert refang("http://[2001:db8::1]/") == "http://[2001:db8::1]/"


def test_prefix_bounds_and_host_bits():
    parsed = parse("1.0.128.1/24")
    assert parsed.host_bits_ignored
    assert (parsed.start, parsed.end) == (0x01008000, 0x010080FF)
    assert parsed.address == "1.0.128.0"
    assert not parse("1.0.128.0/24").host_bits_ignored


@pytest.mark.parametrize(("value", "reason"), [
    ("999.1.1.1", "0 to 255"),
    ("01.2.3.4", "leading zeros"),
    ("not a value!!", "is not an IP address, prefix, URL"),
    ("AS99999999999", "is not an AS number"),
    ("0", "is not an AS number"),
    ("4294967296", "is not an AS number"),
    ("XX", "country code"),
    ("", "empty"),
    ("   ", "empty"),
    ("2001:db8::zz", "IPv6"),
    ("1.0.128.0/33", "IP prefix"),
    ("http:///path-only", "host"),
    ("http://exa mple.com/", "host of the URL"),
    ("@example.com", "email"),
    ("user@", "email"),
    ("1.2.3", "is not an IP address"),
    ("x" * 3000, "longer than"),
])
def test_malformed_values_say_why(value, reason):
    with pytest.raises(InvalidInput) as caught:
        parse(value)
    assert reason in caught.value.message
    assert caught.value.status == 400
