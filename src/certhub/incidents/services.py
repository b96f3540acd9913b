"""Every write to incidents. Public functions (names are stable; the API, the web pages and the
CLI call these):

    create_incident(*, user, title, tlp, description="", taxonomy="", type="", severity="medium",
                    status="new", reporting_org=None, countries=(), sectors=(), cii=None,
                    occurred_at=None, involved_orgs=(), indicators=(), audience_groups=(),
                    audience_orgs=(), audience_users=(), request=None) -> Incident
    update_incident(incident_id, *, user, request=None, audience_groups=None, audience_orgs=None,
                    audience_users=None, **changes) -> Incident
    set_status(incident_id, status, *, user, note="", request=None) -> Incident
    assign_incident(incident_id, organisation, *, user, request=None) -> Incident  # triage
    add_involved_org(incident_id, organisation, *, user, request=None) -> Incident
    remove_involved_org(incident_id, organisation, *, user, request=None) -> Incident
    add_comment(incident_id, text, *, user, request=None) -> TimelineEntry
    add_task(incident_id, *, user, title, assignee=None, due=None, request=None) -> Task
    update_task(task_id, *, user, request=None, **changes) -> Task  # title, assignee, due, done
    add_attachment(incident_id, *, user, filename, content, content_type="",
                   request=None) -> Attachment
    open_attachment(attachment_id, *, user, request=None) -> tuple[Attachment, file]
    record_opened(user, incident, *, request=None)       # audit opening a TLP:RED incident
    add_indicators(incident_id, pairs, *, user, request=None) -> list[Indicator]
    link_report(incident_id, report_id, *, user, request=None) -> Report
    link_observable(incident_id, observable_id, *, user, request=None) -> Indicator
    link_finding(incident_id, finding_id, *, user, request=None) -> Finding
    create_request(incident_id, *, user, to_org, text, kind="other",
                   request=None) -> CoordinationRequest
    accept_request(request_id, *, user, note="", request=None) -> CoordinationRequest
    decline_request(request_id, *, user, reason, request=None) -> CoordinationRequest
    complete_request(request_id, *, user, note="", request=None) -> CoordinationRequest
    cancel_request(request_id, *, user, request=None) -> CoordinationRequest
    escalate_overdue(*, now=None) -> list[tuple[CoordinationRequest, str]]
    new_challenge() -> challenge.Challenge                # token, bits, question (public form)
    submit_public_report(*, title, description, challenge_token, challenge_solution="",
                         challenge_answer="", reporter_name="", reporter_email="",
                         countries=(), client_address="") -> Incident
    import_email(raw, *, user=None, request=None) -> tuple[Incident, bool]  # (incident, created)
    fetch_mail() -> list[Incident]

Where the code is: incidents, tasks, attachments and links here; coordination requests and
escalation in ``coordination.py``; the public form and email-in in ``intake.py``; the steps every
write shares (permission checks, timeline, audience admission) in ``writing.py``. Callers use
the names above from this module.

Who may do what (docs/incidents.md): the owner organisation's writers change the incident and
send requests (``editable_by``); the receiving organisation's writers accept, decline and
complete a request; writers of the owner, of an involved organisation or of a request's
organisations comment. Sending a request, or naming an involved organisation, adds that
organisation to the incident's audience (``writing._admit``) so its users can open the incident.
Reports from the public form and email-in belong to the hub organisation (``in_triage``) until
the hub assigns them to a member, which then owns them (the hub stays in the audience).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.audit.services import Action, record
from certhub.core.errors import InvalidInput, NotFound, PermissionDenied
from certhub.directory.models import Organisation
from certhub.feeds.queries import visible_findings
from certhub.intel import normalise as intel_normalise
from certhub.intel.models import Observable, Report
from certhub.notify.services import notify
from certhub.sharing import services as sharing_services
from certhub.sharing.tlp import RESTRICTIVENESS, TLP

from . import challenge, messages, queries, storage
from . import sectors as sector_table
from .coordination import (  # noqa: F401  (public names of services)
    ACK,
    COMPLETE,
    accept_request,
    cancel_request,
    complete_request,
    create_request,
    decline_request,
    escalate_overdue,
)
from .intake import fetch_mail, import_email, submit_public_report  # noqa: F401
from .models import (
    Attachment,
    Incident,
    IncidentFinding,
    IncidentReport,
    Indicator,
    Severity,
    Source,
    Status,
    Task,
    TimelineEntry,
    TimelineKind,
)
from .writing import (
    MAX_COMMENT,
    MAX_DESCRIPTION,
    _add_involved,
    _attach,
    _clean_choice,
    _clean_classification,
    _clean_countries,
    _clean_indicators,
    _clean_text,
    _clean_title,
    _editable,
    _label,
    _recipients,
    _require_writer,
    _store_indicators,
    _timeline,
    _url,
)

new_challenge = challenge.new_challenge


# --- incidents -------------------------------------------------------------------------------

def create_incident(*, user, title: str, tlp: str = TLP.AMBER, description: str = "",
                    taxonomy: str = "", type: str = "", severity: str = Severity.MEDIUM,
                    status: str = Status.NEW, reporting_org: Organisation | None = None,
                    countries: Iterable[str] = (), sectors: Iterable[str] = (),
                    cii: bool | None = None, occurred_at: dt.datetime | None = None,
                    involved_orgs: Iterable[Organisation] = (), indicators: Iterable = (),
                    audience_groups: Iterable = (), audience_orgs: Iterable = (),
                    audience_users: Iterable = (), request=None) -> Incident:
    """A new incident of the user's organisation (members, through the UI or the API)."""
    _require_writer(user)
    label = sharing_services.clean_tlp(tlp)
    taxonomy, kind = _clean_classification(taxonomy, type)
    sector_codes = _sectors(sectors)
    incident = Incident(
        owner_id=user.organisation_id, created_by=user, tlp=label,
        title=_clean_title(title),
        description=_clean_text(description, field="description", limit=MAX_DESCRIPTION),
        taxonomy=taxonomy, type=kind, severity=_clean_choice(severity, Severity, "severity"),
        status=_clean_choice(status, Status, "status"), source=Source.MEMBER,
        reporting_org=reporting_org or user.organisation, countries=_clean_countries(countries),
        sectors=sector_codes, cii=sector_table.any_cii(sector_codes) if cii is None else cii,
        occurred_at=occurred_at)
    pairs = _clean_indicators(indicators)
    with transaction.atomic():
        incident.save()
        sharing_services.set_audience(incident, tlp=label, groups=audience_groups,
                                      orgs=audience_orgs, users=audience_users)
        _store_indicators(incident, pairs)
        _timeline(incident, TimelineKind.CREATED, user=user,
                  details={"severity": incident.severity, "status": incident.status})
        for organisation in involved_orgs:
            _add_involved(incident, organisation, user=user)
        record(Action.CREATE, user=user, request=request, obj=incident,
               details={"indicators": len(pairs)})
    return incident


def _sectors(codes) -> list[str]:
    return sector_table.clean(codes)


_EDITABLE = {"title", "description", "taxonomy", "type", "severity", "countries", "sectors",
             "cii", "occurred_at", "reporting_org", "tlp"}


def update_incident(incident_id: int, *, user, request=None, audience_groups=None,
                    audience_orgs=None, audience_users=None, **changes) -> Incident:
    """Change fields of an incident; every change is one timeline entry and one audit entry."""
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise InvalidInput(_("These fields cannot be changed: %(fields)s.")
                           % {"fields": ", ".join(sorted(unknown))}, field=sorted(unknown)[0])
    _require_writer(user)
    with transaction.atomic():
        incident = _editable(user, incident_id)
        before = {name: _plain(getattr(incident, name)) for name in _EDITABLE}
        if "title" in changes:
            incident.title = _clean_title(changes["title"])
        if "description" in changes:
            incident.description = _clean_text(changes["description"], field="description",
                                               limit=MAX_DESCRIPTION)
        if "taxonomy" in changes or "type" in changes:
            incident.taxonomy, incident.type = _clean_classification(
                changes.get("taxonomy", "" if "type" in changes else incident.taxonomy),
                changes.get("type", incident.type))
        if "severity" in changes:
            incident.severity = _clean_choice(changes["severity"], Severity, "severity")
        if "countries" in changes:
            incident.countries = _clean_countries(changes["countries"])
        if "sectors" in changes:
            incident.sectors = _sectors(changes["sectors"])
            if "cii" not in changes:
                incident.cii = incident.cii or sector_table.any_cii(incident.sectors)
        if "cii" in changes and changes["cii"] is not None:
            incident.cii = bool(changes["cii"])
        if "occurred_at" in changes:
            incident.occurred_at = changes["occurred_at"]
        if "reporting_org" in changes:
            incident.reporting_org = changes["reporting_org"]
        if "tlp" in changes:
            incident.tlp = sharing_services.clean_tlp(changes["tlp"])
        audience_given = any(v is not None for v in (audience_groups, audience_orgs,
                                                     audience_users))
        if "tlp" in changes or audience_given:
            sharing_services.set_audience(
                incident, tlp=incident.tlp,
                groups=incident.audience_groups.all() if audience_groups is None
                else audience_groups,
                orgs=incident.audience_orgs.all() if audience_orgs is None else audience_orgs,
                users=incident.audience_users.all() if audience_users is None
                else audience_users)
        incident.save()
        after = {name: _plain(getattr(incident, name)) for name in _EDITABLE}
        changed = {name: [before[name], after[name]] for name in _EDITABLE
                   if before[name] != after[name]}
        if audience_given:
            changed["audience"] = _audience_names(incident)
        if changed:
            shown = {k: v for k, v in changed.items() if k != "description"}
            if "description" in changed:
                shown["description"] = ["…", "…"]
            _timeline(incident, TimelineKind.CHANGE, user=user, details=shown)
            record(Action.CHANGE, user=user, request=request, obj=incident,
                   details={"fields": sorted(changed)})
    return incident


def _plain(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Organisation):
        return value.short_name
    return value


def _audience_names(incident: Incident) -> dict:
    return {"groups": sorted(g.slug for g in incident.audience_groups.all()),
            "orgs": sorted(o.short_name for o in incident.audience_orgs.all()),
            "users": sorted(u.email for u in incident.audience_users.all())}


def set_status(incident_id: int, status: str, *, user, note: str = "",
               request=None) -> Incident:
    """Move the incident to ``status``. Reopening (resolved/closed → an open status) is allowed
    and keeps the history: the timeline shows every transition."""
    _require_writer(user)
    status = _clean_choice(status, Status, "status")
    note = _clean_text(note, field="note", limit=MAX_COMMENT)
    with transaction.atomic():
        incident = _editable(user, incident_id)
        previous = incident.status
        if previous == status:
            return incident
        now = timezone.now()
        incident.status = status
        if status == Status.RESOLVED:
            incident.resolved_at = now
        elif status == Status.CLOSED:
            incident.closed_at = now
            incident.resolved_at = incident.resolved_at or now
        else:
            incident.resolved_at = incident.closed_at = None
        if status in (Status.RESOLVED, Status.CLOSED):
            incident.in_triage = False  # e.g. the hub closes spam: it leaves the queue
        incident.save()
        reopened = previous in (Status.RESOLVED, Status.CLOSED) and incident.is_open
        _timeline(incident, TimelineKind.STATUS, user=user, text=note,
                  details={"from": previous, "to": status, "reopened": reopened})
        record(Action.CHANGE, user=user, request=request, obj=incident,
               details={"status": [previous, status]})
        _notify_involved(incident, user, note)
    return incident


def _notify_involved(incident: Incident, user, note: str = "") -> None:
    organisations = [org for org in incident.involved_orgs.all()
                     if org.pk != getattr(user, "organisation_id", None)]
    if not organisations:
        return
    subject, body = messages.status_changed(incident, note)
    notify("incidents.incident.changed", subject=subject, body=body, url=_url(incident),
           payload={"incident": incident.pk, "reference": incident.reference,
                    "status": incident.status}, **_recipients(incident, organisations))


def assign_incident(incident_id: int, organisation: Organisation, *, user,
                    request=None) -> Incident:
    """Hand a triaged report to a member: it becomes the owner; the hub stays in the audience
    (and involved) so it can follow; the report leaves the triage queue."""
    _require_writer(user)
    with transaction.atomic():
        incident = _editable(user, incident_id)
        if organisation.pk == incident.owner_id:
            raise InvalidInput(_("The incident already belongs to %(org)s.")
                               % {"org": organisation.short_name}, field="organisation")
        if incident.tlp == TLP.RED:
            raise InvalidInput(_("A TLP:RED incident cannot be handed over: it goes to named "
                                 "people only."), field="organisation")
        previous = incident.owner
        incident.owner = organisation
        incident.in_triage = False
        incident.save()
        if incident.tlp != TLP.CLEAR and not (
                incident.tlp == TLP.GREEN and not incident.audience_orgs.exists()
                and not incident.audience_groups.exists()):
            incident.audience_orgs.add(previous)
        incident.audience_orgs.remove(organisation)
        incident.involved_orgs.add(previous)
        _timeline(incident, TimelineKind.ASSIGNED, user=user,
                  details={"from": previous.short_name, "to": organisation.short_name})
        record(Action.CHANGE, user=user, request=request, obj=incident,
               details={"owner": [previous.short_name, organisation.short_name]})
        subject, body = messages.assigned(incident, organisation)
        notify("incidents.incident.assigned", subject=subject, body=body, url=_url(incident),
               organisations=[organisation],
               payload={"incident": incident.pk, "reference": incident.reference})
    return incident


def add_involved_org(incident_id: int, organisation: Organisation, *, user,
                     request=None) -> Incident:
    """Name an organisation as involved; it joins the audience (see ``_admit``)."""
    _require_writer(user)
    with transaction.atomic():
        incident = _editable(user, incident_id)
        if _add_involved(incident, organisation, user=user):
            record(Action.CHANGE, user=user, request=request, obj=incident,
                   details={"involved_added": organisation.short_name})
    return incident


def remove_involved_org(incident_id: int, organisation: Organisation, *, user,
                        request=None) -> Incident:
    """No longer list the organisation as involved. The audience is left as it is: the owner
    narrows it explicitly (update_incident), since the organisation has already seen it."""
    _require_writer(user)
    with transaction.atomic():
        incident = _editable(user, incident_id)
        if incident.involved_orgs.filter(pk=organisation.pk).exists():
            incident.involved_orgs.remove(organisation)
            _timeline(incident, TimelineKind.CHANGE, user=user,
                      details={"involved_removed": organisation.short_name})
            record(Action.CHANGE, user=user, request=request, obj=incident,
                   details={"involved_removed": organisation.short_name})
    return incident


def add_comment(incident_id: int, text: str, *, user, request=None) -> TimelineEntry:
    """A comment (Markdown) on the timeline, by a writer taking part in the incident."""
    _require_writer(user)
    text = _clean_text(text, field="text", limit=MAX_COMMENT, required=True)
    with transaction.atomic():
        incident = queries.incident(user, incident_id)
        if not queries.may_take_part(user, incident):
            raise PermissionDenied(_("Only organisations taking part in the incident can "
                                     "comment."))
        entry = _timeline(incident, TimelineKind.COMMENT, user=user, text=text)
        record(Action.CREATE, user=user, request=request, obj=entry,
               object_repr=f"comment on {_label(incident)}")
    return entry


# --- tasks -----------------------------------------------------------------------------------

def _check_assignee(incident: Incident, assignee) -> None:
    if assignee is not None and assignee.organisation_id != incident.owner_id:
        raise InvalidInput(_("A task's owner must be a user of the owner organisation."),
                           field="assignee")


def add_task(incident_id: int, *, user, title: str, assignee=None,
             due: dt.datetime | None = None, request=None) -> Task:
    _require_writer(user)
    title = _clean_text(title, field="title", limit=300, required=True)
    with transaction.atomic():
        incident = _editable(user, incident_id)
        _check_assignee(incident, assignee)
        task = Task.unrestricted.create(incident=incident, title=title, assignee=assignee,
                                        due=due, created_by=user)
        _timeline(incident, TimelineKind.TASK, user=user, text=title,
                  details={"task": task.pk, "action": "added",
                           "assignee": assignee.email if assignee else None,
                           "due": due.isoformat() if due else None})
        record(Action.CREATE, user=user, request=request, obj=task,
               object_repr=f"task #{task.pk} of {_label(incident)}")
    return task


def update_task(task_id: int, *, user, request=None, **changes) -> Task:
    """Change a task: ``title``, ``assignee`` (a user or None), ``due``, ``done`` (bool)."""
    unknown = set(changes) - {"title", "assignee", "due", "done"}
    if unknown:
        raise InvalidInput(_("These fields cannot be changed: %(fields)s.")
                           % {"fields": ", ".join(sorted(unknown))}, field=sorted(unknown)[0])
    _require_writer(user)
    with transaction.atomic():
        task = Task.objects.visible_to(user).filter(pk=task_id).first()
        if task is None:
            raise NotFound()
        _editable(user, task.incident_id)
        task = Task.unrestricted.select_for_update().get(pk=task.pk)
        details = {"task": task.pk}
        if "title" in changes:
            task.title = _clean_text(changes["title"], field="title", limit=300, required=True)
            details["title"] = task.title
        if "assignee" in changes:
            _check_assignee(task.incident, changes["assignee"])
            task.assignee = changes["assignee"]
            details["assignee"] = task.assignee.email if task.assignee else None
        if "due" in changes:
            task.due = changes["due"]
            details["due"] = task.due.isoformat() if task.due else None
        if "done" in changes:
            task.done_at = (task.done_at or timezone.now()) if changes["done"] else None
            details["done"] = bool(changes["done"])
        task.save()
        _timeline(task.incident, TimelineKind.TASK, user=user, text=task.title,
                  details={**details, "action": "changed"})
        record(Action.CHANGE, user=user, request=request, obj=task,
               object_repr=f"task #{task.pk} of {_label(task.incident)}", details=details)
    return task


# --- attachments -----------------------------------------------------------------------------

def add_attachment(incident_id: int, *, user, filename: str, content, content_type: str = "",
                   request=None) -> Attachment:
    """Store a file (bytes or file object) with the incident: size-limited
    (CERTHUB_INCIDENT_ATTACHMENT_MAX_MB), hashed (SHA-256), kept outside the web root."""
    _require_writer(user)
    with transaction.atomic():
        incident = queries.incident(user, incident_id)
        if not queries.may_take_part(user, incident):
            raise PermissionDenied(_("Only organisations taking part in the incident can add "
                                     "files."))
        attachment = _attach(incident, filename=filename, content=content,
                             content_type=content_type, user=user)
        record(Action.CREATE, user=user, request=request, obj=attachment,
               object_repr=f"attachment #{attachment.pk} of {_label(incident)}",
               details={"sha256": attachment.sha256, "size": attachment.size})
    return attachment


def open_attachment(attachment_id: int, *, user, request=None):
    """(attachment, open binary file) for a user who may see its incident; the download is
    audited (EXPORT; VIEW_RED as well for a TLP:RED incident). NotFound otherwise."""
    attachment = queries.attachment(user, attachment_id)
    try:
        handle = storage.open_file(attachment.sha256)
    except (OSError, ValueError):
        raise NotFound(_("The file is missing from storage.")) from None
    with transaction.atomic():
        record(Action.EXPORT, user=user, request=request, obj=attachment,
               object_repr=f"attachment #{attachment.pk} of {_label(attachment.incident)}")
        if attachment.incident.tlp == TLP.RED:
            record(Action.VIEW_RED, user=user, request=request, obj=attachment.incident)
    return attachment, handle


def record_opened(user, incident: Incident, *, request=None) -> None:
    """Audit that ``user`` opened a TLP:RED incident (the pages and the API call this)."""
    if incident.tlp == TLP.RED:
        with transaction.atomic():
            record(Action.VIEW_RED, user=user, request=request, obj=incident)


# --- indicators and links --------------------------------------------------------------------

def add_indicators(incident_id: int, pairs: Iterable, *, user, request=None) -> list[Indicator]:
    """Add values (``(type, value)`` pairs, or bare values whose type is detected)."""
    _require_writer(user)
    cleaned = _clean_indicators(pairs)
    with transaction.atomic():
        incident = _editable(user, incident_id)
        added = _store_indicators(incident, cleaned)
        if added:
            _timeline(incident, TimelineKind.LINK, user=user,
                      details={"indicators_added": [f"{i.type} {i.value}" for i in added[:50]],
                               "count": len(added)})
            record(Action.CHANGE, user=user, request=request, obj=incident,
                   details={"indicators_added": len(added)})
    return added


def link_report(incident_id: int, report_id: int, *, user, request=None) -> Report:
    """Link an intel report the user may see (NotFound otherwise)."""
    _require_writer(user)
    with transaction.atomic():
        incident = _editable(user, incident_id)
        report = Report.objects.visible_to(user).filter(pk=report_id).first()
        if report is None:
            raise NotFound()
        _, created = IncidentReport.unrestricted.get_or_create(incident=incident, report=report)
        if created:
            _timeline(incident, TimelineKind.LINK, user=user, details={"report": report.pk})
            record(Action.CHANGE, user=user, request=request, obj=incident,
                   details={"report_linked": report.pk})
    return report


def link_observable(incident_id: int, observable_id: int, *, user, request=None) -> Indicator:
    """Link an intel observable the user may see: it becomes an indicator pointing at it."""
    _require_writer(user)
    with transaction.atomic():
        incident = _editable(user, incident_id)
        observable = Observable.objects.visible_to(user).filter(pk=observable_id) \
            .select_related("report").first()
        if observable is None:
            raise NotFound()
        _check_label_allows_copy(observable.report, incident)
        indicator, created = Indicator.unrestricted.get_or_create(
            incident=incident, type=observable.type, value=observable.value,
            defaults={"observable": observable})
        if not created and indicator.observable_id is None:
            indicator.observable = observable
            indicator.save(update_fields=["observable"])
        _timeline(incident, TimelineKind.LINK, user=user,
                  details={"observable": observable.pk,
                           "indicator": f"{indicator.type} {indicator.value}"})
        record(Action.CHANGE, user=user, request=request, obj=incident,
               details={"observable_linked": observable.pk})
    return indicator


def _check_label_allows_copy(report, incident: Incident) -> None:
    """The value is copied into the incident, whose audience may be wider than the report's:
    only the report's owner may carry its content under a less restrictive label."""
    if report.owner_id != incident.owner_id and \
            RESTRICTIVENESS[TLP(report.tlp)] > RESTRICTIVENESS[TLP(incident.tlp)]:
        raise InvalidInput(_("This value comes from a %(report)s report of another organisation; "
                             "it cannot go into a %(incident)s incident.")
                           % {"report": TLP(report.tlp).label, "incident": TLP(incident.tlp).label},
                           field="observable")


def link_finding(incident_id: int, finding_id: int, *, user, request=None):
    """Link a feed finding the user may see (NotFound otherwise); its value becomes an
    indicator when intel can normalise it."""
    _require_writer(user)
    with transaction.atomic():
        incident = _editable(user, incident_id)
        finding = visible_findings(user).filter(pk=finding_id).first()
        if finding is None:
            raise NotFound()
        _, created = IncidentFinding.unrestricted.get_or_create(incident=incident,
                                                                finding=finding)
        if created:
            with contextlib.suppress(InvalidInput):
                _store_indicators(incident, [intel_normalise.detect(finding.value)])
            _timeline(incident, TimelineKind.LINK, user=user, details={"finding": finding.pk})
            record(Action.CHANGE, user=user, request=request, obj=incident,
                   details={"finding_linked": finding.pk})
    return finding


