"""Every read of findings and runs. ``visible_findings`` is THE visibility rule for findings.

Who sees a finding (docs: findings are TLP:AMBER+STRICT-like, addressed to one organisation):
- users of the organisation it is routed to (``Finding.organisation``);
- hub staff (users of a regional-hub organisation): the hub runs the feeds for the region and
  sees every finding, including those nobody is responsible for;
- nobody else: not the routed organisation's coordinator or clients, not anonymous visitors;
- and only once the run that produced it has succeeded: a running or failed run's findings are
  invisible to everyone, so a half-done run never shows partial results.

Findings are not a sharing ``Shareable``: one row per recipient organisation replaces the
audience table (see models.py). The API, UI, exports and counts must start from here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

from django.db.models import Count, Q, QuerySet

from certhub.directory.models import OrganisationKind

from .models import Feed, FeedRun, Finding, RunStatus


def is_hub_staff(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "is_active", False):
        return False
    organisation = getattr(user, "organisation", None)
    return organisation is not None and organisation.kind == OrganisationKind.REGIONAL_HUB


def visible_findings(user) -> QuerySet[Finding]:
    """The findings ``user`` may see (the one rule; see the module docstring)."""
    published = Finding.objects.filter(run__status=RunStatus.SUCCEEDED)
    if is_hub_staff(user):
        return published
    if user is None or not getattr(user, "is_authenticated", False) or \
            not getattr(user, "is_active", False) or not user.organisation_id:
        return Finding.objects.none()
    return published.filter(organisation_id=user.organisation_id)


def inbox(user, *, organisation_id: int | None = None, taxonomy: str | None = None,
          type: str | None = None, country: str | None = None,
          since: dt.datetime | None = None, until: dt.datetime | None = None,
          acknowledged: bool | None = None, feed: str | None = None,
          value: str | None = None) -> QuerySet[Finding]:
    """An organisation's findings inbox, newest first. Users see their own organisation's;
    hub staff may pass ``organisation_id`` (0 for findings nobody is responsible for)."""
    findings = visible_findings(user)
    if organisation_id is not None and is_hub_staff(user):
        findings = findings.filter(organisation_id=organisation_id or None)
    elif not is_hub_staff(user):
        findings = findings.filter(organisation_id=getattr(user, "organisation_id", None))
    if taxonomy:
        findings = findings.filter(taxonomy=taxonomy)
    if type:
        findings = findings.filter(type=type)
    if country:
        findings = findings.filter(country=country.upper())
    if since:
        findings = findings.filter(created__gte=since)
    if until:
        findings = findings.filter(created__lt=until)
    if acknowledged is not None:
        findings = findings.filter(acknowledged_at__isnull=not acknowledged)
    if feed:
        findings = findings.filter(feed__name=feed)
    if value:
        findings = findings.filter(value__icontains=value)
    return findings.select_related("feed", "organisation").order_by("-created", "-id")


def counts_per_organisation(user) -> list[dict]:
    """[{organisation_id, organisation, total, open}] over the findings ``user`` may see."""
    rows = (visible_findings(user).values("organisation_id", "organisation__short_name")
            .annotate(total=Count("id"), open=Count("id", filter=Q(acknowledged_at__isnull=True)))
            .order_by("organisation__short_name"))
    return [{"organisation_id": row["organisation_id"],
             "organisation": row["organisation__short_name"] or "", "total": row["total"],
             "open": row["open"]} for row in rows]


def visible_runs(user, feed: Feed | None = None) -> QuerySet[FeedRun]:
    """Run status list: hub staff see every run; others none (runs cover the whole region)."""
    runs = FeedRun.objects.select_related("feed")
    if not is_hub_staff(user):
        return runs.none()
    return runs.filter(feed=feed) if feed is not None else runs


def visible_feeds(user) -> QuerySet[Feed]:
    return Feed.objects.all() if is_hub_staff(user) else Feed.objects.none()


CSV_HEADER = ("id", "received", "observed", "feed", "taxonomy", "type", "value_type", "value",
              "ip", "port", "asn", "country", "organisation", "tlp", "warninglists",
              "acknowledged", "line", "details")


def inbox_csv(findings: QuerySet[Finding]) -> Iterator[str]:
    """CSV lines (header first) of an inbox query, streamed in chunks of 2,000 rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_HEADER)
    yield flush()
    for finding in findings.iterator(chunk_size=2000):
        writer.writerow((
            finding.pk, _iso(finding.created), _iso(finding.observed_at), finding.feed.name,
            finding.taxonomy, finding.type, finding.value_type, finding.value, finding.ip or "",
            finding.port if finding.port is not None else "", finding.asn or "",
            finding.country, finding.organisation.short_name if finding.organisation else "",
            finding.tlp, " ".join(finding.warninglists or []),
            _iso(finding.acknowledged_at), finding.line,
            "" if not finding.extra else "; ".join(f"{k}={v}" for k, v in finding.extra.items()),
        ))
        yield flush()


def _iso(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""
