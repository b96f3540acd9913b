"""The writer thread (pipeline.consume outside a transaction): batches are committed on their
own connection while the next is prepared, in order, and an error there stops the run exactly
as it would in one thread."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from certhub.feeds import queries, services
from certhub.feeds.models import FeedRun, Finding, RunError, RunStatus
from certhub.feeds.pipeline import SimulatedCrash

from .conftest import make_feed


def _feed_file(path, count: int = 1000):
    lines = [f'"2025-03-02 10:00:00","http://1.0.{128 + i // 250}.{i % 250 + 1}/x","online",'
             f'"malware_download","1.0.{128 + i // 250}.{i % 250 + 1}",'
             f'"1.0.{128 + i // 250}.{i % 250 + 1}","23969","TH"' for i in range(count)]
    if count > 333:
        lines[333] = '"2025-03-02 10:00:00","broken"'
    path.write_text("# Dateadded,URL,URL_status,Threat,Host,IPaddress,ASnumber,Country\n"
                    + "\n".join(lines) + "\n", encoding="utf-8")
    return path


# Batch ends: the event path batches 200 events; the columnar path 200 physical lines (the
# header is one), and the lines 201-400 hold the broken line 335, so they are read by the
# parser, after the 199 events before them go as a batch of their own.
EVENT_PATH = ([201, 401], 399, [601, 801, 1001])
COLUMNAR_PATH = ([200, 400], 398, [600, 800, 1000, 1001])


@pytest.mark.parametrize(('columnar', 'expected'), [(False, EVENT_PATH), (True, COLUMNAR_PATH)])
def test_batches_commit_on_the_writer_thread_and_a_crash_there_stops_the_run(
        columnar, expected, transactional_db, world, settings, tmp_path):
    assert not connection.in_atomic_block  # else consume commits on this thread
    settings.FEEDS_COLUMNAR = columnar
    crash_positions, kept, resumed_positions = expected
    feed = make_feed("threaded", "urlhaus-csv", _feed_file(tmp_path / "feed.csv"))
    committed_on = []

    def progress(run, read):
        committed_on.append((threading.current_thread().name, run.position))

    with pytest.raises(SimulatedCrash):
        services.run_feed(feed, batch_size=200, fail_after_batches=2, progress=progress)
    run = FeedRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert committed_on == [("certhub-feed-writer", position) for position in crash_positions]
    assert run.position == crash_positions[-1]
    assert Finding.objects.filter(run=run).count() == kept  # line 335 is refused

    committed_on.clear()
    [resumed] = services.run_feed(feed, batch_size=200, progress=progress)
    assert resumed.status == RunStatus.SUCCEEDED
    assert [position for _name, position in committed_on] == resumed_positions
    assert {name for name, _position in committed_on} == {"certhub-feed-writer"}
    assert sorted(Finding.objects.filter(run=run).values_list("line", flat=True)) == [
        n for n in range(2, 1002) if n != 335]
    assert list(RunError.objects.filter(run=run).values_list("line", flat=True)) == [335]
    assert queries.inbox(world.thai_analyst).count() == 999
    # The writer thread has ended with the run.
    assert not [thread for thread in threading.enumerate()
                if thread.name == "certhub-feed-writer"]


def test_inside_a_transaction_batches_commit_on_the_callers_connection(world, tmp_path):
    assert connection.in_atomic_block  # the test's transaction
    feed = make_feed("inline", "urlhaus-csv", _feed_file(tmp_path / "feed.csv", 300))
    names = []
    [run] = services.run_feed(feed, batch_size=100,
                              progress=lambda run, read: names.append(
                                  threading.current_thread().name))
    assert run.status == RunStatus.SUCCEEDED
    assert set(names) == {threading.main_thread().name}
    assert Finding.objects.filter(run=run).count() == 300
