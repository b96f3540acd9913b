"""Celery tasks (pinned names). Without a broker they run in-process (CELERY_TASK_ALWAYS_EAGER)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="certhub.notify.deliver_message")
def deliver_message(message_id: int) -> dict:
    """Send the emails and webhook calls of one ``notify()`` (queued on commit)."""
    from . import services

    return services.deliver_message(message_id)


@shared_task(name="certhub.notify.retry_deliveries")
def retry_deliveries() -> dict:
    """Retry failed emails and webhook calls whose back-off has elapsed (beat: every minute)."""
    from . import services

    return services.retry_due()
