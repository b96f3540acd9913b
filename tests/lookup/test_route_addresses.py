"""route_addresses, the feed pipeline's lean lookup, answers what resolve_many answers.

For thousands of random values (IPv4 and IPv6 addresses, prefixes, registered prefixes nested
inside each other, addresses under registered ASNs, registered countries, unknown and malformed
values), with and without IP-to-ASN data, the (country, asn, matches) of route_addresses equal
those of resolve_many, Match objects and their texts included; values that are not about an
address get None.
"""

from __future__ import annotations

import ipaddress
import random

import pytest
from tests.conftest import add_constituency
from tests.lookup.conftest import write_iptoasn

from certhub.core.errors import InvalidInput
from certhub.directory.lookup import detect, resolve_many, route_addresses
from certhub.directory.lookup.detect import T_IP, ipv4_numbers

# Registered ASNs (the world's MyCERT has 4788) and two that nobody registered.
REGISTERED_ASNS = [4788, 64500, 64501]
ASNS = [*REGISTERED_ASNS, 64510, 13335]


def expected(value, result) -> tuple | None:
    """What route_addresses must say for ``value``, from resolve_many's ``result``."""
    try:
        item = detect.parse(value)
    except InvalidInput:
        return None
    if item.target != T_IP:
        return None
    return result.country, result.asn, result.matches


def assert_same_as_resolve_many(values: list[str]) -> dict[str, int]:
    """Compare value by value; returns how many values each rule routed (to check coverage)."""
    routes = route_addresses(values)
    results = resolve_many(values)
    assert len(routes) == len(values)
    rules: dict[str, int] = {}
    for value, route, result in zip(values, routes, results, strict=True):
        assert route == expected(value, result), value
        if route is not None:
            rule = route[2][0].rule if route[2] else "none"
            rules[rule] = rules.get(rule, 0) + 1
    return rules


def nested_prefixes(rng: random.Random, version: int, trees: int) -> list[ipaddress._BaseNetwork]:
    """``trees`` chains of registered prefixes, each inside the one before (and a sibling)."""
    bits = 32 if version == 4 else 128
    lengths = [8, 12, 16, 20, 24, 28, 32] if version == 4 else [24, 32, 40, 48, 56, 64, 128]
    found = []
    for _ in range(trees):
        base = rng.getrandbits(bits) if version == 4 else (0x2 << 124) | rng.getrandbits(124)
        for length in sorted(rng.sample(lengths, 4)):
            network = ipaddress.ip_network((base >> (bits - length) << (bits - length), length))
            found.append(network)
        sibling = found[-1].supernet()
        found.append(list(sibling.subnets())[1])  # the other half of the innermost's parent
    return found


@pytest.fixture
def directory(world):
    return register_directory(world)


def register_directory(world) -> tuple[list, list]:
    """The world, plus nested prefixes (some shared by two organisations), ASNs, countries."""
    rng = random.Random(11)
    orgs = [world.thai, world.my, world.sg, world.bank, world.partner]
    v4 = nested_prefixes(rng, 4, 14)
    v6 = nested_prefixes(rng, 6, 6)
    for number, network in enumerate(v4 + v6):
        add_constituency(orgs[number % len(orgs)], "prefix", str(network))
        if number % 7 == 0:
            add_constituency(world.hub, "prefix", str(network))
    add_constituency(world.bank, "asn", "64500")
    add_constituency(world.partner, "asn", "64501")
    add_constituency(world.hub, "asn", "64501")
    add_constituency(world.partner, "country", "US", "DE")
    add_constituency(world.hub, "country", "US")
    return v4, v6


def asn_table(tmp_path, v4: list, v6: list):
    """iptoasn rows over the whole IPv4 space (with gaps) and the registered IPv6 ranges."""
    rng = random.Random(12)
    rows, start = [], 0
    while start < 2**32:
        end = min(2**32 - 1, start + rng.randint(0, 1 << rng.randint(8, 26)))
        rows.append((str(ipaddress.IPv4Address(start)), str(ipaddress.IPv4Address(end)),
                     rng.choice([0, *ASNS]), rng.choice(["TH", "US", "None"]), "TEST-AS"))
        start = end + 1 + rng.choice([0, 0, 0, 1 << 16])
    for network in v6[::2]:
        rows.append((str(network.network_address), str(network.broadcast_address),
                     rng.choice(ASNS), "SG", "TEST-AS6"))
    rows.sort(key=lambda row: (":" in row[0], int(ipaddress.ip_address(row[0]))))
    return write_iptoasn(tmp_path / "ip2asn-combined.tsv", rows)


def sample(v4: list, v6: list, seed: int = 13) -> list[str]:
    rng = random.Random(seed)
    values = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(1500)]
    for network in v4:  # inside, on the edges, and just outside each registered prefix
        first, last = int(network.network_address), int(network.broadcast_address)
        values += [str(ipaddress.IPv4Address(rng.randint(first, last))) for _ in range(40)]
        values += [str(ipaddress.IPv4Address(n)) for n in (first - 1, first, last, last + 1)
                   if 0 <= n < 2**32]
        values += [f"{ipaddress.IPv4Address(rng.randint(first, last))}/"
                   f"{rng.randint(network.prefixlen - 2, 32)}" for _ in range(4)]
    for network in v6:
        first, last = int(network.network_address), int(network.broadcast_address)
        inside = [ipaddress.IPv6Address(rng.randint(first, last)) for _ in range(20)]
        values += [str(address) for address in inside]
        values += [address.exploded.upper() for address in inside[:3]]  # not canonical
        values += [f"{inside[0]}/{rng.randint(max(network.prefixlen - 8, 0), 128)}",
                   str(network), str(network.network_address), str(network.broadcast_address)]
    values += [str(ipaddress.IPv6Address((0x2 << 124) | rng.getrandbits(124)))
               for _ in range(300)]
    values += [f"::ffff:{value}" for value in values[:50]]  # IPv4-mapped: taken as IPv4
    values += [str(ipaddress.IPv6Address(f"::ffff:{value}")) for value in values[:50]]
    values += [f"{ipaddress.IPv4Address(rng.getrandbits(32))}/{rng.randint(0, 32)}"
               for _ in range(200)]
    values += ["0.0.0.0", "255.255.255.255", "127.0.0.1", "10.1.2.3", "192.168.0.1", "::",
               "::1", "fe80::1%eth0", "::ffff:0:0", "0.0.0.0/0", "::/0", "1.0.128.1/24",
               # not addresses, or not as written: routed by resolve_many or not at all
               "01.2.3.4", "1.2.3.04", " 1.2.3.4", "1.2.3.4 ", "1.2.3", "999.1.1.1",
               "1.2.3.4/33", "1.2.3.4/024", "1.2.3.4/", "::1/129", "1.2.3.4:80",
               "[2001:c38::1]:443", "http://1.0.128.1/x", "hxxp://1[.]0[.]128[.]1/",
               "example.co.th", "https://www.example.gov.sg/", "AS4788", "4788", "TH", "",
               "not a value!!", "2001:db8::g"]
    rng.shuffle(values)
    return values


def test_same_as_resolve_many_without_asn_data(directory):
    rules = assert_same_as_resolve_many(sample(*directory))
    assert rules.get("prefix", 0) > 500
    assert rules.get("country", 0) > 100
    assert "asn" not in rules


def test_same_as_resolve_many_with_an_iptoasn_table(directory, settings, tmp_path):
    settings.ASN_DB = str(asn_table(tmp_path, *directory))
    rules = assert_same_as_resolve_many(sample(*directory, seed=14))
    assert rules.get("prefix", 0) > 500
    assert rules.get("asn", 0) > 100
    assert rules.get("country", 0) > 50
    assert rules.get("none", 0) > 50


def test_same_as_resolve_many_with_maxmind_data(directory, settings, tmp_path):
    mmdb_writer = pytest.importorskip("mmdb_writer")
    from netaddr import IPSet

    v4, v6 = directory
    rng = random.Random(15)
    asn_writer = mmdb_writer.MMDBWriter(ip_version=6, database_type="GeoLite2-ASN",
                                        ipv4_compatible=True)
    country_writer = mmdb_writer.MMDBWriter(ip_version=6, database_type="GeoLite2-Country",
                                            ipv4_compatible=True)
    for network in [*v4[::3], *v6[::3]]:
        asn_writer.insert_network(IPSet([str(network.supernet())]), {
            "autonomous_system_number": rng.choice(ASNS),
            "autonomous_system_organization": "TEST"})
    for network in v4[1::3]:
        country_writer.insert_network(IPSet([str(network)]),
                                      {"country": {"iso_code": rng.choice(["US", "SG", "FR"])}})
    asn_writer.to_db_file(str(tmp_path / "asn.mmdb"))
    country_writer.to_db_file(str(tmp_path / "country.mmdb"))
    settings.ASN_DB = str(tmp_path / "asn.mmdb")
    settings.COUNTRY_DB = str(tmp_path / "country.mmdb")
    rules = assert_same_as_resolve_many(sample(*directory, seed=16))
    assert rules.get("prefix", 0) > 500
    assert rules.get("asn", 0) > 20


def test_unreadable_asn_data_is_skipped_as_resolve_many_skips_it(directory, settings, tmp_path):
    settings.ASN_DB = str(tmp_path / "missing.tsv")
    settings.COUNTRY_DB = str(tmp_path / "missing.mmdb")
    rules = assert_same_as_resolve_many(sample(*directory, seed=17)[:800])
    assert "asn" not in rules
    assert rules.get("prefix", 0) > 100


def test_the_innermost_registered_prefix_wins_and_shares_the_match_objects(world):
    add_constituency(world.thai, "prefix", "1.0.128.0/17")
    add_constituency(world.bank, "prefix", "1.0.200.0/24")
    add_constituency(world.partner, "prefix", "1.0.200.128/25")
    add_constituency(world.hub, "prefix", "1.0.200.128/25")
    outer, middle, inner, inner_again = route_addresses(
        ["1.0.129.1", "1.0.200.5", "1.0.200.200", "1.0.200.201"])
    assert [m.short_name for m in outer[2]] == ["ThaiCERT"]
    assert [m.short_name for m in middle[2]] == ["Example Bank"]
    assert [m.short_name for m in inner[2]] == ["ASEAN-CERT", "JPCERT/CC"]
    assert inner[2][0].matched == "1.0.200.128/25"
    assert inner[2][0].rule == "prefix"
    assert inner[2] is inner_again[2]  # built once per batch, as resolve_many does
    assert outer[0] == "TH"


def test_a_change_to_the_directory_is_seen_by_the_next_call(world):
    before = route_addresses(["1.0.200.5"])[0]
    assert before[2][0].rule == "country"
    add_constituency(world.bank, "prefix", "1.0.200.0/24")
    after = route_addresses(["1.0.200.5"])[0]
    assert [m.short_name for m in after[2]] == ["Example Bank"]


def test_empty_and_non_text_values(db):
    assert route_addresses([]) == []
    assert route_addresses([None, 42, "8.8.8.8"])[:2] == [None, None]


def test_ipv4_numbers_takes_exactly_the_dotted_quads_in_ascending_order():
    numbers, positions = ipv4_numbers(["1.2.3.4", "0.0.0.0", "255.255.255.255", "1.2.3.4"])
    assert numbers.tolist() == [0, 0x01020304, 0x01020304, 2**32 - 1]
    assert positions == [1, 0, 3, 2]
    # Leading zeros, short forms, spaces and other values are refused (the routing fast path
    # counts on it: resolve_many refuses "01.2.3.4" with a reason).
    numbers, positions = ipv4_numbers(["01.2.3.4", "10.0.0.1", "1.2.3", " 1.2.3.4", "1.2.3.4/8",
                                       "::1", "0x1.2.3.4", "1.2.3.4", "1.2.3.4\x00"])
    assert numbers.tolist() == [0x01020304, 0x0A000001]
    assert positions == [7, 1]
    assert ipv4_numbers([])[0].tolist() == []
