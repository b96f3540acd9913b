"""What incidents tell people, as lazy translations: certhub.notify renders each subject and
body in every recipient's own language (a Thai duty officer reads Thai, whatever the language of
the user or the beat task that caused it). Each function returns ``(subject, body)``.

The hub may not be in an incident's audience, so what goes to the hub (escalations, triage)
names the incident by its reference and the request by its organisations and clocks, never by
the incident's title or description.
"""

from __future__ import annotations

import datetime as dt

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .models import CoordinationRequest, Incident, RequestKind, RequestStatus, Severity, Source
from .models import Status as IncidentStatus


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def request_created(req: CoordinationRequest):
    subject = format_lazy(_("Request from {org}: {kind} ({ref})"), org=req.from_org.short_name,
                          kind=RequestKind(req.kind).label, ref=req.incident.reference)
    body = format_lazy(
        _("{org} asks your organisation to act in incident {ref} (severity: {severity}).\n\n"
          "{text}\n\nPlease acknowledge by {ack} and complete by {complete}."),
        org=req.from_org.short_name, ref=req.incident.reference,
        severity=Severity(req.severity).label, text=req.text, ack=_when(req.ack_due),
        complete=_when(req.complete_due))
    return subject, body


def request_changed(req: CoordinationRequest, text: str):
    status = RequestStatus(req.status).label
    subject = format_lazy(_("{org}: request {status} ({ref})"), org=req.to_org.short_name,
                          status=status, ref=req.incident.reference)
    body = format_lazy(_("Your request to {org} in incident {ref} is now {status}.\n\n{text}"),
                       org=req.to_org.short_name, ref=req.incident.reference, status=status,
                       text=text)
    return subject, body


def request_overdue(req: CoordinationRequest, target: str, due: dt.datetime,
                    now: dt.datetime):
    late = max(now - due, dt.timedelta(0))
    hours, minutes = int(late.total_seconds() // 3600), int(late.total_seconds() % 3600 // 60)
    what = _("acknowledgement") if target == "acknowledge" else _("completion")
    subject = format_lazy(_("OVERDUE: request {id} to {org} ({ref}) is past its {what} target"),
                          id=req.pk, org=req.to_org.short_name, ref=req.incident.reference,
                          what=what)
    body = format_lazy(
        _("Coordination request {id} from {sender} to {org} in incident {ref} (severity: "
          "{severity}) was due for {what} at {due} and is {hours} h {minutes} min late."),
        id=req.pk, sender=req.from_org.short_name, org=req.to_org.short_name,
        ref=req.incident.reference, severity=Severity(req.severity).label, what=what,
        due=_when(due), hours=hours, minutes=minutes)
    return subject, body


def status_changed(incident: Incident, note: str = ""):
    subject = format_lazy(_("{ref} is now {status}"), ref=incident.reference,
                          status=IncidentStatus(incident.status).label)
    body = format_lazy(_("Incident {ref} ({title}) is now {status}.\n\n{note}"),
                       ref=incident.reference, title=incident.title,
                       status=IncidentStatus(incident.status).label, note=note)
    return subject, body


def assigned(incident: Incident, organisation):
    subject = format_lazy(_("Incident {ref} was assigned to you"), ref=incident.reference)
    body = format_lazy(_("The hub assigned incident {ref} to {org}."), ref=incident.reference,
                       org=organisation.short_name)
    return subject, body


def triage_new(incident: Incident):
    subject = format_lazy(_("New report in triage: {ref}"), ref=incident.reference)
    body = format_lazy(_("A report arrived ({source}) and waits in the triage queue."),
                       source=Source(incident.source).label)
    return subject, body
