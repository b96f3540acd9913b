"""Celery tasks (pinned names). Without a broker they run in-process (CELERY_TASK_ALWAYS_EAGER).

``certhub.incidents.escalate_overdue`` runs every minute from beat (settings.CELERY_BEAT_SCHEDULE);
``certhub.incidents.fetch_mail`` is for deployments that want the mailbox polled by beat as well
(add it to the schedule; `certhub incidents fetch-mail` from cron does the same).
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="certhub.incidents.escalate_overdue")
def escalate_overdue() -> list[int]:
    from . import challenge, services

    challenge.prune()  # forget spent public-form challenges once they have expired anyway
    return [req.pk for req, _which in services.escalate_overdue()]


@shared_task(name="certhub.incidents.fetch_mail")
def fetch_mail() -> list[int]:
    from . import services

    return [incident.pk for incident in services.fetch_mail()]
