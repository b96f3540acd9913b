"""TAXII client models: a partner's remote collection to pull, and the runs that pulled it.

A ``RemoteCollection`` names a TAXII 2.1 API root and one collection on it, how to sign in, and
what the pulled intelligence becomes here: reports owned by ``owner`` and created by
``run_as`` (an account of that organisation that may write), at ``tlp`` (raised, never lowered,
by the TLP markings the objects carry) for ``audience_groups`` / ``audience_orgs``.

``added_after`` is the resume point: the ``X-TAXII-Date-Added-Last`` the remote sent with the
last page stored. Objects already held by the owner organisation (same id and version) are
skipped, so a re-run or an overlapping page stores nothing twice.

The secret (password or bearer token) must be sent to the remote, so it is stored as given; it
is never shown back (the admin form leaves it blank), never logged, never put in a run's error.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from certhub.core.models import TimeStampedModel
from certhub.sharing.tlp import TLP


class AuthKind(models.TextChoices):
    NONE = "none", _("none")
    BASIC = "basic", _("username and password (HTTP Basic)")
    BEARER = "bearer", _("bearer token")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class RemoteCollection(TimeStampedModel):
    name = models.SlugField(_("name"), max_length=100, unique=True,
                            help_text=_("Short identifier, e.g. jpcert-indicators."))
    title = models.CharField(_("title"), max_length=200, blank=True)
    api_root_url = models.URLField(_("API root URL"), max_length=2000,
                                   help_text=_("The remote API root, e.g. "
                                               "https://taxii.example.org/api1/"))
    collection_id = models.CharField(_("collection id"), max_length=200,
                                     help_text=_("The id of the collection on that API root."))
    auth = models.CharField(_("authentication"), max_length=10, choices=AuthKind.choices,
                            default=AuthKind.BASIC)
    username = models.CharField(_("username"), max_length=200, blank=True)
    secret = models.CharField(_("password or token"), max_length=1000, blank=True)
    verify_tls = models.BooleanField(_("check the server's certificate"), default=True)
    timeout = models.PositiveIntegerField(_("timeout (seconds)"), default=60)
    page_size = models.PositiveIntegerField(_("objects per request"), default=1000)
    allow_custom = models.BooleanField(
        _("accept custom STIX properties"), default=False,
        help_text=_("Accept x_… properties and custom objects (OpenCTI adds them)."))
    owner = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("owner organisation"))
    run_as = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("stored as"),
                               help_text=_("An account of the owner organisation that may "
                                           "write intelligence: the reports' creator."))
    tlp = models.CharField("TLP", max_length=16, choices=TLP.choices, default=TLP.AMBER,
                           help_text=_("Label of the stored reports (a stricter TLP marking on "
                                       "the objects wins)."))
    audience_groups = models.ManyToManyField("sharing.SharingGroup", blank=True, related_name="+",
                                             verbose_name=_("audience: sharing groups"))
    audience_orgs = models.ManyToManyField("directory.Organisation", blank=True,
                                           related_name="+",
                                           verbose_name=_("audience: organisations"))
    schedule = models.CharField(_("schedule"), max_length=100, default="every 1h", blank=True,
                                help_text=_("'every 30m', 'every 6h', 'every 1d' or a cron "
                                            "expression (UTC); empty to pull only on request."))
    enabled = models.BooleanField(_("enabled"), default=True)
    added_after = models.CharField(_("resume after"), max_length=40, blank=True,
                                   help_text=_("Date added of the last object stored (TAXII "
                                               "added_after); empty pulls everything."))
    last_started_at = models.DateTimeField(_("last pull started"), null=True, blank=True,
                                           editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("remote TAXII collection")
        verbose_name_plural = _("remote TAXII collections")

    def __str__(self) -> str:
        return self.name

    @property
    def collection_url(self) -> str:
        return f"{self.api_root_url.rstrip('/')}/collections/{self.collection_id.strip('/')}/"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .validation import check_remote

        try:
            check_remote(self)
        except Exception as exc:  # InvalidInput → the form's field error
            field = getattr(exc, "field", None)
            message = getattr(exc, "message", str(exc))
            known = {f.name for f in self._meta.fields}
            raise ValidationError({field if field in known else "__all__": message}) from None


class PullRun(models.Model):
    """One pull of one remote collection: what was fetched, stored, skipped and refused."""

    remote = models.ForeignKey(RemoteCollection, on_delete=models.CASCADE, related_name="runs",
                               verbose_name=_("remote collection"))
    status = models.CharField(_("status"), max_length=16, choices=RunStatus.choices,
                              default=RunStatus.RUNNING, db_index=True)
    trigger = models.CharField(_("started by"), max_length=100, blank=True)
    started_at = models.DateTimeField(_("started"), db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    added_after = models.CharField(_("asked for objects added after"), max_length=40,
                                   blank=True)
    resumed_to = models.CharField(_("resume point reached"), max_length=40, blank=True)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    fetched = models.PositiveIntegerField(_("fetched"), default=0)
    stored = models.PositiveIntegerField(_("stored"), default=0)
    skipped = models.PositiveIntegerField(_("skipped (already known)"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    reports = models.ManyToManyField("intel.Report", blank=True, related_name="+",
                                     verbose_name=_("reports created"))
    error = models.TextField(_("error"), blank=True)
    problems = models.JSONField(_("objects refused"), default=list, blank=True,
                                help_text=_("The first objects refused, with the reason."))

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("TAXII pull run")
        verbose_name_plural = _("TAXII pull runs")

    def __str__(self) -> str:
        return f"{self.remote} #{self.pk} {self.status}"
