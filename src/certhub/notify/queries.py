"""Every read of notifications, webhooks and their deliveries.

In-app notifications are the user's own. Webhooks and their delivery log are seen only by
those who may manage them: the organisation's administrators (and hub administrators); to
anyone else they do not exist (404).
"""

from __future__ import annotations

from django.db.models import QuerySet

from certhub.core.errors import NotFound

from .models import Message, Notification, Webhook, WebhookDelivery
from .services import may_manage_webhooks


def notifications_of(user, *, unread: bool | None = None) -> QuerySet[Notification]:
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    rows = Notification.objects.filter(user=user)
    if unread is not None:
        rows = rows.filter(read_at__isnull=unread)
    return rows.order_by("-created", "-pk")


def unread_count(user) -> int:
    return notifications_of(user, unread=True).count()


def notification(user, pk: int) -> Notification:
    found = notifications_of(user).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def webhooks_of(user) -> QuerySet[Webhook]:
    """The webhooks ``user`` may manage (their organisation's; every one for hub admins)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Webhook.objects.none()
    hooks = Webhook.objects.select_related("organisation")
    if getattr(user, "is_hub_admin", False) and user.can_write:
        return hooks
    if not may_manage_webhooks(user, user.organisation):
        return Webhook.objects.none()
    return hooks.filter(organisation_id=user.organisation_id)


def webhook(user, pk: int) -> Webhook:
    found = webhooks_of(user).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def deliveries(user, hook: Webhook) -> QuerySet[WebhookDelivery]:
    webhook(user, hook.pk)  # the rule again: a delivery log is its webhook's
    return WebhookDelivery.objects.filter(webhook=hook).order_by("-created", "-pk")


def latest_message(event: str, dedupe_prefix: str) -> Message | None:
    """The newest message of ``event`` whose deduplication key starts with ``dedupe_prefix``
    (e.g. the last digest of one organisation), for callers that keep state in the payload."""
    return (Message.objects.filter(event=event, dedupe_key__startswith=dedupe_prefix)
            .order_by("-created", "-pk").first())


def message_exists(dedupe_key: str) -> bool:
    return Message.objects.filter(dedupe_key=dedupe_key).exists()
