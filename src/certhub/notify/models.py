"""Notification models: one ``Message`` per call of ``notify()``, and its deliveries (in-app
notifications, emails, webhook calls), plus the organisations' webhooks.

Subjects and bodies are stored per delivery because each recipient gets them in their own
language (``notify()`` renders lazy translations once per language).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Message(models.Model):
    """One call of ``notify()``. ``dedupe_key`` is unique: the second call with the same key
    fails on the constraint (race-safe) and delivers nothing."""

    event = models.CharField(_("event"), max_length=200, db_index=True)
    url = models.CharField(_("link"), max_length=2000, blank=True)
    payload = models.JSONField(_("payload"), null=True, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=255, null=True, blank=True,
                                  unique=True)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.event} #{self.pk}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255)
    mimetype = models.CharField(_("media type"), max_length=255)
    content = models.BinaryField(_("content"))

    class Meta:
        ordering = ["message", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class Notification(models.Model):
    """An in-app notification of one user."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications", verbose_name=_("user"))
    event = models.CharField(_("event"), max_length=200)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=2000, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="notify_unread"),
                   models.Index(fields=["user", "-created"], name="notify_user_recent")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.subject


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    RETRYING = "retrying", _("retrying")
    SUCCEEDED = "succeeded", _("delivered")
    FAILED = "failed", _("failed")


class EmailDelivery(models.Model):
    """One email of a message to one address (a user, or a point of contact)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="emails")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+")
    contact = models.ForeignKey("directory.Contact", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+")
    address = models.EmailField(_("address"))
    language = models.CharField(_("language"), max_length=10, blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    pgp_key = models.TextField(_("encrypt to"), blank=True,
                               help_text=_("The armoured public key the mail is encrypted to."))
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True,
                                           db_index=True)
    error = models.TextField(_("error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("email delivery")
        verbose_name_plural = _("email deliveries")

    def __str__(self) -> str:
        return f"{self.address}: {self.subject}"


class Webhook(models.Model):
    """An organisation's HTTP(S) endpoint that receives signed JSON for the events it names.

    ``events``: event names or prefixes ending in "." or "*" (e.g. "feeds.", "incidents.*");
    "*" alone subscribes to everything. The secret is kept in clear because every delivery is
    signed with it; it is shown to the administrator once, at creation.
    """

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE,
                                     related_name="webhooks", verbose_name=_("organisation"))
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=2000)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=100, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["organisation", "name", "pk"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return f"{self.organisation}: {self.name}"

    def subscribes_to(self, event: str) -> bool:
        for pattern in self.events or ():
            if pattern == "*" or pattern == event:
                return True
            prefix = pattern.rstrip("*")
            if pattern.endswith(("*", ".")) and event.startswith(prefix):
                return True
        return False


class WebhookDelivery(models.Model):
    """One call (with its retries) of one webhook for one message."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="webhook_calls")
    event = models.CharField(_("event"), max_length=200)
    body = models.TextField(_("request body"))
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True,
                                           db_index=True)
    response_status = models.PositiveIntegerField(_("response status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.webhook} {self.event} {self.status}"
