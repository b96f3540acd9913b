"""Reports: the filtered list, a report's page, create/edit/delete, added indicators, exports.

Every read goes through ``certhub.intel.queries`` (visible rows only) and every write through
``certhub.intel.services``; what a user may not see is a 404 here as in the API.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certhub.core.errors import CerthubError, NotFound, PermissionDenied
from certhub.directory import queries as directory_queries
from certhub.intel import queries, services, tags
from certhub.intel.models import Report
from certhub.intel.normalise import ObservableType

from .._common import not_found_as_404, render_page_or_fragment
from ._helpers import audience, writer_required
from .forms import AddObservablesForm, ReportFilterForm, ReportForm, set_error, split_lines

PAGE_SIZE = 50
EXPORT_FORMATS = ("stix", "misp", "csv", "suricata", "values")


def _owner_choices(user):
    return [(org.short_name, org.short_name) for org in
            directory_queries.organisations(user).order_by("short_name")]


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@require_GET
def report_list(request):
    form = ReportFilterForm(request.GET or None, owner_choices=_owner_choices(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    reports = queries.reports(
        request.user, tlp=filters.get("tlp", ""), owner=filters.get("owner") or None,
        label=filters.get("tag", "").strip(), search=filters.get("q", "").strip(),
        source=filters.get("source", ""), observable_type=filters.get("type", ""),
        value=filters.get("value", "").strip(),
        since=_day_start(filters["since"]) if filters.get("since") else None,
        until=(_day_start(filters["until"] + timedelta(days=1)) if filters.get("until")
               else None))
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "reports": page.object_list}
    return render_page_or_fragment(request, "web/intel/report_list.html",
                                   "web/intel/_report_results.html", context)


def _types_present(user, report) -> list[str]:
    found = set(queries.observables(user, report).order_by().values_list("type", flat=True)
                .distinct())
    return [kind for kind in ObservableType.values if kind in found]


def _misp_facts(report) -> dict:
    """A MISP event's threat level and analysis state, in words."""
    event = (report.misp or {}).get("event") or {}
    levels = {"1": _("high"), "2": _("medium"), "3": _("low"), "4": _("undefined")}
    states = {"0": _("initial"), "1": _("ongoing"), "2": _("complete")}
    return {"threat_level": levels.get(str(event.get("threat_level_id", "")), ""),
            "analysis": states.get(str(event.get("analysis", "")), "")}


@require_GET
@not_found_as_404
def report_detail(request, pk: int):
    report = queries.report_detail(request.user, pk)
    indicators = [o for o in report.object_list if o.type == "indicator"]
    others = [o for o in report.object_list if o.type not in ("indicator", "relationship")]
    return render(request, "web/intel/report_detail.html", {
        "report": report, "tags": tags.resolve_many(report.labels), "indicators": indicators,
        "other_objects": others, "types_present": _types_present(request.user, report),
        "add_form": AddObservablesForm() if report.editable else None,
        "misp": _misp_facts(report),
    })


def _report_form_initial(report: Report) -> dict:
    return {"title": report.title, "description": report.description, "tlp": report.tlp,
            "labels": "\n".join(report.labels or []), "confidence": report.confidence,
            "audience_orgs": " ".join(o.short_name for o in report.audience_orgs.all()),
            "audience_groups": " ".join(g.slug for g in report.audience_groups.all()),
            "audience_users": " ".join(u.email for u in report.audience_users.all())}


@writer_required
@require_http_methods(["GET", "POST"])
def report_create(request):
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = services.create_report(
                user=request.user, title=data["title"], tlp=data["tlp"],
                description=data["description"],
                labels=tags.clean(split_lines(data["labels"])), confidence=data["confidence"],
                observables=[("", value) for value in split_lines(data["observables"])],
                request=request, **audience(form))
        except CerthubError as exc:
            set_error(form, exc)
        else:
            messages.success(request, _("The report is saved."))
            return redirect("web:intel-report", pk=report.pk)
    return render(request, "web/intel/report_form.html", {"form": form, "report": None})


def _editable(user, pk: int) -> Report:
    """The report if the user may change it: 404 if not visible, 403 if only visible."""
    report = queries.report(user, pk)
    if not Report.objects.editable_by(user).filter(pk=report.pk).exists():
        raise DjangoPermissionDenied
    return report


@writer_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def report_edit(request, pk: int):
    report = _editable(request.user, pk)
    form = ReportForm(request.POST or None, editing=True,
                      initial=_report_form_initial(report))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_report(
                report.pk, user=request.user, request=request, title=data["title"],
                description=data["description"], tlp=data["tlp"],
                labels=tags.clean(split_lines(data["labels"]), keep=report.labels or ()),
                confidence=data["confidence"], **audience(form))
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from None
        except NotFound:
            raise
        except CerthubError as exc:
            set_error(form, exc)
        else:
            messages.success(request, _("The report is saved."))
            return redirect("web:intel-report", pk=report.pk)
    return render(request, "web/intel/report_form.html", {"form": form, "report": report})


@writer_required
@require_POST
@not_found_as_404
def report_delete(request, pk: int):
    try:
        services.delete_report(pk, user=request.user, request=request)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from None
    messages.success(request, _("The report is deleted."))
    return redirect("web:intel-reports")


@writer_required
@require_POST
@not_found_as_404
def report_add_observables(request, pk: int):
    queries.report(request.user, pk)  # 404 first for a report the user cannot see
    form = AddObservablesForm(request.POST)
    if form.is_valid():
        try:
            added = services.add_observables(
                pk, [("", value) for value in split_lines(form.cleaned_data["values"])],
                user=request.user, request=request)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from None
        except CerthubError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(n)d indicator(s) added.") % {"n": added})
    else:
        messages.error(request, _("Enter at least one indicator."))
    return redirect("web:intel-report", pk=pk)


def _attachment(content: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
@not_found_as_404
def report_export(request, pk: int, fmt: str):
    """One report in a format for other tools; audited by the services."""
    user = request.user
    if fmt not in EXPORT_FORMATS:
        raise NotFound()
    if fmt == "stix":
        data = services.export_stix([pk], user=user, request=request)
        response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
        response["Content-Disposition"] = f'attachment; filename="report-{pk}.stix.json"'
        return response
    if fmt == "misp":
        data = services.export_misp(pk, user=user, request=request)
        response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
        response["Content-Disposition"] = f'attachment; filename="report-{pk}.misp.json"'
        return response
    if fmt == "csv":
        return _attachment(services.export_csv([pk], user=user, request=request), "text/csv",
                           f"report-{pk}.csv")
    if fmt == "suricata":
        return _attachment(services.export_suricata([pk], user=user, request=request),
                           "text/plain", f"report-{pk}.rules")
    kind = request.GET.get("type", "")
    queries.report(user, pk)  # 404 before any complaint about the type
    try:
        text = services.export_values([pk], user=user, types=[kind], request=request)
    except NotFound:
        raise
    except CerthubError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    return _attachment(text, "text/plain", f"report-{pk}-{kind}.txt")


@require_GET
def tag_suggest(request):
    """Suggestions for the tag finder (an htmx fragment): public reference data."""
    query = request.GET.get("tag_query", "") or request.GET.get("q", "")
    return render(request, "web/intel/_tag_suggestions.html",
                  {"suggestions": tags.suggest(query[:100], limit=25), "query": query})
