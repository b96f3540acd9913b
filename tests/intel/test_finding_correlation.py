"""Feed findings correlated with shared intelligence (issue 5): computed when read, through
both visibility rules, never told about a report the reader may not see."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from certhub.feeds.connectors.experts.observables import (
    enrich_observable_index,
    findings_matching_report,
    intel_reports_for_findings,
)
from certhub.feeds.models import Feed, FeedRun, Finding, RunStatus
from certhub.feeds.queries import findings_with_value, visible_findings
from certhub.intel import queries, services


def _finding(org, value, kind="ipv4", ip=None, status=RunStatus.SUCCEEDED, line=0):
    feed, _ = Feed.objects.get_or_create(name="corr-feed", defaults={
        "source_kind": "file", "location": "/dev/null", "parser": "urlhaus"})
    run = FeedRun.objects.create(feed=feed, status=status)
    now = timezone.now()
    return Finding.objects.create(
        feed=feed, run=run, line=line, created=now + timedelta(seconds=line),
        expires_at=now + timedelta(days=30), taxonomy="malicious-code",
        type="malware-distribution", value_type=kind, value=value,
        ip=ip if ip is not None else (value if kind == "ipv4" else None),
        tlp="amber+strict", dedupe_key=line, organisation=org)


def _report(user, values, tlp, **audience):
    return services.create_report(user=user, title="corr", tlp=tlp,
                                  observables=[("", value) for value in values], **audience)


def test_findings_correlate_only_with_reports_the_reader_sees(world):
    green = _report(world.sg_analyst, ["192.0.2.50", "evil-corr.example"], "green")
    red = _report(world.my_analyst, ["192.0.2.50", "192.0.2.51"], "red")
    ip_finding = _finding(world.thai, "192.0.2.50", line=1)
    red_only = _finding(world.thai, "192.0.2.51", line=2)
    url_on_ip = _finding(world.thai, "http://evil-corr.example/x", kind="url",
                         ip="192.0.2.50", line=3)
    nothing = _finding(world.thai, "198.51.100.99", line=4)
    enrich_observable_index(ip_finding.run, [])  # writes nothing: the read decides

    seen = list(visible_findings(world.thai_analyst))
    assert intel_reports_for_findings(world.thai_analyst, seen) == {
        ip_finding.pk: [green.pk], url_on_ip.pk: [green.pk]}
    # The RED report's owner's analyst sees it, but not ThaiCERT's findings.
    assert intel_reports_for_findings(world.my_analyst, visible_findings(world.my_analyst)) == {}
    assert red_only.pk not in intel_reports_for_findings(world.thai_analyst, [red_only])
    assert nothing.pk not in intel_reports_for_findings(world.thai_analyst, seen)
    assert queries.reports_holding(world.my_analyst, ["192.0.2.51"]) == {"192.0.2.51": [red.pk]}
    assert queries.reports_holding(world.thai_analyst, ["192.0.2.51"]) == {}

    report = queries.report(world.thai_analyst, green.pk)
    matching = list(findings_matching_report(world.thai_analyst, report))
    assert {f.pk for f in matching} == {ip_finding.pk, url_on_ip.pk}
    # Another organisation's analyst who sees the report does not see ThaiCERT's findings.
    assert list(findings_matching_report(world.sg_analyst,
                                         queries.report(world.sg_analyst, green.pk))) == []


def test_value_page_findings_follow_the_findings_rule(world):
    _finding(world.thai, "192.0.2.60", line=1)
    _finding(world.thai, "192.0.2.60", status=RunStatus.RUNNING, line=2)
    assert len(findings_with_value(world.thai_analyst, "192.0.2.60")) == 1
    assert len(findings_with_value(world.my_analyst, "192.0.2.60")) == 0
