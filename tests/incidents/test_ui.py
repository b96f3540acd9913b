"""The incident pages through the Django test client: who sees what (404 for outsiders), the
actions an analyst takes, the public report form and the timeliness charts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from certhub.incidents import challenge, services
from certhub.incidents.models import CoordinationRequest, Incident, RequestStatus, TimelineEntry
from certhub.sharing.tlp import TLP

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(world):
    """A ThaiCERT incident at TLP:AMBER for ThaiCERT only, with a comment, a task and a file."""
    found = services.create_incident(user=world.thai_analyst, title="Phishing wave on banks",
                                     tlp=TLP.AMBER, description="**Bold** <script>x</script>",
                                     severity="high", sectors=["banking"], countries=["TH"],
                                     indicators=["phish.example.com"])
    services.add_comment(found.pk, "First *look*.", user=world.thai_analyst)
    services.add_task(found.pk, user=world.thai_analyst, title="Collect headers",
                      assignee=world.thai_analyst, due=timezone.now() + dt.timedelta(days=1))
    services.add_attachment(found.pk, user=world.thai_analyst, filename="headers.txt",
                            content=b"Received: from x", content_type="text/plain")
    return found


def _page_urls(incident) -> dict[str, str]:
    attachment = incident.attachments.model.unrestricted.filter(incident=incident).first()
    return {
        "page": reverse("web:incident", args=[incident.pk]),
        "timeline": reverse("web:incident_timeline", args=[incident.pk]),
        "requests": reverse("web:incident_request_list", args=[incident.pk]),
        "attachments": reverse("web:incident_attachments", args=[incident.pk]),
        "attachment": reverse("web:incident_attachment", args=[incident.pk, attachment.pk]),
    }


def test_owner_sees_the_incident_page(client, world, incident):
    client.force_login(world.thai_analyst)
    response = client.get(reverse("web:incident", args=[incident.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Phishing wave on banks" in body
    assert "<strong>Bold</strong>" in body
    assert "<script>x</script>" not in body
    assert "Collect headers" in body
    assert "headers.txt" in body
    assert "<em>look</em>" in body  # the comment, rendered
    assert 'data-shortcut="c"' in body
    assert 'id="shortcut-help"' in body
    assert "CII" in body  # banking is a CII sector


@pytest.mark.parametrize("name", ["page", "timeline", "requests", "attachments", "attachment"])
def test_outsider_gets_404_everywhere(client, world, incident, name):
    client.force_login(world.sg_analyst)  # SingCERT: not in the audience
    assert client.get(_page_urls(incident)[name]).status_code == 404
    client.force_login(world.thai_analyst)
    assert client.get(_page_urls(incident)[name]).status_code == 200


def test_outsider_cannot_act_and_learns_nothing(client, world, incident):
    client.force_login(world.sg_analyst)
    for name, data in [("web:incident_comment", {"text": "hi"}),
                       ("web:incident_status", {"status": "closed"}),
                       ("web:incident_add_value", {"value": "1.2.3.4"})]:
        assert client.post(reverse(name, args=[incident.pk]), data).status_code == 404
    assert not TimelineEntry.unrestricted.filter(incident=incident, text="hi").exists()


def test_attachment_download(client, world, incident):
    client.force_login(world.thai_analyst)
    response = client.get(_page_urls(incident)["attachment"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"Received: from x"
    assert "attachment" in response["Content-Disposition"]


MALAYSIAN_ADDRESS = "175.139.10.20"  # TM Net, Malaysia (APNIC)


def test_request_flow_addressed_by_the_lookup(client, world, incident):
    """ThaiCERT adds a Malaysian address, the lookup names MyCERT, the request goes there;
    MyCERT acknowledges and completes it; the timeline tells each step."""
    from tests.conftest import add_constituency

    from certhub.directory import lookup

    add_constituency(world.my, "prefix", "175.136.0.0/14")
    lookup.invalidate()
    client.force_login(world.thai_analyst)
    response = client.post(reverse("web:incident_add_value", args=[incident.pk]),
                           {"value": MALAYSIAN_ADDRESS}, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert re.search(r"The directory names <strong>MyCERT</strong>", body)
    # the request form's recipient is MyCERT
    assert re.search(rf'<option value="{world.my.pk}" selected>MyCERT</option>', body)
    response = client.post(reverse("web:incident_request_send", args=[incident.pk]),
                           {"to_org": world.my.pk, "kind": "takedown",
                            "text": "Please take down the phishing kit."}, follow=True)
    assert response.status_code == 200
    req = CoordinationRequest.unrestricted.get(incident=incident)
    assert req.to_org == world.my
    assert "Request sent to MyCERT." in response.content.decode()

    client.force_login(world.my_analyst)
    page = client.get(reverse("web:incident", args=[incident.pk])).content.decode()
    assert "Acknowledge and accept" in page
    client.post(reverse("web:incident_request_accept", args=[incident.pk, req.pk]))
    client.post(reverse("web:incident_request_complete", args=[incident.pk, req.pk]),
                {"note": "Kit removed."})
    req.refresh_from_db()
    assert req.status == RequestStatus.COMPLETED
    assert req.acknowledged_at
    assert req.completed_at
    timeline = client.get(reverse("web:incident_timeline", args=[incident.pk])).content.decode()
    for step in ["sent coordination request", "acknowledged and accepted",
                 "completed coordination request", "Kit removed."]:
        assert step in timeline
    assert len(re.findall(r"<time datetime=", timeline)) >= 5


def test_decline_needs_a_reason_and_shows_it(client, world, incident):
    req = services.create_request(incident.pk, user=world.thai_analyst, to_org=world.my,
                                  text="Block it.", kind="block")
    client.force_login(world.my_analyst)
    url = reverse("web:incident_request_decline", args=[incident.pk, req.pk])
    response = client.post(url, {"reason": ""}, follow=True)
    assert "Not saved" in response.content.decode()
    req.refresh_from_db()
    assert req.status == RequestStatus.OPEN
    response = client.post(url, {"reason": "Not our constituency."}, follow=True)
    req.refresh_from_db()
    assert req.status == RequestStatus.DECLINED
    assert "Not our constituency." in response.content.decode()


def test_only_the_recipient_answers(client, world, incident):
    req = services.create_request(incident.pk, user=world.thai_analyst, to_org=world.my,
                                  text="Block it.", kind="block")
    client.force_login(world.thai_analyst)  # sees it, may not answer it: 403
    url = reverse("web:incident_request_accept", args=[incident.pk, req.pk])
    assert client.post(url).status_code == 403
    client.force_login(world.sg_analyst)  # does not see it: 404
    assert client.post(url).status_code == 404


def test_comment_status_reopen_and_task(client, world, incident):
    client.force_login(world.thai_analyst)
    url = reverse("web:incident", args=[incident.pk])
    client.post(reverse("web:incident_comment", args=[incident.pk]), {"text": "Looking."})
    client.post(reverse("web:incident_status", args=[incident.pk]), {"status": "closed"})
    client.post(reverse("web:incident_status", args=[incident.pk]),
                {"status": "in_progress", "note": "It came back."})
    client.post(reverse("web:incident_task_add", args=[incident.pk]),
                {"title": "Notify the registrar", "assignee": world.thai_analyst.pk,
                 "due": "2030-01-02T10:00"})
    body = client.get(url).content.decode()
    assert "Looking." in body
    assert "reopened the incident" in body
    assert "It came back." in body
    assert "Notify the registrar" in body
    incident.refresh_from_db()
    assert incident.status == "in_progress"


def test_bad_input_is_shown_next_to_the_field(client, world, incident):
    client.force_login(world.thai_analyst)
    response = client.post(reverse("web:incident_add_value", args=[incident.pk]),
                           {"value": "not a value!"})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    response = client.post(reverse("web:incident_comment", args=[incident.pk]), {"text": ""})
    assert response.status_code == 400


def test_viewer_sees_no_forms(client, world, incident):
    client.force_login(world.thai_viewer)
    body = client.get(reverse("web:incident", args=[incident.pk])).content.decode()
    assert "Phishing wave on banks" in body
    assert 'id="comment"' not in body
    assert 'id="new-request"' not in body
    assert client.post(reverse("web:incident_comment", args=[incident.pk]),
                       {"text": "x"}).status_code == 403


# --- list, triage ------------------------------------------------------------------------------

def test_list_filters(client, world, incident):
    services.create_incident(user=world.thai_analyst, title="Defacement", tlp=TLP.GREEN,
                             severity="low")
    client.force_login(world.thai_analyst)
    url = reverse("web:incidents")
    body = client.get(url).content.decode()
    assert "Phishing wave on banks" in body
    assert "Defacement" in body
    for query, shown, hidden in [({"severity": "low"}, "Defacement", "Phishing wave"),
                                 ({"tlp": "amber"}, "Phishing wave", "Defacement"),
                                 ({"q": "phishing"}, "Phishing wave", "Defacement"),
                                 ({"status": "closed"}, None, "Defacement")]:
        body = client.get(url, query).content.decode()
        if shown:
            assert shown in body, query
        assert hidden not in body, query
    client.force_login(world.sg_analyst)
    body = client.get(url).content.decode()
    assert "Phishing wave" not in body
    assert "Defacement" in body


def test_new_incident_form(client, world):
    client.force_login(world.thai_analyst)
    response = client.post(reverse("web:incident_new"), {
        "title": "Ransomware at a hospital", "severity": "critical", "tlp": "amber",
        "sectors": ["health"], "countries": "TH", "indicators": "evil.example.net"})
    incident = Incident.unrestricted.get(title="Ransomware at a hospital")
    assert response.status_code == 302
    assert response["Location"].endswith(f"/{incident.pk}/")
    assert incident.cii
    assert incident.owner == world.thai
    response = client.post(reverse("web:incident_new"), {"title": "", "severity": "low",
                                                         "tlp": "amber"})
    assert response.status_code == 400


def test_triage_queue_and_assign(client, world):
    found = _public_report(client, title="Scam site", description="See http://scam.example.my/")
    assert found.in_triage
    client.force_login(world.thai_analyst)
    assert client.get(reverse("web:incident_triage")).status_code == 404  # the hub's queue
    from tests.conftest import make_user

    client.force_login(make_user(world.hub, "analyst"))
    body = client.get(reverse("web:incident_triage")).content.decode()
    assert "Scam site" in body
    response = client.post(reverse("web:incident_assign", args=[found.pk]),
                           {"organisation": world.my.pk}, follow=True)
    assert "Assigned to MyCERT." in response.content.decode()
    found.refresh_from_db()
    assert found.owner == world.my
    assert not found.in_triage


# --- the public form ---------------------------------------------------------------------------

def _form_fields(client) -> dict:
    body = client.get(reverse("web:incident_report")).content.decode()
    token = re.search(r'name="challenge_token" value="([^"]+)"', body).group(1)
    bits = int(re.search(r'data-challenge-bits="(\d+)"', body).group(1))
    return {"challenge_token": token, "challenge_solution": challenge.solve(token, bits)}


def _public_report(client, **fields) -> Incident:
    client.logout()
    data = {**_form_fields(client), "reporter_email": "someone@example.org", **fields}
    response = client.post(reverse("web:incident_report"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Incident.unrestricted.get(title=fields["title"])


def test_public_form_is_reachable_anonymously(client, world):
    response = client.get(reverse("web:incident_report"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "challenge.js" in body
    assert "What is" in body
    # the page is the same on reload (the challenge is kept in the session)
    def without_csrf(text):
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)

    again = client.get(reverse("web:incident_report")).content.decode()
    assert without_csrf(again) == without_csrf(body)


def test_public_form_valid_report_lands_in_triage(client, world):
    found = _public_report(client, title="Phishing page", description="At https://x.example.th/",
                           country="th")
    assert found.in_triage
    assert found.owner == world.hub
    assert found.countries == ["TH"]
    assert found.source == "public_form"


def test_public_form_accepts_the_question_instead_of_proof_of_work(client, world):
    body = client.get(reverse("web:incident_report")).content.decode()
    token = re.search(r'name="challenge_token" value="([^"]+)"', body).group(1)
    a, b = map(int, re.search(r"What is (\d+) plus (\d+)\?", body).groups())
    response = client.post(reverse("web:incident_report"), {
        "challenge_token": token, "challenge_answer": str(a + b), "title": "By hand",
        "description": "No JavaScript here."})
    assert response.status_code == 302
    assert Incident.unrestricted.filter(title="By hand", in_triage=True).exists()


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"title": "", "description": "x"}, "title", "This field is required"),
    ({"title": "T" * 201, "description": "x"}, "title", "Keep the summary to 200 characters"),
    ({"title": "Big", "description": "x" * 20_001}, "description", "The details are too long"),
    ({"title": "Mail", "description": "x", "reporter_email": "not-an-email"}, "reporter_email",
     "Enter a valid email address"),
    ({"title": "Country", "description": "x", "country": "Thailand"}, "country",
     "Give the country as two letters"),
    ({"title": "Bot", "description": "x", "website": "http://spam"}, "website",
     "Leave this field empty"),
])
def test_public_form_refuses_bad_input_and_stores_nothing(client, world, fields, field, message):
    data = {**_form_fields(client), "reporter_email": "", **fields}
    response = client.post(reverse("web:incident_report"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "The report was not sent" in body
    assert not Incident.unrestricted.exists()


def test_public_form_refuses_an_unsolved_challenge(client, world):
    body = client.get(reverse("web:incident_report")).content.decode()
    token = re.search(r'name="challenge_token" value="([^"]+)"', body).group(1)
    response = client.post(reverse("web:incident_report"), {
        "challenge_token": token, "challenge_solution": "nope", "challenge_answer": "999",
        "title": "Spam", "description": "Buy now"})
    assert response.status_code == 400
    assert "anti-robot check failed" in response.content.decode()
    assert not Incident.unrestricted.exists()


def test_public_form_is_rate_limited(client, world, settings):
    settings.PUBLIC_REPORT_RATE = "2/h"
    for n in range(2):
        _public_report(client, title=f"Report {n}", description="x")
    data = {**_form_fields(client), "title": "Third", "description": "x"}
    response = client.post(reverse("web:incident_report"), data)
    assert response.status_code == 429
    assert "Too many reports from your address" in response.content.decode()
    assert not Incident.unrestricted.filter(title="Third").exists()


# --- timeliness ------------------------------------------------------------------------------

def test_timeliness_page_renders_the_charts(client, world, incident):
    for org in (world.my, world.sg):
        req = services.create_request(incident.pk, user=world.thai_analyst, to_org=org,
                                      text="Act.", kind="investigate")
        user = world.my_analyst if org == world.my else world.sg_analyst
        services.accept_request(req.pk, user=user)
        services.complete_request(req.pk, user=user)
    client.force_login(world.thai_analyst)
    response = client.get(reverse("web:incident_timeliness"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('<svg class="chart') == 4
    assert body.count("<title id=") == 4
    assert body.count("<desc id=") == 4
    assert "MyCERT" in body
    assert "SingCERT" in body
    assert body.count('<table class="table chart-table">') == 4  # the table fallback
    # an outsider's charts do not count requests of incidents they may not see
    client.force_login(world.partner_analyst)
    body = client.get(reverse("web:incident_timeliness")).content.decode()
    assert '<svg class="chart' not in body
    assert "No coordination request" in body


def test_classification_sharing_involved_and_links(client, world, incident):
    from tests.intel.factories import make_report

    report = make_report(world.thai, TLP.GREEN, world.thai_analyst)
    client.force_login(world.thai_analyst)
    pk = incident.pk
    client.post(reverse("web:incident_classify", args=[pk]), {
        "severity": "critical", "taxonomy": "fraud", "type": "phishing", "countries": "th, my",
        "sectors": ["health", "education"]})
    client.post(reverse("web:incident_audience", args=[pk]),
                {"tlp": "amber", "audience_orgs": "ThaiCERT SingCERT"})
    client.post(reverse("web:incident_add_involved", args=[pk]), {"organisation": world.my.pk})
    client.post(reverse("web:incident_add_link", args=[pk]), {"what": "report",
                                                              "number": report.pk})
    incident.refresh_from_db()
    assert incident.severity == "critical"
    assert incident.type == "phishing"
    assert incident.countries == ["TH", "MY"]
    assert set(incident.audience_orgs.values_list("short_name", flat=True)) >= {"SingCERT"}
    assert list(incident.involved_orgs.all()) == [world.my]
    body = client.get(reverse("web:incident", args=[pk])).content.decode()
    assert report.title in body
    assert "severity: high → critical" in body
    assert "named MyCERT as involved" in body
    # a report number that does not exist (or is not visible) is refused at the field
    response = client.post(reverse("web:incident_add_link", args=[pk]),
                           {"what": "report", "number": 999_999})
    assert response.status_code == 400
    assert "There is no record with this number that you may see." in response.content.decode()
    # SingCERT is in the audience now, and MyCERT through the involvement
    for user in (world.sg_analyst, world.my_analyst):
        client.force_login(user)
        assert client.get(reverse("web:incident", args=[pk])).status_code == 200


def test_public_form_refuses_a_huge_body_and_stores_nothing(client, world):
    data = {**_form_fields(client), "title": "Huge", "description": "x" * 3_000_000}
    response = client.post(reverse("web:incident_report"), data)
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()
    assert not Incident.unrestricted.exists()


def test_list_answers_htmx_with_the_results_only(client, world, incident):
    client.force_login(world.thai_analyst)
    response = client.get(reverse("web:incidents"), {"q": "phishing"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body
    assert "Phishing wave on banks" in body
    assert "HX-Request" in response["Vary"]


def test_request_inbox_lists_incoming_and_outgoing(client, world, incident):
    services.create_request(incident.pk, user=world.thai_analyst, to_org=world.my,
                            text="Investigate.", kind="investigate")
    client.force_login(world.my_analyst)
    body = client.get(reverse("web:incident_requests")).content.decode()
    assert "Phishing wave on banks" in body
    assert "1 request" in body
    body = client.get(reverse("web:incident_requests"), {"direction": "outgoing"}).content
    assert b"Phishing wave on banks" not in body
    client.force_login(world.sg_analyst)
    body = client.get(reverse("web:incident_requests"), {"direction": "all"}).content
    assert b"Phishing wave on banks" not in body


def test_pages_render_in_thai(client, world, incident, settings):
    services.create_request(incident.pk, user=world.thai_analyst, to_org=world.my,
                            text="Investigate.", kind="investigate")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "th"
    client.force_login(world.thai_analyst)
    for url in [reverse("web:incidents"), reverse("web:incident", args=[incident.pk]),
                reverse("web:incident_requests"), reverse("web:incident_timeliness"),
                reverse("web:incident_report"), reverse("web:incident_new")]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="th">' in response.content.decode(), url
