"""Coordination requests: create → accept → complete, decline with a reason, who may answer,
the clocks from the severity targets, the audience they open, and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest

from certhub.audit.models import AuditEntry
from certhub.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from certhub.incidents import clocks, queries, services
from certhub.incidents.models import CoordinationRequest, Incident, RequestStatus, TimelineEntry

from .conftest import make_incident


def _audit(obj, action):
    return AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk),
                                     action=action)


def test_lifecycle_create_accept_complete(world, thai_incident, api):
    response = api.post(world.thai_analyst, f"/{thai_incident.pk}/requests",
                        {"to_org": "MyCERT", "kind": "takedown",
                         "text": "Please take down login-bank.example.my."})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["from_org"], body["to_org"]) == ("open", "ThaiCERT", "MyCERT")
    req = CoordinationRequest.unrestricted.get(pk=body["id"])
    ack, complete = clocks.targets()["high"]
    assert req.ack_due - req.created == ack
    assert req.complete_due - req.created == complete
    assert _audit(req, "create").exists()

    # Only the receiving organisation answers: not the sender, whoever there asks.
    assert api.post(world.thai_analyst, f"/requests/{req.pk}/accept").status_code == 403
    with pytest.raises(PermissionDenied):
        services.accept_request(req.pk, user=world.thai_admin)

    response = api.post(world.my_analyst, f"/requests/{req.pk}/accept", {"note": "On it."})
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert response.json()["acknowledged_at"] is not None
    assert api.post(world.my_analyst, f"/requests/{req.pk}/accept").status_code == 409

    response = api.post(world.my_analyst, f"/requests/{req.pk}/complete",
                        {"note": "Page removed by the hoster."})
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    req.refresh_from_db()
    assert req.completed_by == world.my_analyst
    assert req.completion_note
    assert _audit(req, "change").count() == 2
    actions = [e.details.get("action") for e in TimelineEntry.unrestricted.filter(
        incident=thai_incident, kind="request").order_by("at", "id")]
    assert actions == ["sent", "accepted", "completed"]


def test_decline_needs_a_reason(world, thai_incident, api):
    req = services.create_request(thai_incident.pk, user=world.thai_analyst, to_org=world.my,
                                  text="Please notify the affected bank.", kind="notify")
    response = api.post(world.my_analyst, f"/requests/{req.pk}/decline", {"reason": "  "})
    assert response.status_code == 400
    assert response.json()["field"] == "reason"
    response = api.post(world.my_analyst, f"/requests/{req.pk}/decline",
                        {"reason": "The bank is not in our constituency."})
    assert response.status_code == 200
    assert response.json()["status"] == "declined"
    assert response.json()["decline_reason"] == "The bank is not in our constituency."
    req.refresh_from_db()
    assert req.acknowledged_at is not None
    assert req.completed_at is None
    with pytest.raises(Conflict):
        services.complete_request(req.pk, user=world.my_analyst)


def test_sender_cancels(world, thai_incident):
    req = services.create_request(thai_incident.pk, user=world.thai_analyst, to_org=world.my,
                                  text="Block it.", kind="block")
    with pytest.raises(PermissionDenied):
        services.cancel_request(req.pk, user=world.my_analyst)
    assert services.cancel_request(req.pk, user=world.thai_analyst).status == "cancelled"


def test_request_makes_the_incident_visible_to_the_receiver(world, thai_incident):
    assert not Incident.objects.visible_to(world.my_analyst).filter(pk=thai_incident.pk).exists()
    services.create_request(thai_incident.pk, user=world.thai_analyst, to_org=world.my,
                            text="Please take down the server.")
    assert Incident.objects.visible_to(world.my_analyst).filter(pk=thai_incident.pk).exists()
    assert not Incident.objects.visible_to(world.sg_analyst).filter(pk=thai_incident.pk).exists()
    # MyCERT now takes part: it may comment, but not change the incident itself.
    services.add_comment(thai_incident.pk, "Looking.", user=world.my_analyst)
    with pytest.raises(PermissionDenied):
        services.set_status(thai_incident.pk, "closed", user=world.my_analyst)


def test_an_organisation_taken_out_of_the_audience_hears_no_more(world, thai_incident):
    """Being involved once is not enough to be told: notifications ask the sharing rule."""
    from certhub.notify.models import Notification

    services.add_involved_org(thai_incident.pk, world.my, user=world.thai_analyst)
    services.set_status(thai_incident.pk, "in_progress", user=world.thai_analyst)
    assert Notification.objects.filter(user=world.my_analyst).count() == 1
    services.update_incident(thai_incident.pk, user=world.thai_analyst, audience_orgs=[])
    assert not Incident.objects.visible_to(world.my_analyst).filter(pk=thai_incident.pk).exists()
    services.set_status(thai_incident.pk, "waiting", note="Waiting for the bank.",
                        user=world.thai_analyst)
    assert Notification.objects.filter(user=world.my_analyst).count() == 1


def test_green_community_incident_is_not_narrowed_by_a_request(world):
    incident = make_incident(world.thai_analyst, tlp="green")
    services.create_request(incident.pk, user=world.thai_analyst, to_org=world.my, text="FYI")
    incident.refresh_from_db()
    assert list(incident.audience_orgs.all()) == []
    assert Incident.objects.visible_to(world.sg_analyst).filter(pk=incident.pk).exists()


def test_red_incident_needs_a_named_person_of_the_receiver(world):
    incident = make_incident(world.thai_analyst, tlp="red")
    with pytest.raises(InvalidInput) as refused:
        services.create_request(incident.pk, user=world.thai_analyst, to_org=world.my,
                                text="Take it down.")
    assert refused.value.field == "audience_users"
    assert CoordinationRequest.unrestricted.count() == 0
    services.update_incident(incident.pk, user=world.thai_analyst,
                             audience_users=[world.my_analyst])
    req = services.create_request(incident.pk, user=world.thai_analyst, to_org=world.my,
                                  text="Take it down.")
    assert services.accept_request(req.pk, user=world.my_analyst).status == "accepted"


def test_only_the_owner_sends_requests_and_not_to_itself(world, thai_incident):
    with pytest.raises(NotFound):
        services.create_request(thai_incident.pk, user=world.sg_analyst, to_org=world.my,
                                text="x")
    with pytest.raises(InvalidInput):
        services.create_request(thai_incident.pk, user=world.thai_analyst, to_org=world.thai,
                                text="x")
    with pytest.raises(InvalidInput):
        services.create_request(thai_incident.pk, user=world.thai_analyst, to_org=world.my,
                                text="x", kind="nonsense")


def test_suggested_recipient_for_a_malaysian_address_is_mycert(world, api):
    incident = make_incident(world.thai_analyst, indicators=[("", "175.136.10.20")])
    response = api.get(world.thai_analyst, f"/{incident.pk}/suggested-recipients")
    assert response.status_code == 200
    assert [s["short_name"] for s in response.json()] == ["MyCERT"]
    assert response.json()[0]["value"] == "175.136.10.20"
    assert [s.short_name for s in queries.suggest_for_value("mail.example.com.my")] == ["MyCERT"]


def test_overdue_list(world, thai_incident, api):
    req = services.create_request(thai_incident.pk, user=world.thai_analyst, to_org=world.my,
                                  text="Please act.")
    later = req.created + dt.timedelta(hours=5)
    overdue = queries.overdue_requests(world.thai_analyst, now=later)
    assert [(r.pk, r.state) for r in overdue] == [(req.pk, "ack_overdue")]
    services.accept_request(req.pk, user=world.my_analyst)
    assert queries.overdue_requests(world.thai_analyst, now=later) == []
    much_later = req.created + dt.timedelta(days=4)
    assert [r.state for r in queries.overdue_requests(world.my_analyst, now=much_later)] == [
        "complete_overdue"]
    assert api.get(world.my_analyst, "/requests", direction="incoming").json()["count"] == 1
    assert api.get(world.thai_analyst, "/requests", direction="incoming").json()["count"] == 0
    req.refresh_from_db()
    assert req.status == RequestStatus.ACCEPTED
