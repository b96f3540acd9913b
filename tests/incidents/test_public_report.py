"""The public report form's backend: a valid report lands in the hub's triage queue;
malformed, oversized, unsolved, replayed or too frequent reports are refused with a clear
message and store nothing."""

from __future__ import annotations

import pytest

from certhub.audit.models import AuditEntry
from certhub.core.errors import InvalidInput
from certhub.incidents import challenge, queries, services
from certhub.incidents.models import Incident, UsedChallenge


def _solved():
    new = services.new_challenge()
    return {"challenge_token": new.token,
            "challenge_solution": challenge.solve(new.token, new.bits)}


def _report(**fields):
    data = {"title": "Scam website using our ministry's logo",
            "description": "The site hxxp://fake-ministry[.]example.com asks for ID numbers.",
            "reporter_name": "Citizen", "reporter_email": "citizen@example.org",
            "countries": ["th"], **_solved()}
    data.update(fields)
    return data


def _nothing_stored():
    assert Incident.unrestricted.count() == 0
    assert UsedChallenge.objects.count() == 0
    assert not AuditEntry.objects.filter(object_type="incidents.incident").exists()


def test_valid_report_lands_in_triage(world):
    incident = services.submit_public_report(**_report(), client_address="198.51.100.7")
    assert incident.owner == world.hub
    assert incident.in_triage
    assert incident.tlp == "amber"
    assert incident.countries == ["TH"]
    assert incident.source == "public_form"
    assert ("domain-name", "fake-ministry.example.com") in {
        (i.type, i.value) for i in incident.indicators(manager="unrestricted").all()}
    assert [i.pk for i in queries.triage_queue(world.hub_admin)] == [incident.pk]
    assert list(queries.incidents(world.thai_analyst)) == []
    assert AuditEntry.objects.filter(object_type="incidents.incident", action="create").exists()


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"title": "   "}, "title", "needs a title"),
    ({"title": "x" * 301}, "title", "longer than 300"),
    ({"description": ""}, "description", "required"),
    ({"description": "a" * 20_001}, "description", "20000"),
    ({"reporter_email": "not-an-email"}, "reporter_email", "not an email address"),
    ({"countries": ["XX"]}, "countries", "country code"),
    ({"description": "bad \x07 bell"}, "description", "control characters"),
    ({"challenge_solution": "nope"}, "challenge", "anti-robot"),
    ({"challenge_token": "forged:token:value"}, "challenge", "anti-robot"),
])
def test_bad_reports_are_refused_and_store_nothing(world, fields, field, words):
    with pytest.raises(InvalidInput) as refused:
        services.submit_public_report(**_report(**fields), client_address="198.51.100.7")
    assert refused.value.field == field
    assert words in refused.value.message
    _nothing_stored()


def test_question_answer_passes_without_proof_of_work(world, monkeypatch):
    new = services.new_challenge()
    a, b = [int(word) for word in new.question.rstrip("?").split() if word.isdigit()]
    data = _report(challenge_token=new.token, challenge_solution="", challenge_answer="999")
    with pytest.raises(InvalidInput):
        services.submit_public_report(**data)
    data["challenge_answer"] = str(a + b)
    assert services.submit_public_report(**data).in_triage


def test_a_solved_challenge_is_spent_once(world):
    data = _report()
    services.submit_public_report(**data, client_address="198.51.100.7")
    with pytest.raises(InvalidInput, match="already sent"):
        services.submit_public_report(**data, client_address="198.51.100.7")
    assert Incident.unrestricted.count() == 1


def test_rate_limit_per_address(world, settings):
    settings.PUBLIC_REPORT_RATE = "2/h"
    for _ in range(2):
        services.submit_public_report(**_report(), client_address="203.0.113.9")
    with pytest.raises(InvalidInput) as refused:
        services.submit_public_report(**_report(), client_address="203.0.113.9")
    assert refused.value.code == "rate_limited"
    services.submit_public_report(**_report(), client_address="203.0.113.10")
    assert Incident.unrestricted.count() == 3


def test_api_anonymous_form(world, api):
    new = api.get(None, "/public/challenge").json()
    assert new["bits"] == 8
    assert new["question"].startswith("What is")
    assert api.get(None, "/public/challenge").json() == new  # kept until spent
    data = _report(challenge_token=new["token"],
                   challenge_solution=challenge.solve(new["token"], new["bits"]))
    response = api.post(None, "/public/reports", data)
    assert response.status_code == 201, response.content
    assert response.json()["reference"].startswith("INC-")
    assert api.get(None, "/public/challenge").json()["token"] != new["token"]
    # Malformed: a clear 400 with the field, nothing stored.
    bad = api.post(None, "/public/reports", _report(reporter_email="x@"))
    assert bad.status_code == 400
    assert bad.json()["field"] == "reporter_email"
    oversized = api.post(None, "/public/reports", _report(description="a" * 200_000))
    assert oversized.status_code == 400
    assert oversized.json()["field"] == "description"
    missing = api.post(None, "/public/reports", {"title": "only a title"})
    assert missing.status_code == 400
    assert Incident.unrestricted.count() == 1
    # The anonymous caller learns nothing else: the incident itself is 404 to them.
    assert api.get(None, "/").json()["count"] == 0
