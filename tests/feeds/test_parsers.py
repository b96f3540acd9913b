"""Each parser on its real-format sample: the expected findings, and bad lines with numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import ipaddress
import json
import random
import re

import pytest

from certhub.core.errors import InvalidInput
from certhub.feeds.connectors import parsers
from certhub.feeds.connectors.events import Bad, Event
from certhub.feeds.connectors.parsers import base, jsonstream

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


# --- CsvLines: the chunked fast paths give exactly what line-by-line csv parsing gives --------
class ReferenceCsvLines:
    """CsvLines as it was before the chunked fast paths: one line at a time into csv.reader.
    The fast implementation must give the same rows, numbers, raw text and errors."""

    def __init__(self, handle, *, delimiter=",", quotechar='"', comment="#", skip=0, start=0,
                 header=False):
        self.handle, self.delimiter, self.quotechar = handle, delimiter, quotechar
        self.comment, self.skip, self.start, self.want_header = comment, skip, start, header
        self.header, self.line, self.raw = None, 0, ""

    def _lines(self):
        need_header, number = self.want_header, 0
        for line in self.handle:
            number += 1
            if (number <= self.skip or (self.comment and line.startswith(self.comment))
                    or not line.strip()):
                continue
            if number <= self.start and not need_header:
                continue
            need_header = False
            self.line, self.raw = number, line
            yield line

    def __iter__(self):
        reader = csv.reader(self._lines(), delimiter=self.delimiter, quotechar=self.quotechar,
                            strict=False)
        if self.want_header:
            try:
                self.header = [name.strip() for name in next(reader)]
            except StopIteration:
                return
        while True:
            try:
                for row in reader:
                    yield self.line, self.raw, row
                return
            except csv.Error as exc:
                yield self.line, self.raw, exc


def csv_items(kind, path, **options):
    """(header, items) of a CsvLines-like class over ``path``; errors as their message."""
    with parsers.get("urlhaus-csv")().open_text(path) as handle:
        lines = kind(handle, **options)
        items = [(line, raw.rstrip("\r\n"),
                  f"error: {row}" if isinstance(row, csv.Error) else row)
                 for line, raw, row in lines]
        return lines.header, items


# Lines of every shape the fast paths must tell apart (no line break inside: pieces of rows).
PIECES = ['"2025-01-01 00:00:00","http://1.2.3.4/x","online","malware_download"',
          '"a","b,c","d"', '"a","","c"', '"","x"', '","x"', '"a"b"', '"he said ""hi""","x"',
          'plain,unquoted,1', 'tab\tseparated\tline', '"quoted",unquoted,', '"open quote',
          'close quote",after', '"', '""', 'x', '"a" ,"b"', '"a", "b"', "\x00nul,\x00",
          '# a comment', '#', '   ', '', '"#not a comment","x"', 'ÿé,ü', '"\x0c"']
ENDINGS = ["\n", "\r\n", "\r", "\n", "\n"]


def random_csv(rnd, lines: int) -> bytes:
    text = "".join(rnd.choice(PIECES) + rnd.choice(ENDINGS) for _ in range(lines))
    if rnd.random() < 0.3:
        text = text.rstrip("\r\n")  # no line break after the last line
    data = text.encode()
    return b"\xef\xbb\xbf" + data if rnd.random() < 0.2 else data


@pytest.mark.parametrize("seed", range(60))
def test_csv_lines_fast_paths_match_line_by_line_parsing(seed, tmp_path, monkeypatch):
    rnd = random.Random(seed)
    path = tmp_path / "feed.csv"
    path.write_bytes(random_csv(rnd, rnd.randint(1, 40)))
    # Small chunks put chunk ends inside quoted fields, comments and blank lines.
    monkeypatch.setattr(base, "_CHUNK", rnd.choice([1, 7, 40, 200, 1 << 20]))
    options = {"delimiter": rnd.choice([",", ",", "\t"]), "comment": rnd.choice(["#", ""]),
               "skip": rnd.choice([0, 0, 1, 3]), "header": rnd.random() < 0.3}
    physical = len(path.read_text("utf-8-sig").splitlines()) + 2
    for start in range(physical):
        try:
            expected = csv_items(ReferenceCsvLines, path, start=start, **options)
        except csv.Error:  # a csv error in the header row raises in both
            with pytest.raises(csv.Error):
                csv_items(base.CsvLines, path, start=start, **options)
            continue
        assert csv_items(base.CsvLines, path, start=start, **options) == expected, start


@pytest.mark.parametrize("text", [
    # the URLhaus layout with quoted fields that hold commas, quotes and line breaks
    '"a","b"\n"c,d","e"\n"f""g","h"\n"multi\nline","i"\n"j","k"\n',
    # a comment and a blank line inside a quoted field are dropped, as line by line
    '"a","open\n# comment\n\nstill open"\n"b","c"\n',
    # a field over the csv field limit is a csv error on its line, and the reading goes on
    '"a","b"\n"' + "x" * 300 + '","c"\n"d","e"\n',
    # CRLF, a lone CR and no line break at the end
    '"a","b"\r\n"c","d"\r"e","f"',
    # quote counts that add up over the chunk while single lines are not "...","..." rows
    '"\n"a"b"\n', '","x"\n"a"b"\n',
])
def test_csv_lines_tricky_inputs(text, tmp_path, monkeypatch):
    path = tmp_path / "feed.csv"
    path.write_text(text, "utf-8", newline="")
    monkeypatch.setattr(base, "_CHUNK", 9)
    limit = csv.field_size_limit(200)
    try:
        for start in range(8):
            assert (csv_items(base.CsvLines, path, start=start)
                    == csv_items(ReferenceCsvLines, path, start=start))
    finally:
        csv.field_size_limit(limit)


def test_csv_lines_numbers_raw_and_errors(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text('# head\n"h1"," h2 "\n\n"a","b"\n"x' + "y" * 300 + '","c"\n"multi\nline","d"'
                    '\n"e","f"\n', "utf-8")
    limit = csv.field_size_limit(200)
    try:
        header, items = csv_items(base.CsvLines, path, header=True)
    finally:
        csv.field_size_limit(limit)
    assert header == ["h1", "h2"]
    assert [(line, row if isinstance(row, list) else "error") for line, _raw, row in items] == [
        (4, ["a", "b"]), (5, "error"), (7, ["multi\nline", "d"]), (8, ["e", "f"])]
    assert items[0][1] == '"a","b"'
    assert items[2][1] == 'line","d"'  # a row's raw text is its last physical line


def test_header_problems_are_reported_on_the_first_row(tmp_path):
    report = tmp_path / "2025-03-02-scan_http-asean-geo.csv"
    report.write_text('"timestamp","host"\n\n"2025-03-02 00:00:00","a"\n', "utf-8")
    events, bad = run_parser("shadowserver-csv", report)
    assert (events, [line for line, _reason in bad]) == ([], [3])
    events, bad = run_parser("generic-csv", report, columns={"value": "address"})
    assert (events, bad[0][0]) == ([], 3)
    assert "address" in bad[0][1]


@pytest.mark.parametrize("seed", range(20))
def test_json_array_items_across_window_ends(seed, monkeypatch):
    rnd = random.Random(seed)
    values = [rnd.choice([{"ip_address": "1.0.128.1", "port": 443, "note": "a\nb"}, 1234567,
                          -0.5, "text", [1, [2, {}]], None, True, {"nested": {"x": [1, 2]}}])
              for _ in range(rnd.randint(0, 12))]
    document, starts = "[", []
    for index, value in enumerate(values):
        document += rnd.choice(["", " ", "\n", " \r\n  ", "\t"])
        if index:
            document += "," + rnd.choice(["", " ", "\n", "\n\n  "])
        starts.append(document.count("\n") + 1)
        document += json.dumps(value, indent=rnd.choice([None, 2]))
    document += rnd.choice(["", "\n"]) + "]\n"
    monkeypatch.setattr(jsonstream, "CHUNK", rnd.choice([1, 2, 5, 16, 1 << 20]))
    items = list(jsonstream.array_items(io.StringIO(document)))
    assert [value for _number, _line, _raw, value in items] == values
    assert [line for _number, line, _raw, _value in items] == starts
    assert [json.loads(raw) for _number, _line, raw, _value in items] == values
    assert [number for number, _line, _raw, _value in items] == list(range(1, len(values) + 1))


@pytest.mark.parametrize(("document", "message"), [
    ('{"a": 1}', "not a JSON array"), ('[1, 2', "expected ',' or ']' after element 2"),
    ('[1 2]', "expected ',' or ']' after element 1"), ('[1, ]', "element 2: Expecting value"),
    ('[{"a": 1}, {"b": ', "element 2: Expecting value")])
def test_json_array_items_errors(document, message, monkeypatch):
    monkeypatch.setattr(jsonstream, "CHUNK", 4)
    with pytest.raises(jsonstream.JsonStreamError, match=re.escape(message)):
        list(jsonstream.array_items(io.StringIO(document)))


def test_spamhaus_prefix_text_is_what_ipaddress_gives():
    from certhub.feeds.connectors.parsers.spamhaus import prefix_text

    def reference(cidr):
        try:
            return ipaddress.ip_network(str(cidr), strict=False).with_prefixlen
        except ValueError:
            return None

    rnd = random.Random(5)
    cidrs = ["1.10.16.0/20", "1.10.16.7/20", "0.0.0.0/0", "255.255.255.255/32", "1.2.3.4/33",
             "1.2.3.4/024", "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/ 8", "01.2.3.4/8", "1.2.3/8",
             "1.2.3.4.5/8", "256.1.1.1/8", "1.2.3.4/", "/8", "1.2.3.4", "1.2.3.4/8/9",
             "1.2.3.4/255.255.0.0", "1.2.3.4/0.0.255.255", "1.2.3.4/٣", "١.2.3.4/8",
             "2001:c38:1000::/36", "2001:c38:1000::1/36", "::ffff:1.2.3.4/120", "x", "", None,
             12, " 1.2.3.4/8"]
    cidrs += [f"{rnd.randint(0, 300)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}."
              f"{rnd.randint(0, 255)}/{rnd.randint(0, 34)}" for _ in range(2000)]
    assert [prefix_text(cidr) for cidr in cidrs] == [reference(cidr) for cidr in cidrs]


@pytest.mark.parametrize(("name", "sample"), [
    ("urlhaus-csv", "urlhaus_country.csv"), ("urlhaus-csv", "urlhaus_dump.csv"),
    ("feodo-csv", "feodo_ipblocklist.csv"), ("feodo-json", "feodo_ipblocklist.json"),
    ("spamhaus-drop", "spamhaus_drop.txt"),
    ("shadowserver-csv", "2025-03-02-event4_sinkhole_http-asean-geo.csv")])
def test_resuming_at_every_position_gives_the_rest(name, sample, monkeypatch):
    monkeypatch.setattr(base, "_CHUNK", 50)  # several chunks even in a small sample
    monkeypatch.setattr(jsonstream, "CHUNK", 64)

    def seen(start):
        return [(type(item).__name__, item.line, item.raw, getattr(item, "value", None),
                 getattr(item, "extra", None)) for item in
                parsers.get(name)().items(SAMPLES / sample, start=start)]

    everything = seen(0)
    assert everything
    for start in range(everything[-1][1] + 1):
        assert seen(start) == [item for item in everything if item[1] > start], start
