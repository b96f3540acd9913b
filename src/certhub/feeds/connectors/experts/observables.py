"""Feed findings correlated with shared intelligence (issue 5: "matching findings also enrich
the observable index").

``enrich_observable_index(run, events)`` is called by the pipeline once per committed batch,
inside the batch's transaction, with the new (not duplicate) events of that batch. It writes
nothing, on purpose: the correlation is computed when someone reads, through both visibility
rules, by the functions below.

Why at read time rather than a "correlated" mark written here:
- whether a finding correlates depends on who asks. A finding is visible to its organisation
  (and hub staff); the intel report holding the same value is visible by its TLP and audience.
  A mark computed over every report would tell a reader about reports they may not see (a
  TLP:RED report of another member is still "shared intelligence" to the database), which the
  sharing rule forbids even as a count; a mark per (finding, reader) cannot be written ahead.
- it stays exact: a report imported, deleted or re-shared after the feed ran changes the answer
  at once, with nothing to recompute or keep in step.
- the feed's hot path stays as it is: no query against the observable index (millions of rows)
  for each batch of up to 20,000 events, most of which match nothing.
The read is cheap: one indexed query on the observable index (``value = ANY(...)``) for a page
of findings.

- ``intel_reports_for_findings(user, findings)``: for findings the user already sees (an inbox
  page, one finding), the visible intel reports holding each one's value (or address);
- ``findings_matching_report(user, report)``: findings the user sees whose value a visible
  report holds (the report page's "seen in feeds");
- the value page lists a value's findings with ``certhub.feeds.queries.findings_with_value``,
  which starts from ``visible_findings`` (findings are visible to their organisation and hub
  staff, once their run succeeded).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import GenericIPAddressField, Q, QuerySet
from django.db.models.functions import Cast

from certhub.intel import queries as intel_queries
from certhub.intel.models import Observable, ObservableType

from ...queries import visible_findings
from ..events import Event


def enrich_observable_index(run, events: Sequence[Event]) -> None:
    """Nothing to write: findings correlate with intelligence when read (module docstring)."""
    return None


def _finding_values(finding) -> list[str]:
    values = [finding.value]
    if finding.ip and finding.ip != finding.value:
        values.append(finding.ip)
    return values


def intel_reports_for_findings(user, findings: Iterable) -> dict[int, list[int]]:
    """finding id -> ids of the intel reports visible to ``user`` holding its value (or its
    address), for findings the caller obtained through ``feeds.queries.visible_findings(user)``;
    findings without a match are left out. One query whatever the number of findings."""
    findings = list(findings)
    held = intel_queries.reports_holding(
        user, [value for finding in findings for value in _finding_values(finding)])
    result = {}
    for finding in findings:
        ids = sorted({pk for value in _finding_values(finding) for pk in held.get(value, ())})
        if ids:
            result[finding.pk] = ids
    return result


def findings_matching_report(user, report, *, limit: int = 100) -> QuerySet:
    """Findings visible to ``user`` whose value or address one of ``report``'s observables
    holds; ``report`` obtained through ``intel.queries.report(user, ...)`` (so visible).
    Newest first."""
    held = Observable.objects.of_visible(report)
    # Addresses compared as addresses (``ip`` is an inet column on PostgreSQL); only address
    # observables are cast, so every cast succeeds.
    addresses = (held.filter(type__in=(ObservableType.IPV4, ObservableType.IPV6))
                 .annotate(address=Cast("value", GenericIPAddressField())).values("address"))
    return (visible_findings(user)
            .filter(Q(value__in=held.values("value")) | Q(ip__in=addresses))
            .select_related("feed", "organisation").order_by("-created", "-id")[:limit])
