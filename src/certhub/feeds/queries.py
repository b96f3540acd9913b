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
import ipaddress
from collections.abc import Iterator

from django.db.models import Count, Q, QuerySet

from certhub.core.errors import NotFound
from certhub.directory.models import Organisation, OrganisationKind

from .models import Feed, FeedRun, Finding, RunError, RunPart, RunStatus


def is_hub_staff(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "is_active", False):
        return False
    organisation = getattr(user, "organisation", None)
    return organisation is not None and organisation.kind == OrganisationKind.REGIONAL_HUB


def _published() -> QuerySet[Finding]:
    return Finding.objects.filter(run__status=RunStatus.SUCCEEDED)


def visible_findings(user) -> QuerySet[Finding]:
    """The findings ``user`` may see (the one rule; see the module docstring)."""
    if is_hub_staff(user):
        return _published()
    if user is None or not getattr(user, "is_authenticated", False) or \
            not getattr(user, "is_active", False) or not user.organisation_id:
        return Finding.objects.none()
    return routed_to(user.organisation_id)


def routed_to(organisation) -> QuerySet[Finding]:
    """What the system sends an organisation (digests, webhooks): the same rows its users
    see in their inbox."""
    return _published().filter(organisation=organisation)


def inbox(user, *, organisation_id: int | None = None, taxonomy: str | None = None,
          type: str | None = None, country: str | None = None,
          since: dt.datetime | None = None, until: dt.datetime | None = None,
          acknowledged: bool | None = None, feed: str | None = None,
          value: str | None = None, asn: int | None = None,
          run_id: int | None = None) -> QuerySet[Finding]:
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
    if asn is not None:
        findings = findings.filter(asn=asn)
    if run_id is not None:
        findings = findings.filter(run_id=run_id)
    findings = findings.select_related("feed", "organisation")
    if is_hub_staff(user) and not organisation_id:
        # Everything, or what nobody is responsible for: newest received first by primary key
        # (ids grow as findings arrive); the inbox index holds routed rows only.
        return findings.order_by("-id")
    return findings.order_by("-created", "-id")


def finding(user, finding_id: int) -> Finding:
    """One finding with its provenance (feed, run, line, raw), or NotFound if not visible."""
    found = (visible_findings(user).select_related("feed", "run", "organisation",
                                                   "acknowledged_by")
             .filter(pk=finding_id).first())
    if found is None:
        raise NotFound()
    return found



def findings_with_value(user, value: str, *, limit: int = 100) -> QuerySet[Finding]:
    """Visible findings whose value (or address) is exactly ``value``, newest first (the intel
    value page shows them next to reports and sightings)."""
    match = Q(value=value)
    try:
        address = str(ipaddress.ip_address(value))
    except ValueError:
        address = ""
    if address:
        match |= Q(ip=address)
    return (visible_findings(user).filter(match).select_related("feed", "organisation")
            .order_by("-created", "-id")[:limit])


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


def feed(user, name: str) -> Feed:
    found = visible_feeds(user).filter(name=name).first()
    if found is None:
        raise NotFound()
    return found


def feed_names(user) -> list[str]:
    """Names of the feeds whose findings ``user`` may filter by: every feed for hub staff,
    else the feeds that delivered findings to the user's organisation."""
    if is_hub_staff(user):
        return list(Feed.objects.values_list("name", flat=True))
    if not visible_findings(user).exists():
        return []
    # The runs' per-organisation counters, not the findings table: a few rows, not millions.
    feed_ids = (FeedRun.objects.filter(status=RunStatus.SUCCEEDED,
                                       routed_per_org__has_key=str(user.organisation_id))
                .values("feed_id"))
    return list(Feed.objects.filter(pk__in=feed_ids).values_list("name", flat=True))


def run(user, run_id: int) -> FeedRun:
    found = visible_runs(user).filter(pk=run_id).first()
    if found is None:
        raise NotFound()
    return found


def run_errors(run: FeedRun, limit: int = 500) -> list[RunError]:
    """The first ``limit`` refused lines of a run the caller could already see."""
    return list(RunError.objects.filter(run=run).order_by("line", "pk")[:limit])


def run_parts(run: FeedRun) -> list[RunPart]:
    """The parts of a split run the caller could already see (none for a whole run)."""
    return list(RunPart.objects.filter(run=run).order_by("number"))


def routed_per_organisation(run: FeedRun) -> list[dict]:
    """[{organisation, count}] of a run's ``routed_per_org`` counter, names resolved."""
    counts = {int(key): value for key, value in (run.routed_per_org or {}).items()}
    names = dict(Organisation.objects.filter(pk__in=counts).values_list("pk", "short_name"))
    return sorted(({"organisation_id": key, "organisation": names.get(key, f"#{key}"),
                    "count": value} for key, value in counts.items()),
                  key=lambda row: (-row["count"], row["organisation"]))


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
