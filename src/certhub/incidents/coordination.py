"""Coordination requests: one organisation asks another to act inside an incident; the
receiver accepts, declines with a reason or completes; overdue requests escalate once per target.
``services`` exposes these functions under the same names.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.audit.services import Action, record
from certhub.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from certhub.directory.models import Organisation, OrganisationKind
from certhub.notify.services import notify
from certhub.sharing import services as sharing_services

from . import clocks, messages
from .models import (
    CoordinationRequest,
    RequestKind,
    RequestStatus,
    TimelineKind,
)
from .writing import (
    MAX_COMMENT,
    _add_involved,
    _admit,
    _clean_choice,
    _clean_text,
    _editable,
    _label,
    _recipients,
    _require_writer,
    _timeline,
    _url,
)

# --- coordination requests -------------------------------------------------------------------

def _request_label(req: CoordinationRequest) -> str:
    return f"coordination request #{req.pk} of {_label(req.incident)}"


def _request_payload(req: CoordinationRequest) -> dict:
    return {"request": req.pk, "incident": req.incident_id,
            "reference": req.incident.reference, "kind": req.kind, "status": req.status,
            "from": req.from_org.short_name, "to": req.to_org.short_name,
            "ack_due": req.ack_due.isoformat(), "complete_due": req.complete_due.isoformat()}


def create_request(incident_id: int, *, user, to_org: Organisation, text: str,
                   kind: str = RequestKind.OTHER, request=None) -> CoordinationRequest:
    """The owner organisation asks ``to_org`` to act. ``to_org`` becomes involved and joins the
    audience (``_admit``), the clocks start from the incident's severity, and ``to_org`` is
    notified (in-app, email, webhooks)."""
    _require_writer(user)
    text = _clean_text(text, field="text", limit=MAX_COMMENT, required=True)
    kind = _clean_choice(kind, RequestKind, "kind")
    with transaction.atomic():
        incident = _editable(user, incident_id)
        if to_org.pk == user.organisation_id:
            raise InvalidInput(_("A request goes to another organisation."), field="to_org")
        if not incident.is_open:
            raise Conflict(_("The incident is %(status)s: reopen it to send requests.")
                           % {"status": incident.get_status_display()}, field="status")
        now = timezone.now()
        ack_due, complete_due = clocks.due_times(incident.severity, now)
        _add_involved(incident, to_org, user=user)
        _admit(incident, to_org)
        req = CoordinationRequest.unrestricted.create(
            incident=incident, from_org_id=user.organisation_id, to_org=to_org, kind=kind,
            text=text, severity=incident.severity, created=now, created_by=user,
            ack_due=ack_due, complete_due=complete_due)
        _timeline(incident, TimelineKind.REQUEST, user=user, text=text,
                  details={"request": req.pk, "action": "sent", "to": to_org.short_name,
                           "kind": kind})
        record(Action.CREATE, user=user, request=request, obj=req,
               object_repr=_request_label(req), details={"to": to_org.short_name})
        subject, body = messages.request_created(req)
        notify("incidents.request.created", subject=subject, body=body, url=_url(incident),
               payload=_request_payload(req), dedupe_key=f"incidents.request.{req.pk}.created",
               **_recipients(incident, [to_org]))
    return req


def _answerable(user, request_id: int) -> CoordinationRequest:
    """A request, locked, that the user's organisation received (403 if only visible)."""
    _require_writer(user)
    req = CoordinationRequest.objects.visible_to(user).select_for_update().filter(
        pk=request_id).first()
    if req is None:
        raise NotFound()
    if req.to_org_id != user.organisation_id:
        raise PermissionDenied(_("Only the receiving organisation answers this request."))
    return req


def _answered(req: CoordinationRequest, user, action: str, *, text: str = "", request=None,
              details: dict | None = None) -> CoordinationRequest:
    req.save()
    _timeline(req.incident, TimelineKind.REQUEST, user=user, text=text,
              details={"request": req.pk, "action": action, "status": req.status,
                       **(details or {})})
    record(Action.CHANGE, user=user, request=request, obj=req, object_repr=_request_label(req),
           details={"status": req.status, **(details or {})})
    subject, body = messages.request_changed(req, text)
    notify("incidents.request.changed", subject=subject, body=body, url=_url(req.incident),
           payload=_request_payload(req), dedupe_key=f"incidents.request.{req.pk}.{action}",
           **_recipients(req.incident, [req.from_org]))
    return req


def accept_request(request_id: int, *, user, note: str = "", request=None) -> CoordinationRequest:
    note = _clean_text(note, field="note", limit=MAX_COMMENT)
    with transaction.atomic():
        req = _answerable(user, request_id)
        if req.status != RequestStatus.OPEN:
            raise Conflict(_("Only an open request can be accepted; this one is %(status)s.")
                           % {"status": req.get_status_display()}, field="status")
        req.status = RequestStatus.ACCEPTED
        req.acknowledged_at, req.acknowledged_by = timezone.now(), user
        return _answered(req, user, "accepted", text=note, request=request)


def decline_request(request_id: int, *, user, reason: str,
                    request=None) -> CoordinationRequest:
    reason = _clean_text(reason, field="reason", limit=MAX_COMMENT)
    if not reason:
        raise InvalidInput(_("Say why the request is declined."), field="reason")
    with transaction.atomic():
        req = _answerable(user, request_id)
        if req.status not in (RequestStatus.OPEN, RequestStatus.ACCEPTED):
            raise Conflict(_("This request is %(status)s and cannot be declined.")
                           % {"status": req.get_status_display()}, field="status")
        now = timezone.now()
        req.status, req.decline_reason = RequestStatus.DECLINED, reason
        if req.acknowledged_at is None:
            req.acknowledged_at, req.acknowledged_by = now, user
        return _answered(req, user, "declined", text=reason, request=request)


def complete_request(request_id: int, *, user, note: str = "",
                     request=None) -> CoordinationRequest:
    """Done. Completing an open request acknowledges it at the same moment."""
    note = _clean_text(note, field="note", limit=MAX_COMMENT)
    with transaction.atomic():
        req = _answerable(user, request_id)
        if req.status not in (RequestStatus.OPEN, RequestStatus.ACCEPTED):
            raise Conflict(_("This request is %(status)s and cannot be completed.")
                           % {"status": req.get_status_display()}, field="status")
        now = timezone.now()
        req.status, req.completion_note = RequestStatus.COMPLETED, note
        req.completed_at, req.completed_by = now, user
        if req.acknowledged_at is None:
            req.acknowledged_at, req.acknowledged_by = now, user
        return _answered(req, user, "completed", text=note, request=request)


def cancel_request(request_id: int, *, user, request=None) -> CoordinationRequest:
    """The sending organisation withdraws an open or accepted request."""
    _require_writer(user)
    with transaction.atomic():
        req = CoordinationRequest.objects.visible_to(user).select_for_update().filter(
            pk=request_id).first()
        if req is None:
            raise NotFound()
        if req.from_org_id != user.organisation_id:
            raise PermissionDenied(_("Only the sending organisation can cancel a request."))
        if req.status not in (RequestStatus.OPEN, RequestStatus.ACCEPTED):
            raise Conflict(_("This request is %(status)s and cannot be cancelled.")
                           % {"status": req.get_status_display()}, field="status")
        req.status = RequestStatus.CANCELLED
        req.save()
        _timeline(req.incident, TimelineKind.REQUEST, user=user,
                  details={"request": req.pk, "action": "cancelled"})
        record(Action.CHANGE, user=user, request=request, obj=req,
               object_repr=_request_label(req), details={"status": req.status})
    return req


ACK, COMPLETE = "acknowledge", "complete"


def escalate_overdue(*, now: dt.datetime | None = None) -> list[tuple[CoordinationRequest, str]]:
    """Escalate each request past a target, once per target: notify the receiving
    organisation (its users and its 24/7 emergency contacts) and the hub. The escalation is
    marked on the request in the same transaction as the notification is queued, and the
    notification carries a ``dedupe_key``, so two workers running at once still send one.

    Runs as the system (beat task ``certhub.incidents.escalate_overdue``, or
    ``certhub incidents escalate``), so it reads every request (the operator's view)."""
    now = now or timezone.now()
    rows = sharing_services.rows_for_operator(CoordinationRequest)
    candidates = list(rows.filter(
        Q(status=RequestStatus.OPEN, ack_due__lt=now, escalated_ack_at__isnull=True)
        | Q(status__in=[RequestStatus.OPEN, RequestStatus.ACCEPTED], complete_due__lt=now,
            escalated_complete_at__isnull=True)).order_by("pk").values_list("pk", flat=True))
    done = []
    hub = Organisation.objects.filter(kind=OrganisationKind.REGIONAL_HUB).order_by("pk").first()
    for pk in candidates:
        with transaction.atomic():
            req = rows.select_for_update().select_related("incident", "from_org", "to_org") \
                .filter(pk=pk).first()
            if req is None:
                continue
            for which in (ACK, COMPLETE):
                if _escalate_one(req, which, now, hub):
                    done.append((req, which))
    return done


def _escalate_one(req: CoordinationRequest, which: str, now: dt.datetime, hub) -> bool:
    if which == ACK:
        due, mark = req.ack_due, "escalated_ack_at"
        applies = req.status == RequestStatus.OPEN
    else:
        due, mark = req.complete_due, "escalated_complete_at"
        applies = req.status in (RequestStatus.OPEN, RequestStatus.ACCEPTED)
    if not applies or due >= now or getattr(req, mark) is not None:
        return False
    setattr(req, mark, now)
    req.save(update_fields=[mark])
    _timeline(req.incident, TimelineKind.ESCALATION, actor_label="certhub",
              details={"request": req.pk, "target": which, "due": due.isoformat()})
    record(Action.CHANGE, obj=req, object_repr=_request_label(req),
           details={"escalated": which, "due": due.isoformat()})
    # Content-free (see messages.py), so it may go to whole organisations whatever the label.
    subject, body = messages.request_overdue(req, which, due, now)
    organisations = [req.to_org] + ([hub] if hub is not None and hub.pk != req.to_org_id else [])
    notify("incidents.request.overdue", subject=subject, body=body, url=_url(req.incident),
           organisations=organisations, to_emergency_contacts=True,
           payload={**_request_payload(req), "overdue": which},
           dedupe_key=f"incidents.request.{req.pk}.overdue.{which}")
    return True


