"""Threat intelligence: reports (a STIX report / a MISP event) holding versioned STIX 2.1
objects, the observable index that correlation and lookup search, and sightings.

A Report is the unit of sharing: it carries owner, TLP and audience. Its STIX objects and
observables are visible exactly when the report is (``SharedThroughQuerySet``). A Sighting is
shared on its own, because a member may report seeing a value without sharing a report.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from certhub.sharing.models import Shareable

from .normalise import MAX_VALUE_LENGTH, ObservableType
from .visibility import SharedThroughManager

__all__ = ["Observable", "ObservableType", "Report", "ReportSource", "Sighting", "StixObject"]


class ReportSource(models.TextChoices):
    MANUAL = "manual", _("entered by hand")
    STIX = "stix", _("STIX 2.1 bundle")
    MISP = "misp", _("MISP event")
    CSV = "csv", _("CSV file")
    TEXT = "text", _("free text")
    FEED = "feed", _("feed")


class Report(Shareable):
    """What one member shares at once: its title, TLP and audience apply to everything inside."""

    stix_id = models.CharField(_("STIX id"), max_length=80, db_index=True,
                               help_text=_("report--<uuid>; a MISP event's uuid becomes this."))
    title = models.CharField(_("title"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    published = models.DateTimeField(_("published"), null=True, blank=True)
    labels = models.JSONField(_("labels and tags"), default=list, blank=True)
    confidence = models.PositiveSmallIntegerField(_("confidence (0-100)"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=ReportSource.choices,
                              default=ReportSource.MANUAL)
    # MISP event fields with no STIX equivalent (threat level, analysis, objects, attributes that
    # index no observable), kept so that a MISP export gives back what was imported.
    misp = models.JSONField(_("MISP details"), default=dict, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [models.UniqueConstraint(fields=["owner", "stix_id"],
                                               name="intel_report_unique_per_owner")]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self) -> str:
        return self.title


class StixObject(models.Model):
    """One version of one STIX 2.1 object of a report, stored as the JSON it arrived as.

    Columns repeat what queries filter on; ``json`` is the object itself, served as is.
    """

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="stix_objects")
    stix_id = models.CharField(_("STIX id"), max_length=120)
    type = models.CharField(_("type"), max_length=60)
    spec_version = models.CharField(_("spec version"), max_length=8, default="2.1")
    created = models.DateTimeField(_("created"), null=True, blank=True)
    # SCOs have no created/modified: NULL here, and the importer keeps one copy per id.
    modified = models.DateTimeField(_("modified"), null=True, blank=True)
    revoked = models.BooleanField(_("revoked"), default=False)
    name = models.CharField(_("name"), max_length=500, blank=True)
    pattern = models.TextField(_("pattern"), blank=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    added = models.DateTimeField(_("date added"), db_index=True,
                                 help_text=_("When certhub stored it (TAXII date_added)."))
    json = models.TextField(_("STIX JSON"))
    # A hint, never a filter: True once another row with this stix_id exists anywhere (set at
    # import, left set when that row goes). Readers that judge "first"/"last" versions (TAXII)
    # look up the other versions only for rows carrying it, instead of probing every id of a
    # page; what they return still depends on the versions the reader may see.
    versioned = models.BooleanField(_("has other versions"), default=False, db_default=False)

    unrestricted = models.Manager()
    objects = SharedThroughManager()

    class Meta:
        default_manager_name = "objects"
        base_manager_name = "unrestricted"
        ordering = ["added", "id"]
        constraints = [models.UniqueConstraint(fields=["report", "stix_id", "modified"],
                                               name="intel_stixobject_version_unique")]
        indexes = [models.Index(fields=["added", "id"], name="intel_stix_added_id"),
                   models.Index(fields=["stix_id", "modified"], name="intel_stix_id_modified"),
                   models.Index(fields=["type", "added"], name="intel_stix_type_added")]
        verbose_name = _("STIX object")
        verbose_name_plural = _("STIX objects")

    def __str__(self) -> str:
        return self.name or self.stix_id


class Observable(models.Model):
    """One concrete value a report holds, normalised: the key of correlation and lookup.

    The MISP columns keep the attribute it came from (type, category, uuid, object), so that a
    MISP export gives back the same attributes; observables found in STIX leave them empty.
    """

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="observables")
    stix_object = models.ForeignKey(StixObject, on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="observables")
    type = models.CharField(_("type"), max_length=24, choices=ObservableType.choices)
    value = models.CharField(_("value"), max_length=MAX_VALUE_LENGTH)
    first_seen = models.DateTimeField(_("first seen"), null=True, blank=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    to_ids = models.BooleanField(_("for detection"), default=True,
                                 help_text=_("Fit for blocking and detection (MISP to_ids)."))
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    misp_type = models.CharField(_("MISP type"), max_length=64, blank=True)
    # The attribute's value as MISP had it, when it differs from ``value`` (normalised case,
    # refanged, or a composite such as 'evil.example|192.0.2.1').
    misp_value = models.TextField(_("MISP value"), blank=True)
    misp_category = models.CharField(_("MISP category"), max_length=64, blank=True)
    misp_uuid = models.UUIDField(_("MISP attribute uuid"), null=True, blank=True)
    # Composite MISP attributes ('domain|ip') index one observable per part, in order.
    misp_part = models.PositiveSmallIntegerField(default=0)
    misp_object_uuid = models.UUIDField(_("MISP object uuid"), null=True, blank=True)
    misp_object_relation = models.CharField(_("MISP object relation"), max_length=64, blank=True)

    unrestricted = models.Manager()
    objects = SharedThroughManager()

    class Meta:
        default_manager_name = "objects"
        base_manager_name = "unrestricted"
        ordering = ["report", "id"]
        indexes = [models.Index(fields=["value"], name="intel_observable_value"),
                   models.Index(fields=["type", "value"], name="intel_observable_type_value")]
        verbose_name = _("observable")
        verbose_name_plural = _("observables")

    def __str__(self) -> str:
        return f"{self.type} {self.value}"


class Sighting(Shareable):
    """A member saw a value or an indicator: how often, when, and where (a STIX sighting)."""

    stix_id = models.CharField(_("STIX id"), max_length=80, db_index=True)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="sightings",
                               help_text=_("The report it arrived with, if any."))
    observable_type = models.CharField(_("type"), max_length=24, choices=ObservableType.choices,
                                       blank=True)
    value = models.CharField(_("value"), max_length=MAX_VALUE_LENGTH, blank=True, db_index=True)
    indicator_stix_id = models.CharField(_("indicator"), max_length=120, blank=True,
                                         db_index=True)
    count = models.PositiveIntegerField(_("count"), default=1)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    country = models.CharField(_("country"), max_length=2, blank=True)
    sector = models.CharField(_("sector"), max_length=100, blank=True)
    seen_by = models.ForeignKey("directory.Organisation", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+",
                                verbose_name=_("seen by organisation"))
    source = models.CharField(_("source"), max_length=200, blank=True,
                              help_text=_("Sensor, feed or system that saw it."))

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(value="") | ~models.Q(indicator_stix_id=""),
                                   name="intel_sighting_of_something"),
            models.UniqueConstraint(fields=["owner", "stix_id"],
                                    name="intel_sighting_unique_per_owner"),
        ]
        verbose_name = _("sighting")
        verbose_name_plural = _("sightings")

    def __str__(self) -> str:
        return f"{self.value or self.indicator_stix_id} ×{self.count}"
