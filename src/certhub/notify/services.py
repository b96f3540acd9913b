"""The one way any app tells people something: `notify()`.

INTERFACE (agreed between apps; the notify helper implements it fully):

    notify(event, *, subject, body, url="", organisations=(), users=(),
           to_emergency_contacts=False, attachments=(), payload=None, dedupe_key=None) -> int

- event: dotted name, e.g. "incidents.request.created", "incidents.request.overdue",
  "feeds.digest". Webhooks subscribe to events by name (or prefix).
- subject/body: plain text, already translated by the caller; url: a path on this site.
- organisations: every active user of each receives an in-app notification and an email; each
  organisation's webhooks subscribed to `event` receive `payload` (JSON), HMAC-signed.
- users: individual recipients (in-app + email).
- to_emergency_contacts: also email each organisation's 24/7 emergency contacts (Contact with
  role EMERGENCY), PGP-encrypted when the contact has a key.
- attachments: (filename, bytes, mimetype) tuples for the emails (encrypted too when PGP applies).
- dedupe_key: a notification with the same key is delivered at most once, ever (e.g. escalation
  of one overdue request). Returns the number of deliveries queued (0 when deduplicated).

Deliveries are queued with transaction.on_commit, so nothing goes out for a rolled-back change.

Details (docs/notifications.md):
- subject/body may also be lazy translations (gettext_lazy, format_lazy): they are then rendered
  once per recipient language (the user's ``language``; for contacts the first of their
  organisation's ``languages`` this site offers; else CERTHUB_LANGUAGE). Plain strings are sent
  as given.
- The number returned counts in-app notifications + emails + webhook calls.
- Users' emails are not encrypted (users have no key of their own); contacts' emails are
  encrypted to the contact's key, else to the organisation's team key when it has one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from certhub.audit import services as audit
from certhub.audit.models import Action
from certhub.core.errors import InvalidInput, NotFound
from certhub.directory.models import Contact, ContactRole, Organisation

from . import mail, webhooks
from .models import (
    Attachment,
    DeliveryStatus,
    EmailDelivery,
    Message,
    Notification,
    Webhook,
    WebhookDelivery,
)

log = logging.getLogger(__name__)

EVENT_RE = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
PATTERN_RE = re.compile(r"^(\*|[a-z0-9_-]+(\.[a-z0-9_-]+)*(\.|\.\*)?)$")
# Seconds to wait before each retry; after the last one the delivery is marked failed.
BACKOFF = (60, 300, 1800, 7200, 21600)
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = dt.timedelta(minutes=15)


def notify(event: str, *, subject: str, body: str, url: str = "", organisations=(), users=(),
           to_emergency_contacts: bool = False, attachments=(), payload: dict | None = None,
           dedupe_key: str | None = None) -> int:
    _check_names(event, dedupe_key)
    if len(url or "") > 2000:
        raise InvalidInput("url is longer than 2000 characters", field="url")
    organisations = _organisations(organisations)
    attachments = [(str(name), bytes(content), str(mimetype))
                   for name, content, mimetype in attachments]
    json.dumps(payload)  # fails now, in the caller, rather than at delivery
    with transaction.atomic():
        message = Message(event=event, url=url or "", payload=payload,
                          dedupe_key=dedupe_key or None)
        if dedupe_key:
            try:
                with transaction.atomic():  # a savepoint: the caller's transaction survives
                    message.save()
            except IntegrityError:
                return 0
        else:
            message.save()
        Attachment.objects.bulk_create(
            Attachment(message=message, filename=name, mimetype=mimetype, content=content)
            for name, content, mimetype in attachments)
        count = _in_app_and_user_mail(message, subject, body, organisations, users)
        if to_emergency_contacts:
            count += _contact_mail(message, subject, body, organisations)
        count += _webhook_calls(message, subject, body, organisations)
        if count:
            message_id = message.pk
            transaction.on_commit(lambda: _dispatch(message_id))
    return count


def _check_names(event: str, dedupe_key: str | None) -> None:
    if not EVENT_RE.match(event or "") or len(event) > 200:
        raise InvalidInput(f"invalid event name {event!r}", field="event")
    if dedupe_key is not None and len(dedupe_key) > 255:
        raise InvalidInput("dedupe_key is longer than 255 characters", field="dedupe_key")


def _dispatch(message_id: int) -> None:
    from . import tasks

    try:
        tasks.deliver_message.delay(message_id)
    except Exception:  # a broker outage must not break the request that notified
        log.exception("could not queue the deliveries of message %s; retried later", message_id)


def _organisations(values) -> list[Organisation]:
    ids = [value.pk if isinstance(value, Organisation) else int(value) for value in values]
    return list(Organisation.objects.filter(pk__in=ids)) if ids else []


def _language_of_user(user) -> str:
    return _supported(getattr(user, "language", "")) or settings.LANGUAGE_CODE


def _language_of_organisation(organisation: Organisation) -> str:
    for code in (organisation.languages or "").split(","):
        if _supported(code.strip()):
            return _supported(code.strip())
    return settings.LANGUAGE_CODE


def _supported(code: str) -> str:
    code = (code or "").lower()
    available = {c for c, _name in settings.LANGUAGES}
    if code in available:
        return code
    base = code.split("-", 1)[0]
    return base if base in available else ""


class _Renderer:
    """Subject, body and mail text per language (lazy strings render in each language)."""

    def __init__(self, message: Message, subject, body):
        self.message, self.subject, self.body = message, subject, body
        self.cache: dict[str, tuple[str, str, str]] = {}

    def __call__(self, language: str) -> tuple[str, str, str]:
        if language not in self.cache:
            with translation.override(language):
                subject = " ".join(str(self.subject).splitlines())[:300]
                body = str(self.body)
                link = (settings.SITE_URL.rstrip("/") + self.message.url
                        if self.message.url.startswith("/") else self.message.url)
                text = render_to_string("notify/email.txt", {
                    "body": body, "link": link, "site_name": settings.SITE_NAME,
                    "event": self.message.event})
            self.cache[language] = (subject, body, text)
        return self.cache[language]


def _in_app_and_user_mail(message, subject, body, organisations, users) -> int:
    user_model = get_user_model()
    recipients: dict[int, object] = {}
    if organisations:
        for user in user_model.objects.filter(organisation__in=organisations, is_active=True):
            recipients[user.pk] = user
    for user in users:
        if not isinstance(user, user_model):
            user = user_model.objects.filter(pk=user).first()
        if user is not None and user.is_active:
            recipients[user.pk] = user
    render = _Renderer(message, subject, body)
    notes, emails = [], []
    for user in recipients.values():
        subject_text, body_text, mail_text = render(_language_of_user(user))
        notes.append(Notification(message=message, user=user, event=message.event,
                                  subject=subject_text, body=body_text, url=message.url))
        if user.email:
            emails.append(EmailDelivery(message=message, user=user, address=user.email,
                                        language=_language_of_user(user), subject=subject_text,
                                        body=mail_text))
    Notification.objects.bulk_create(notes)
    EmailDelivery.objects.bulk_create(emails)
    return len(notes) + len(emails)


def _contact_mail(message, subject, body, organisations) -> int:
    render = _Renderer(message, subject, body)
    # The system writes to each organisation's own points of contact; nothing is shown to a
    # user here, so the sharing rule (who may *see* a contact) does not apply.
    contacts = (Contact.unrestricted.filter(owner__in=organisations, role=ContactRole.EMERGENCY,
                                            is_example=False)
                .exclude(email="").select_related("owner"))
    return _mail_contacts(message, render, contacts)


def _mail_contacts(message, render, contacts) -> int:
    emails, seen = [], set()
    for contact in contacts:
        if contact.email.lower() in seen:
            continue
        seen.add(contact.email.lower())
        language = _language_of_organisation(contact.owner)
        subject_text, _body, mail_text = render(language)
        emails.append(EmailDelivery(message=message, contact=contact, address=contact.email,
                                    language=language, subject=subject_text, body=mail_text,
                                    pgp_key=contact.pgp_key or contact.owner.pgp_key or ""))
    EmailDelivery.objects.bulk_create(emails)
    return len(emails)


def mail_contacts(event: str, *, subject, body, contacts, url: str = "", attachments=(),
                  payload: dict | None = None, dedupe_key: str | None = None) -> int:
    """Email the given points of contact only (e.g. a digest for an organisation's incident-
    report and 24/7 contacts), encrypted like ``notify``'s contact mail. ``payload`` is kept
    with the message (not sent). Returns the count, 0 when deduplicated."""
    _check_names(event, dedupe_key)
    with transaction.atomic():
        message = Message(event=event, url=url, payload=payload, dedupe_key=dedupe_key or None)
        if dedupe_key:
            try:
                with transaction.atomic():
                    message.save()
            except IntegrityError:
                return 0
        else:
            message.save()
        Attachment.objects.bulk_create(
            Attachment(message=message, filename=name, mimetype=mimetype, content=bytes(content))
            for name, content, mimetype in attachments)
        count = _mail_contacts(message, _Renderer(message, subject, body),
                               [c for c in contacts if c.email and not c.is_example])
        if count:
            message_id = message.pk
            transaction.on_commit(lambda: _dispatch(message_id))
    return count


def call_webhooks(event: str, *, organisations, payload: dict,
                  dedupe_key: str | None = None) -> int:
    """Only the webhooks of ``organisations`` subscribed to ``event`` (no in-app message, no
    mail), e.g. "feeds.findings" after each feed run. Returns the calls queued."""
    _check_names(event, dedupe_key)
    organisations = _organisations(organisations)
    json.dumps(payload)
    with transaction.atomic():
        message = Message(event=event, payload=payload, dedupe_key=dedupe_key or None)
        if dedupe_key:
            try:
                with transaction.atomic():
                    message.save()
            except IntegrityError:
                return 0
        else:
            message.save()
        count = _webhook_calls(message, "", "", organisations)
        if count:
            message_id = message.pk
            transaction.on_commit(lambda: _dispatch(message_id))
    return count


def _webhook_calls(message, subject, body, organisations) -> int:
    if not organisations:
        return 0
    calls = []
    hooks = Webhook.objects.filter(organisation__in=organisations, active=True) \
        .select_related("organisation")
    for hook in hooks:
        if not hook.subscribes_to(message.event):
            continue
        call = WebhookDelivery(webhook=hook, message=message, event=message.event)
        data = message.payload if message.payload is not None else {
            "subject": str(subject), "text": str(body)}
        link = (settings.SITE_URL.rstrip("/") + message.url
                if message.url.startswith("/") else message.url)
        call.body = json.dumps({
            "id": str(call.uid), "event": message.event,
            "created": message.created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "organisation": hook.organisation.short_name, "url": link, "data": data,
        }, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        calls.append(call)
    WebhookDelivery.objects.bulk_create(calls)
    return len(calls)


# --- Delivery (run by tasks) -------------------------------------------------------------------

def deliver_message(message_id: int) -> dict:
    """Send every pending email and webhook call of a message. Failures are scheduled for a
    retry (``retry_due``); nothing here raises."""
    sent = {"emails": 0, "webhooks": 0}
    emails = list(EmailDelivery.objects.filter(message_id=message_id,
                                               status=DeliveryStatus.PENDING))
    if emails:
        attachments = _attachments(message_id)
        connection = get_connection()  # one SMTP session for the whole message
        try:
            for email in emails:
                sent["emails"] += send_email(email, connection=connection,
                                             attachments=attachments)
        finally:
            try:
                connection.close()
            except Exception:
                log.debug("closing the mail connection failed", exc_info=True)
    for call in WebhookDelivery.objects.filter(message_id=message_id,
                                               status=DeliveryStatus.PENDING):
        sent["webhooks"] += call_webhook(call)
    return sent


def _attachments(message_id: int) -> list[tuple[str, bytes, str]]:
    return [(a.filename, bytes(a.content), a.mimetype)
            for a in Attachment.objects.filter(message_id=message_id).order_by("pk")]


def send_email(delivery: EmailDelivery, connection=None, attachments=None) -> bool:
    if attachments is None:
        attachments = _attachments(delivery.message_id)
    try:
        email = mail.build(subject=delivery.subject, body=delivery.body, to=delivery.address,
                           attachments=attachments, pgp_key=delivery.pgp_key)
        email.connection = connection or get_connection()
        email.send()
    except Exception as exc:
        log.warning("mail to %s failed: %s", delivery.address, exc)
        _failed(delivery, f"{type(exc).__name__}: {exc}"[:2000])
        return False
    delivery.status, delivery.sent_at, delivery.error = DeliveryStatus.SUCCEEDED, timezone.now(), ""
    delivery.attempts += 1
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "sent_at", "error", "attempts", "next_attempt_at"])
    return True


def call_webhook(call: WebhookDelivery) -> bool:
    hook = call.webhook
    if not hook.active:
        call.status, call.error, call.next_attempt_at = DeliveryStatus.FAILED, \
            "webhook deactivated", None
        call.save(update_fields=["status", "error", "next_attempt_at"])
        return False
    body = call.body.encode()
    timestamp = int(time.time())
    headers = {webhooks.SIGNATURE_HEADER: webhooks.sign(hook.secret, timestamp, body),
               webhooks.EVENT_HEADER: call.event, webhooks.DELIVERY_HEADER: str(call.uid)}
    call.last_attempt_at = timezone.now()
    try:
        response = webhooks.post(hook.url, body, headers)
    except webhooks.DeliveryError as exc:
        call.response_status = None
        _failed(call, str(exc))
        return False
    call.response_status = response.status
    if 200 <= response.status < 300:
        call.status, call.delivered_at, call.error = DeliveryStatus.SUCCEEDED, timezone.now(), ""
        call.attempts += 1
        call.next_attempt_at = None
        call.save()
        return True
    _failed(call, f"HTTP {response.status}: {response.excerpt[:500]}")
    return False


def _failed(delivery, error: str) -> None:
    delivery.attempts += 1
    delivery.error = error
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = timezone.now() + dt.timedelta(
            seconds=BACKOFF[delivery.attempts - 1])
    delivery.save()


def retry_due(now: dt.datetime | None = None) -> dict:
    """Retry every delivery whose back-off has elapsed. Each is claimed first (its next attempt
    pushed forward by a lease, in one UPDATE), so two workers never send the same one."""
    now = now or timezone.now()
    done = {"emails": 0, "webhooks": 0}
    for model, key, attempt in ((EmailDelivery, "emails", send_email),
                                (WebhookDelivery, "webhooks", call_webhook)):
        due = list(model.objects.filter(status=DeliveryStatus.RETRYING,
                                        next_attempt_at__lte=now)
                   .order_by("next_attempt_at").values_list("pk", "next_attempt_at")[:500])
        for pk, when in due:
            claimed = model.objects.filter(pk=pk, status=DeliveryStatus.RETRYING,
                                           next_attempt_at=when).update(
                next_attempt_at=now + LEASE)
            if claimed:
                done[key] += attempt(model.objects.get(pk=pk))
    return done


# --- In-app notifications ---------------------------------------------------------------------

def mark_read(user, ids=None) -> int:
    """Mark the user's notifications read (all of them when ``ids`` is None)."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


# --- Webhooks (organisation administrators) -------------------------------------------------

def may_manage_webhooks(user, organisation) -> bool:
    return bool(user and user.is_authenticated and user.can_write
                and user.administers(organisation))


def _clean_events(events) -> list[str]:
    if isinstance(events, str):
        events = [e for e in re.split(r"[\s,]+", events) if e]
    events = list(dict.fromkeys(str(e).strip() for e in events or () if str(e).strip()))
    if not events:
        raise InvalidInput(_("Name at least one event, e.g. feeds.findings, or a prefix such "
                             "as incidents.*."), field="events")
    for event in events:
        if not PATTERN_RE.match(event):
            raise InvalidInput(_("“%(event)s” is not an event name or prefix.") %
                               {"event": event}, field="events")
    return events


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(_("Give the webhook a name of at most 100 characters."), field="name")
    return name


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create_webhook(actor, organisation, *, name: str, url: str, events, active: bool = True,
                   request=None) -> tuple[Webhook, str]:
    """A new webhook and its secret (returned this once)."""
    if not may_manage_webhooks(actor, organisation):
        raise NotFound()
    hook = Webhook(organisation=organisation, name=_clean_name(name),
                   url=webhooks.check_url(url), events=_clean_events(events), active=active,
                   secret=new_secret(), created_by=actor)
    with transaction.atomic():
        hook.save()
        audit.record(Action.CREATE, user=actor, request=request, obj=hook,
                     details={"url": hook.url, "events": hook.events, "active": hook.active})
    return hook, hook.secret


def change_webhook(actor, hook: Webhook, *, name: str | None = None, url: str | None = None,
                   events=None, active: bool | None = None, request=None) -> Webhook:
    with transaction.atomic():
        hook = Webhook.objects.select_for_update().filter(pk=hook.pk).first()
        if hook is None or not may_manage_webhooks(actor, hook.organisation):
            raise NotFound()
        changes = {}
        if name is not None:
            hook.name = _clean_name(name)
        if url is not None and url != hook.url:
            hook.url = webhooks.check_url(url)
            changes["url"] = hook.url
        if events is not None:
            hook.events = _clean_events(events)
            changes["events"] = hook.events
        if active is not None and active != hook.active:
            hook.active = active
            changes["active"] = active
        hook.save()
        audit.record(Action.CHANGE, user=actor, request=request, obj=hook, details=changes)
    return hook


def rotate_secret(actor, hook: Webhook, *, request=None) -> str:
    with transaction.atomic():
        hook = Webhook.objects.select_for_update().filter(pk=hook.pk).first()
        if hook is None or not may_manage_webhooks(actor, hook.organisation):
            raise NotFound()
        hook.secret = new_secret()
        hook.save(update_fields=["secret"])
        audit.record(Action.SECURITY, user=actor, request=request, obj=hook,
                     details={"secret": "rotated"})
    return hook.secret


def delete_webhook(actor, hook: Webhook, *, request=None) -> None:
    with transaction.atomic():
        hook = Webhook.objects.select_for_update().filter(pk=hook.pk).first()
        if hook is None or not may_manage_webhooks(actor, hook.organisation):
            raise NotFound()
        audit.record(Action.DELETE, user=actor, request=request, obj=hook,
                     details={"url": hook.url})
        hook.delete()


def ping_webhook(actor, hook: Webhook, *, request=None) -> WebhookDelivery:
    """Queue a "ping" event to the webhook (whatever it subscribes to), to test the receiver."""
    if not may_manage_webhooks(actor, hook.organisation):
        raise NotFound()
    if not hook.active:
        raise InvalidInput(_("This webhook is not active."))
    with transaction.atomic():
        message = Message.objects.create(event="ping", payload={"ping": True})
        call = WebhookDelivery(webhook=hook, message=message, event="ping")
        call.body = json.dumps({
            "id": str(call.uid), "event": "ping",
            "created": message.created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "organisation": hook.organisation.short_name, "url": "", "data": {"ping": True},
        }, separators=(",", ":"), sort_keys=True)
        call.save()
        message_id = message.pk
        transaction.on_commit(lambda: _dispatch(message_id))
    return call
