"""Celery tasks (pinned names). Without a broker they run in-process (CELERY_TASK_ALWAYS_EAGER).

``certhub.feeds.run_feed`` is acknowledged late (settings: CELERY_TASK_ACKS_LATE): a worker
killed mid-run leaves the message unacknowledged, the broker redelivers it, and the new
attempt resumes the run after its last committed batch. A run whose worker died on this host
is resumed at once (by the redelivered message, or by the next ``run_due_feeds``); one whose
worker was elsewhere after ``services.STALE_AFTER`` without progress. Each attempt is fenced
(``FeedRun.attempts``), so two attempts never both commit the same lines.
"""

from __future__ import annotations

import logging

from celery import shared_task

from certhub.core.errors import Conflict

log = logging.getLogger(__name__)


@shared_task(name="certhub.feeds.run_feed")
def run_feed(feed_id: int, trigger: str = "task", requested_at: str | None = None,
             resume_only: bool = False) -> list[int]:
    """Resume or run one feed. ``requested_at`` (ISO time the run was asked for) makes a
    message delivered twice run the feed once; ``resume_only`` only resumes its unfinished
    run, if there is still one."""
    import datetime as dt

    from . import services
    from .models import Feed

    feed = Feed.objects.filter(pk=feed_id).first()
    if feed is None:
        log.warning("feed %s no longer exists", feed_id)
        return []
    try:
        runs = services.run_feed(feed, trigger=trigger, requested_at=dt.datetime.fromisoformat(
            requested_at) if requested_at else None, resume_only=resume_only)
    except Conflict as exc:
        log.info("%s", exc.message)
        return []
    return [run.pk for run in runs]


@shared_task(name="certhub.feeds.run_due_feeds", bind=True)
def run_due_feeds(self) -> list[int]:
    """Dispatch every feed whose schedule is due, and every run left to resume (beat calls
    this every minute). The runs go to the queue this task came from."""
    from django.utils import timezone

    from . import schedule, services

    now = timezone.now()
    resumable = services.resumable_feed_ids(now)
    feeds = services.due_feeds(now)
    requested_at = now.isoformat()
    queue = (getattr(self.request, "delivery_info", None) or {}).get("routing_key")
    options = {"queue": queue} if queue and not self.request.is_eager else {}
    for feed in feeds:
        scheduled = bool(feed.schedule) and schedule.is_due(feed.schedule,
                                                             feed.last_started_at, now)
        run_feed.apply_async((feed.pk,), {"trigger": "schedule", "requested_at": requested_at,
                                          "resume_only": feed.pk in resumable and not scheduled},
                             **options)
    return [feed.pk for feed in feeds]


@shared_task(name="certhub.feeds.expire_findings")
def expire_findings() -> int:
    from . import services

    return services.expire_findings()


# The daily digest's task (certhub.feeds.send_digests) lives beside its code; importing it
# here registers it with the workers, which discover tasks modules only.
from . import digest  # noqa: E402, F401
