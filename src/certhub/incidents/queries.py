"""Every read of incidents, from ``Incident.objects.visible_to(user)``.

Public functions (the API and the web pages use these; names are stable):

    incidents(user, *, status="", severity="", triage=None, search="", owner=None,
              involved=None, open_only=False) -> QuerySet[Incident]
    triage_queue(user) -> QuerySet[Incident]           # source public form / email, unassigned
    incident(user, pk) -> Incident                     # NotFound (404) if not visible
    incident_detail(user, pk) -> Incident              # + *_list attributes, editable flag
    may_edit(user, incident) -> bool                   # may change the incident itself
    may_take_part(user, incident) -> bool              # may comment (owner or involved writer)
    timeline(user, incident) -> QuerySet[TimelineEntry]
    tasks(user, incident) -> QuerySet[Task]
    attachments(user, incident) -> QuerySet[Attachment]
    attachment(user, pk) -> Attachment                 # NotFound if its incident is not visible
    indicators(user, incident) -> QuerySet[Indicator]
    linked_reports(user, incident) -> list[Report]     # only reports the user may see too
    linked_findings(user, incident) -> list[Finding]   # only findings the user may see too
    requests(user, incident) -> QuerySet[CoordinationRequest]
    coordination_request(user, pk) -> CoordinationRequest
    requests_for(user, *, direction="incoming"|"outgoing"|"all", status="") -> QuerySet
    overdue_requests(user, *, now=None, organisation=None) -> list[CoordinationRequest]
    request_state(req, now=None) -> str                # "ok" | "ack_overdue" | "complete_overdue"
    suggest_recipients(user, incident) -> list[Suggestion]   # directory lookup on indicators
    suggest_for_value(value) -> list[Suggestion]
    timeliness(user, *, organisation=None, since=None, until=None) -> list[TimelinessRow]
    description_html(text) -> str                      # sanitised Markdown (render.markdown_html)

Timeliness and overdue lists are computed over the requests of incidents the user may see, so
they never count what the user could not open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from certhub.core.errors import NotFound
from certhub.directory import lookup
from certhub.feeds.queries import visible_findings
from certhub.intel.models import Report
from certhub.sharing.rules import user_may_write

from . import clocks, render
from .models import (
    OPEN_STATUSES,
    Attachment,
    CoordinationRequest,
    Incident,
    IncidentFinding,
    IncidentReport,
    Indicator,
    RequestStatus,
    Task,
    TimelineEntry,
)

description_html = render.markdown_html


def incidents(user, *, status: str = "", severity: str = "", triage: bool | None = None,
              search: str = "", owner: int | str | None = None, involved: int | None = None,
              open_only: bool = False, taxonomy: str = "", tlp: str = "") -> QuerySet[Incident]:
    """Incidents the user may see, newest first, with the list page's filters."""
    qs = Incident.objects.visible_to(user).select_related("owner", "reporting_org")
    if taxonomy:
        qs = qs.filter(taxonomy=taxonomy)
    if tlp:
        qs = qs.filter(tlp=tlp)
    if status:
        qs = qs.filter(status=status)
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if severity:
        qs = qs.filter(severity=severity)
    if triage is not None:
        qs = qs.filter(in_triage=triage)
    if isinstance(owner, str) and owner and not (owner.isascii() and owner.isdigit()):
        qs = qs.filter(owner__short_name__iexact=owner)
    elif owner:
        qs = qs.filter(owner_id=int(owner))
    if involved:
        qs = qs.filter(involved_orgs=involved)
    if search:
        qs = qs.filter(Q(title__icontains=search) | Q(description__icontains=search)
                       | Q(indicators__value__icontains=search)).distinct()
    return qs.order_by("-created", "-id")


def triage_queue(user) -> QuerySet[Incident]:
    """Reports from the public form and email-in that the hub has not assigned yet (visible to
    the hub organisation's users, who own them until they are assigned)."""
    return incidents(user, triage=True).order_by("created", "id")


def incident(user, pk: int) -> Incident:
    found = Incident.objects.visible_to(user).select_related(
        "owner", "reporting_org", "created_by").filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def may_edit(user, incident_: Incident) -> bool:
    return Incident.objects.editable_by(user).filter(pk=incident_.pk).exists()


def may_take_part(user, incident_: Incident) -> bool:
    """Writers of the owner organisation, of an involved organisation or of an organisation a
    request was sent to (all of whom see the incident) may comment."""
    if not user_may_write(user):
        return False
    org_id = user.organisation_id
    return (incident_.owner_id == org_id
            or incident_.involved_orgs.filter(pk=org_id).exists()
            or CoordinationRequest.objects.of_visible(incident_).filter(
                Q(to_org_id=org_id) | Q(from_org_id=org_id)).exists())


def incident_detail(user, pk: int) -> Incident:
    """A visible incident with what its page shows (``*_list`` attributes)."""
    found = incident(user, pk)
    found.description_html = description_html(found.description)
    found.timeline_list = list(timeline(user, found))
    found.task_list = list(tasks(user, found))
    found.attachment_list = list(attachments(user, found))
    found.indicator_list = list(indicators(user, found))
    found.report_list = linked_reports(user, found)
    found.finding_list = linked_findings(user, found)
    found.request_list = list(requests(user, found))
    found.involved_list = list(found.involved_orgs.all())
    found.editable = may_edit(user, found)
    found.participant = may_take_part(user, found)
    return found


def timeline(user, incident_: Incident) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.of_visible(incident_).select_related("actor").order_by("at", "id")


def tasks(user, incident_: Incident) -> QuerySet[Task]:
    return Task.objects.of_visible(incident_).select_related("assignee")


def attachments(user, incident_: Incident) -> QuerySet[Attachment]:
    return Attachment.objects.of_visible(incident_).select_related("uploaded_by")


def attachment(user, pk: int) -> Attachment:
    found = Attachment.objects.visible_to(user).select_related("incident").filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def indicators(user, incident_: Incident) -> QuerySet[Indicator]:
    return Indicator.objects.of_visible(incident_)


def linked_reports(user, incident_: Incident) -> list[Report]:
    """Linked intel reports that the user may see as well (a link never opens a report)."""
    ids = IncidentReport.objects.of_visible(incident_).values("report_id")
    return list(Report.objects.visible_to(user).filter(pk__in=ids).select_related("owner")
                .order_by("-created"))


def linked_findings(user, incident_: Incident) -> list:
    ids = IncidentFinding.objects.of_visible(incident_).values("finding_id")
    return list(visible_findings(user).filter(pk__in=ids).order_by("-created"))


def requests(user, incident_: Incident) -> QuerySet[CoordinationRequest]:
    return CoordinationRequest.objects.of_visible(incident_).select_related(
        "from_org", "to_org", "created_by", "acknowledged_by", "completed_by")


def coordination_request(user, pk: int) -> CoordinationRequest:
    found = CoordinationRequest.objects.visible_to(user).select_related(
        "incident", "from_org", "to_org").filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def requests_for(user, *, direction: str = "incoming",
                 status: str = "") -> QuerySet[CoordinationRequest]:
    """Requests to (incoming) or from (outgoing) the user's organisation, or all visible."""
    qs = CoordinationRequest.objects.visible_to(user).select_related("incident", "from_org",
                                                                      "to_org")
    org_id = getattr(user, "organisation_id", None)
    if direction == "incoming":
        qs = qs.filter(to_org_id=org_id)
    elif direction == "outgoing":
        qs = qs.filter(from_org_id=org_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created", "-id")


ACK_OVERDUE, COMPLETE_OVERDUE, ON_TIME = "ack_overdue", "complete_overdue", "ok"


def request_state(req: CoordinationRequest, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if req.status == RequestStatus.OPEN and req.ack_due < now:
        return ACK_OVERDUE
    if req.status in (RequestStatus.OPEN, RequestStatus.ACCEPTED) and req.complete_due < now:
        return COMPLETE_OVERDUE
    return ON_TIME


def overdue_q(now: dt.datetime) -> Q:
    return (Q(status=RequestStatus.OPEN, ack_due__lt=now)
            | Q(status__in=[RequestStatus.OPEN, RequestStatus.ACCEPTED], complete_due__lt=now))


def overdue_requests(user, *, now: dt.datetime | None = None,
                     organisation: int | None = None) -> list[CoordinationRequest]:
    """Visible requests past a target, oldest due first; ``organisation`` keeps those to it."""
    now = now or timezone.now()
    qs = CoordinationRequest.objects.visible_to(user).filter(overdue_q(now)).select_related(
        "incident", "from_org", "to_org")
    if organisation:
        qs = qs.filter(to_org_id=organisation)
    found = list(qs.order_by("ack_due", "id"))
    for req in found:
        req.state = request_state(req, now)
    return found


@dataclass(frozen=True)
class Suggestion:
    """An organisation the directory names responsible for a value of the incident."""

    organisation_id: int
    short_name: str
    value: str
    rule: str
    why: str


def suggest_for_value(value: str) -> list[Suggestion]:
    """Who the directory lookup names for one address, domain, URL, email or AS number."""
    return _suggestions([value])


def _suggestions(values: list[str]) -> list[Suggestion]:
    found: dict[int, Suggestion] = {}
    for resolution in lookup.resolve_many(values):
        for match in resolution.matches:
            found.setdefault(match.organisation_id, Suggestion(
                organisation_id=match.organisation_id, short_name=match.short_name,
                value=resolution.input, rule=match.rule, why=match.why))
    return list(found.values())


_LOOKUP_TYPES = {"ipv4-addr", "ipv6-addr", "ip-prefix", "domain-name", "hostname", "url",
                 "email-addr", "asn"}


def suggest_recipients(user, incident_: Incident) -> list[Suggestion]:
    """Organisations responsible for the incident's indicators (most specific rule first), not
    counting the owner: candidates for a coordination request."""
    values = [ind.value for ind in indicators(user, incident_) if ind.type in _LOOKUP_TYPES]
    return [s for s in _suggestions(values[:500]) if s.organisation_id != incident_.owner_id]


@dataclass
class TimelinessRow:
    """One organisation's figures for one month (requests it received, by the month sent).

    Durations are in seconds; percentiles by the nearest-rank method (clocks module)."""

    organisation_id: int
    organisation: str
    month: str  # YYYY-MM (UTC)
    received: int = 0
    acknowledged: int = 0
    completed: int = 0
    overdue: int = 0
    ack_median_s: float | None = None
    ack_p90_s: float | None = None
    complete_median_s: float | None = None
    complete_p90_s: float | None = None
    _ack: list[float] = field(default_factory=list, repr=False)
    _complete: list[float] = field(default_factory=list, repr=False)


def timeliness(user, *, organisation: int | None = None, since: dt.datetime | None = None,
               until: dt.datetime | None = None,
               now: dt.datetime | None = None) -> list[TimelinessRow]:
    """Per receiving organisation and per month sent (UTC): how many requests, the median and
    90th percentile (nearest rank) of time to acknowledge (sent → accepted or declined) and to
    complete (sent → completed), and how many are overdue now. Over visible requests only."""
    now = now or timezone.now()
    qs = CoordinationRequest.objects.visible_to(user).select_related("to_org")
    if organisation:
        qs = qs.filter(to_org_id=organisation)
    if since:
        qs = qs.filter(created__gte=since)
    if until:
        qs = qs.filter(created__lt=until)
    rows: dict[tuple[int, str], TimelinessRow] = {}
    for req in qs.exclude(status=RequestStatus.CANCELLED).order_by("created", "id"):
        month = req.created.astimezone(dt.UTC).strftime("%Y-%m")
        row = rows.get((req.to_org_id, month))
        if row is None:
            row = rows[(req.to_org_id, month)] = TimelinessRow(
                organisation_id=req.to_org_id, organisation=req.to_org.short_name, month=month)
        row.received += 1
        if req.acknowledged_at:
            row.acknowledged += 1
            row._ack.append((req.acknowledged_at - req.created).total_seconds())
        if req.completed_at and req.status == RequestStatus.COMPLETED:
            row.completed += 1
            row._complete.append((req.completed_at - req.created).total_seconds())
        if request_state(req, now) != ON_TIME:
            row.overdue += 1
    for row in rows.values():
        row.ack_median_s = clocks.median(row._ack)
        row.ack_p90_s = clocks.percentile(row._ack, 90)
        row.complete_median_s = clocks.median(row._complete)
        row.complete_p90_s = clocks.percentile(row._complete, 90)
    return sorted(rows.values(), key=lambda r: (r.organisation, r.month))
