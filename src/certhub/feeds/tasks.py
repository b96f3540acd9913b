"""Celery tasks (pinned names). Without a broker they run in-process (CELERY_TASK_ALWAYS_EAGER).

``certhub.feeds.run_feed`` is acknowledged late (settings: CELERY_TASK_ACKS_LATE): a worker
killed mid-run leaves the message unacknowledged, the broker redelivers it, and the new
attempt resumes the run after its last committed batch.
"""

from __future__ import annotations

import logging

from celery import shared_task

from certhub.core.errors import Conflict

log = logging.getLogger(__name__)


@shared_task(name="certhub.feeds.run_feed")
def run_feed(feed_id: int, trigger: str = "task") -> list[int]:
    from . import services
    from .models import Feed

    feed = Feed.objects.filter(pk=feed_id).first()
    if feed is None:
        log.warning("feed %s no longer exists", feed_id)
        return []
    try:
        runs = services.run_feed(feed, trigger=trigger)
    except Conflict as exc:
        log.info("%s", exc.message)
        return []
    return [run.pk for run in runs]


@shared_task(name="certhub.feeds.run_due_feeds")
def run_due_feeds() -> list[int]:
    """Dispatch every feed whose schedule is due (beat calls this every minute)."""
    from . import services

    feeds = services.due_feeds()
    for feed in feeds:
        run_feed.delay(feed.pk, trigger="schedule")
    return [feed.pk for feed in feeds]


@shared_task(name="certhub.feeds.expire_findings")
def expire_findings() -> int:
    from . import services

    return services.expire_findings()
