"""TAXII server models: API roots, configured collections and status resources.

A collection holds no objects of its own: it is a *view* of intel's STIX objects (or of feed
findings) through the one sharing rule, narrowed by its kind (see ``CollectionKind``). What a
client reads from it is always a subset of what its user may see in the UI. Collections are
configured in the admin; besides them, every sharing group the reader's organisation belongs
to appears as a virtual collection (``certhub.taxii.collections``) unless one is configured for
it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from certhub.sharing.tlp import TLP


class ApiRoot(models.Model):
    slug = models.SlugField(_("name in the URL"), max_length=60, unique=True,
                            help_text=_("The API root is served at /taxii2/<name>/."))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    default = models.BooleanField(_("default API root"), default=False,
                                  help_text=_("Named as the default in TAXII discovery."))
    max_content_length = models.PositiveIntegerField(
        _("largest request (bytes)"), default=100 * 1024 * 1024,
        help_text=_("Largest envelope a client may POST."))

    class Meta:
        ordering = ["slug"]
        verbose_name = _("TAXII API root")
        verbose_name_plural = _("TAXII API roots")

    def __str__(self) -> str:
        return self.slug


class CollectionKind(models.TextChoices):
    VISIBLE = "visible", _("everything the reader may see")
    OWN = "own", _("the reader's organisation's own")
    GROUP = "group", _("shared with a sharing group")
    FINDINGS = "findings", _("feed findings routed to the reader's organisation")


class Collection(models.Model):
    """A configured collection: what it shows (``kind``) and how POSTed objects are shared."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    api_root = models.ForeignKey(ApiRoot, on_delete=models.CASCADE, related_name="collections",
                                 verbose_name=_("API root"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    alias = models.SlugField(_("alias"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CollectionKind.choices)
    sharing_group = models.ForeignKey(
        "sharing.SharingGroup", on_delete=models.CASCADE, null=True, blank=True,
        related_name="+", verbose_name=_("sharing group"),
        help_text=_("For the 'shared with a sharing group' kind: the group. Only its members' "
                    "users see the collection; what they POST is shared with the group."))
    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.CASCADE, null=True, blank=True,
        related_name="+", verbose_name=_("organisation"),
        help_text=_("For feed findings: only the findings routed to this organisation (shown "
                    "to its users and to hub staff). Empty: the reader's own."))
    write_tlp = models.CharField(
        _("TLP of POSTed objects"), max_length=16, blank=True,
        choices=[(tlp.value, tlp.label) for tlp in TLP if tlp != TLP.RED],
        help_text=_("Objects POSTed here are stored under the poster's organisation with this "
                    "label (raised to the strictest TLP marking they carry). Empty: read-only."))
    write_audience_groups = models.ManyToManyField(
        "sharing.SharingGroup", blank=True, related_name="+",
        verbose_name=_("audience of POSTed objects: sharing groups"))
    write_audience_orgs = models.ManyToManyField(
        "directory.Organisation", blank=True, related_name="+",
        verbose_name=_("audience of POSTed objects: organisations"))
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["api_root", "title"]
        verbose_name = _("TAXII collection")
        verbose_name_plural = _("TAXII collections")
        constraints = [models.UniqueConstraint(fields=["api_root", "alias"],
                                               condition=~models.Q(alias=""),
                                               name="taxii_collection_alias_unique")]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.kind == CollectionKind.GROUP and not self.sharing_group_id:
            raise ValidationError({"sharing_group": _("Choose the sharing group.")})
        if self.kind != CollectionKind.GROUP and self.sharing_group_id:
            raise ValidationError({"sharing_group": _("Only group collections name a group.")})
        if self.kind != CollectionKind.FINDINGS and self.organisation_id:
            raise ValidationError({"organisation": _("Only feed-finding collections name an "
                                                     "organisation.")})
        if self.kind == CollectionKind.FINDINGS and self.write_tlp:
            raise ValidationError({"write_tlp": _("Feed findings are read-only.")})


class StatusState(models.TextChoices):
    PENDING = "pending", _("pending")
    COMPLETE = "complete", _("complete")


class Status(models.Model):
    """The TAXII status resource of one POST: what became of each object. Only its poster
    reads it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    api_root = models.ForeignKey(ApiRoot, on_delete=models.CASCADE, related_name="+")
    collection_id = models.UUIDField(_("collection"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    request_timestamp = models.DateTimeField(_("requested"), auto_now_add=True, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=StatusState.choices,
                              default=StatusState.PENDING)
    total_count = models.PositiveIntegerField(default=0)
    success_count = models.PositiveIntegerField(default=0)
    failure_count = models.PositiveIntegerField(default=0)
    pending_count = models.PositiveIntegerField(default=0)
    # Lists of TAXII status details: {"id", "version", "message"}.
    successes = models.JSONField(default=list, blank=True)
    failures = models.JSONField(default=list, blank=True)
    pendings = models.JSONField(default=list, blank=True)
    report = models.ForeignKey("intel.Report", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")

    class Meta:
        ordering = ["-request_timestamp"]
        verbose_name = _("TAXII status")
        verbose_name_plural = _("TAXII statuses")

    def __str__(self) -> str:
        return f"{self.id} {self.status}"
