"""The bulk writer (feeds/storage.py) and the deduplication blocks, on the real database:
every value comes back exactly as written, whatever characters it holds."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from certhub.feeds.connectors.events import Event
from certhub.feeds.connectors.experts.dedupe import Deduplicator, contains, merge, pack, unpack
from certhub.feeds.models import DedupeBlock, FeedRun, Finding, RunStatus
from certhub.feeds.storage import COLUMNS, Same, copy_text, insert_findings, time_adapter

from .conftest import make_feed

TRICKY = ["plain", "tab\there", "new\nline", "carriage\rreturn", "back\\slash", "\\N",
          "literal \\N inside", "nul\x00byte", "ยูนิโค้ด ไทย", "", "end\\", "\\\\t"]


def _columns(feed, run, values: list[str], *, extras: list[str | None]):
    as_time = time_adapter()
    now = timezone.now().replace(tzinfo=None)
    count = len(values)
    return [Same(feed.pk), Same(run.pk), list(range(1, count + 1)), list(values),
            Same(as_time(now)), [None] * count, Same(as_time(now + dt.timedelta(days=1))),
            Same("malicious-code"), Same("malware-distribution"), Same("url"), list(values),
            [None] * count, [None if i % 2 else 443 for i in range(count)], [None] * count,
            Same(""), extras, [None] * count, Same("amber+strict"),
            list(range(count)), [None] * count, Same("")]


def test_tricky_text_round_trips(world, tmp_path):
    feed = make_feed("tricky", "urlhaus-csv", tmp_path / "none.csv")
    run = FeedRun.objects.create(feed=feed, status=RunStatus.SUCCEEDED)
    extras = ['{"note":"tab\\there"}', None, '{"a":"\\\\N"}'] * 4
    insert_findings(_columns(feed, run, TRICKY, extras=extras))
    stored = dict(Finding.objects.filter(run=run).values_list("line", "raw"))
    # PostgreSQL text cannot hold NUL: it is stored as U+FFFD there.
    expected = [text.replace("\x00", "\ufffd") if _vendor() == "postgresql" else text
                for text in TRICKY]
    assert [stored[line] for line in range(1, len(TRICKY) + 1)] == expected
    values = list(Finding.objects.filter(run=run).order_by("line").values_list("value", "port",
                                                                               "extra"))
    assert [value for value, _port, _extra in values] == expected
    assert [port for _value, port, _extra in values] == [
        None if i % 2 else 443 for i in range(len(TRICKY))]
    assert values[0][2] == {"note": "tab\there"}
    assert values[1][2] is None
    assert values[2][2] == {"a": "\\N"}


@pytest.mark.parametrize("count", [1, 2047, 5000])
def test_large_batches_and_constant_columns_round_trip(count, world, tmp_path):
    """SQLite writes many rows a statement (as many as it takes parameters for, the rest in
    powers of two) with the columns the same in every row as literals: a quote in one, and
    every row's place, survive."""
    feed = make_feed("many", "urlhaus-csv", tmp_path / "none.csv")
    feed.tlp = "amber"
    run = FeedRun.objects.create(feed=feed, status=RunStatus.SUCCEEDED)
    values = [f"http://1.0.128.{n % 250}/{n}" for n in range(count)]
    columns = _columns(feed, run, values, extras=[None] * count)
    columns[COLUMNS.index("country")] = Same("T'")  # not a country: a quote to escape
    columns[COLUMNS.index("rule")] = Same("it's")
    insert_findings(columns)
    stored = list(Finding.objects.filter(run=run).order_by("line").values_list(
        "line", "value", "port", "country", "rule", "taxonomy", "feed_id"))
    assert stored == [(n + 1, values[n], None if n % 2 else 443, "T'", "it's",
                       "malicious-code", feed.pk) for n in range(count)]
    assert len({row[0] for row in stored}) == count


def test_statement_sizes_recur():
    from certhub.feeds.storage import _chunks

    for count, per in [(10_000, 1489), (9_999, 1489), (1, 1489), (3_000, 1000), (0, 7)]:
        chunks = _chunks(count, per)
        assert [start for start, _size in chunks] == [
            sum(size for _start, size in chunks[:at]) for at in range(len(chunks))]
        assert sum(size for _start, size in chunks) == count
        assert all(size == per or size & (size - 1) == 0 for _start, size in chunks)


def _vendor() -> str:
    from django.db import connection

    return connection.vendor


def test_copy_text_escapes_each_field_once():
    columns = [Same(1), Same(2), [7], ["a\tb\\"], Same("2026-01-01 00:00:00"), [None],
               Same("2026-02-01 00:00:00"), ["x"], ["y"], ["url"], ["v\n"], [None], [None],
               [64500], ["TH"], [None], [None], Same("clear"), [-5], [3], ["country"]]
    assert len(columns) == len(COLUMNS)
    line = copy_text(columns)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    fields = line[:-1].split("\t")
    assert fields[3] == "a\\tb\\\\"
    assert fields[10] == "v\\n"
    assert fields[5] == "\\N"
    assert fields[13] == "64500"
    assert fields[18] == "-5"


def test_key_arrays():
    keys = np.array([-9, -1, 4, 10], dtype=np.int64)
    assert unpack(pack(keys)).tolist() == keys.tolist()
    assert pack(np.array([1], dtype=np.int64)) == (1).to_bytes(8, "big")  # big-endian on disk
    assert contains(keys, np.array([4, 5, -9, 11], dtype=np.int64)).tolist() == [
        True, False, True, False]
    merged = merge(keys, np.array([-20, 4, 7, 99], dtype=np.int64))
    assert merged.tolist() == [-20, -9, -1, 4, 7, 10, 99]
    assert contains(np.empty(0, dtype=np.int64), np.array([1])).tolist() == [False]


def _events(values):
    return [Event(number, value, value, "url") for number, value in enumerate(values, 1)]


@pytest.mark.parametrize("window_hours", [24])
def test_deduplicator_reads_committed_blocks_of_its_feed_only(world, tmp_path, window_hours):
    feed = make_feed("dedupe-a", "urlhaus-csv", tmp_path / "a.csv")
    other = make_feed("dedupe-b", "urlhaus-csv", tmp_path / "b.csv")
    now = timezone.now()
    window = dt.timedelta(hours=window_hours)
    run = FeedRun.objects.create(feed=feed, status=RunStatus.RUNNING)
    first = Deduplicator(feed.pk, window)
    events = _events(["http://a/1", "http://a/2", "http://a/1"])
    first.keys(events)
    kept, duplicates = first.process(events, now)
    assert [event.value for event in kept] == ["http://a/1", "http://a/2"]
    assert duplicates == 1
    first.record(run.pk, kept, now)
    # A second worker of the same feed sees the committed block; another feed does not.
    second = Deduplicator(feed.pk, window)
    again = _events(["http://a/2", "http://a/3"])
    second.keys(again)
    kept, duplicates = second.process(again, now)
    assert [event.value for event in kept] == ["http://a/3"]
    assert duplicates == 1
    elsewhere = Deduplicator(other.pk, window)
    theirs = _events(["http://a/2"])
    elsewhere.keys(theirs)
    assert elsewhere.process(theirs, now)[1] == 0
    # The first worker catches up with blocks written after its first read.
    second.record(run.pk, kept, now)
    late = _events(["http://a/3"])
    first.keys(late)
    assert first.process(late, now) == ([], 1)
    # Blocks of a failed run do not count; blocks outside the window neither.
    FeedRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
    fresh = Deduplicator(feed.pk, window)
    assert fresh.process(late, now)[1] == 0
    FeedRun.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED)
    DedupeBlock.objects.filter(feed=feed).update(created=now - 2 * window)
    assert Deduplicator(feed.pk, window).process(late, now)[1] == 0
    assert Deduplicator(feed.pk, 3 * window).process(late, now)[1] == 1


def test_expiry_removes_old_findings_and_blocks_outside_the_window(world, tmp_path):
    from certhub.feeds.services import expire_findings

    feed = make_feed("expiring", "urlhaus-csv", tmp_path / "e.csv", dedupe_window_hours=24)
    run = FeedRun.objects.create(feed=feed, status=RunStatus.SUCCEEDED)
    insert_findings(_columns(feed, run, ["http://old/", "http://new/"], extras=[None, None]))
    now = timezone.now()
    old, new = Finding.objects.filter(run=run).order_by("line")
    Finding.objects.filter(pk=old.pk).update(expires_at=now - dt.timedelta(minutes=1))
    DedupeBlock.objects.create(feed=feed, run=run, created=now - dt.timedelta(hours=25),
                               keys=pack(np.array([1], dtype=np.int64)))
    fresh = DedupeBlock.objects.create(feed=feed, run=run, created=now - dt.timedelta(hours=23),
                                       keys=pack(np.array([2], dtype=np.int64)))
    assert expire_findings(now) == 1
    assert list(Finding.objects.values_list("pk", flat=True)) == [new.pk]
    assert list(DedupeBlock.objects.values_list("pk", flat=True)) == [fresh.pk]
