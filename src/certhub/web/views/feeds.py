"""Feeds pages: each organisation's findings inbox (filters, acknowledge, CSV export), a
finding with its provenance, and the runs of the feeds (hub staff) with live status.

Views are thin: ``certhub.feeds.queries`` decides who sees which finding (a finding one may not
see is the 404 page), ``certhub.feeds.services`` writes and audits.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from certhub.core.errors import CerthubError
from certhub.feeds import classification, queries, services
from certhub.feeds.models import RunStatus

from ._common import not_found_as_404, render_page_or_fragment

PAGE_SIZE = 50
RUNS_PAGE_SIZE = 50
STATE_CHOICES = [("open", gettext_lazy("Open")), ("acknowledged", gettext_lazy("Acknowledged")),
                 ("all", gettext_lazy("All"))]


class InboxFilterForm(forms.Form):
    organisation = forms.ChoiceField(label=gettext_lazy("Organisation"), required=False)
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False, choices=STATE_CHOICES)
    taxonomy = forms.ChoiceField(label=gettext_lazy("Classification"), required=False)
    feed = forms.ChoiceField(label=gettext_lazy("Feed"), required=False)
    q = forms.CharField(label=gettext_lazy("Value, AS number or country"), required=False,
                        max_length=500, widget=forms.TextInput(attrs={"type": "search"}))
    since = forms.DateField(label=gettext_lazy("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("Until"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.hub_staff = queries.is_hub_staff(user)
        any_ = [("", _("Any"))]
        self.fields["taxonomy"].choices = any_ + [
            (taxonomy, [(taxonomy, _("%(taxonomy)s: every type") % {"taxonomy": taxonomy})]
             + [(f"{taxonomy}/{kind}", kind) for kind in kinds])
            for taxonomy, kinds in classification.taxonomies().items()]
        self.fields["feed"].choices = any_ + [(name, name) for name in queries.feed_names(user)]
        if self.hub_staff:
            self.fields["organisation"].choices = [("", _("All")), ("0", _("Nobody responsible"))] \
                + [(str(row["organisation_id"]), row["organisation"])
                   for row in queries.counts_per_organisation(user) if row["organisation_id"]]
        else:
            del self.fields["organisation"]

    def filters(self) -> dict:
        """Keyword arguments of ``queries.inbox`` (open findings when nothing is chosen)."""
        data = self.cleaned_data if self.is_valid() else {}
        result: dict = {}
        state = data.get("state") or "open"
        result["acknowledged"] = {"open": False, "acknowledged": True}.get(state)
        taxonomy = data.get("taxonomy") or ""
        if "/" in taxonomy:
            result["taxonomy"], result["type"] = taxonomy.split("/", 1)
        elif taxonomy:
            result["taxonomy"] = taxonomy
        if data.get("feed"):
            result["feed"] = data["feed"]
        if data.get("organisation"):
            result["organisation_id"] = int(data["organisation"])
        text = (data.get("q") or "").strip()
        if text:
            result.update(_text_filter(text))
        if data.get("since"):
            result["since"] = _start_of(data["since"])
        if data.get("until"):
            result["until"] = _start_of(data["until"] + timedelta(days=1))
        return result


def _text_filter(text: str) -> dict:
    """'AS4788' or a bare number: that AS; two letters: that country; else part of the value."""
    upper = text.upper()
    digits = upper[2:] if upper.startswith("AS") else upper
    if digits.isdigit() and len(digits) <= 10:
        return {"asn": int(digits)}
    if len(text) == 2 and text.isalpha():
        return {"country": upper}
    return {"value": text}


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


@login_required
@require_GET
def inbox(request):
    form = InboxFilterForm(request.GET or None, user=request.user)
    findings = queries.inbox(request.user, **form.filters())
    page = Paginator(findings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page_or_fragment(request, "web/feeds/inbox.html", "web/feeds/_findings.html", {
        "form": form, "page": page, "hub_staff": form.hub_staff,
        "may_acknowledge": request.user.can_write,
        "export_query": request.GET.urlencode()})


@login_required
@require_GET
def inbox_csv(request):
    form = InboxFilterForm(request.GET or None, user=request.user)
    lines = services.export_inbox_csv(request.user, request=request, **form.filters())
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="certhub-findings.csv"'
    return response


@login_required
@require_GET
@not_found_as_404
def finding(request, pk: int):
    found = queries.finding(request.user, pk)
    may_acknowledge = request.user.can_write and found.organisation_id == \
        request.user.organisation_id
    return render(request, "web/feeds/finding.html", {
        "finding": found, "may_acknowledge": may_acknowledge,
        "hub_staff": queries.is_hub_staff(request.user)})


@login_required
@require_POST
@not_found_as_404
def acknowledge(request):
    """Acknowledge (or reopen) the findings ticked in the inbox, or the one of a detail page."""
    ids = [value for value in request.POST.getlist("ids") if value.isdigit()]
    reopen = request.POST.get("action") == "reopen"
    back = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, {request.get_host()},
                                           require_https=request.is_secure()):
        back = reverse("web:feeds-inbox")
    if not ids:
        messages.warning(request, _("Tick at least one finding."))
        return redirect(back)
    try:
        changed = services.acknowledge(request.user, ids, acknowledged=not reopen,
                                       request=request)
    except CerthubError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
        return redirect(back)
    if reopen:
        text = ngettext("%(n)d finding reopened.", "%(n)d findings reopened.", changed)
    else:
        text = ngettext("%(n)d finding acknowledged.", "%(n)d findings acknowledged.", changed)
    messages.success(request, text % {"n": changed})
    return redirect(back)


# --- runs (hub staff) ----------------------------------------------------------------------------
def _require_hub_staff(user) -> None:
    if not queries.is_hub_staff(user):
        raise Http404


@login_required
@require_GET
def runs(request):
    _require_hub_staff(request.user)
    feed_name = request.GET.get("feed") or ""
    feed = None
    if feed_name:
        try:
            feed = queries.feed(request.user, feed_name)
        except CerthubError:
            raise Http404 from None
    run_list = queries.visible_runs(request.user, feed)
    page = Paginator(run_list, RUNS_PAGE_SIZE).get_page(request.GET.get("page"))
    active = any(run.status in (RunStatus.QUEUED, RunStatus.RUNNING) for run in page)
    return render_page_or_fragment(request, "web/feeds/runs.html", "web/feeds/_runs.html", {
        "page": page, "feed": feed, "feeds": queries.visible_feeds(request.user),
        "active": active, "may_run": request.user.is_hub_admin})


@login_required
@require_GET
@not_found_as_404
def run(request, pk: int):
    found = queries.run(request.user, pk)
    context = {"run": found, "active": not found.finished,
               "routed": queries.routed_per_organisation(found),
               "parts": queries.run_parts(found)}
    if request.headers.get("HX-Request") == "true":
        return render(request, "web/feeds/_run_status.html", context)
    context["errors"] = queries.run_errors(found)
    return render(request, "web/feeds/run.html", context)


@login_required
@require_POST
@not_found_as_404
def run_feed(request, name: str):
    feed = queries.feed(request.user, name)
    try:
        services.request_run(request.user, feed, request=request)
    except CerthubError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Run of %(feed)s requested.") % {"feed": feed.name})
    return redirect(reverse("web:feeds-runs") + "?feed=" + feed.name)
