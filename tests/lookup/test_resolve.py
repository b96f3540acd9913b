"""Issue 2 acceptance for the lookup, and the "most specific wins" order of the rules."""

from __future__ import annotations

import iptocc
import pytest
from tests.conftest import add_constituency, make_org

from certhub.core.errors import InvalidInput
from certhub.directory.lookup import Resolution, resolve, resolve_many
from certhub.directory.models import ConstituencyEntry


def responsible(result: Resolution) -> list[str]:
    return [match.short_name for match in result.matches]


# --- acceptance ---------------------------------------------------------------------------------
def test_address_in_a_registered_thai_prefix_is_thaicert_by_prefix(world):
    add_constituency(world.thai, "prefix", "1.0.128.0/17")
    result = resolve("1.0.128.1")
    assert responsible(result) == ["ThaiCERT"]
    assert result.rule == "prefix"
    assert result.matches[0].matched == "1.0.128.0/17"
    assert "1.0.128.0/17" in result.matches[0].why
    assert (result.kind, result.country, result.country_name) == ("ipv4", "TH", "Thailand")


def test_thai_address_without_registered_prefix_is_thaicert_by_country(world):
    assert iptocc.country_code("1.0.128.1") == "TH"
    result = resolve("1.0.128.1")
    assert responsible(result) == ["ThaiCERT"]
    assert result.rule == "country"
    assert result.matches[0].matched == "TH"
    assert "Thailand" in result.matches[0].why


def test_co_th_hostname_is_thaicert_by_domain_suffix(world):
    result = resolve("www.example.co.th")
    assert responsible(result) == ["ThaiCERT"]
    assert (result.rule, result.matches[0].matched) == ("domain", "th")
    assert result.country == "TH"


def test_sg_url_is_singcert(world):
    result = resolve("https://www.example.gov.sg/report?id=1")
    assert responsible(result) == ["SingCERT"]
    assert (result.kind, result.normalised, result.rule) == ("url", "www.example.gov.sg",
                                                             "domain")


@pytest.mark.parametrize("value", ["AS4788", "4788", "as4788"])
def test_malaysian_asn_is_mycert(world, value):
    result = resolve(value)
    assert responsible(result) == ["MyCERT"]
    assert (result.kind, result.asn, result.rule) == ("asn", 4788, "asn")


def test_address_outside_the_region_has_no_member_but_its_country(world):
    result = resolve("8.8.8.8")
    assert result.matches == ()
    assert result.rule is None
    assert (result.country, result.country_name) == ("US", "United States")
    assert not result.responsible


@pytest.mark.parametrize("value", ["999.1.1.1", "not a value!!", "AS99999999999"])
def test_malformed_input_raises_invalid_input(world, value):
    with pytest.raises(InvalidInput) as caught:
        resolve(value)
    assert caught.value.message


# --- most specific wins -------------------------------------------------------------------------
def test_longest_registered_prefix_wins(world):
    add_constituency(world.thai, "prefix", "1.0.128.0/17")
    add_constituency(world.bank, "prefix", "1.0.200.0/24")
    add_constituency(world.partner, "prefix", "1.0.200.128/25")
    assert responsible(resolve("1.0.129.1")) == ["ThaiCERT"]
    assert responsible(resolve("1.0.200.5")) == ["Example Bank"]
    assert responsible(resolve("1.0.200.200")) == ["JPCERT/CC"]
    assert responsible(resolve("1.0.201.0")) == ["ThaiCERT"]  # after the nested ones end
    assert resolve("1.0.200.5").matches[0].matched == "1.0.200.0/24"


def test_several_organisations_on_the_same_prefix_are_all_responsible(world):
    add_constituency(world.thai, "prefix", "1.0.128.0/17")
    add_constituency(world.bank, "prefix", "1.0.128.0/17")
    result = resolve("1.0.130.1")
    assert responsible(result) == ["Example Bank", "ThaiCERT"]
    assert {match.rule for match in result.matches} == {"prefix"}


def test_several_countries_claimants_are_all_responsible(world):
    add_constituency(world.hub, "country", "TH")
    assert responsible(resolve("TH")) == ["ASEAN-CERT", "ThaiCERT"]


def test_ipv6_longest_prefix_and_country(world):
    add_constituency(world.thai, "prefix", "2001:c38::/32")
    add_constituency(world.bank, "prefix", "2001:C38:1::/48")
    assert responsible(resolve("2001:c38:1::5")) == ["Example Bank"]
    assert responsible(resolve("2001:c38:2::1")) == ["ThaiCERT"]
    assert resolve("2001:c38:2::1").rule == "prefix"
    other = resolve("2406:3000::1")
    assert (responsible(other), other.rule, other.country) == (["SingCERT"], "country", "SG")


def test_prefix_input_matches_the_registered_prefixes_containing_it(world):
    add_constituency(world.bank, "prefix", "1.0.200.0/24")
    inside = resolve("1.0.200.0/25")
    assert (inside.kind, responsible(inside), inside.rule) == ("prefix", ["Example Bank"],
                                                               "prefix")
    # A registered prefix inside a larger one is not responsible for all of it: the country
    # (of the first address) decides.
    wider = resolve("1.0.128.0/17")
    assert (responsible(wider), wider.rule, wider.country) == (["ThaiCERT"], "country", "TH")
    assert any("first address" in note for note in wider.notes)


def test_prefix_beats_asn_beats_country(world, asn_db):
    add_constituency(world.bank, "asn", "AS23969")
    by_asn = resolve("1.0.130.1")
    assert (responsible(by_asn), by_asn.rule, by_asn.asn) == (["Example Bank"], "asn", 23969)
    assert by_asn.asn_name.startswith("TOT-NET")
    add_constituency(world.partner, "prefix", "1.0.130.0/24")
    by_prefix = resolve("1.0.130.1")
    assert (responsible(by_prefix), by_prefix.rule) == (["JPCERT/CC"], "prefix")
    assert by_prefix.asn == 23969  # still reported
    by_country = resolve("1.0.0.1")  # Cloudflare's AS is nobody's; AU is nobody's either
    assert (by_country.matches, by_country.asn, by_country.country) == ((), 13335, "AU")


def test_domain_suffix_beats_cctld_country_and_longest_suffix_wins(world):
    add_constituency(world.hub, "country", "DE")
    by_cctld = resolve("www.example.de")
    assert (responsible(by_cctld), by_cctld.rule, by_cctld.country) == (["ASEAN-CERT"],
                                                                        "cctld", "DE")
    add_constituency(world.partner, "domain", "example.de")
    assert (responsible(resolve("www.example.de")), resolve("www.example.de").rule) == (
        ["JPCERT/CC"], "domain")
    assert responsible(resolve("badexample.de")) == ["ASEAN-CERT"]  # whole labels only
    add_constituency(world.bank, "domain", "bank.co.th")
    assert responsible(resolve("https://online.bank.co.th/")) == ["Example Bank"]
    assert responsible(resolve("user@other.co.th")) == ["ThaiCERT"]


def test_uk_cctld_is_gb_and_generic_tlds_have_no_country(world):
    assert resolve("www.example.co.uk").country == "GB"
    result = resolve("example.com")
    assert (result.country, result.matches) == (None, ())
    assert result.notes  # says names are not resolved through DNS
    assert resolve("example.eu").country is None  # a region, not a country


def test_country_code_input(world):
    result = resolve("sg")
    assert (result.kind, result.normalised, responsible(result), result.rule) == (
        "country", "SG", ["SingCERT"], "country")
    assert resolve("US").matches == ()


def test_email_and_url_with_address_host(world):
    add_constituency(world.thai, "prefix", "1.0.128.0/17")
    assert resolve("abuse@[1.0.128.1]").rule == "prefix"
    assert responsible(resolve("hxxp://1.0.128.1/x.exe")) == ["ThaiCERT"]


def test_addresses_without_asn_data_say_so(world):
    result = resolve("1.0.128.1")
    assert result.asn is None
    assert any("CERTHUB_ASN_DB" in note for note in result.notes)


def test_private_address_has_no_country(world):
    result = resolve("10.1.2.3")
    assert (result.country, result.matches) == (None, ())
    assert any("no country" in note for note in result.notes)


# --- the index follows the directory ------------------------------------------------------------
def test_index_sees_changes_made_after_a_first_lookup(world):
    assert resolve("1.0.128.1").rule == "country"
    add_constituency(world.bank, "prefix", "1.0.128.0/24")
    assert responsible(resolve("1.0.128.1")) == ["Example Bank"]
    world.bank.short_name = "Bank of Example"
    world.bank.save()
    assert responsible(resolve("1.0.128.1")) == ["Bank of Example"]
    ConstituencyEntry.objects.filter(organisation=world.bank).delete()
    assert responsible(resolve("1.0.128.1")) == ["ThaiCERT"]
    newcomer = make_org("NewCERT", country="TL")
    add_constituency(newcomer, "country", "TL")
    assert responsible(resolve("TL")) == ["NewCERT"]
    newcomer.delete()
    assert resolve("TL").matches == ()


def test_match_fields_for_the_web_form(world):
    match = resolve("example.co.th").matches[0]
    assert (match.organisation_id, match.short_name, match.slug, match.name, match.kind) == (
        world.thai.pk, "ThaiCERT", "thaicert", "ThaiCERT", "national_cert")
    data = resolve("example.co.th").to_dict()
    assert set(data) == {"input", "kind", "normalised", "country", "country_name", "asn",
                         "asn_name", "rule", "matches", "notes", "error"}
    assert data["matches"][0]["organisation_id"] == world.thai.pk


def test_country_name_follows_the_language(world):
    from django.utils import translation

    with translation.override("th"):
        result = resolve("1.0.128.1")
    assert result.country_name == "ไทย"


# --- batches ------------------------------------------------------------------------------------
def test_resolve_many_keeps_order_and_reports_errors_per_item(world):
    values = ["1.0.128.1", "999.1.1.1", "AS4788", "not a value!!", "example.sg", "", "8.8.8.8"]
    results = resolve_many(values)
    assert [result.input for result in results] == values
    assert [bool(result.error) for result in results] == [False, True, False, True, False, True,
                                                          False]
    assert [responsible(result) for result in results] == [
        ["ThaiCERT"], [], ["MyCERT"], [], ["SingCERT"], [], []]
    bad = results[1]
    assert (bad.kind, bad.normalised, bad.matches) == (None, None, ())
    assert "0 to 255" in bad.error


def test_resolve_many_of_a_large_batch(world):
    add_constituency(world.thai, "prefix", "1.0.128.0/17")
    values = [f"1.0.{128 + i % 128}.{i % 256}" for i in range(5000)] + ["8.8.8.8", "bad value"]
    results = resolve_many(value for value in values)  # any iterable
    assert len(results) == len(values)
    assert all(result.rule == "prefix" for result in results[:5000])
    assert results[-2].country == "US"
    assert results[-1].error


def test_resolve_many_of_nothing(world):
    assert resolve_many([]) == []
