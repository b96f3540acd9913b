"""Every public read of intel. Each starts from ``visible_to(user)``: a report, observable,
correlation or sighting the user may not see is never returned, counted or hinted at."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, Lookup, Max, Min, Q, QuerySet, Sum

from certhub.core.errors import InvalidInput, NotFound

from . import normalise, warninglists
from .models import Observable, Report, Sighting, StixObject
from .visibility import Marker, run_cached

LOOKUP_LIMIT = 100_000


def reports(user, *, tlp: str = "", owner: int | str | None = None, label: str = "",
            search: str = "", source: str = "", since: datetime | None = None,
            until: datetime | None = None, value: str = "",
            observable_type: str = "") -> QuerySet[Report]:
    """Reports the user may see, newest first, with the list page's filters. ``owner`` is an
    organisation id or short name; ``observable_type`` keeps reports holding that kind."""
    qs = Report.objects.visible_to(user).select_related("owner")
    if tlp:
        qs = qs.filter(tlp=tlp)
    if isinstance(owner, str) and not owner.isdigit():
        qs = qs.filter(owner__short_name__iexact=owner)
    elif owner:
        qs = qs.filter(owner_id=int(owner))
    if observable_type:
        holding = Observable.objects.visible_to(user).filter(type=observable_type)
        qs = qs.filter(pk__in=holding.values("report"))
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


DETAIL_LIMIT = 1000


def report_detail(user, pk: int, *, limit: int = DETAIL_LIMIT) -> Report:
    """A visible report with what its page shows: the first objects and observables, counts,
    relationships, correlations, sightings and object versions (``*_list`` attributes set on
    it, named apart from the model's related managers)."""
    found = report(user, pk)
    found.object_count = stix_objects(user, found).count()
    found.object_list = list(stix_objects(user, found).defer("json")[:limit])
    found.observable_count = observables(user, found).count()
    found.observable_list = list(observables(user, found).order_by("id")[:limit])
    found.relationship_list = relationships(user, found)
    found.correlation_list = correlations(user, found)
    found.correlation_count = len(found.correlation_list)
    found.sighting_list = list(sightings(user, found)[:limit])
    found.history = versions(user, found)
    found.editable = Report.objects.editable_by(user).filter(pk=pk).exists()
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


class AnyOf(Lookup):
    """``column`` equals one of a list given as ONE parameter: ``= ANY(%s)`` with an array on
    PostgreSQL, ``IN (SELECT value FROM json_each(%s))`` on SQLite. One SQL text for any number
    of values, so that lookups compile once (see ``visibility.run_cached``) and a batch of
    10,000 values is one query instead of ten chunks of ``IN (%s, ...)``."""

    lookup_name = "certhub_any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        param = self.rhs if isinstance(self.rhs, Marker) else any_of_param(connection, self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, param]
        # lhs is the compiled column reference; the values travel as one JSON parameter.
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, param]  # noqa: S608


def any_of_param(connection, values: list[str]):
    return list(values) if connection.vendor == "postgresql" else json.dumps(list(values))


def _observable_rows(user, values):
    return (Observable.objects.visible_to(user).filter(AnyOf(F("value"), values)).order_by()
            .values_list("value", "report_id", "first_seen", "last_seen", "report__created"))


def _sighting_totals(user, values):
    return (Sighting.objects.visible_to(user).filter(AnyOf(F("value"), values)).order_by()
            .values("value")
            .annotate(total=Sum("count"), first=Min("first_seen"), last=Max("last_seen"))
            .values_list("value", "total", "first", "last"))


def lookup(user, values: Iterable[str]) -> list[ValueMatch]:
    """Have we seen these? One result per input value, in order, normalised first.

    Two queries whatever the number of values (observables, sightings), both over visible rows
    only, compiled once per user (``visibility.run_cached``).
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
    if by_value:
        distinct = list(by_value)

        def argument(connection):
            return any_of_param(connection, distinct)

        # Plain rows, merged here: cheaper to build and to plan than a GROUP BY, and a value
        # sits in few reports.
        rows = run_cached("lookup-observables", user, Observable, _observable_rows, argument)
        for value, report_id, first, last, reported in rows:
            for match in by_value[value]:
                if report_id not in match.report_ids:
                    match.report_ids.append(report_id)
                match.first_seen = _earliest(match.first_seen, first or reported)
                match.last_seen = _latest(match.last_seen, last or reported)
        seen = run_cached("lookup-sightings", user, Sighting, _sighting_totals, argument)
        for value, total, first, last in seen:
            for match in by_value[value]:
                match.sightings_count = total or 0
                match.first_seen = _earliest(match.first_seen, first)
                match.last_seen = _latest(match.last_seen, last)
    hits = warninglists.check_many({(m.type, m.value) for m in results if m.value})
    for match in results:
        if match.value:
            match.warninglists = hits.get((match.type, match.value), [])
            match.report_ids.sort()
    return results


def _held_rows(user, values):
    return (Observable.objects.visible_to(user).filter(AnyOf(F("value"), values)).order_by()
            .values_list("value", "report_id").distinct())


def reports_holding(user, values: Iterable[str]) -> dict[str, list[int]]:
    """value -> ids of the reports visible to ``user`` that hold it, for values already in
    canonical form (feed findings are); values no visible report holds are left out. One
    query, compiled once per user key. Correlates other apps' records (feed findings) with
    shared intelligence without telling anything about reports the user may not see."""
    distinct = list(dict.fromkeys(str(value) for value in values))
    if not distinct:
        return {}
    found: dict[str, list[int]] = defaultdict(list)
    for value, report_id in run_cached("held-values", user, Observable, _held_rows,
                                       lambda connection: any_of_param(connection, distinct)):
        found[value].append(report_id)
    return {value: sorted(ids) for value, ids in found.items()}


def value_page(user, value: str, kind: str = "") -> dict:
    """Everything the user may see about one value: reports, sightings, warninglist hits.

    With ``kind`` the value is normalised as that type (else its type is guessed)."""
    if kind:
        kind, value = normalise.normalise_typed(kind, value)
    match = lookup(user, [value])[0]
    if match.error:
        raise InvalidInput(match.error, field="value")
    if not match.found:
        raise NotFound()  # nothing the user may see holds it: no page, not even an empty one
    observed = (Observable.objects.visible_to(user).filter(value=match.value)
                .select_related("report", "report__owner").order_by("-report__created"))
    return {"match": match, "observables": list(observed),
            "reports": list(Report.objects.visible_to(user).select_related("owner")
                            .filter(pk__in=match.report_ids).order_by("-created")),
            "sightings": list(sightings(user).filter(value=match.value)),
            "sighting_totals": sightings(user).filter(value=match.value).aggregate(
                count=Sum("count"), organisations=Count("owner", distinct=True))}


def report_by_stix_id(user, stix_id: str) -> Report:
    """The visible report with this STIX id (the user's own organisation's first)."""
    found = sorted(Report.objects.visible_to(user).select_related("owner")
                   .filter(stix_id=stix_id), key=lambda r: (r.owner_id != user.organisation_id
                                                            if user.is_authenticated else True,
                                                            r.pk))
    if not found:
        raise NotFound()
    return found[0]


@dataclass
class Relationship:
    stix_id: str
    relationship_type: str
    source_ref: str
    target_ref: str
    source_name: str = ""
    target_name: str = ""


def relationships(user, report_: Report) -> list[Relationship]:
    """The report's relationship objects (newest version of each), with the names of both ends
    when the report holds them."""
    rows = StixObject.objects.of_visible(report_).order_by("stix_id", "-modified")
    names = dict(rows.exclude(name="").values_list("stix_id", "name"))
    found: dict[str, Relationship] = {}
    for stix_id, text in rows.filter(type="relationship").values_list("stix_id", "json"):
        if stix_id in found:
            continue
        obj = json.loads(text)
        found[stix_id] = Relationship(
            stix_id, obj.get("relationship_type", ""), obj.get("source_ref", ""),
            obj.get("target_ref", ""), names.get(obj.get("source_ref", ""), ""),
            names.get(obj.get("target_ref", ""), ""))
    return list(found.values())


def versions(user, report_: Report) -> list[StixObject]:
    """Every stored version of the report's objects that have more than one, newest first."""
    rows = StixObject.objects.of_visible(report_)
    repeated = (rows.order_by().values("stix_id").annotate(n=Count("id")).filter(n__gt=1)
                .values("stix_id"))
    return list(rows.filter(stix_id__in=repeated).defer("json")
                .order_by("stix_id", "-modified", "-id"))


def export_rows(user, report_ids: list[int] | None, *, types: Iterable[str] = (),
                detection_only: bool = False) -> tuple[list[Report], QuerySet[Observable]]:
    """Reports to export (all visible, or the given ones: NotFound if one is not visible) and
    their observables, for CSV, value lists and rules."""
    chosen = reports(user)
    if report_ids is not None:
        chosen = chosen.filter(pk__in=report_ids)
    found = list(chosen)
    if report_ids is not None and len(found) != len(set(report_ids)):
        raise NotFound()
    rows = Observable.objects.of_visible_many(found)
    types = [kind for kind in types if kind]
    if types:
        rows = rows.filter(type__in=types)
    if detection_only:
        rows = rows.filter(to_ids=True)
    return found, rows.order_by("report_id", "id")


@dataclass
class SightingSummary:
    """Sightings the user may see of one value or indicator, added up."""

    value: str = ""
    type: str = ""
    indicator_stix_id: str = ""
    count: int = 0
    records: int = 0
    organisations: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    countries: dict[str, int] = field(default_factory=dict)
    sightings: list[Sighting] = field(default_factory=list)


def sighting_summary(user, *, value: str = "", kind: str = "", indicator_stix_id: str = "",
                     limit: int = 100) -> SightingSummary:
    if not value and not indicator_stix_id:
        raise InvalidInput("give a value or an indicator id", field="value")
    qs = sightings(user)
    summary = SightingSummary(indicator_stix_id=indicator_stix_id)
    if value:
        summary.type, summary.value = (normalise.normalise_typed(kind, value) if kind
                                       else normalise.detect(value))
        qs = qs.filter(value=summary.value)
    if indicator_stix_id:
        qs = qs.filter(indicator_stix_id=indicator_stix_id)
    totals = qs.aggregate(count=Sum("count"), records=Count("id"),
                          organisations=Count("owner", distinct=True),
                          first=Min("first_seen"), last=Max("last_seen"))
    summary.count = totals["count"] or 0
    summary.records = totals["records"] or 0
    summary.organisations = totals["organisations"] or 0
    summary.first_seen, summary.last_seen = totals["first"], totals["last"]
    summary.countries = {row["country"]: row["n"] for row in
                         qs.exclude(country="").order_by().values("country")
                         .annotate(n=Sum("count"))}
    summary.sightings = list(qs.order_by("-last_seen", "-id")[:limit])
    return summary


def feed_hash_rows(user) -> Iterable[tuple[str, str]]:
    """(attribute value as MISP exports it, event uuid) of every visible report."""
    rows = (Observable.objects.visible_to(user).order_by("report_id", "id")
            .values_list("misp_value", "value", "report__stix_id"))
    for misp_value, value, stix_id in rows.iterator(chunk_size=5000):
        yield misp_value or value, stix_id.split("--", 1)[1]
