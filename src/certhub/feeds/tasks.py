"""Celery tasks (pinned names). Without a broker they run in-process (CELERY_TASK_ALWAYS_EAGER).

``certhub.feeds.run_feed`` is acknowledged late (settings: CELERY_TASK_ACKS_LATE): a worker
killed mid-run leaves the message unacknowledged, the broker redelivers it, and the new
attempt resumes the run after its last committed batch. A run whose worker died on this host
is resumed at once (by the redelivered message, or by the next ``run_due_feeds``); one whose
worker was elsewhere after ``services.STALE_AFTER`` without progress. Each attempt is fenced
(``FeedRun.attempts``), so two attempts never both commit the same lines.

A large input is split into parts (``services`` explains when): the feed's task plans them
and sends one ``certhub.feeds.run_part`` per part to the queue it came from, which any worker
may take; the run ends when its last part does. Parts are acknowledged late, fenced and
resumed like runs (``RunPart.attempts``); the beat's ``run_due_feeds`` resumes the parts of a
worker that died.
"""

from __future__ import annotations

import logging

from celery import shared_task

from certhub.core.errors import Conflict

log = logging.getLogger(__name__)


def _same_queue(task) -> dict:
    """apply_async options sending a message to the queue ``task`` came from."""
    queue = (getattr(task.request, "delivery_info", None) or {}).get("routing_key")
    return {"queue": queue} if queue and not task.request.is_eager else {}


@shared_task(name="certhub.feeds.run_feed", bind=True)
def run_feed(self, feed_id: int, trigger: str = "task", requested_at: str | None = None,
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
    options = _same_queue(self)

    def dispatch(run, part_ids: list[int]) -> None:
        for part_id in part_ids:
            run_part.apply_async((part_id,), **options)

    try:
        runs = services.run_feed(feed, trigger=trigger, requested_at=dt.datetime.fromisoformat(
            requested_at) if requested_at else None, resume_only=resume_only,
            dispatch=dispatch)
    except Conflict as exc:
        log.info("%s", exc.message)
        return []
    return [run.pk for run in runs]


@shared_task(name="certhub.feeds.run_part")
def run_part(part_id: int) -> bool:
    """Process one part of a split run (any worker may take any part). Whether it was this
    worker's to process (not done already, nor held by another worker)."""
    from . import services

    return services.run_part(part_id) is not None


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
    options = _same_queue(self)
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
