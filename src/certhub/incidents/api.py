"""Incidents API, mounted at /api/v1/incidents/. Thin: parse, call queries/services, return
schemas.

Everything follows the sharing rule: an incident the caller may not see is 404 everywhere (its
detail, timeline, tasks, attachments, requests, suggestions), and lists and counts cover
visible incidents only. The public report endpoints (``/public/...``) are the only ones open
to anonymous callers.
"""

# No ``from __future__ import annotations`` here: Ninja reads the Query[...] parameter types of
# the handlers at import time.
import time
from datetime import datetime

from django.conf import settings
from django.http import FileResponse
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from certhub.core.api_guards import require_user, require_writer
from certhub.core.errors import InvalidInput, PermissionDenied
from certhub.directory.services import audience_from_names
from certhub.sharing import services as sharing_services

from . import challenge as challenge_module
from . import clocks, mailin, queries, services, storage
from .schemas import (
    AttachmentOut,
    ChallengeOut,
    CommentIn,
    DeclineIn,
    EmailImportOut,
    IncidentDetail,
    IncidentIn,
    IncidentPatch,
    IncidentSummary,
    IndicatorOut,
    IndicatorsIn,
    LinkIn,
    NoteIn,
    OrganisationIn,
    PublicReportIn,
    PublicReportOut,
    RequestIn,
    RequestOut,
    StatusIn,
    SuggestionOut,
    TaskIn,
    TaskOut,
    TaskPatch,
    TimelineOut,
    TimelinessReport,
)

router = Router(tags=["incidents"])


def _org(name: str | None):
    if not name:
        return None
    return sharing_services.organisations_by_short_name([name], field="organisation")[0]


def _orgs(names) -> list:
    return sharing_services.organisations_by_short_name(names or [], field="organisations")


def _colleague_by_email(user, email: str | None, field: str = "assignee"):
    """An active user of the caller's own organisation (tasks go to the owner's people):
    looking wider would tell callers which addresses have accounts elsewhere."""
    if not email:
        return None
    found = user.organisation.users.filter(email__iexact=email.strip(), is_active=True).first()
    if found is None:
        raise InvalidInput(_("Unknown user: %(email)s.") % {"email": email}, field=field)
    return found


def _detail(request, user, incident_id: int):
    found = queries.incident_detail(user, incident_id)
    services.record_opened(user, found, request=request)
    return found


# --- incidents -------------------------------------------------------------------------------

class IncidentFilters(Schema):
    status: str = ""
    severity: str = ""
    triage: bool | None = None
    owner: str = ""
    q: str = ""
    open: bool = False


@router.get("/", response=list[IncidentSummary], summary="Incidents visible to you")
@paginate(LimitOffsetPagination)
def list_incidents(request, filters: Query[IncidentFilters]):
    """Filters: ``status``, ``severity``, ``triage`` (true: the hub's queue), ``owner`` (short
    name or id), ``q`` (title, description, indicator values), ``open``. ``count`` covers only
    incidents visible to you."""
    return queries.incidents(request.auth, status=filters.status, severity=filters.severity,
                             triage=filters.triage, owner=filters.owner or None,
                             search=filters.q, open_only=filters.open)


@router.post("/", response={201: IncidentDetail}, summary="Create an incident")
def create_incident(request, payload: IncidentIn):
    user = require_writer(request)
    audience = audience_from_names(groups=payload.audience_groups, orgs=payload.audience_orgs,
                                   users=payload.audience_users)
    incident = services.create_incident(
        user=user, title=payload.title, tlp=payload.tlp, description=payload.description,
        taxonomy=payload.taxonomy, type=payload.type, severity=payload.severity,
        reporting_org=_org(payload.reporting_org), countries=payload.countries,
        sectors=payload.sectors, cii=payload.cii, occurred_at=payload.occurred_at,
        involved_orgs=_orgs(payload.involved_orgs),
        indicators=[(i.type, i.value) for i in payload.indicators],
        audience_groups=audience["audience_groups"], audience_orgs=audience["audience_orgs"],
        audience_users=audience["audience_users"], request=request)
    return Status(201, queries.incident_detail(user, incident.pk))


@router.get("/triage", response=list[IncidentSummary],
            summary="Reports from the public form and email waiting for the hub")
@paginate(LimitOffsetPagination)
def triage_queue(request):
    return queries.triage_queue(require_user(request))


@router.get("/{int:incident_id}", response=IncidentDetail, summary="An incident")
def get_incident(request, incident_id: int):
    return _detail(request, request.auth, incident_id)


@router.patch("/{int:incident_id}", response=IncidentDetail, summary="Change an incident")
def update_incident(request, incident_id: int, payload: IncidentPatch):
    user = require_writer(request)
    queries.incident(user, incident_id)  # 404 first for an incident the caller cannot see
    changes = payload.dict(exclude_unset=True, exclude={"audience_groups", "audience_orgs",
                                                        "audience_users"})
    if "reporting_org" in changes:
        changes["reporting_org"] = _org(changes["reporting_org"])
    audience = audience_from_names(groups=payload.audience_groups, orgs=payload.audience_orgs,
                                   users=payload.audience_users)
    services.update_incident(incident_id, user=user, request=request, **audience, **changes)
    return queries.incident_detail(user, incident_id)


@router.post("/{int:incident_id}/status", response=IncidentDetail,
             summary="Change the status (reopening keeps the history)")
def set_status(request, incident_id: int, payload: StatusIn):
    user = require_writer(request)
    services.set_status(incident_id, payload.status, user=user, note=payload.note,
                        request=request)
    return queries.incident_detail(user, incident_id)


@router.post("/{int:incident_id}/assign", response=IncidentDetail,
             summary="Hand a triaged report to a member organisation (hub)")
def assign_incident(request, incident_id: int, payload: OrganisationIn):
    user = require_writer(request)
    queries.incident(user, incident_id)
    services.assign_incident(incident_id, _org(payload.organisation), user=user,
                             request=request)
    return queries.incident_detail(user, incident_id)


@router.post("/{int:incident_id}/involved", response=IncidentDetail,
             summary="Name an involved organisation (it joins the audience)")
def add_involved(request, incident_id: int, payload: OrganisationIn):
    user = require_writer(request)
    queries.incident(user, incident_id)
    services.add_involved_org(incident_id, _org(payload.organisation), user=user,
                              request=request)
    return queries.incident_detail(user, incident_id)


@router.delete("/{int:incident_id}/involved/{organisation}", response=IncidentDetail,
               summary="No longer list an organisation as involved")
def remove_involved(request, incident_id: int, organisation: str):
    user = require_writer(request)
    queries.incident(user, incident_id)
    services.remove_involved_org(incident_id, _org(organisation), user=user, request=request)
    return queries.incident_detail(user, incident_id)


@router.get("/{int:incident_id}/timeline", response=list[TimelineOut],
            summary="Every comment and change, oldest first")
@paginate(LimitOffsetPagination)
def timeline(request, incident_id: int):
    return queries.timeline(request.auth, queries.incident(request.auth, incident_id))


@router.post("/{int:incident_id}/comments", response={201: TimelineOut}, summary="Comment")
def add_comment(request, incident_id: int, payload: CommentIn):
    user = require_writer(request)
    return Status(201, services.add_comment(incident_id, payload.text, user=user,
                                            request=request))


# --- tasks -----------------------------------------------------------------------------------

@router.get("/{int:incident_id}/tasks", response=list[TaskOut], summary="Tasks")
def list_tasks(request, incident_id: int):
    return list(queries.tasks(request.auth, queries.incident(request.auth, incident_id)))


@router.post("/{int:incident_id}/tasks", response={201: TaskOut}, summary="Add a task")
def add_task(request, incident_id: int, payload: TaskIn):
    user = require_writer(request)
    queries.incident(user, incident_id)
    return Status(201, services.add_task(incident_id, user=user, title=payload.title,
                                         assignee=_colleague_by_email(user, payload.assignee),
                                         due=payload.due, request=request))


@router.patch("/tasks/{int:task_id}", response=TaskOut, summary="Change a task")
def update_task(request, task_id: int, payload: TaskPatch):
    user = require_writer(request)
    changes = payload.dict(exclude_unset=True)
    if "assignee" in changes:
        changes["assignee"] = _colleague_by_email(user, changes["assignee"])
    return services.update_task(task_id, user=user, request=request, **changes)


# --- attachments -----------------------------------------------------------------------------

@router.get("/{int:incident_id}/attachments", response=list[AttachmentOut],
            summary="Attachments")
def list_attachments(request, incident_id: int):
    return list(queries.attachments(request.auth, queries.incident(request.auth, incident_id)))


@router.post("/{int:incident_id}/attachments", response={201: AttachmentOut},
             summary="Attach a file (multipart field 'file'; size-limited)")
def add_attachment(request, incident_id: int, file: File[UploadedFile]):
    user = require_writer(request)
    queries.incident(user, incident_id)
    if file.size is not None and file.size > storage.max_bytes():
        raise HttpError(413, storage.too_large(storage.max_bytes()).message)
    return Status(201, services.add_attachment(incident_id, user=user, filename=file.name,
                                               content=file, content_type=file.content_type,
                                               request=request))


@router.get("/attachments/{int:attachment_id}", summary="Download an attachment")
def download_attachment(request, attachment_id: int):
    user = require_user(request)
    attachment, handle = services.open_attachment(attachment_id, user=user, request=request)
    response = FileResponse(handle, as_attachment=True, filename=attachment.filename,
                            content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- indicators and links --------------------------------------------------------------------

@router.get("/{int:incident_id}/indicators", response=list[IndicatorOut], summary="Indicators")
def list_indicators(request, incident_id: int):
    return list(queries.indicators(request.auth, queries.incident(request.auth, incident_id)))


@router.post("/{int:incident_id}/indicators", response={201: list[IndicatorOut]},
             summary="Add indicators")
def add_indicators(request, incident_id: int, payload: IndicatorsIn):
    user = require_writer(request)
    queries.incident(user, incident_id)
    return Status(201, services.add_indicators(
        incident_id, [(i.type, i.value) for i in payload.indicators], user=user,
        request=request))


@router.post("/{int:incident_id}/links/reports", response=IncidentDetail,
             summary="Link an intel report")
def link_report(request, incident_id: int, payload: LinkIn):
    user = require_writer(request)
    queries.incident(user, incident_id)
    services.link_report(incident_id, payload.id, user=user, request=request)
    return queries.incident_detail(user, incident_id)


@router.post("/{int:incident_id}/links/observables", response=IncidentDetail,
             summary="Link an intel observable")
def link_observable(request, incident_id: int, payload: LinkIn):
    user = require_writer(request)
    queries.incident(user, incident_id)
    services.link_observable(incident_id, payload.id, user=user, request=request)
    return queries.incident_detail(user, incident_id)


@router.post("/{int:incident_id}/links/findings", response=IncidentDetail,
             summary="Link a feed finding")
def link_finding(request, incident_id: int, payload: LinkIn):
    user = require_writer(request)
    queries.incident(user, incident_id)
    services.link_finding(incident_id, payload.id, user=user, request=request)
    return queries.incident_detail(user, incident_id)


# --- coordination requests -------------------------------------------------------------------

@router.get("/{int:incident_id}/requests", response=list[RequestOut],
            summary="Coordination requests of an incident")
def list_incident_requests(request, incident_id: int):
    return list(queries.requests(request.auth, queries.incident(request.auth, incident_id)))


@router.post("/{int:incident_id}/requests", response={201: RequestOut},
             summary="Ask another organisation to act")
def create_request(request, incident_id: int, payload: RequestIn):
    user = require_writer(request)
    queries.incident(user, incident_id)
    return Status(201, services.create_request(incident_id, user=user,
                                               to_org=_org(payload.to_org), text=payload.text,
                                               kind=payload.kind, request=request))


@router.get("/{int:incident_id}/suggested-recipients", response=list[SuggestionOut],
            summary="Organisations the directory names for the incident's indicators")
def suggested_recipients(request, incident_id: int):
    user = require_user(request)
    return queries.suggest_recipients(user, queries.incident(user, incident_id))


class RequestFilters(Schema):
    direction: str = "incoming"
    status: str = ""


@router.get("/requests", response=list[RequestOut],
            summary="Requests to (incoming) or from (outgoing) your organisation")
@paginate(LimitOffsetPagination)
def list_requests(request, filters: Query[RequestFilters]):
    user = require_user(request)
    return queries.requests_for(user, direction=filters.direction, status=filters.status)


@router.get("/requests/overdue", response=list[RequestOut],
            summary="Requests past a target, in incidents visible to you")
def overdue_requests(request, organisation: str = ""):
    user = require_user(request)
    org = _org(organisation)
    return queries.overdue_requests(user, organisation=org.pk if org else None)


@router.get("/requests/{int:request_id}", response=RequestOut, summary="A request")
def get_request(request, request_id: int):
    return queries.coordination_request(request.auth, request_id)


@router.post("/requests/{int:request_id}/accept", response=RequestOut, summary="Accept")
def accept_request(request, request_id: int, payload: NoteIn):
    user = require_writer(request)
    return services.accept_request(request_id, user=user, note=payload.note, request=request)


@router.post("/requests/{int:request_id}/decline", response=RequestOut,
             summary="Decline, with the reason")
def decline_request(request, request_id: int, payload: DeclineIn):
    user = require_writer(request)
    return services.decline_request(request_id, user=user, reason=payload.reason,
                                    request=request)


@router.post("/requests/{int:request_id}/complete", response=RequestOut, summary="Complete")
def complete_request(request, request_id: int, payload: NoteIn):
    user = require_writer(request)
    return services.complete_request(request_id, user=user, note=payload.note, request=request)


@router.post("/requests/{int:request_id}/cancel", response=RequestOut,
             summary="Withdraw (sending organisation)")
def cancel_request(request, request_id: int):
    user = require_writer(request)
    return services.cancel_request(request_id, user=user, request=request)


class TimelinessFilters(Schema):
    organisation: str = ""
    since: datetime | None = None
    until: datetime | None = None


@router.get("/timeliness", response=TimelinessReport,
            summary="Time to acknowledge and complete requests, per organisation and month")
def timeliness(request, filters: Query[TimelinessFilters]):
    """Per receiving organisation and month sent (UTC): counts, and the median and 90th
    percentile in seconds (nearest-rank method), over requests in incidents visible to you;
    plus the list of requests overdue now."""
    user = require_user(request)
    org = _org(filters.organisation)
    rows = queries.timeliness(user, organisation=org.pk if org else None, since=filters.since,
                              until=filters.until)
    return {"percentile_method": clocks.PERCENTILE_METHOD, "rows": rows,
            "overdue": queries.overdue_requests(user, organisation=org.pk if org else None)}


# --- reporting in ----------------------------------------------------------------------------

_SESSION_KEY = "incidents_api_challenge"
_REFRESH_AFTER = 3600  # seconds; a token is accepted for two hours


@router.get("/public/challenge", response=ChallengeOut, auth=None,
            summary="A challenge for the public report form (anonymous)")
def public_challenge(request):
    """The caller's current challenge: kept in the session (when the client keeps cookies)
    until it is spent or an hour old, so asking again gives the same one."""
    kept = request.session.get(_SESSION_KEY) if hasattr(request, "session") else None
    if (not kept or time.time() - kept.get("issued", 0) > _REFRESH_AFTER
            or challenge_module.is_spent(kept.get("token", ""))):
        new = services.new_challenge()
        kept = {"token": new.token, "bits": new.bits, "question": new.question,
                "issued": int(time.time())}
        if hasattr(request, "session"):
            request.session[_SESSION_KEY] = kept
    return kept


def _client_address(request) -> str:
    """Behind our own proxy, the last X-Forwarded-For hop (the one it added), never a value the
    client chose; else REMOTE_ADDR."""
    if getattr(settings, "BEHIND_PROXY", False):
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "")


@router.post("/public/reports", response={201: PublicReportOut}, auth=None,
             summary="Report an incident (anonymous; rate-limited; solve the challenge)")
def public_report(request, payload: PublicReportIn):
    incident = services.submit_public_report(
        title=payload.title, description=payload.description,
        reporter_name=payload.reporter_name, reporter_email=payload.reporter_email,
        countries=payload.countries, challenge_token=payload.challenge_token,
        challenge_solution=payload.challenge_solution,
        challenge_answer=payload.challenge_answer,
        client_address=_client_address(request))
    return Status(201, {"reference": incident.reference,
                        "message": _("Thank you. Your report was received as %(ref)s.")
                        % {"ref": incident.reference}})


@router.post("/import/eml", response={201: EmailImportOut},
             summary="Import an email message (.eml, multipart field 'file') into triage (hub)")
def import_eml(request, file: File[UploadedFile]):
    user = require_writer(request)
    if user.organisation.kind != "regional_hub":
        raise PermissionDenied(_("Only the hub imports reports into its triage queue."))
    if file.size is not None and file.size > mailin.MAX_MESSAGE_BYTES:
        raise HttpError(413, _("The message is too large."))
    incident, created = services.import_email(file.read(), user=user, request=request)
    return Status(201, {"incident": incident, "created": created})
