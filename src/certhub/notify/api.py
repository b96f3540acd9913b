"""Notify API, mounted at /api/v1/notifications/: my notifications; my organisation's webhooks
(administrators only; to anyone else they do not exist)."""

from __future__ import annotations

from ninja import Router, Status
from ninja.pagination import LimitOffsetPagination, paginate

from certhub.core.api_guards import require_user, require_writer
from certhub.core.errors import NotFound
from certhub.directory.models import Organisation

from . import queries, services
from .schemas import (
    DeliveryOut,
    MarkedOut,
    MarkReadIn,
    NotificationOut,
    SecretOut,
    UnreadOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)

router = Router(tags=["notifications"])


def _hook_out(hook, secret: str | None = None) -> dict:
    data = {"id": hook.pk, "organisation": hook.organisation.short_name, "name": hook.name,
            "url": hook.url, "events": hook.events, "active": hook.active,
            "created": hook.created}
    if secret is not None:
        data["secret"] = secret
    return data


@router.get("/", response=list[NotificationOut], summary="My notifications, newest first")
@paginate(LimitOffsetPagination)
def list_notifications(request, unread: bool | None = None):
    return queries.notifications_of(require_user(request), unread=unread)


@router.get("/unread", response=UnreadOut, summary="How many of my notifications are unread")
def unread(request):
    return {"unread": queries.unread_count(require_user(request))}


@router.post("/read", response=MarkedOut, summary="Mark my notifications read (some or all)")
def mark_read(request, payload: MarkReadIn):
    user = require_user(request)
    return {"marked": services.mark_read(user, payload.ids)}


@router.post("/{int:notification_id}/read", response={204: None},
             summary="Mark one of my notifications read")
def mark_one_read(request, notification_id: int):
    user = require_user(request)
    services.mark_read(user, [queries.notification(user, notification_id).pk])
    return Status(204, None)


@router.get("/webhooks", response=list[WebhookOut],
            summary="Webhooks of my organisation (administrators)")
def list_webhooks(request):
    return [_hook_out(hook) for hook in queries.webhooks_of(require_user(request))]


@router.post("/webhooks", response={201: WebhookCreatedOut},
             summary="Create a webhook (the response is the only time the secret is shown)")
def create_webhook(request, payload: WebhookIn):
    user = require_writer(request)
    organisation = user.organisation
    if payload.organisation:
        organisation = Organisation.objects.filter(slug=payload.organisation).first()
        if organisation is None:
            raise NotFound()
    hook, secret = services.create_webhook(user, organisation, name=payload.name,
                                           url=payload.url, events=payload.events,
                                           active=payload.active, request=request)
    return Status(201, _hook_out(hook, secret))


@router.get("/webhooks/{int:webhook_id}", response=WebhookOut, summary="One webhook")
def get_webhook(request, webhook_id: int):
    return _hook_out(queries.webhook(require_user(request), webhook_id))


@router.patch("/webhooks/{int:webhook_id}", response=WebhookOut, summary="Change a webhook")
def change_webhook(request, webhook_id: int, payload: WebhookPatch):
    user = require_writer(request)
    hook = services.change_webhook(user, queries.webhook(user, webhook_id), name=payload.name,
                                   url=payload.url, events=payload.events,
                                   active=payload.active, request=request)
    return _hook_out(hook)


@router.delete("/webhooks/{int:webhook_id}", response={204: None}, summary="Delete a webhook")
def delete_webhook(request, webhook_id: int):
    user = require_writer(request)
    services.delete_webhook(user, queries.webhook(user, webhook_id), request=request)
    return Status(204, None)


@router.post("/webhooks/{int:webhook_id}/secret", response=SecretOut,
             summary="Replace the signing secret (the response is the only time it is shown)")
def rotate_secret(request, webhook_id: int):
    user = require_writer(request)
    return {"secret": services.rotate_secret(user, queries.webhook(user, webhook_id),
                                             request=request)}


@router.post("/webhooks/{int:webhook_id}/ping", response={202: DeliveryOut},
             summary="Send a signed test call ('ping' event) to the webhook")
def ping_webhook(request, webhook_id: int):
    user = require_writer(request)
    call = services.ping_webhook(user, queries.webhook(user, webhook_id), request=request)
    return Status(202, _delivery_out(call))


def _delivery_out(call) -> dict:
    return {"id": call.uid, "event": call.event, "status": call.status,
            "attempts": call.attempts, "response_status": call.response_status,
            "error": call.error, "created": call.created,
            "last_attempt_at": call.last_attempt_at, "delivered_at": call.delivered_at,
            "next_attempt_at": call.next_attempt_at}


@router.get("/webhooks/{int:webhook_id}/deliveries", response=list[DeliveryOut],
            summary="The delivery log of a webhook, newest first")
@paginate(LimitOffsetPagination)
def list_deliveries(request, webhook_id: int):
    user = require_user(request)
    return [_delivery_out(call) for call in
            queries.deliveries(user, queries.webhook(user, webhook_id))[:1000]]
