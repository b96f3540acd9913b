"""Incident pages that read: the list, the hub's triage queue, one incident, its timeline, the
coordination requests, attachment downloads.

Every read goes through certhub.incidents.queries (which start from ``visible_to``); what a user
may not see is the same 404 as what does not exist.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from certhub.incidents import queries, services
from certhub.incidents.models import RequestStatus

from .._common import not_found_as_404, render_page_or_fragment
from . import forms
from .context import (
    detail_context,
    may_triage,
    organisation_choices,
)
from .timeline import describe_entries

PAGE_SIZE = 50


@login_required
@require_GET
def incident_list(request):
    form = forms.IncidentFilterForm(request.GET or None,
                                    organisation_choices=organisation_choices(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    incidents = queries.incidents(
        request.user, status=filters.get("status", ""), severity=filters.get("severity", ""),
        search=filters.get("q", ""), owner=filters.get("organisation") or None,
        taxonomy=filters.get("taxonomy", ""), tlp=filters.get("tlp", ""))
    page = Paginator(incidents, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page_or_fragment(request, "web/incidents/list.html",
                                   "web/incidents/_list_results.html",
                                   {"form": form, "page": page, "can_triage":
                                    may_triage(request.user)})


@login_required
@require_GET
def triage(request):
    if not may_triage(request.user):
        raise Http404
    queue = list(queries.triage_queue(request.user))
    choices = organisation_choices(request.user, members_only=True)
    for item in queue:
        item.assign_form = forms.AssignForm(organisation_choices=choices,
                                            auto_id=f"id_assign_{item.pk}_%s")
    return render(request, "web/incidents/triage.html", {"queue": queue, "can_triage": True})


@login_required
@require_GET
@not_found_as_404
def incident_detail(request, pk: int):
    incident = queries.incident_detail(request.user, pk)
    services.record_opened(request.user, incident, request=request)  # RED reads are audited
    suggest = request.GET.get("suggest", "").strip()[:2048]
    suggestion = None
    if suggest and incident.editable:
        suggestion = {"value": suggest, "matches": queries.suggest_for_value(suggest)}
    return render(request, "web/incidents/detail.html",
                  detail_context(request, incident, suggestion=suggestion))


@login_required
@require_GET
@not_found_as_404
def incident_timeline(request, pk: int):
    """The timeline alone (htmx refresh, or a printable page)."""
    incident = queries.incident(request.user, pk)
    entries = describe_entries(queries.timeline(request.user, incident))
    return render_page_or_fragment(request, "web/incidents/timeline.html",
                                   "web/incidents/_timeline.html",
                                   {"incident": incident, "entries": entries})


@login_required
@require_GET
@not_found_as_404
def incident_requests(request, pk: int):
    """One incident's coordination requests (linked from the incident page)."""
    incident = queries.incident(request.user, pk)
    reqs = list(queries.requests(request.user, incident))
    for req in reqs:
        req.state = queries.request_state(req)
    return render(request, "web/incidents/incident_requests.html",
                  {"incident": incident, "requests": reqs,
                   "user_org": request.user.organisation_id})


@login_required
@require_GET
def request_inbox(request):
    direction = request.GET.get("direction", "incoming")
    if direction not in ("incoming", "outgoing", "all"):
        direction = "incoming"
    status = request.GET.get("status", "")
    if status not in RequestStatus.values:
        status = ""
    page = Paginator(queries.requests_for(request.user, direction=direction, status=status),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    for req in page:
        req.state = queries.request_state(req)
    return render(request, "web/incidents/requests.html", {
        "page": page, "direction": direction, "status": status,
        "statuses": RequestStatus.choices, "can_triage": may_triage(request.user),
        "directions": [("incoming", _("To my organisation")),
                       ("outgoing", _("From my organisation")), ("all", _("All I may see"))],
    })


@login_required
@require_GET
@not_found_as_404
def attachment_download(request, pk: int, attachment_pk: int):
    attachment = queries.attachment(request.user, attachment_pk)
    if attachment.incident_id != pk:
        raise Http404
    attachment, handle = services.open_attachment(attachment.pk, user=request.user,
                                                  request=request)
    response = FileResponse(handle, as_attachment=True, filename=attachment.filename,
                            content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
