from __future__ import annotations

from certhub.intel import queries, warninglists


def test_public_resolver_is_flagged():
    names = warninglists.check("ipv4-addr", "8.8.8.8")
    assert any("DNS resolvers" in name for name in names)


def test_private_range_is_flagged_and_unknown_value_is_not():
    assert any("1918" in name for name in warninglists.check("ipv4-addr", "10.20.30.40"))
    assert warninglists.check("domain-name", "unlisted-zz9-plural-z-alpha.example") == []


def test_list_applies_only_to_its_attribute_types():
    # The public resolvers list is for IP attributes, not for hashes that happen to match.
    assert warninglists.check("md5", "8.8.8.8") == []


def test_lookup_exposes_warninglist_hits(world):
    result = queries.lookup(world.thai_analyst, ["8.8.8[.]8"])[0]
    assert result.value == "8.8.8.8"
    assert any("DNS resolvers" in name for name in result.warninglists)
