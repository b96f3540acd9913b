"""Incidents, what hangs off them (tasks, attachments, indicators, links, the timeline) and the
coordination requests between organisations inside them.

An Incident is a ``Shareable``: owner organisation, TLP and audience decide who sees it, through
the one rule in certhub.sharing. Everything else here exists only inside an incident and is
exactly as visible as its incident (``InsideIncidentQuerySet``, the intel pattern with
``via = "incident"``). Who receives a coordination request must see the incident; services add
the receiving organisation to the incident's audience (docs/incidents.md, "Who sees an
incident").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from certhub.feeds import classification
from certhub.intel.normalise import MAX_VALUE_LENGTH, ObservableType
from certhub.intel.visibility import SharedThroughQuerySet
from certhub.sharing.models import Shareable

__all__ = [
    "Attachment", "CoordinationRequest", "Incident", "IncidentFinding", "IncidentReport",
    "Indicator", "RequestKind", "RequestStatus", "Severity", "Source", "Status", "Task",
    "TimelineEntry", "TimelineKind", "UsedChallenge",
]


class Severity(models.TextChoices):
    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")
    CRITICAL = "critical", _("critical")


class Status(models.TextChoices):
    NEW = "new", _("new")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    IN_PROGRESS = "in_progress", _("in progress")
    WAITING = "waiting", _("waiting")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")


OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.WAITING)


class Source(models.TextChoices):
    MEMBER = "member", _("entered by a member")
    PUBLIC_FORM = "public_form", _("public report form")
    EMAIL = "email", _("email")


class Incident(Shareable):
    """One incident. ``in_triage`` marks reports from the public form and email-in that wait in
    the hub's queue until the hub assigns them to a member (which then owns them)."""

    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True,
                                   help_text=_("Markdown; shown sanitised."))
    taxonomy = models.CharField(_("RSIT taxonomy"), max_length=40,
                                choices=classification.taxonomy_choices(), default="other")
    type = models.CharField(_("RSIT type"), max_length=50, choices=classification.type_choices(),
                            default="undetermined")
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices,
                                default=Severity.MEDIUM, db_index=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.NEW, db_index=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices,
                              default=Source.MEMBER)
    in_triage = models.BooleanField(_("in the hub's triage queue"), default=False, db_index=True)
    occurred_at = models.DateTimeField(_("occurred"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reporting_org = models.ForeignKey("directory.Organisation", on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="+",
                                      verbose_name=_("reporting organisation"))
    # Who reported it from outside (public form, email-in); empty for members.
    reporter_name = models.CharField(_("reporter's name"), max_length=200, blank=True)
    reporter_email = models.EmailField(_("reporter's email"), blank=True)
    countries = models.JSONField(_("affected countries"), default=list, blank=True,
                                 help_text=_("ISO 3166-1 alpha-2 codes."))
    sectors = models.JSONField(_("affected sectors"), default=list, blank=True,
                               help_text=_("Sector codes (certhub.incidents.sectors)."))
    cii = models.BooleanField(_("critical information infrastructure affected"), default=False,
                              db_index=True)
    involved_orgs = models.ManyToManyField("directory.Organisation", blank=True, related_name="+",
                                           verbose_name=_("involved organisations"))
    # Email-in: the Message-ID, so that fetching the same mailbox twice creates nothing new.
    message_id = models.CharField(_("email Message-ID"), max_length=500, blank=True,
                                  db_index=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        year = self.created.year if self.created else 0
        return f"INC-{year}-{self.pk or 0:05d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class InsideIncidentQuerySet(SharedThroughQuerySet):
    """Rows visible (editable) exactly when their incident is."""

    via = "incident"


class InsideIncidentManager(models.Manager.from_queryset(InsideIncidentQuerySet)):
    pass


class _InsideIncident(models.Model):
    unrestricted = models.Manager()
    objects = InsideIncidentManager()

    class Meta:
        abstract = True
        default_manager_name = "objects"
        base_manager_name = "unrestricted"


class TimelineKind(models.TextChoices):
    CREATED = "created", _("created")
    COMMENT = "comment", _("comment")
    CHANGE = "change", _("change")
    STATUS = "status", _("status")
    ASSIGNED = "assigned", _("assigned")
    REQUEST = "request", _("coordination request")
    TASK = "task", _("task")
    ATTACHMENT = "attachment", _("attachment")
    LINK = "link", _("link")
    ESCALATION = "escalation", _("escalation")


class TimelineEntry(_InsideIncident):
    """Append-only: every comment and every change of the incident, in order."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("by"))
    actor_label = models.CharField(_("by"), max_length=200, blank=True,
                                   help_text=_("Who, when not a user (system, email, form)."))
    kind = models.CharField(_("kind"), max_length=12, choices=TimelineKind.choices)
    text = models.TextField(_("text"), blank=True,
                            help_text=_("A comment (Markdown) or a short summary."))
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta(_InsideIncident.Meta):
        ordering = ["at", "id"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"


class Task(_InsideIncident):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("title"), max_length=300)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+", verbose_name=_("owner"))
    due = models.DateTimeField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")

    class Meta(_InsideIncident.Meta):
        ordering = ["done_at", "due", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")

    def __str__(self) -> str:
        return self.title

    @property
    def done(self) -> bool:
        return self.done_at is not None


class Attachment(_InsideIncident):
    """A file kept under CERTHUB_DATA_DIR/incidents/ (outside the web root), named by its hash."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100,
                                    default="application/octet-stream")
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    created = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta(_InsideIncident.Meta):
        ordering = ["created", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class Indicator(_InsideIncident):
    """A value the incident concerns (an address, a domain, a hash...), normalised as intel
    normalises; ``observable`` links it to an intel observable when it came from one."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="indicators")
    type = models.CharField(_("type"), max_length=24, choices=ObservableType.choices)
    value = models.CharField(_("value"), max_length=MAX_VALUE_LENGTH)
    observable = models.ForeignKey("intel.Observable", on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+",
                                   verbose_name=_("intel observable"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    created = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta(_InsideIncident.Meta):
        ordering = ["type", "value"]
        constraints = [models.UniqueConstraint(fields=["incident", "type", "value"],
                                               name="incidents_indicator_unique")]
        indexes = [models.Index(fields=["value"], name="incidents_indicator_value")]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self) -> str:
        return f"{self.type} {self.value}"


class IncidentReport(_InsideIncident):
    """An intel report linked to the incident; shown only to who may see the report too."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="report_links")
    report = models.ForeignKey("intel.Report", on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta(_InsideIncident.Meta):
        constraints = [models.UniqueConstraint(fields=["incident", "report"],
                                               name="incidents_report_link_unique")]

    def __str__(self) -> str:
        return f"{self.incident_id} → report {self.report_id}"


class IncidentFinding(_InsideIncident):
    """A feed finding linked to the incident; shown only to who may see the finding too."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE,
                                 related_name="finding_links")
    finding = models.ForeignKey("feeds.Finding", on_delete=models.CASCADE, related_name="+",
                                db_constraint=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta(_InsideIncident.Meta):
        constraints = [models.UniqueConstraint(fields=["incident", "finding"],
                                               name="incidents_finding_link_unique")]

    def __str__(self) -> str:
        return f"{self.incident_id} → finding {self.finding_id}"


class RequestKind(models.TextChoices):
    TAKEDOWN = "takedown", _("take down")
    NOTIFY = "notify", _("notify an affected party")
    BLOCK = "block", _("block")
    INVESTIGATE = "investigate", _("investigate")
    INFORMATION = "information", _("share information")
    OTHER = "other", _("other")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("open")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


class CoordinationRequest(_InsideIncident):
    """One organisation asks another to act, inside an incident.

    Clocks: ``ack_due`` and ``complete_due`` are set at creation from the targets for the
    incident's severity (settings.INCIDENT_TARGETS). Acknowledging is answering (accept or
    decline); ``escalated_ack_at`` / ``escalated_complete_at`` record the one escalation each.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="requests")
    from_org = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("from"))
    to_org = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("to"))
    kind = models.CharField(_("kind"), max_length=12, choices=RequestKind.choices,
                            default=RequestKind.OTHER)
    text = models.TextField(_("request"))
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices,
                              default=RequestStatus.OPEN, db_index=True)
    created = models.DateTimeField(_("sent"), db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    ack_due = models.DateTimeField(_("acknowledge by"))
    complete_due = models.DateTimeField(_("complete by"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                        null=True, blank=True, related_name="+")
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    completion_note = models.TextField(_("completion note"), blank=True)
    escalated_ack_at = models.DateTimeField(_("escalated (acknowledgement)"), null=True,
                                            blank=True)
    escalated_complete_at = models.DateTimeField(_("escalated (completion)"), null=True,
                                                 blank=True)

    class Meta(_InsideIncident.Meta):
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["to_org", "created"], name="incidents_request_to_org"),
                   models.Index(fields=["status", "ack_due"], name="incidents_request_ack_due")]
        verbose_name = _("coordination request")
        verbose_name_plural = _("coordination requests")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.to_org_id}"


class UsedChallenge(models.Model):
    """A public-form challenge already spent (replay protection); pruned after it expires."""

    digest = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.digest
