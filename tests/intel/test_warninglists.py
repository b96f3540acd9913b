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


def _small_index():
    return warninglists._Index([
        {"name": "Hosts", "type": "hostname", "list": ["example.com"],
         "matching_attributes": ["domain", "url"]},
        {"name": "Strings", "type": "string", "list": ["d41d8cd98f00b204e9800998ecf8427e",
                                                       "example.com"],
         "matching_attributes": ["md5", "domain"]},
        {"name": "Nets", "type": "cidr", "list": ["192.0.2.0/24"],
         "matching_attributes": ["ip-dst"]},
    ])


def test_compact_index_matches_exact_values_parents_and_networks():
    index = _small_index()
    assert index.check("domain-name", "www.example.com") == ["Hosts"]
    assert index.check("domain-name", "example.com") == ["Hosts", "Strings"]
    assert index.check("url", "https://a.example.com/x") == ["Hosts"]
    assert index.check("md5", "d41d8cd98f00b204e9800998ecf8427e") == ["Strings"]
    assert index.check("ipv4-addr", "192.0.2.77") == ["Nets"]
    assert index.check("domain-name", "example.org") == []
    assert index.check("domain-name", "notexample.com") == []


def test_cached_index_answers_the_same(tmp_path):
    import pickle

    path = tmp_path / "index.pickle"
    path.write_bytes(pickle.dumps(_small_index()))
    loaded = pickle.loads(path.read_bytes())
    assert loaded.check("domain-name", "www.example.com") == ["Hosts"]
    assert loaded.check("ipv4-addr", "192.0.2.1") == ["Nets"]
