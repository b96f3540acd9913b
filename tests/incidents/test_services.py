"""Incident services: status changes and reopening with history, edits on the timeline and in
the audit log, Markdown sanitised on output, attachments hashed and size-limited outside the
web root, CII sectors flagged, triage assignment, tasks, and links that never open more than
the user may see."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from certhub.audit.models import AuditEntry
from certhub.core.errors import InvalidInput, NotFound, PermissionDenied
from certhub.feeds.models import Feed, FeedRun, Finding, RunStatus
from certhub.incidents import intake, queries, services, storage
from certhub.incidents.models import Attachment, Incident, TimelineEntry
from certhub.intel import services as intel_services

from .conftest import make_incident


def _kinds(incident):
    return [e.kind for e in TimelineEntry.unrestricted.filter(incident=incident)
            .order_by("at", "id")]


def test_status_lifecycle_and_reopen_keep_history(world, thai_incident):
    for status in ("acknowledged", "in_progress", "waiting", "resolved", "closed"):
        services.set_status(thai_incident.pk, status, user=world.thai_analyst)
    closed = Incident.unrestricted.get(pk=thai_incident.pk)
    assert closed.closed_at
    assert closed.resolved_at
    assert not closed.is_open
    reopened = services.set_status(thai_incident.pk, "in_progress", user=world.thai_analyst,
                                   note="The page is back online.")
    assert reopened.is_open
    assert reopened.closed_at is None
    steps = [(e.details["from"], e.details["to"], e.details["reopened"])
             for e in TimelineEntry.unrestricted.filter(incident=thai_incident, kind="status")
             .order_by("at", "id")]
    assert steps == [("new", "acknowledged", False), ("acknowledged", "in_progress", False),
                     ("in_progress", "waiting", False), ("waiting", "resolved", False),
                     ("resolved", "closed", False), ("closed", "in_progress", True)]
    assert AuditEntry.objects.filter(object_type="incidents.incident",
                                     object_id=str(thai_incident.pk), action="change").count() == 6
    with pytest.raises(InvalidInput):
        services.set_status(thai_incident.pk, "done", user=world.thai_analyst)
    with pytest.raises(PermissionDenied):
        services.set_status(thai_incident.pk, "closed", user=world.thai_viewer)


def test_edits_are_on_the_timeline_and_audited(world, thai_incident):
    services.update_incident(thai_incident.pk, user=world.thai_analyst, severity="critical",
                             sectors=["banking", "education"], countries=["my", "TH"],
                             type="ddos")
    incident = Incident.unrestricted.get(pk=thai_incident.pk)
    assert (incident.severity, incident.taxonomy, incident.type) == (
        "critical", "availability", "ddos")
    assert incident.sectors == ["banking", "education"]
    assert incident.cii is True
    assert incident.countries == ["MY", "TH"]
    change = TimelineEntry.unrestricted.filter(incident=incident, kind="change").last()
    assert change.details["severity"] == ["high", "critical"]
    entry = AuditEntry.objects.filter(object_type="incidents.incident", action="change").last()
    assert "severity" in entry.details["fields"]
    assert "Phishing" not in entry.object_repr  # the log names an AMBER record by id only
    with pytest.raises(InvalidInput) as bad:
        services.update_incident(thai_incident.pk, user=world.thai_analyst, sectors=["mining"])
    assert bad.value.field == "sectors"
    with pytest.raises(InvalidInput):
        services.update_incident(thai_incident.pk, user=world.thai_analyst, owner=world.my)


def test_non_cii_sectors_are_not_flagged(world):
    incident = make_incident(world.thai_analyst, sectors=["education", "retail"])
    assert incident.cii is False
    assert make_incident(world.thai_analyst, sectors=["energy"]).cii is True


def test_bad_classification_is_refused(world):
    with pytest.raises(InvalidInput) as bad:
        make_incident(world.thai_analyst, type="alien-invasion")
    assert bad.value.field == "type"
    assert make_incident(world.thai_analyst, type="c&c").type == "c2-server"


def test_markdown_is_sanitised_on_output(world, api):
    incident = make_incident(world.thai_analyst, description=(
        "**Bold** <script>alert(1)</script> [x](javascript:alert(1)) "
        "<img src=x onerror=alert(1)> [ok](https://example.org)"))
    html = api.get(world.thai_analyst, f"/{incident.pk}").json()["description_html"]
    assert "<strong>Bold</strong>" in html
    assert "<script" not in html
    assert "<img" not in html
    assert 'href="javascript' not in html
    assert 'href="https://example.org"' in html
    assert "noopener" in html
    services.add_comment(incident.pk, "<b onclick=x>hi</b> _there_", user=world.thai_analyst)
    comment = api.get(world.thai_analyst, f"/{incident.pk}/timeline").json()["items"][-1]
    assert "<b " not in comment["text_html"]
    assert "<em>there</em>" in comment["text_html"]


def test_attachments_are_hashed_limited_and_outside_the_web_root(world, thai_incident,
                                                                 settings, api):
    content = b"From: attacker@example.com\n" * 10
    attachment = services.add_attachment(thai_incident.pk, user=world.thai_analyst,
                                         filename="../../etc/passwd", content=content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.size == len(content)
    assert attachment.filename == "passwd"
    path = storage.path_for(attachment.sha256)
    assert path.read_bytes() == content
    assert str(path).startswith(str(settings.DATA_DIR))
    assert not str(path).startswith(
        str(settings.STATIC_ROOT))
    settings.INCIDENT_ATTACHMENT_MAX_MB = 1
    with pytest.raises(InvalidInput, match="larger than 1 MB"):
        services.add_attachment(thai_incident.pk, user=world.thai_analyst, filename="big.bin",
                                content=b"x" * (1024 * 1024 + 1))
    response = api.upload(world.thai_analyst, f"/{thai_incident.pk}/attachments", "big.bin",
                          b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert Attachment.unrestricted.count() == 1
    # The download is audited.
    api.get(world.thai_analyst, f"/attachments/{attachment.pk}")
    assert AuditEntry.objects.filter(object_type="incidents.attachment",
                                     action="export").count() == 1


def test_triage_assignment_hands_the_report_to_a_member(world):
    incident = intake._triage_incident(
        title="Defacement of a ministry site", description="see subject", source="public_form",
        reporter_name="", reporter_email="")
    with pytest.raises(NotFound):
        services.assign_incident(incident.pk, world.thai, user=world.thai_analyst)
    services.assign_incident(incident.pk, world.thai, user=world.hub_admin)
    incident = Incident.unrestricted.get(pk=incident.pk)
    assert incident.owner == world.thai
    assert not incident.in_triage
    assert Incident.objects.visible_to(world.thai_analyst).filter(pk=incident.pk).exists()
    assert Incident.objects.visible_to(world.hub_admin).filter(pk=incident.pk).exists()
    assert list(queries.triage_queue(world.hub_admin)) == []
    # ThaiCERT now owns and edits it; the hub follows but no longer edits.
    services.set_status(incident.pk, "in_progress", user=world.thai_analyst)
    with pytest.raises(PermissionDenied):
        services.set_status(incident.pk, "closed", user=world.hub_admin)
    assert "assigned" in _kinds(incident)


def test_tasks(world, thai_incident):
    due = timezone.now() + dt.timedelta(days=1)
    task = services.add_task(thai_incident.pk, user=world.thai_analyst, title="Call hoster",
                             assignee=world.thai_admin, due=due)
    with pytest.raises(InvalidInput):
        services.add_task(thai_incident.pk, user=world.thai_analyst, title="x",
                          assignee=world.my_analyst)
    done = services.update_task(task.pk, user=world.thai_analyst, done=True)
    assert done.done
    assert done.done_at
    with pytest.raises(NotFound):
        services.update_task(task.pk, user=world.sg_analyst, done=False)
    assert _kinds(thai_incident).count("task") == 2


def test_links_show_only_what_the_viewer_may_see(world, thai_incident):
    report = intel_services.create_report(user=world.thai_analyst, title="Kit analysis",
                                          tlp="amber", observables=[("", "198.51.100.23")])
    services.link_report(thai_incident.pk, report.pk, user=world.thai_analyst)
    observable = report.observables(manager="unrestricted").get()
    indicator = services.link_observable(thai_incident.pk, observable.pk,
                                         user=world.thai_analyst)
    assert indicator.observable_id == observable.pk
    # MyCERT receives a request: it sees the incident but not ThaiCERT's report.
    services.create_request(thai_incident.pk, user=world.thai_analyst, to_org=world.my,
                            text="FYI")
    assert [r.pk for r in queries.linked_reports(world.thai_analyst, thai_incident)] == [
        report.pk]
    assert queries.linked_reports(world.my_analyst, thai_incident) == []
    # Nobody links what they cannot see.
    other = intel_services.create_report(user=world.sg_analyst, title="SG only", tlp="amber")
    with pytest.raises(NotFound):
        services.link_report(thai_incident.pk, other.pk, user=world.thai_analyst)


def test_a_value_of_a_stricter_report_of_another_organisation_is_not_copied(world,
                                                                             thai_incident):
    """The linked value becomes an indicator that the incident's whole audience sees."""
    strict = intel_services.create_report(user=world.my_analyst, title="MY strict",
                                          tlp="amber+strict", audience_orgs=[world.thai],
                                          observables=[("", "198.51.100.77")])
    observable = strict.observables(manager="unrestricted").get()
    with pytest.raises(InvalidInput):
        services.link_observable(thai_incident.pk, observable.pk, user=world.thai_analyst)
    assert not thai_incident.indicators(manager="unrestricted").filter(
        value="198.51.100.77").exists()
    shared = intel_services.create_report(user=world.my_analyst, title="MY amber", tlp="amber",
                                          audience_orgs=[world.thai],
                                          observables=[("", "198.51.100.78")])
    services.link_observable(thai_incident.pk,
                             shared.observables(manager="unrestricted").get().pk,
                             user=world.thai_analyst)


def test_link_finding(world, thai_incident):
    feed = Feed.objects.create(name="test-feed", source_kind="file", location="/dev/null",
                               parser="csv")
    run = FeedRun.objects.create(feed=feed, status=RunStatus.SUCCEEDED)
    now = timezone.now()
    finding = Finding.objects.create(
        feed=feed, run=run, line=1, created=now, expires_at=now + dt.timedelta(days=9),
        taxonomy="malicious-code", type="infected-system", value_type="ip",
        value="175.136.10.99", tlp="amber", dedupe_key=1, organisation=world.thai)
    services.link_finding(thai_incident.pk, finding.pk, user=world.thai_analyst)
    assert [f.pk for f in queries.linked_findings(world.thai_analyst, thai_incident)] == [
        finding.pk]
    assert ("ipv4-addr", "175.136.10.99") in {
        (i.type, i.value) for i in queries.indicators(world.thai_analyst, thai_incident)}
    services.create_request(thai_incident.pk, user=world.thai_analyst, to_org=world.my,
                            text="FYI")
    assert queries.linked_findings(world.my_analyst, thai_incident) == []


def test_viewer_and_outsider_cannot_create(world):
    with pytest.raises(PermissionDenied):
        make_incident(world.thai_viewer)
    assert Incident.unrestricted.count() == 0
