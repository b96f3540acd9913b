"""Append-only audit log. Each entry is chained to the previous one by an HMAC-SHA256."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    pass


class Action(models.TextChoices):
    CREATE = "create", _("created")
    CHANGE = "change", _("changed")
    DELETE = "delete", _("deleted")
    EXPORT = "export", _("exported")
    VIEW_RED = "view_red", _("opened a TLP:RED record")
    LOGIN = "login", _("logged in")
    LOGIN_FAILED = "login_failed", _("failed to log in")
    TOKEN = "token", _("managed an API token")
    SECURITY = "security", _("changed security settings")


class AuditEntry(models.Model):
    """One thing someone did. Rows are never updated or deleted; ``verify`` checks the chain."""

    seq = models.BigIntegerField(unique=True, editable=False)
    at = models.DateTimeField(_("when"), db_index=True, editable=False)
    # Plain ids and texts, not foreign keys: the log outlives the users and records it names.
    actor_id = models.BigIntegerField(_("user id"), null=True, blank=True, editable=False)
    actor = models.CharField(_("who"), max_length=254, blank=True, editable=False)
    organisation = models.CharField(_("organisation"), max_length=60, blank=True, editable=False)
    address = models.GenericIPAddressField(_("from address"), null=True, blank=True,
                                           editable=False)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices, db_index=True,
                              editable=False)
    object_type = models.CharField(_("record type"), max_length=100, blank=True, editable=False)
    object_id = models.CharField(_("record id"), max_length=100, blank=True, editable=False)
    object_repr = models.CharField(_("record"), max_length=300, blank=True, editable=False)
    details = models.JSONField(_("details"), default=dict, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit entries cannot be deleted")


class ChainHead(models.Model):
    """A single row locked while appending, so concurrent writers extend the chain in turn."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit chain head #{self.last_seq}"
