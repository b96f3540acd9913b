"""The audit log, for hub administrators only. Everyone else gets the same 404 as for a page
that does not exist (certhub.audit.queries decides who may browse)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from certhub.audit import queries

from ..forms import AuditFilterForm
from ._common import not_found_as_404

PAGE_SIZE = 50


def _start_of(day) -> datetime:
    """Midnight of ``day`` in the user's zone: the dates typed are the user's dates."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


@login_required
@require_GET
@not_found_as_404
def audit_log(request):
    if not queries.may_browse(request.user):  # before reading the filters: nothing to learn
        raise Http404
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    since, until = filters.get("since"), filters.get("until")
    entries = queries.entries(
        request.user, action=filters.get("action", ""), actor=filters.get("actor", ""),
        object_type=filters.get("object_type", ""),
        since=_start_of(since) if since else None,
        until=_start_of(until + timedelta(days=1)) if until else None)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/audit/list.html", {"form": form, "page": page})
