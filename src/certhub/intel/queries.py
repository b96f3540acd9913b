"""Every public read of intel. Each starts from ``visible_to(user)``: a report, observable,
correlation or sighting the user may not see is never returned, counted or hinted at."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, Min, Q, QuerySet, Sum

from certhub.core.errors import InvalidInput, NotFound

from . import normalise, warninglists
from .models import Observable, Report, Sighting, StixObject

LOOKUP_LIMIT = 100_000
CHUNK = 1000


def reports(user, *, tlp: str = "", owner: int | None = None, label: str = "",
            search: str = "", source: str = "", since: datetime | None = None,
            until: datetime | None = None, value: str = "") -> QuerySet[Report]:
    """Reports the user may see, newest first, with the list page's filters."""
    qs = Report.objects.visible_to(user).select_related("owner")
    if tlp:
        qs = qs.filter(tlp=tlp)
    if owner:
        qs = qs.filter(owner_id=owner)
    if label:
        # JSON containment differs by backend; labels are short, so match the quoted text.
        qs = qs.filter(labels__icontains=f'"{label}"')
    if search:
        qs = qs.filter(Q(title__icontains=search) | Q(description__icontains=search))
    if source:
        qs = qs.filter(source=source)
    if since:
        qs = qs.filter(created__gte=since)
    if until:
        qs = qs.filter(created__lt=until)
    if value:
        values = _candidates(value)
        holding = Observable.objects.visible_to(user).filter(value__in=values)
        qs = qs.filter(pk__in=holding.values("report"))
    return qs.order_by("-created", "-id")


def report(user, pk: int) -> Report:
    found = Report.objects.visible_to(user).select_related("owner").filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def stix_objects(user, report_: Report) -> QuerySet[StixObject]:
    """Objects of a report obtained through ``report`` (so already visible)."""
    return StixObject.objects.of_visible(report_).order_by("added", "id")


def observables(user, report_: Report, *, type: str = "") -> QuerySet[Observable]:
    qs = Observable.objects.of_visible(report_)
    return qs.filter(type=type) if type else qs


def sightings(user, report_: Report | None = None) -> QuerySet[Sighting]:
    qs = Sighting.objects.visible_to(user).select_related("owner", "seen_by")
    return qs.filter(report=report_) if report_ is not None else qs


@dataclass
class Correlation:
    report: Report
    shared_values: list[str]


def correlations(user, report_: Report, *, values_shown: int = 20) -> list[Correlation]:
    """Other reports the user can see that hold a value of this one; invisible ones neither
    appear nor count."""
    own_values = Observable.objects.of_visible(report_).values("value")
    matches = (Observable.objects.visible_to(user).filter(value__in=own_values)
               .exclude(report=report_).order_by().values_list("report_id", "value").distinct())
    by_report: dict[int, set[str]] = defaultdict(set)
    for report_id, value in matches:
        by_report[report_id].add(value)
    others = Report.objects.visible_to(user).select_related("owner").filter(pk__in=by_report)
    result = [Correlation(other, sorted(by_report[other.pk])[:values_shown]) for other in others]
    result.sort(key=lambda c: (-len(by_report[c.report.pk]), -c.report.created.timestamp()))
    return result


def correlation_count(user, report_: Report) -> int:
    own_values = Observable.objects.of_visible(report_).values("value")
    return (Observable.objects.visible_to(user).filter(value__in=own_values)
            .exclude(report=report_).order_by().values("report").distinct().count())


def _candidates(value: str) -> list[str]:
    """Canonical forms to search for a value given without a type."""
    try:
        return [normalise.detect(value)[1]]
    except InvalidInput:
        text = normalise.refang(value)
        return [text] if text else []


@dataclass
class ValueMatch:
    """What the user may know about one value: visible reports, sightings, warninglists."""

    query: str
    type: str = ""
    value: str = ""
    error: str = ""
    report_ids: list[int] = field(default_factory=list)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    sightings_count: int = 0
    warninglists: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.report_ids or self.sightings_count)


def _earliest(*moments):
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def _latest(*moments):
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def lookup(user, values: Iterable[str]) -> list[ValueMatch]:
    """Have we seen these? One result per input value, in order, normalised first.

    Two queries per chunk of ~1000 distinct values (observables, sightings), both over visible
    rows only.
    """
    inputs = list(values)
    if len(inputs) > LOOKUP_LIMIT:
        raise InvalidInput(f"at most {LOOKUP_LIMIT} values per lookup", field="values")
    results: list[ValueMatch] = []
    by_value: dict[str, list[ValueMatch]] = defaultdict(list)
    for text in inputs:
        match = ValueMatch(query=str(text))
        try:
            match.type, match.value = normalise.detect(str(text))
        except InvalidInput as exc:
            match.error = exc.message
        else:
            by_value[match.value].append(match)
        results.append(match)
    distinct = list(by_value)
    for start in range(0, len(distinct), CHUNK):
        chunk = distinct[start:start + CHUNK]
        rows = (Observable.objects.visible_to(user).filter(value__in=chunk)
                .values("value", "report_id")
                .annotate(first=Min("first_seen"), last=Max("last_seen"),
                          reported=Min("report__created"))
                .values_list("value", "report_id", "first", "last", "reported"))
        for value, report_id, first, last, reported in rows:
            for match in by_value[value]:
                if report_id not in match.report_ids:
                    match.report_ids.append(report_id)
                match.first_seen = _earliest(match.first_seen, first or reported)
                match.last_seen = _latest(match.last_seen, last or reported)
        seen = (Sighting.objects.visible_to(user).filter(value__in=chunk).values("value")
                .annotate(total=Sum("count"), first=Min("first_seen"), last=Max("last_seen"))
                .values_list("value", "total", "first", "last"))
        for value, total, first, last in seen:
            for match in by_value[value]:
                match.sightings_count = total or 0
                match.first_seen = _earliest(match.first_seen, first)
                match.last_seen = _latest(match.last_seen, last)
    hits = warninglists.check_many({(m.type, m.value) for m in results if m.value})
    for match in results:
        if match.value:
            match.warninglists = hits.get((match.type, match.value), [])
    return results


def value_page(user, value: str) -> dict:
    """Everything the user may see about one value: reports, sightings, warninglist hits."""
    match = lookup(user, [value])[0]
    if match.error:
        raise InvalidInput(match.error, field="value")
    observed = (Observable.objects.visible_to(user).filter(value=match.value)
                .select_related("report", "report__owner").order_by("-report__created"))
    return {"match": match, "observables": list(observed),
            "reports": list(Report.objects.visible_to(user).select_related("owner")
                            .filter(pk__in=match.report_ids).order_by("-created")),
            "sightings": list(sightings(user).filter(value=match.value)),
            "sighting_totals": sightings(user).filter(value=match.value).aggregate(
                count=Sum("count"), organisations=Count("owner", distinct=True))}
