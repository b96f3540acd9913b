"""What the incident pages share: choices for the forms and the incident page's context."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.directory import queries as directory_queries
from certhub.directory.models import OrganisationKind
from certhub.incidents import queries, sectors

from . import forms
from .timeline import describe_entries


def may_triage(user) -> bool:
    """The hub's users work the triage queue (the queue itself is read through the rule)."""
    org = getattr(user, "organisation", None)
    return bool(user.is_authenticated and org is not None
                and org.kind == OrganisationKind.REGIONAL_HUB)


def organisation_choices(user, *, members_only: bool = False) -> list[tuple[str, str]]:
    """(id, short name) of the directory's organisations (the directory is public)."""
    orgs = directory_queries.organisations(user)
    if members_only:
        orgs = orgs.exclude(kind=OrganisationKind.REGIONAL_HUB)
    return [(str(org.pk), org.short_name) for org in orgs.order_by("short_name")]


def assignee_choices(user) -> list[tuple[str, str]]:
    """Active colleagues of the user's organisation (the directory of users is not shared)."""
    return [(str(u.pk), u.email)
            for u in user.organisation.users.filter(is_active=True).order_by("email")]


def shortcuts() -> list[tuple[str, str]]:
    return [("c", _("Write a comment")), ("r", _("New coordination request")),
            ("t", _("New task")), ("a", _("Add an address or domain")),
            ("s", _("Change the status")), ("l", _("Go to the timeline"))]


def detail_context(request, incident, *, forms_in_error: dict | None = None,
                   suggestion=None, recipient: str = "") -> dict:
    """The incident page: the incident, its parts, and an empty (or bound, when a post failed)
    form for each action the user may take."""
    user = request.user
    forms_in_error = forms_in_error or {}
    now = timezone.now()
    for req in incident.request_list:
        req.state = queries.request_state(req, now)
    suggestions = queries.suggest_recipients(user, incident) if incident.editable else []
    recipients = [(pk, name) for pk, name in organisation_choices(user)
                  if pk != str(user.organisation_id)]
    if not recipient and suggestion:
        others = [m for m in suggestion["matches"] if m.organisation_id != user.organisation_id]
        suggestion["recipient"] = others[0] if others else None
        if others:
            recipient = str(others[0].organisation_id)
    if not recipient and suggestions:  # the directory's answer for the incident's values
        recipient = str(suggestions[0].organisation_id)
    request_form = forms_in_error.get("request") or forms.RequestForm(
        initial={"to_org": recipient}, recipient_choices=recipients)
    classify = forms_in_error.get("classify") or forms.ClassifyForm(initial={
        "severity": incident.severity, "taxonomy": incident.taxonomy, "type": incident.type,
        "countries": " ".join(incident.countries or []), "sectors": incident.sectors or []})
    audience = forms_in_error.get("audience") or forms.AudienceForm(initial={
        "tlp": incident.tlp,
        "audience_orgs": " ".join(o.short_name for o in incident.audience_orgs.all())})
    return {
        "incident": incident,
        "entries": describe_entries(incident.timeline_list),
        "sector_list": [sectors.BY_CODE[c] for c in incident.sectors or [] if c in sectors.BY_CODE],
        "comment_form": forms_in_error.get("comment") or forms.CommentForm(),
        "status_form": forms_in_error.get("status") or forms.StatusForm(
            initial={"status": incident.status}),
        "classify_form": classify,
        "audience_form": audience,
        "task_form": forms_in_error.get("task") or forms.TaskForm(
            assignee_choices=assignee_choices(user)),
        "attachment_form": forms_in_error.get("attachment") or forms.AttachmentForm(),
        "lookup_form": forms_in_error.get("lookup") or forms.LookupValueForm(),
        "involved_form": forms_in_error.get("involved") or forms.InvolvedForm(
            organisation_choices=[(pk, name) for pk, name in recipients
                                  if int(pk) not in {o.pk for o in incident.involved_list}]),
        "link_form": forms_in_error.get("link") or forms.LinkForm(),
        "request_form": request_form,
        "suggestion": suggestion,
        "suggestions": suggestions,
        "shortcuts": shortcuts(),
        "can_triage": may_triage(user),
        "user_org": user.organisation_id,
    }
