"""The ASN tier from IP-to-ASN data (iptoasn.com TSV, MaxMind-format .mmdb) and country data."""

from __future__ import annotations

import os

import pytest
from tests.conftest import add_constituency

from certhub.directory.lookup import resolve, resolve_many
from certhub.directory.lookup.ipdata import TsvAsnSource

from .conftest import IPTOASN_ROWS, write_iptoasn


def test_tsv_in_the_iptoasn_layout(tmp_path):
    source = TsvAsnSource(write_iptoasn(tmp_path / "ip2asn-combined.tsv"))
    assert source.lookup(4, 0x08080808, 0x08080808, "8.8.8.8").asn == 15169
    assert source.lookup(4, 0x01000200, 0x01000200, "1.0.2.0") is None  # AS 0: not routed
    assert source.lookup(4, 0x09000000, 0x09000000, "9.0.0.0") is None  # not in the data
    assert source.name(4788) == "TMNET-AS-AP TM Net"
    assert source.country(9931) == "TH"
    v6 = int.from_bytes(bytes.fromhex("20010c38" + "00" * 11 + "01"), "big")
    assert source.lookup(6, v6, v6, "2001:c38::1").asn == 9931


def test_gzipped_tsv_and_asn_tier_for_addresses(world, settings, tmp_path):
    settings.ASN_DB = str(write_iptoasn(tmp_path / "ip2asn-v4.tsv.gz"))
    result = resolve("175.136.0.1")
    assert (result.asn, result.rule, [m.short_name for m in result.matches]) == (
        4788, "asn", ["MyCERT"])
    assert "4788" in result.matches[0].why
    assert not any("CERTHUB_ASN_DB" in note for note in result.notes)


def test_asn_tier_for_ipv6(world, asn_db):
    add_constituency(world.bank, "asn", "9931")
    result = resolve("2001:c38:5::1")
    assert (result.asn, result.rule, result.matches[0].short_name) == (9931, "asn",
                                                                       "Example Bank")


def test_prefix_input_gets_an_asn_only_when_one_as_announces_all_of_it(world, asn_db):
    assert resolve("1.0.128.0/17").asn == 23969  # two rows of the same AS count as one range
    assert resolve("203.116.0.0/17").asn == 7473
    assert resolve("203.116.0.0/16").asn is None  # 7473 and 3758 share it


def test_asn_input_falls_back_to_the_country_the_as_is_registered_in(world, asn_db):
    thai_as = resolve("AS9931")
    assert (thai_as.country, thai_as.rule, [m.short_name for m in thai_as.matches]) == (
        "TH", "country", ["ThaiCERT"])
    assert thai_as.asn_name == "CAT-AP CAT Telecom"
    google = resolve("15169")
    assert (google.country, google.matches) == ("US", ())
    registered = resolve("AS4788")
    assert (registered.rule, registered.country) == ("asn", "MY")


def test_replaced_asn_file_is_reloaded(world, settings, tmp_path):
    path = write_iptoasn(tmp_path / "ip2asn-v4.tsv")
    settings.ASN_DB = str(path)
    assert resolve("8.8.8.8").asn == 15169
    write_iptoasn(path, [("8.8.8.0", "8.8.8.255", 64500, "US", "EXAMPLE-TEST-AS")])
    os.utime(path, ns=(1, 1))
    assert resolve("8.8.8.8").asn == 64500


def test_unreadable_asn_file_is_reported_not_fatal(world, settings, tmp_path):
    settings.ASN_DB = str(tmp_path / "missing.tsv")
    result = resolve("1.0.128.1")
    assert (result.rule, result.asn) == ("country", None)
    assert any("cannot be read" in note for note in result.notes)


def test_malformed_tsv_lines_are_skipped(world, settings, tmp_path):
    path = tmp_path / "ip2asn-v4.tsv"
    path.write_text("garbage\n1.0.0.0\tnot-an-address\t1\tUS\tX\n"
                    + "\t".join(map(str, IPTOASN_ROWS[4])) + "\n", encoding="utf-8")
    settings.ASN_DB = str(path)
    assert resolve("8.8.8.8").asn == 15169


def test_mmdb_asn_and_country_databases(world, settings, tmp_path):
    mmdb_writer = pytest.importorskip("mmdb_writer")
    from netaddr import IPSet

    asn_writer = mmdb_writer.MMDBWriter(ip_version=6, database_type="GeoLite2-ASN",
                                        ipv4_compatible=True)
    asn_writer.insert_network(IPSet(["175.136.0.0/13"]), {
        "autonomous_system_number": 4788, "autonomous_system_organization": "TM Net"})
    asn_writer.insert_network(IPSet(["2001:c38::/32"]), {
        "autonomous_system_number": 9931, "autonomous_system_organization": "CAT"})
    asn_writer.to_db_file(str(tmp_path / "asn.mmdb"))
    country_writer = mmdb_writer.MMDBWriter(ip_version=6, database_type="GeoLite2-Country",
                                            ipv4_compatible=True)
    country_writer.insert_network(IPSet(["8.8.8.0/24"]), {"country": {"iso_code": "SG"}})
    country_writer.to_db_file(str(tmp_path / "country.mmdb"))
    settings.ASN_DB = str(tmp_path / "asn.mmdb")
    settings.COUNTRY_DB = str(tmp_path / "country.mmdb")

    by_asn, v6, wide, moved = resolve_many(["175.136.0.1", "2001:c38::1", "175.128.0.0/12",
                                            "8.8.8.8"])
    assert (by_asn.asn, by_asn.asn_name, by_asn.rule) == (4788, "TM Net", "asn")
    assert [m.short_name for m in by_asn.matches] == ["MyCERT"]
    assert v6.asn == 9931
    assert wide.asn is None  # the /13 of the database does not cover a /12
    assert (moved.country, [m.short_name for m in moved.matches]) == ("SG", ["SingCERT"])


def test_batch_lookup_agrees_with_single_lookups(tmp_path):
    import random

    rng = random.Random(7)
    rows, start = [], 1 << 24
    while start < (224 << 24):
        end = start + rng.randint(0, 1 << rng.randint(4, 22))
        rows.append((_ip(start), _ip(min(end, (224 << 24) - 1)), rng.choice([0, 1, 2, 64500]),
                     "TH", "TEST"))
        start = end + 1 + rng.choice([0, 0, 0, 1 << 12])  # some gaps
    source = TsvAsnSource(write_iptoasn(tmp_path / "ip2asn-v4.tsv", rows))
    probes = [rng.randint(0, 2**32 - 1) for _ in range(3000)]
    probes += [int.from_bytes(bytes(map(int, row[0].split("."))), "big") for row in rows[:500]]
    probes += [0, 2**32 - 1, (224 << 24) - 1]
    targets = [(4, probe, probe, _ip(probe)) for probe in probes]
    assert source.lookup_many(targets) == [source.lookup(*target) for target in targets]
    assert any(hit is not None for hit in source.lookup_many(targets))


def _ip(value: int) -> str:
    return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0))
