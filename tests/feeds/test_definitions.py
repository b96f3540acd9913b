"""Feed definitions: static checks (parser parameters, RSIT, schedule, source) and scheduling."""

from __future__ import annotations

import datetime as dt

import pytest

from certhub.core.errors import InvalidInput
from certhub.feeds import classification, schedule, services
from certhub.feeds.models import Feed

from .conftest import SAMPLES


def test_rsit_classification_accepts_aliases_and_refuses_the_rest():
    assert classification.normalise("", "phishing") == ("fraud", "phishing")
    assert classification.normalise("malicious code", "C&C") == ("malicious-code", "c2-server")
    assert classification.normalise(None, "botnet drone") == ("malicious-code",
                                                              "infected-system")
    assert classification.normalise("", "unauthorized-use-of-resources")[1] == \
        "unauthorised-use-of-resources"
    assert classification.normalise("", "") == ("other", "undetermined")
    with pytest.raises(InvalidInput, match="not an RSIT"):
        classification.normalise("", "evil")
    with pytest.raises(InvalidInput, match="belongs to the taxonomy"):
        classification.normalise("fraud", "spam")


def test_schedules():
    assert schedule.parse("") is None
    assert schedule.parse("every 30m") == dt.timedelta(minutes=30)
    with pytest.raises(InvalidInput):
        schedule.parse("every 10s")
    with pytest.raises(InvalidInput):
        schedule.parse("every day")
    with pytest.raises(InvalidInput):
        schedule.parse("61 * * * *")
    now = dt.datetime(2025, 3, 2, 10, 0, tzinfo=dt.UTC)
    assert schedule.is_due("every 1h", None, now)
    assert schedule.is_due("every 1h", now - dt.timedelta(minutes=61), now)
    assert not schedule.is_due("every 1h", now - dt.timedelta(minutes=59), now)
    assert schedule.is_due("15 */6 * * *", dt.datetime(2025, 3, 2, 6, 16, tzinfo=dt.UTC),
                           dt.datetime(2025, 3, 2, 12, 15, tzinfo=dt.UTC))
    assert not schedule.is_due("15 */6 * * *", dt.datetime(2025, 3, 2, 6, 16, tzinfo=dt.UTC),
                               dt.datetime(2025, 3, 2, 12, 14, tzinfo=dt.UTC))


@pytest.mark.django_db
def test_definition_checks():
    base = {"name": "x", "source": "file", "location": str(SAMPLES / "urlhaus_country.csv"),
            "parser": "urlhaus-csv"}
    feed = services.feed_from_definition(dict(base, type="c2-server"))
    assert (feed.taxonomy, feed.type, feed.tlp) == ("malicious-code", "c2-server",
                                                    "amber+strict")
    bad_cases = [
        (dict(base, parser="nope"), "parser"),
        (dict(base, parser_params={"colour": 1}), "colour"),
        (dict(base, type="evil"), "type"),
        (dict(base, schedule="sometimes"), "schedule"),
        (dict(base, source="http"), "location"),
        (dict(base, source="ftp"), "source_kind"),
        (dict(base, tlp="purple"), "tlp"),
        (dict(base, colour="red"), "colour"),
        ({k: v for k, v in base.items() if k != "parser"}, "parser"),
        (dict(base, parser="generic-csv", parser_params={"columns": {"value": 0}}), "type"),
    ]
    for definition, field in bad_cases:
        with pytest.raises(InvalidInput) as caught:
            services.feed_from_definition(definition)
        assert caught.value.field == field, definition


@pytest.mark.django_db
def test_due_feeds():
    now = dt.datetime(2025, 3, 2, 10, 0, tzinfo=dt.UTC)
    common = {"source_kind": "file", "location": "/tmp/x", "parser": "urlhaus-csv"}
    Feed.objects.create(name="hourly", schedule="every 1h",
                        last_started_at=now - dt.timedelta(hours=2), **common)
    Feed.objects.create(name="fresh", schedule="every 1h",
                        last_started_at=now - dt.timedelta(minutes=5), **common)
    Feed.objects.create(name="manual", schedule="", **common)
    Feed.objects.create(name="off", schedule="every 1h", enabled=False, **common)
    assert [feed.name for feed in services.due_feeds(now)] == ["hourly"]


@pytest.mark.django_db
def test_feeds_with_a_run_to_resume_are_due():
    from certhub.feeds.models import FeedRun, RunStatus

    now = dt.datetime(2025, 3, 2, 10, 0, tzinfo=dt.UTC)
    common = {"source_kind": "file", "location": "/tmp/x", "parser": "urlhaus-csv"}
    crashed = Feed.objects.create(name="crashed", **common)
    busy = Feed.objects.create(name="busy", **common)
    FeedRun.objects.create(feed=crashed, status=RunStatus.RUNNING, input_path="/tmp/x",
                           heartbeat_at=now - dt.timedelta(hours=1))
    FeedRun.objects.create(feed=busy, status=RunStatus.RUNNING, input_path="/tmp/x",
                           heartbeat_at=now - dt.timedelta(seconds=30))
    assert [feed.name for feed in services.due_feeds(now)] == ["crashed"]


@pytest.mark.django_db
def test_the_example_definitions_load():
    from pathlib import Path

    import yaml

    import certhub.feeds

    path = Path(certhub.feeds.__file__).parent / "data" / "feeds.example.yaml"
    created, updated = services.load_feeds(yaml.safe_load(path.read_text())["feeds"])
    assert len(created) == 7
    assert not updated
    assert Feed.objects.get(name="partner-sensor").type == "brute-force"
