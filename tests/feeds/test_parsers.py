"""Each parser on its real-format sample: the expected findings, and bad lines with numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from certhub.core.errors import InvalidInput
from certhub.feeds.connectors import parsers
from certhub.feeds.connectors.events import Bad, Event

from .conftest import SAMPLES


def run_parser(name: str, path, start: int = 0, **params):
    items = list(parsers.get(name)(**params).items(path, start=start))
    events = [item for item in items if isinstance(item, Event)]
    bad = [(item.line, item.reason) for item in items if isinstance(item, Bad)]
    return events, bad


def test_urlhaus_country_feed():
    events, bad = run_parser("urlhaus-csv", SAMPLES / "urlhaus_country.csv")
    assert [(e.line, e.value, e.ip, e.asn, e.country) for e in events] == [
        (10, "http://1.0.128.1:40123/Mozi.m", "1.0.128.1", 23969, "TH"),
        (11, "http://175.136.0.1/bins.sh", "175.136.0.1", 4788, "MY"),
        (12, "http://update1.cdn.example.com:8080/payload.exe", "203.116.1.1", 7473, "SG"),
        (13, "http://8.8.8.8/x86", "8.8.8.8", 15169, "US"),
        (14, "http://193.0.6.139/i", "193.0.6.139", 3333, "NL"),
        (17, "http://1.0.128.1:40123/Mozi.m", "1.0.128.1", 23969, "TH"),
    ]
    first = events[0]
    assert first.value_type == "url"
    assert first.observed == dt.datetime(2025, 3, 2, 9, 58, 5)
    assert first.extra == {"url_status": "online", "threat": "malware_download"}
    assert events[2].extra["host"] == "update1.cdn.example.com"
    assert [line for line, _reason in bad] == [15, 16]
    assert "not-a-number" in bad[0][1]
    assert "found 5" in bad[1][1]
    assert first.raw.startswith('"2025-03-02 09:58:05","http://1.0.128.1:40123/Mozi.m"')


def test_urlhaus_online_only_and_resume():
    events, _bad = run_parser("urlhaus-csv", SAMPLES / "urlhaus_country.csv", online_only=True)
    assert [e.line for e in events] == [10, 11, 13, 17]
    events, bad = run_parser("urlhaus-csv", SAMPLES / "urlhaus_country.csv", start=13)
    assert [e.line for e in events] == [14, 17]
    assert [line for line, _reason in bad] == [15, 16]


def test_urlhaus_database_dump():
    events, bad = run_parser("urlhaus-csv", SAMPLES / "urlhaus_dump.csv")
    assert [(e.line, e.value, e.ip) for e in events] == [
        (10, "http://1.0.128.1:52470/i", "1.0.128.1"),
        (11, "https://secure-login.example.co.th/doc.php", None),
    ]
    assert events[0].extra["tags"] == "32-bit,elf,mips,Mozi"
    assert bad == [(12, "the URL is empty")]


def test_feodo_json():
    events, bad = run_parser("feodo-json", SAMPLES / "feodo_ipblocklist.json")
    assert [(e.line, e.value, e.value_type, e.port, e.asn) for e in events] == [
        (1, "1.0.128.1", "ipv4", 443, 23969), (2, "203.116.1.1", "ipv4", 8080, 7473),
        (4, "8.8.8.8", "ipv4", 447, 15169)]
    assert events[0].extra["malware"] == "QakBot"
    assert events[1].extra["hostname"] == "mail.example.sg"
    assert bad == [(3, "'999.1.2.3' is not an IP address")]
    resumed, _bad = run_parser("feodo-json", SAMPLES / "feodo_ipblocklist.json", start=2)
    assert [e.line for e in resumed] == [4]


def test_feodo_json_truncated_document_is_reported(tmp_path):
    broken = tmp_path / "ipblocklist.json"
    broken.write_text('[{"ip_address": "1.0.128.1", "port": 443}, {"ip_address": "8.8.', "utf-8")
    events, bad = run_parser("feodo-json", broken)
    assert [e.value for e in events] == ["1.0.128.1"]
    assert bad[0][0] == 2


def test_feodo_csv():
    events, bad = run_parser("feodo-csv", SAMPLES / "feodo_ipblocklist.csv")
    assert [(e.line, e.value, e.port) for e in events] == [
        (10, "1.0.128.1", 443), (11, "175.136.0.1", 8080), (13, "8.8.8.8", 447)]
    assert events[0].observed == dt.datetime(2025, 2, 11, 9, 13, 52)
    assert [line for line, _reason in bad] == [12]


def test_spamhaus_drop_text_and_json():
    events, bad = run_parser("spamhaus-drop", SAMPLES / "spamhaus_drop.txt")
    assert [(e.line, e.value, e.value_type, e.extra) for e in events] == [
        (5, "1.0.160.0/19", "prefix", {"sblid": "SBL999001"}),
        (6, "175.139.0.0/16", "prefix", {"sblid": "SBL999002"}),
        (7, "193.0.6.0/24", "prefix", {"sblid": "SBL999003"})]
    assert [line for line, _reason in bad] == [8]
    events, bad = run_parser("spamhaus-drop", SAMPLES / "spamhaus_dropv6.json")
    assert [(e.line, e.value) for e in events] == [(1, "2001:c38:1000::/36"),
                                                  (2, "2406:3000:11::/48")]
    assert [line for line, _reason in bad] == [3]


def test_shadowserver_scan_http():
    events, bad = run_parser("shadowserver-csv", SAMPLES / "2025-03-02-scan_http-asean-geo.csv")
    assert [(e.line, e.value, e.port, e.asn, e.country) for e in events] == [
        (2, "1.0.128.1", 8080, 23969, "TH"), (3, "175.136.0.1", 80, 4788, "MY")]
    assert (events[0].taxonomy, events[0].type) == ("vulnerable", "vulnerable-system")
    assert events[0].extra["hostname"] == "node-1.example.co.th"
    assert events[1].extra["report"] == "scan_http"
    assert [line for line, _reason in bad] == [4]


def test_shadowserver_compromised_website():
    events, bad = run_parser("shadowserver-csv",
                             SAMPLES / "2025-03-02-compromised_website-asean-geo.csv")
    assert [(e.value, e.port, e.country) for e in events] == [("203.116.1.1", 80, "SG"),
                                                             ("193.0.6.139", 80, "NL")]
    assert (events[0].taxonomy, events[0].type) == ("intrusions", "system-compromise")
    assert events[0].extra["http_host"] == "shop.example.sg"
    assert bad == []


def test_shadowserver_sinkhole_reads_the_source_side():
    events, bad = run_parser("shadowserver-csv",
                             SAMPLES / "2025-03-02-event4_sinkhole_http-asean-geo.csv")
    assert [(e.value, e.port, e.asn, e.country) for e in events] == [
        ("1.0.160.7", 60902, 23969, "TH"), ("175.139.20.3", 55002, 4788, "MY"),
        ("49.145.5.6", 31350, 9299, "PH")]
    assert (events[0].taxonomy, events[0].type) == ("malicious-code", "infected-system")
    assert events[0].extra["dst_ip"] == "184.105.1.2"
    assert events[0].extra["family"] == "avalanche-andromeda"
    assert bad == []


def test_shadowserver_report_type_needed(tmp_path):
    renamed = tmp_path / "report.csv"
    renamed.write_text((SAMPLES / "2025-03-02-scan_http-asean-geo.csv").read_text())
    with pytest.raises(InvalidInput):
        run_parser("shadowserver-csv", renamed)
    events, _bad = run_parser("shadowserver-csv", renamed, report="scan_rdp")
    assert events[0].type == "potentially-unwanted-accessible"


def test_generic_csv_with_column_mapping():
    events, bad = run_parser(
        "generic-csv", SAMPLES / "generic.tsv", delimiter="\\t",
        columns={"time": "reported", "value": "address", "port": "port", "type": "kind"},
        value_type="ipv4", extra_columns=["note"])
    assert [(e.line, e.value, e.port, e.type, e.observed) for e in events] == [
        (3, "1.0.128.1", 22, "brute-force", dt.datetime(2025, 3, 2, 3, 0)),
        (4, "175.136.0.1", 23, "brute-force", dt.datetime(2025, 3, 2, 3, 5)),
        (6, "203.116.1.1", 3389, "no-such-type", dt.datetime(2025, 3, 2, 11, 0))]
    assert events[0].extra == {"note": "ssh"}
    assert [line for line, _reason in bad] == [5]


def test_generic_csv_checks_its_configuration():
    with pytest.raises(InvalidInput, match="value column"):
        parsers.get("generic-csv").check({"columns": {"ip": 1}})
    with pytest.raises(InvalidInput, match="Unknown field"):
        parsers.get("generic-csv").check({"columns": {"value": 0, "colour": 2}})
    with pytest.raises(InvalidInput, match="whole number"):
        parsers.get("generic-csv").check({"columns": {"value": 0}, "skip_lines": "many"})
    with pytest.raises(InvalidInput, match="no parameter"):
        parsers.get("urlhaus-csv").check({"colour": "red"})


def test_stix_bundle():
    events, bad = run_parser("stix2-bundle", SAMPLES / "stix_bundle.json")
    assert [(e.line, e.value_type, e.value) for e in events] == [
        (2, "ipv4", "1.0.128.1"), (2, "domain", "update-check.example.sg"),
        (2, "domain", "cdn-sync.example.org"),
        (3, "sha256", "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"),
        (5, "url", "https://secure-login.example.co.th/verify.php")]
    assert events[0].extra["stix_id"] == "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    assert events[0].observed == dt.datetime(2025, 3, 1, 8, 0)
    assert [line for line, _reason in bad] == [4, 6]


def test_misp_feed():
    events, bad = run_parser("misp-feed", SAMPLES / "misp_feed")
    assert [(e.line, e.value_type, e.value, e.port, e.type) for e in events] == [
        (1, "url", "hxxps://secure-login.example[.]co.th/verify.php", None, "phishing"),
        (2, "ipv4", "175.136.0.1", 8443, "phishing"),
        (4, "domain", "not a domain!", None, "phishing"),
        (5, "sha256", "EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C", None,
         "phishing"),
        (6, "ipv4", "203.116.1.1", None, ""), (7, "ipv4", "8.8.8.8", None, "")]
    assert events[0].extra["event_info"] == "Credential phishing kit targeting regional banks"
    assert bad == []
    resumed, _bad = run_parser("misp-feed", SAMPLES / "misp_feed", start=5)
    assert [e.line for e in resumed] == [6, 7]
