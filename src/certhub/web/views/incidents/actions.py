"""What users do on an incident: each POST parses a form and calls one incidents service.

A success redirects back to the incident page (at the part that changed) with a message; a
refusal shows the page again with the form's error next to its field. The services decide who
may do what: a record the user may not see is the 404 page, one they may see but not change
is the 403 page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from certhub.core.errors import CerthubError, InvalidInput, NotFound, PermissionDenied
from certhub.directory import queries as directory_queries
from certhub.incidents import queries, services

from . import forms
from .context import assignee_choices, detail_context, may_triage, organisation_choices


def _incident_url(pk: int, anchor: str = "", **params) -> str:
    url = reverse("web:incident", args=[pk])
    if params:
        url += "?" + urlencode(params)
    return url + (f"#{anchor}" if anchor else "")


def _organisation(user, pk: str):
    """An organisation of the (public) directory by id; InvalidInput if there is none."""
    org = directory_queries.organisations(user).filter(pk=pk).first() if pk.isdigit() else None
    if org is None:
        raise InvalidInput(_("Choose an organisation from the list."), field="organisation")
    return org


def _colleague(user, pk: str):
    if not pk:
        return None
    found = user.organisation.users.filter(pk=pk, is_active=True).first() if pk.isdigit() \
        else None
    if found is None:
        raise InvalidInput(_("Choose a task owner from the list."), field="assignee")
    return found


def _show_error(request, pk: int, key: str, form, error: CerthubError):
    """The incident page again, the form bound, the service's message at its field."""
    field = error.field if error.field in form.fields else None
    if not hasattr(form, "cleaned_data"):
        form.is_valid()
    form.add_error(field, error.message)
    return _page_with(request, pk, key, form, status=409 if error.status == 409 else 400)


# Where each form sits on the incident page (the error summary links there).
_ANCHORS = {"involved": "involved-title", "link": "link-title", "comment": "comment",
            "status": "status", "classify": "classify-title", "audience": "audience-title",
            "task": "new-task", "attachment": "attachments", "lookup": "lookup",
            "request": "new-request"}


def _page_with(request, pk: int, key: str, form, *, status: int = 400):
    incident = queries.incident_detail(request.user, pk)
    context = detail_context(request, incident, forms_in_error={key: form})
    context["error_anchor"] = _ANCHORS.get(key, "")
    return render(request, "web/incidents/detail.html", context, status=status)


def incident_action(key: str, form_class, make=None):
    """Wrap a POST handler ``handler(request, pk, form) -> redirect URL``: login, POST only,
    404 for what the user may not see, 403 for what they may not change, errors shown on the
    page next to the form. ``make(request)`` builds the form when it needs choices."""
    def decorate(handler):
        @login_required
        @require_POST
        def view(request, pk: int, **kwargs):
            try:
                queries.incident(request.user, pk)  # 404 first: nothing else is told
                form = make(request) if make else form_class(request.POST, request.FILES)
                if not form.is_valid():
                    return _page_with(request, pk, key, form)
                try:
                    url = handler(request, pk, form, **kwargs)
                except PermissionDenied as error:
                    raise DjangoPermissionDenied(error.message) from None
                except NotFound:
                    raise
                except CerthubError as error:
                    return _show_error(request, pk, key, form, error)
            except NotFound:
                raise Http404 from None
            return HttpResponseRedirect(url)
        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        return view
    return decorate


# --- the incident itself -----------------------------------------------------------------------

@incident_action("comment", forms.CommentForm)
def comment(request, pk, form):
    services.add_comment(pk, form.cleaned_data["text"], user=request.user, request=request)
    messages.success(request, _("Comment added."))
    return _incident_url(pk, "timeline-end")


@incident_action("status", forms.StatusForm)
def change_status(request, pk, form):
    incident = services.set_status(pk, form.cleaned_data["status"], user=request.user,
                                   note=form.cleaned_data["note"], request=request)
    messages.success(request, _("The incident is now %(status)s.")
                     % {"status": incident.get_status_display()})
    return _incident_url(pk, "timeline-end")


@incident_action("classify", forms.ClassifyForm)
def classify(request, pk, form):
    data = form.cleaned_data
    services.update_incident(pk, user=request.user, request=request, severity=data["severity"],
                             taxonomy=data["taxonomy"], type=data["type"],
                             countries=data["countries"], sectors=data["sectors"])
    messages.success(request, _("Classification saved."))
    return _incident_url(pk, "facts")


@incident_action("audience", forms.AudienceForm)
def audience(request, pk, form):
    names = form.cleaned_data["audience_orgs"]
    orgs = []
    for name in names:
        org = directory_queries.organisations(request.user).filter(
            short_name__iexact=name).first()
        if org is None:
            raise InvalidInput(_("%(name)s is not an organisation of the directory.")
                               % {"name": name}, field="audience_orgs")
        orgs.append(org)
    services.update_incident(pk, user=request.user, request=request,
                             tlp=form.cleaned_data["tlp"], audience_orgs=orgs)
    messages.success(request, _("Sharing saved."))
    return _incident_url(pk, "facts")


def _involved_form(request):
    return forms.InvolvedForm(request.POST,
                              organisation_choices=organisation_choices(request.user))


@incident_action("involved", forms.InvolvedForm, make=_involved_form)
def add_involved(request, pk, form):
    org = _organisation(request.user, form.cleaned_data["organisation"])
    services.add_involved_org(pk, org, user=request.user, request=request)
    messages.success(request, _("%(org)s is now involved.") % {"org": org.short_name})
    return _incident_url(pk, "facts")


@incident_action("link", forms.LinkForm)
def add_link(request, pk, form):
    number = form.cleaned_data["number"]
    try:
        link = {"report": services.link_report, "observable": services.link_observable,
                "finding": services.link_finding}[form.cleaned_data["what"]]
        link(pk, number, user=request.user, request=request)
    except NotFound:  # the incident is visible (checked first): the linked record is not
        raise InvalidInput(_("There is no record with this number that you may see."),
                           field="number") from None
    messages.success(request, _("Linked."))
    return _incident_url(pk, "linked")


# --- tasks -----------------------------------------------------------------------------------

def _task_form(request):
    return forms.TaskForm(request.POST, assignee_choices=assignee_choices(request.user))


@incident_action("task", forms.TaskForm, make=_task_form)
def add_task(request, pk, form):
    data = form.cleaned_data
    services.add_task(pk, user=request.user, title=data["title"],
                      assignee=_colleague(request.user, data["assignee"]), due=data["due"],
                      request=request)
    messages.success(request, _("Task added."))
    return _incident_url(pk, "tasks")


@login_required
@require_POST
def task_done(request, pk: int, task_pk: int):
    done = request.POST.get("done", "1") == "1"
    try:
        incident = queries.incident(request.user, pk)
        if not queries.tasks(request.user, incident).filter(pk=task_pk).exists():
            raise NotFound()
        services.update_task(task_pk, user=request.user, done=done, request=request)
    except NotFound:
        raise Http404 from None
    except PermissionDenied as error:
        raise DjangoPermissionDenied(error.message) from None
    messages.success(request, _("Task completed.") if done else _("Task reopened."))
    return redirect(_incident_url(pk, "tasks"))


# --- attachments -----------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def attachments(request, pk: int):
    """GET: the incident's files; POST: upload one."""
    try:
        incident = queries.incident(request.user, pk)
        if request.method == "GET":
            files = list(queries.attachments(request.user, incident))
            return render(request, "web/incidents/attachments.html",
                          {"incident": incident, "attachments": files})
        return _upload(request, pk)
    except NotFound:
        raise Http404 from None


@incident_action("attachment", forms.AttachmentForm)
def _upload_action(request, pk, form):
    upload = form.cleaned_data["file"]
    attachment = services.add_attachment(pk, user=request.user, filename=upload.name,
                                         content=upload, content_type=upload.content_type or "",
                                         request=request)
    messages.success(request, _("%(name)s attached.") % {"name": attachment.filename})
    return _incident_url(pk, "attachments")


_upload = _upload_action


# --- addresses and coordination requests ------------------------------------------------------

@incident_action("lookup", forms.LookupValueForm)
def add_value(request, pk, form):
    """Add an address or domain to the incident and show who the directory names for it; the
    request form below is then addressed to that organisation."""
    value = form.cleaned_data["value"].strip()
    services.add_indicators(pk, [value], user=request.user, request=request)
    return _incident_url(pk, "lookup-result", suggest=value)


def _request_form(request):
    recipients = [(pk, name) for pk, name in organisation_choices(request.user)
                  if pk != str(request.user.organisation_id)]
    return forms.RequestForm(request.POST, recipient_choices=recipients)


@incident_action("request", forms.RequestForm, make=_request_form)
def send_request(request, pk, form):
    data = form.cleaned_data
    to_org = _organisation(request.user, data["to_org"])
    req = services.create_request(pk, user=request.user, to_org=to_org, text=data["text"],
                                  kind=data["kind"], request=request)
    messages.success(request, _("Request sent to %(org)s.") % {"org": to_org.short_name})
    return _incident_url(pk, f"request-{req.pk}")


def _answer(request, pk: int, request_pk: int, do, success: str, form=None):
    try:
        req = queries.coordination_request(request.user, request_pk)
        if req.incident_id != pk:
            raise NotFound()
        if form is not None and not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, _("Not saved: %(reason)s") % {"reason": " ".join(errors)})
            return redirect(_incident_url(pk, f"request-{request_pk}"))
        try:
            do(req)
        except PermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from None
        except NotFound:
            raise
        except CerthubError as error:
            messages.error(request, error.message)
            return redirect(_incident_url(pk, f"request-{request_pk}"))
    except NotFound:
        raise Http404 from None
    messages.success(request, success)
    return redirect(_incident_url(pk, f"request-{request_pk}"))


@login_required
@require_POST
def accept_request(request, pk: int, request_pk: int):
    return _answer(request, pk, request_pk,
                   lambda req: services.accept_request(req.pk, user=request.user,
                                                       request=request),
                   _("Request acknowledged."))


@login_required
@require_POST
def decline_request(request, pk: int, request_pk: int):
    form = forms.DeclineForm(request.POST)
    return _answer(request, pk, request_pk,
                   lambda req: services.decline_request(req.pk, user=request.user,
                                                        reason=form.cleaned_data["reason"],
                                                        request=request),
                   _("Request declined."), form=form)


@login_required
@require_POST
def complete_request(request, pk: int, request_pk: int):
    form = forms.CompleteForm(request.POST)
    return _answer(request, pk, request_pk,
                   lambda req: services.complete_request(req.pk, user=request.user,
                                                         note=form.cleaned_data["note"],
                                                         request=request),
                   _("Request completed."), form=form)


@login_required
@require_POST
def cancel_request(request, pk: int, request_pk: int):
    return _answer(request, pk, request_pk,
                   lambda req: services.cancel_request(req.pk, user=request.user,
                                                       request=request),
                   _("Request cancelled."))


# --- new incidents and the triage queue ---------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def new_incident(request):
    form = forms.NewIncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.create_incident(
                user=request.user, title=data["title"], description=data["description"],
                tlp=data["tlp"], severity=data["severity"], taxonomy=data["taxonomy"],
                type=data["type"], countries=data["countries"], sectors=data["sectors"],
                indicators=data["indicators"], request=request)
        except PermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from None
        except CerthubError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Incident %(ref)s opened.") % {"ref": incident.reference})
            return redirect(_incident_url(incident.pk))
    return render(request, "web/incidents/new.html", {"form": form, "now": timezone.now()},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def assign(request, pk: int):
    if not may_triage(request.user):
        raise Http404
    form = forms.AssignForm(request.POST,
                            organisation_choices=organisation_choices(request.user,
                                                                      members_only=True))
    try:
        queries.incident(request.user, pk)
        if not form.is_valid():
            messages.error(request, _("Choose the organisation to assign the report to."))
            return redirect("web:incident_triage")
        org = _organisation(request.user, form.cleaned_data["organisation"])
        services.assign_incident(pk, org, user=request.user, request=request)
    except NotFound:
        raise Http404 from None
    except PermissionDenied as error:
        raise DjangoPermissionDenied(error.message) from None
    except CerthubError as error:
        messages.error(request, error.message)
        return redirect("web:incident_triage")
    messages.success(request, _("Assigned to %(org)s.") % {"org": org.short_name})
    return redirect("web:incident_triage")


__all__ = ["accept_request", "add_task", "add_value", "assign", "attachments", "audience",
           "cancel_request", "change_status", "classify", "comment", "complete_request",
           "decline_request", "new_incident", "send_request", "task_done"]
