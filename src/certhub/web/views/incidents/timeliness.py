"""How fast organisations answer coordination requests: per organisation and per month, the
median and 90th percentile time to acknowledge and to complete, as charts with their tables,
and the requests overdue now. Computed by certhub.incidents.queries over visible requests."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from certhub.incidents import clocks, queries

from ...charts import BarChart, LineChart, Series
from . import forms
from .context import may_triage, organisation_choices

HOUR = 3600.0


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / HOUR


def _pool(rows, attribute: str) -> list[float]:
    return [value for row in rows for value in getattr(row, attribute)]


def per_organisation(rows) -> list[dict]:
    """Rows of all months pooled per organisation (percentiles over the pooled durations)."""
    by_org: dict[str, list] = {}
    for row in rows:
        by_org.setdefault(row.organisation, []).append(row)
    summary = []
    for name, org_rows in sorted(by_org.items()):
        ack, complete = _pool(org_rows, "_ack"), _pool(org_rows, "_complete")
        summary.append({
            "organisation": name, "received": sum(r.received for r in org_rows),
            "acknowledged": sum(r.acknowledged for r in org_rows),
            "completed": sum(r.completed for r in org_rows),
            "overdue": sum(r.overdue for r in org_rows),
            "ack_median": _hours(clocks.median(ack)), "ack_p90": _hours(clocks.percentile(ack, 90)),
            "complete_median": _hours(clocks.median(complete)),
            "complete_p90": _hours(clocks.percentile(complete, 90)),
        })
    return summary


def per_month(rows) -> list[dict]:
    by_month: dict[str, list] = {}
    for row in rows:
        by_month.setdefault(row.month, []).append(row)
    summary = []
    for month, month_rows in sorted(by_month.items()):
        ack, complete = _pool(month_rows, "_ack"), _pool(month_rows, "_complete")
        summary.append({
            "month": month, "received": sum(r.received for r in month_rows),
            "ack_median": _hours(clocks.median(ack)), "ack_p90": _hours(clocks.percentile(ack, 90)),
            "complete_median": _hours(clocks.median(complete)),
            "complete_p90": _hours(clocks.percentile(complete, 90)),
        })
    return summary


def charts(rows) -> list:
    orgs, months = per_organisation(rows), per_month(rows)
    median, p90 = _("median"), _("90th percentile")
    hours = _("hours")
    names = [o["organisation"] for o in orgs]
    labels = [m["month"] for m in months]
    return [
        BarChart(title=_("Time to acknowledge, per organisation"), unit=hours, categories=names,
                 series=[Series(median, [o["ack_median"] for o in orgs]),
                         Series(p90, [o["ack_p90"] for o in orgs])], chart_id="chart-ack-org"),
        BarChart(title=_("Time to complete, per organisation"), unit=hours, categories=names,
                 series=[Series(median, [o["complete_median"] for o in orgs]),
                         Series(p90, [o["complete_p90"] for o in orgs])],
                 chart_id="chart-complete-org"),
        LineChart(title=_("Time to acknowledge, per month"), unit=hours, categories=labels,
                  series=[Series(median, [m["ack_median"] for m in months]),
                          Series(p90, [m["ack_p90"] for m in months])],
                  chart_id="chart-ack-month"),
        LineChart(title=_("Time to complete, per month"), unit=hours, categories=labels,
                  series=[Series(median, [m["complete_median"] for m in months]),
                          Series(p90, [m["complete_p90"] for m in months])],
                  chart_id="chart-complete-month"),
    ]


@login_required
@require_GET
def timeliness(request):
    form = forms.TimelinessFilterForm(request.GET or None,
                                      organisation_choices=organisation_choices(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    organisation = int(filters["organisation"]) if filters.get("organisation") else None
    since, until = filters.get("since"), filters.get("until")
    rows = queries.timeliness(request.user, organisation=organisation,
                              since=_start_of(since) if since else None,
                              until=_start_of(until + timedelta(days=1)) if until else None)
    overdue = queries.overdue_requests(request.user, organisation=organisation)
    return render(request, "web/incidents/timeliness.html", {
        "form": form, "rows": rows, "charts": charts(rows) if rows else [],
        "organisations": per_organisation(rows), "overdue": overdue,
        "targets": [(severity, ack, complete)
                    for severity, (ack, complete) in clocks.targets().items()],
        "can_triage": may_triage(request.user), "now": timezone.now(),
    })
