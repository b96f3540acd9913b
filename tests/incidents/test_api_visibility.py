"""Who sees an incident through the API: an analyst of an organisation outside the audience
gets 404 for the incident, its timeline, tasks, attachments, requests, indicators and
suggestions, exactly as for an id that does not exist; lists and counts leave it out. The
receiving organisation of a request sees the incident once the request is sent."""

from __future__ import annotations

import pytest

from certhub.incidents import services

from .conftest import make_incident

NONEXISTENT = 999_999_937


@pytest.fixture
def setup(world, thai_incident):
    task = services.add_task(thai_incident.pk, user=world.thai_analyst, title="Contact hoster")
    attachment = services.add_attachment(thai_incident.pk, user=world.thai_analyst,
                                         filename="evidence.txt", content=b"secret evidence")
    services.add_comment(thai_incident.pk, "First look: *kit v2*", user=world.thai_analyst)
    req = services.create_request(thai_incident.pk, user=world.thai_analyst, to_org=world.my,
                                  text="Please take down the phishing page.", kind="takedown")
    return thai_incident, task, attachment, req


def _reads(incident, attachment, req) -> list[str]:
    return [f"/{incident.pk}", f"/{incident.pk}/timeline", f"/{incident.pk}/tasks",
            f"/{incident.pk}/attachments", f"/attachments/{attachment.pk}",
            f"/{incident.pk}/requests", f"/requests/{req.pk}", f"/{incident.pk}/indicators",
            f"/{incident.pk}/suggested-recipients"]


def test_outsider_gets_404_for_everything_of_the_incident(world, api, setup):
    incident, _task, attachment, req = setup
    for path in _reads(incident, attachment, req):
        response = api.get(world.sg_analyst, path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
        missing = api.get(world.sg_analyst, path.replace(str(incident.pk), str(NONEXISTENT))
                          .replace(str(attachment.pk), str(NONEXISTENT))
                          .replace(str(req.pk), str(NONEXISTENT)))
        assert missing.status_code == 404, path
        assert missing.json() == response.json(), path


def test_outsider_writes_are_404_too(world, api, setup):
    incident, task, _attachment, req = setup
    for path, body in [(f"/{incident.pk}/comments", {"text": "hi"}),
                       (f"/{incident.pk}/status", {"status": "closed"}),
                       (f"/{incident.pk}/tasks", {"title": "x"}),
                       (f"/{incident.pk}/requests", {"to_org": "SingCERT", "text": "x"}),
                       (f"/requests/{req.pk}/accept", {}),
                       (f"/requests/{req.pk}/decline", {"reason": "no"})]:
        assert api.post(world.sg_analyst, path, body).status_code == 404, path
    assert api.patch(world.sg_analyst, f"/tasks/{task.pk}", {"done": True}).status_code == 404


def test_lists_and_counts_leave_it_out(world, api, setup):
    incident, *_ = setup
    own = make_incident(world.sg_analyst, title="SingCERT's own")
    body = api.get(world.sg_analyst, "/").json()
    assert body["count"] == 1
    assert [i["id"] for i in body["items"]] == [own.pk]
    assert api.get(world.sg_analyst, "/requests", direction="all").json()["count"] == 0
    timeliness = api.get(world.sg_analyst, "/timeliness").json()
    assert timeliness["rows"] == []
    assert timeliness["overdue"] == []
    assert api.get(None, "/").json()["count"] == 0
    assert api.get(None, f"/{incident.pk}").status_code == 404


def test_receiving_organisation_sees_the_incident_and_its_parts(world, api, setup):
    incident, _task, attachment, req = setup
    for path in _reads(incident, attachment, req):
        assert api.get(world.my_analyst, path).status_code == 200, path
    detail = api.get(world.my_analyst, f"/{incident.pk}").json()
    assert "MyCERT" in detail["audience_orgs"]
    assert "MyCERT" in detail["involved_orgs"]
    assert detail["editable"] is False
    download = api.get(world.my_analyst, f"/attachments/{attachment.pk}")
    assert b"".join(download.streaming_content) == b"secret evidence"
    assert download["Content-Disposition"].startswith("attachment")


def test_owner_viewer_reads_but_cannot_write(world, api, setup):
    incident, *_ = setup
    assert api.get(world.thai_viewer, f"/{incident.pk}").status_code == 200
    response = api.post(world.thai_viewer, f"/{incident.pk}/comments", {"text": "hi"})
    assert response.status_code == 403


def test_red_incident_is_seen_by_named_people_only(world, api):
    incident = make_incident(world.thai_analyst, tlp="red", audience_users=[world.thai_viewer])
    assert api.get(world.thai_viewer, f"/{incident.pk}").status_code == 200
    assert api.get(world.thai_admin, f"/{incident.pk}").status_code == 404
    assert api.get(world.my_analyst, f"/{incident.pk}").status_code == 404
