"""The columnar path (feeds.columnar) gives exactly what the event path gives, and declines
every line it cannot prove it reads the same way."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from tests.conftest import add_constituency

from certhub.feeds import services
from certhub.feeds.columnar import urlhaus
from certhub.feeds.columnar.lines import line_batches
from certhub.feeds.connectors import parsers
from certhub.feeds.connectors.experts import Normaliser
from certhub.feeds.connectors.experts.dedupe import dedupe_key
from certhub.feeds.models import Finding, RunError
from certhub.feeds.storage import json_or_none

from .conftest import SAMPLES, make_feed

HEADER = ["#" * 64, "# abuse.ch URLhaus country feed", "#",
          "# Dateadded,URL,URL_status,Threat,Host,IPaddress,ASnumber,Country", "#" * 64]


def row(url="http://1.0.128.1/x", *, added="2025-03-02 10:00:00", status="online",
        threat="malware_download", host=None, ip="1.0.128.1", asn="23969", country="TH"):
    host = ip if host is None else host
    return ",".join(f'"{field}"' for field in (added, url, status, threat, host, ip, asn,
                                                country))


CLEAN = [
    row(),
    row("HTTP://Update1.CDN.Example.COM:8080/Payload.EXE", host="update1.cdn.example.com",
        ip="203.116.1.1", asn="7473", country="SG"),
    row("http://175.136.0.1/bins.sh", ip="175.136.0.1", asn="4788", country="MY"),
    row("http://8.8.8.8/x86", ip="8.8.8.8", asn="15169", country="US", status="offline"),
    row("http://dl.example.org/a?b=c&d=%20", host="dl.example.org", ip="", asn="",
        country=""),
    row("https://1.0.160.7:443/", ip="1.0.160.7", added="2025-03-02"),
    row("http://1.0.170.9/y", ip="1.0.170.9", added=""),
    row("ftp://user@files.example.net/z", host="files.example.net", ip="193.0.6.139",
        country="NL", threat="malware_download (ส่วนภาษาไทย)"),
    row("https://drive.google.com/uc?id=1", host="drive.google.com", ip="142.250.1.1",
        asn="15169", country="US"),
    row("http://1.0.128.1/x"),  # the first again: a duplicate
]

# Each is a line the event path reads in its own way (refuses, refangs, keeps as text ...).
DECLINED = {
    "defanged": row("hxxp://1.0.128.1/x"),
    "defanged dot": row("http://example[.]com/x", host="example[.]com"),
    "no scheme": row("1.0.128.1/x"),
    "empty URL": row(""),
    "space in URL": row("http://1.0.128.1/a b"),
    "non-ASCII host": row("http://ตัวอย่าง.th/x", host="ตัวอย่าง.th"),
    "long URL": row("http://1.0.128.1/" + "a" * 2100),
    "short address": row(ip="1.0.128"),
    "leading zero": row(ip="01.0.128.1"),
    "AS prefix": row(asn="AS23969"),
    "AS number text": row(asn="not-a-number"),
    "impossible date": row(added="2025-02-30 10:00:00"),
    "T separator": row(added="2025-03-02T10:00:00"),
    "leap second": row(added="2025-03-02 23:59:60"),
    "three-letter country": row(country="THA"),
    "seven fields": '"2025-03-02 10:00:00","http://1.0.128.1/x","online","a","b","c","d"',
    "database dump": ('"3412345","2025-03-02 10:00:00","http://1.0.128.1/x","online",'
                      '"2025-03-02 10:00:00","malware_download","elf,mozi",'
                      '"https://urlhaus.abuse.ch/url/3412345/","reporter"'),
    "escaped quote": row('http://1.0.128.1/"x"'.replace('"', '""')),
    "backslash": row("http://1.0.128.1/a\\b"),
    "tab": row("http://1.0.128.1/a\tb"),
}


def frame_of(lines: list[str], *, online_only: bool = False, after: int = 0):
    return urlhaus.frame(pl.Series("text", lines, dtype=pl.String), 1, after,
                         online_only=online_only)


def event_path(path, **params):
    """(events normalised, refused lines) as the event path makes them."""
    parser = parsers.get("urlhaus-csv")(**params)
    items = list(parser.items(path))
    refused = [item for item in items if not hasattr(item, "value")]
    events = Normaliser().process([item for item in items if hasattr(item, "value")], refused)
    return events, refused


@pytest.mark.parametrize("online_only", [False, True])
def test_clean_rows_become_the_events_the_event_path_makes(online_only, tmp_path):
    lines = [*HEADER, *CLEAN, ""]
    path = tmp_path / "feed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = frame_of(lines, online_only=online_only)
    events, refused = event_path(path, online_only=online_only)
    assert not refused
    assert frame is not None
    assert frame.height == len(events) > 0
    expected = [{"line": event.line, "raw": event.raw, "value": event.value, "ip": event.ip,
                 "asn": event.asn, "country": event.country,
                 "observed": None if event.observed is None else str(event.observed),
                 "extra": json_or_none(event.extra)} for event in events]
    assert frame.to_dicts() == expected
    values = frame["value"].to_list()
    assert "http://update1.cdn.example.com:8080/Payload.EXE" in values  # normalised
    assert ("http://8.8.8.8/x86" in values) is not online_only  # offline


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_a_batch_with_any_other_line_is_declined(case):
    assert frame_of([*HEADER, CLEAN[0], DECLINED[case], CLEAN[1]]) is None
    assert frame_of([*HEADER, CLEAN[0], CLEAN[1]]) is not None


def test_lines_at_or_before_the_position_are_left_out():
    lines = [*HEADER, *CLEAN]
    frame = frame_of(lines, after=len(HEADER) + 2)
    assert frame["line"].to_list() == list(range(len(HEADER) + 3, len(lines) + 1))


def test_line_batches_carry_line_numbers_and_byte_ranges(tmp_path):
    text = ("\ufeff" + "\r\n".join([*HEADER, *CLEAN]) + "\r\n").encode()
    path = tmp_path / "feed.csv"
    path.write_bytes(text)
    batches = list(line_batches(path, None, 4))
    assert [batch.first_line for batch in batches] == list(range(1, len(HEADER) + len(CLEAN), 4))
    assert batches[0].start == 0
    assert batches[-1].end == len(text)
    assert all(a.end == b.start for a, b in itertools.pairwise(batches))
    for batch in batches:  # each range holds exactly its lines
        lines = text[batch.start:batch.end].decode("utf-8-sig").split("\r\n")
        assert [line + "\r" for line in lines if line] == batch.lines.to_list()
    # A lone carriage return (a line break in text mode) or a bad byte: read by the parser.
    path.write_bytes(b'"a"\r"b"\n"c"\n')
    [batch] = line_batches(path, None, 10)
    assert batch.lines is None
    assert (batch.start, batch.end) == (0, 12)
    path.write_bytes(b'"a"\n"\xff"\n')
    [batch] = line_batches(path, None, 10)
    assert batch.lines is None


def stored(run):
    return sorted(Finding.objects.filter(run=run).values_list(
        "line", "raw", "observed_at", "taxonomy", "type", "value_type", "value", "ip", "port",
        "asn", "country", "extra", "warninglists", "tlp", "organisation_id", "rule"))


@pytest.mark.parametrize(("newline", "bom"), [("\n", False), ("\r\n", True)])
def test_a_run_stores_what_the_event_path_stores(newline, bom, world, settings, tmp_path):
    add_constituency(world.bank, "country", "TH")  # Thai addresses go to two organisations
    sample = (SAMPLES / "urlhaus_country.csv").read_text(encoding="utf-8").splitlines()
    body = [*sample, *CLEAN * 3, "", "# a comment", *CLEAN[2:], DECLINED["defanged"],
            DECLINED["seven fields"], *CLEAN]
    path = tmp_path / "feed.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + (newline.join(body) + newline).encode())
    runs = {}
    for columnar in (True, False):
        settings.FEEDS_COLUMNAR = columnar
        feed = make_feed(f"urlhaus-{columnar}", "urlhaus-csv", path)
        [runs[columnar]] = services.run_feed(feed, batch_size=7)
    fast, slow = runs[True], runs[False]
    assert stored(fast) == stored(slow)
    assert len(stored(fast)) > 10
    counters = ("status", "read", "parsed", "failed", "duplicates", "routed", "unrouted",
                "routed_per_org", "position")
    assert [getattr(fast, name) for name in counters] == [getattr(slow, name)
                                                          for name in counters]
    assert fast.routed_per_org[str(world.bank.pk)] == fast.routed_per_org[str(world.thai.pk)]
    errors = [sorted(RunError.objects.filter(run=run).values_list("line", "reason", "raw"))
              for run in (fast, slow)]
    assert errors[0] == errors[1]
    assert len(errors[0]) == 3
    for run in (fast, slow):
        for value_type, value, key in Finding.objects.filter(run=run).values_list(
                "value_type", "value", "dedupe_key"):
            assert key == dedupe_key(run.feed_id, value_type, value)
    # Flags come through the columnar path too.
    flagged = Finding.objects.get(run=fast, value="https://drive.google.com/uc?id=1")
    assert "List of known google domains" in flagged.warninglists


def test_a_rerun_on_the_columnar_path_creates_nothing_new(world, tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text("\n".join([*HEADER, *CLEAN * 50]) + "\n", encoding="utf-8")
    feed = make_feed("again", "urlhaus-csv", path)
    [first] = services.run_feed(feed, batch_size=5)
    [second] = services.run_feed(feed, batch_size=5)
    assert first.parsed == second.parsed == len(CLEAN) * 50
    assert Finding.objects.filter(run=second).count() == 0
    assert second.duplicates == second.parsed


def test_warning_list_masks_from_columns_equal_the_event_path():
    from certhub.feeds.connectors.experts.warninglists import index

    lists = index()
    if lists is None:
        pytest.skip("the warning lists (pymispwarninglists) are not installed")
    ips = ["8.8.8.8", "10.0.0.1", None, "1.1.1.1", "192.168.1.1", "1.0.128.1", "8.8.4.4"]
    hosts = ["8.8.8.8", "10.0.0.1", "drive.google.com", "one.one.one.one", "192.168.1.1",
             "example.com", "dns.google"]
    values = [f"http://user@{host}:8080/Path" for host in hosts]
    texts = [value.lower() for value in values]
    numbers = np.array([-1 if ip is None else int.from_bytes(bytes(map(int, ip.split("."))),
                                                            "big") for ip in ips])
    kinds = ["url"] * len(values)
    reference = lists.masks_of(values, kinds, ips, {})
    assert lists.masks_of(values, kinds, ips, {}, texts=texts, hosts=hosts,
                          numbers=numbers) == reference
    # Listed address ranges (resolvers, RFC 1918) give bits even where no name applies to URLs.
    assert all(reference[at] for at in (0, 1))
    assert reference == [lists.bits("url", value, ip) for value, ip in zip(values, ips,
                                                                            strict=True)]
