"""Celery tasks (pinned names). Without a broker they run in-process (CELERY_TASK_ALWAYS_EAGER).

Beat calls ``certhub.taxii_client.pull_due`` every minute (settings: CELERY_BEAT_SCHEDULE); each
remote collection's own schedule decides whether it is due.
"""

from __future__ import annotations

import logging

from celery import shared_task

from certhub.core.errors import Conflict

log = logging.getLogger(__name__)


@shared_task(name="certhub.taxii_client.pull")
def pull(remote_id: int, trigger: str = "task") -> int | None:
    from . import services
    from .models import RemoteCollection

    remote = RemoteCollection.objects.filter(pk=remote_id).first()
    if remote is None:
        log.warning("remote TAXII collection %s no longer exists", remote_id)
        return None
    try:
        return services.pull(remote, trigger=trigger).pk
    except Conflict as exc:
        log.info("%s", exc.message)
        return None


@shared_task(name="certhub.taxii_client.pull_due")
def pull_due() -> list[int]:
    """Dispatch a pull of every remote collection whose schedule is due."""
    from . import services

    remotes = services.due_remotes()
    for remote in remotes:
        pull.delay(remote.pk, trigger="schedule")
    return [remote.pk for remote in remotes]
