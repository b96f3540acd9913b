"""Recovery without a broker: a run left "running" by a dead worker is resumed at once, an
attempt that was taken over commits nothing more, a request delivered twice runs once."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys

import pytest
from django.utils import timezone

from certhub.core.errors import Conflict
from certhub.feeds import services, tasks
from certhub.feeds.models import FeedRun, Finding, RunStatus
from certhub.feeds.pipeline import Pipeline, SimulatedCrash

from .conftest import SAMPLES, make_feed

pytestmark = pytest.mark.django_db


def dead_pid() -> int:
    """The id of a process of this host that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture
def interrupted(world, tmp_path):
    """A run with its first batch committed, left "running" as a killed worker leaves it."""
    path = tmp_path / "feed.csv"
    shutil.copy(SAMPLES / "urlhaus_country.csv", path)
    feed = make_feed("killed", "urlhaus-csv", path, schedule="every 1d")
    with pytest.raises(SimulatedCrash):
        services.run_feed(feed, batch_size=2, fail_after_batches=1)
    run = FeedRun.objects.get()
    FeedRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING,
                                             heartbeat_at=timezone.now(),
                                             worker=f"{services.this_worker().rpartition(':')[0]}"
                                                    f":{dead_pid()}")
    return feed, run


def test_a_run_of_a_dead_worker_is_resumed_at_once(interrupted):
    feed, run = interrupted
    assert feed.pk in services.resumable_feed_ids()
    assert feed in services.due_feeds()
    [resumed] = services.run_feed(feed, batch_size=2)
    assert resumed.pk == run.pk
    assert resumed.status == RunStatus.SUCCEEDED
    assert resumed.attempts == 2
    lines = list(Finding.objects.filter(run=run).values_list("line", flat=True))
    assert len(lines) == len(set(lines)) == resumed.routed + resumed.unrouted


def test_a_live_worker_is_left_alone(interrupted):
    feed, run = interrupted
    FeedRun.objects.filter(pk=run.pk).update(worker=services.this_worker())
    assert feed.pk not in services.resumable_feed_ids()
    with pytest.raises(Conflict):
        services.run_feed(feed, batch_size=2)
    # Without progress for STALE_AFTER it is taken over, whoever held it.
    FeedRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - services.STALE_AFTER - dt.timedelta(seconds=1))
    assert feed.pk in services.resumable_feed_ids()


def test_an_attempt_taken_over_commits_nothing(interrupted):
    feed, run = interrupted
    run.refresh_from_db()
    before = Finding.objects.filter(run=run).count()
    position = run.position
    pipeline = Pipeline(feed, run, batch_size=2)
    # Another worker claimed the run meanwhile: this attempt's token is stale.
    FeedRun.objects.filter(pk=run.pk).update(attempts=run.attempts + 1)
    from certhub.feeds.connectors import parsers
    from certhub.feeds.pipeline import RunTakenOver

    parser = parsers.get(feed.parser)(**feed.parser_params)
    with pytest.raises(RunTakenOver):
        pipeline.consume(parser.items(SAMPLES / "urlhaus_country.csv", start=position))
    assert Finding.objects.filter(run=run).count() == before
    run.refresh_from_db()
    assert run.position == position


def test_a_request_delivered_twice_runs_once(world, tmp_path):
    path = tmp_path / "feed.csv"
    shutil.copy(SAMPLES / "urlhaus_country.csv", path)
    feed = make_feed("twice", "urlhaus-csv", path)
    requested_at = timezone.now().isoformat()
    assert len(tasks.run_feed(feed.pk, requested_at=requested_at)) == 1
    assert tasks.run_feed(feed.pk, requested_at=requested_at) == []
    assert FeedRun.objects.filter(feed=feed).count() == 1
    assert tasks.run_feed(feed.pk, resume_only=True) == []
    assert len(tasks.run_feed(feed.pk)) == 1  # a request made now runs again


def test_beat_task_dispatches_due_and_resumable_feeds(interrupted):
    feed, run = interrupted
    assert tasks.run_due_feeds() == [feed.pk]  # in-process: resumed, not started again
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert FeedRun.objects.filter(feed=feed).count() == 1
    assert tasks.run_due_feeds() == []  # not due again before a day


def test_routing_cache_forgets_without_losing_a_batch(world, monkeypatch):
    """The per-run routing cache is bounded; when full it starts again, and every event of the
    batch being routed still gets its answer."""
    from certhub.feeds.connectors.events import IPV4, Event
    from certhub.feeds.connectors.experts import route

    monkeypatch.setattr(route, "CACHE_SIZE", 3)
    router = route.Router()
    first = [Event(1, "", "1.0.128.1", IPV4, ip="1.0.128.1"),
             Event(2, "", "175.139.20.3", IPV4, ip="175.139.20.3")]
    router.process(first)
    again = [Event(3, "", "1.0.128.1", IPV4, ip="1.0.128.1"),
             Event(4, "", "8.8.8.8", IPV4, ip="8.8.8.8"),
             Event(5, "", "1.0.128.2", IPV4, ip="1.0.128.2")]
    router.process(again)  # 2 cached + 2 new > 3: the cache starts again
    assert [event.country for event in first + again] == ["TH", "MY", "TH", "US", "TH"]
    assert [m.organisation_id for m in again[0].matches] == [world.thai.pk]
    assert len(router.cache) == 3


def test_a_run_whose_worker_died_while_collecting_is_failed(world, tmp_path):
    feed = make_feed("collecting", "urlhaus-csv", SAMPLES / "urlhaus_country.csv")
    run = FeedRun.objects.create(feed=feed, status=RunStatus.RUNNING,
                                 heartbeat_at=timezone.now(),
                                 worker=f"{services.this_worker().rpartition(':')[0]}"
                                        f":{dead_pid()}")
    services.due_feeds()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "collecting" in run.error
    live = FeedRun.objects.create(feed=feed, status=RunStatus.RUNNING,
                                  heartbeat_at=timezone.now(), worker=services.this_worker())
    services.due_feeds()
    live.refresh_from_db()
    assert live.status == RunStatus.RUNNING


def test_a_worker_of_another_pid_namespace_is_never_judged_gone_by_pid():
    """Containers may share a host name: a pid we cannot see there is not a dead worker."""
    import socket

    assert services._worker_gone(f"{services.this_worker().rpartition(':')[0]}:999999999")
    assert not services._worker_gone(f"{socket.gethostname()}/pid:[1]:999999999")
