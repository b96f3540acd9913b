"""One value's page (reports, sightings, feed findings, warning lists; a sighting form) and the
batch lookup page. Visible rows only, through intel's and feeds' queries."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certhub.core.errors import CerthubError, InvalidInput, NotFound
from certhub.feeds import queries as feed_queries
from certhub.intel import queries, services
from certhub.intel.normalise import defang
from certhub.sharing.rules import user_may_write

from .._common import render_page_or_fragment
from ._helpers import audience, writer_required
from .forms import IntelLookupForm, SightingForm, set_error


def _value_context(user, kind: str, value: str) -> dict:
    """Everything the user may see about the value; Http404 when nothing visible holds it."""
    try:
        page = queries.value_page(user, value, kind)
    except InvalidInput:
        raise Http404 from None
    except NotFound:
        page = None
    if page is not None:
        match = page["match"]
    else:
        match = queries.lookup(user, [value])[0]
        if match.error or (kind and match.type != kind):
            raise Http404
    findings = list(feed_queries.findings_with_value(user, match.value))
    if page is None and not findings:
        raise Http404  # nothing the user may see holds it: no page, not even an empty one
    summary = queries.sighting_summary(user, value=match.value, kind=match.type)
    return {"match": match, "defanged": defang(match.value, match.type),
            "observables": page["observables"] if page else [],
            "reports": page["reports"] if page else [], "summary": summary,
            "findings": findings}


@require_GET
def value_page(request, type: str, value: str):
    context = _value_context(request.user, type, value)
    if user_may_write(request.user):
        context["sighting_form"] = SightingForm(initial={
            "value": context["match"].value, "type": context["match"].type})
    return render(request, "web/intel/value.html", context)


@writer_required
@require_POST
def sighting_add(request):
    form = SightingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            sighting = services.add_sighting(
                user=request.user, value=data["value"], type=data["type"],
                count=data["count"], first_seen=data["first_seen"],
                last_seen=data["last_seen"], country=data["country"], sector=data["sector"],
                source=data["source"], tlp=data["tlp"], request=request, **audience(form))
        except CerthubError as exc:
            set_error(form, exc)
        else:
            messages.success(request, _("The sighting is recorded."))
            return redirect("web:intel-value", type=sighting.observable_type,
                            value=sighting.value)
    # Show the value's page again with the form's messages (the value may be new to the
    # user: then the form alone).
    data = form.data
    try:
        context = _value_context(request.user, data.get("type", ""), data.get("value", ""))
    except Http404:
        context = {"match": None}
    context["sighting_form"] = form
    return render(request, "web/intel/value.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def lookup(request):
    """Have we seen these? Each value: the visible reports holding it, sightings, first and
    last seen, warning lists."""
    data = request.POST if request.method == "POST" else (
        {"values": request.GET["q"]} if request.GET.get("q") else None)
    form = IntelLookupForm(data)
    results = None
    titles = {}
    if form.is_bound and form.is_valid():
        results = queries.lookup(request.user, form.cleaned_data["values"])
        ids = {pk for match in results for pk in match.report_ids}
        titles = {r.pk: r for r in queries.reports(request.user).filter(pk__in=ids)}
        for match in results:
            match.defanged = defang(match.value, match.type) if match.value else ""
            match.report_list = [titles[pk] for pk in match.report_ids if pk in titles]
    context = {"form": form, "results": results,
               "found": sum(1 for m in results if m.found) if results else 0}
    return render_page_or_fragment(request, "web/intel/lookup.html",
                                   "web/intel/_lookup_results.html", context)
