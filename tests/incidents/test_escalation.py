"""Overdue requests escalate exactly once per target: to the receiving organisation (users and
24/7 emergency contact) and to the hub, by email (Django's test outbox), however often the
escalation runs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command

from certhub.directory.models import Contact, ContactRole
from certhub.incidents import services, tasks
from certhub.incidents.models import CoordinationRequest, TimelineEntry

from .conftest import make_incident


@pytest.fixture
def overdue(world, django_capture_on_commit_callbacks):
    Contact.unrestricted.create(owner=world.my, created_by=None, tlp="amber",
                                role=ContactRole.EMERGENCY, name="MyCERT duty officer",
                                email="duty@mycert.example")
    incident = make_incident(world.thai_analyst, severity="critical")
    with django_capture_on_commit_callbacks(execute=True):
        req = services.create_request(incident.pk, user=world.thai_analyst, to_org=world.my,
                                      text="Please take down 175.136.10.20.", kind="takedown")
    mail.outbox.clear()
    return req


def _escalations(req):
    return TimelineEntry.unrestricted.filter(incident=req.incident, kind="escalation")


def test_overdue_request_escalates_exactly_once(world, overdue, django_capture_on_commit_callbacks):
    req = overdue
    assert req.ack_due - req.created == dt.timedelta(hours=1)  # critical: acknowledge in 1 h
    before = req.created + dt.timedelta(minutes=59)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_overdue(now=before) == []
    assert mail.outbox == []

    late = req.created + dt.timedelta(hours=1, minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        done = services.escalate_overdue(now=late)
    assert [(r.pk, which) for r, which in done] == [(req.pk, "acknowledge")]
    recipients = {address for message in mail.outbox for address in message.to}
    assert "duty@mycert.example" in recipients            # the 24/7 contact
    assert world.my_analyst.email in recipients           # the receiving organisation
    assert world.hub_admin.email in recipients            # the hub
    assert world.sg_analyst.email not in recipients
    subjects = {message.subject for message in mail.outbox}
    assert all("OVERDUE" in subject for subject in subjects)
    first_count = len(mail.outbox)

    # Again, and again later, by the beat task and the CLI too (the request is overdue at the
    # real clock as well): nothing more for the same target.
    CoordinationRequest.unrestricted.filter(pk=req.pk).update(
        ack_due=req.ack_due - dt.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_overdue(now=late + dt.timedelta(minutes=1)) == []
        tasks.escalate_overdue.delay()
        call_command("incidents", "escalate")
    assert len(mail.outbox) == first_count
    assert _escalations(req).count() == 1
    req.refresh_from_db()
    assert req.escalated_ack_at == late


def test_completion_target_escalates_separately_once(world, overdue,
                                                     django_capture_on_commit_callbacks):
    req = overdue
    with django_capture_on_commit_callbacks(execute=True):
        services.accept_request(req.pk, user=world.my_analyst)
    mail.outbox.clear()
    late = req.created + dt.timedelta(days=1, hours=1)  # critical: complete in 1 day
    with django_capture_on_commit_callbacks(execute=True):
        done = services.escalate_overdue(now=late)
        services.escalate_overdue(now=late + dt.timedelta(hours=1))
    assert [which for _r, which in done] == ["complete"]  # accepted: acknowledgement was met
    assert len({m.subject for m in mail.outbox}) == 1
    assert mail.outbox
    assert CoordinationRequest.unrestricted.get(pk=req.pk).escalated_complete_at == late


def test_answered_requests_do_not_escalate(world, overdue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.complete_request(overdue.pk, user=world.my_analyst, note="Done.")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_overdue(now=overdue.created + dt.timedelta(days=30)) == []
    assert mail.outbox == []


def test_beat_schedule_names_the_pinned_task(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["incidents-escalate"]
    assert entry["task"] == tasks.escalate_overdue.name == "certhub.incidents.escalate_overdue"


def test_red_incident_content_goes_to_named_people_only(world,
                                                        django_capture_on_commit_callbacks):
    from tests.conftest import make_user

    other = make_user(world.my, "viewer", email="viewer@mycert.example")
    incident = make_incident(world.thai_analyst, tlp="red", audience_users=[world.my_analyst])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.create_request(incident.pk, user=world.thai_analyst, to_org=world.my,
                                text="Secret: take down 175.136.10.20.")
    recipients = {address for message in mail.outbox for address in message.to}
    assert world.my_analyst.email in recipients
    assert other.email not in recipients
