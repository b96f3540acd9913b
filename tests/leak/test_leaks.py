"""The leak suite: every URL and every API operation, as outsiders and as the owner.

As an analyst of an unrelated organisation (MyCERT), as an anonymous visitor, and (reads only)
as an analyst of a ThaiCERT client who may see its AMBER records but no others, no answer may
show a record the rule hides from them, tell that such a record exists (403 or any status other
than the one for a record that does not exist), or change when those records are removed
(counts, totals, correlations). Writes aimed at ThaiCERT's records change nothing. As the owner,
the same walk finds every record's marker: proof the walk reaches the records it checks.

New pages and operations are walked without editing this file; new shareable types are covered
once registered with ``certhub.sharing.registry`` (see docs/adding-a-model.md).
"""

from __future__ import annotations

import pytest
from django.test import Client

from certhub.sharing import registry

from . import checks, walker

OUTSIDERS = {"MyCERT analyst": "my_analyst", "anonymous visitor": None}
# Sees part of ThaiCERT's records: AMBER reaches the bank as ThaiCERT's client, nothing else does.
PARTIAL_READERS = {"ThaiCERT client's analyst": "bank_analyst"}


def client_for(leak, attribute) -> Client:
    client = Client(raise_request_exception=False)
    if attribute is not None:
        client.force_login(getattr(leak.world, attribute))
    return client


def principal(leak, attribute):
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser() if attribute is None else getattr(leak.world, attribute)


@pytest.fixture
def endpoints(leak_world):
    openapi = walker.openapi_endpoints(Client())
    pages, skipped = walker.urlconf_endpoints(openapi)
    return {"openapi": openapi, "pages": pages, "skipped": skipped}


def read_requests(endpoints, leak, source: str) -> list:
    chosen = [e for e in endpoints[source] if e.method == "get"]
    return [request for endpoint in chosen for request in walker.requests_for(endpoint, leak)]


def server_errors(who, answers) -> list[str]:
    return [f"{who} {request}: server error {answer.status}" for request, answer in answers
            if answer.status >= 500]


@pytest.mark.parametrize("who", [*OUTSIDERS, *PARTIAL_READERS])
@pytest.mark.parametrize("source", ["pages", "openapi"])
def test_reads_reveal_nothing_outside_the_audience(leak_world, endpoints, who, source):
    attribute = {**OUTSIDERS, **PARTIAL_READERS}[who]
    client = client_for(leak_world, attribute)
    hidden = leak_world.invisible_to(principal(leak_world, attribute))
    assert hidden, "the fixtures must hide something from an outsider"
    requests = read_requests(endpoints, leak_world, source)
    answers = checks.walk(client, requests)
    findings = (checks.body_leaks(who, answers, hidden)
                + checks.existence_leaks(who, client, answers, hidden)
                + checks.count_leaks(who, client, leak_world, answers, hidden)
                + server_errors(who, answers))
    assert not findings, "\n".join(findings)


@pytest.mark.parametrize("who", list(OUTSIDERS))
def test_writes_to_others_records_change_nothing(leak_world, endpoints, who):
    attribute = OUTSIDERS[who]
    client = client_for(leak_world, attribute)
    hidden = leak_world.invisible_to(principal(leak_world, attribute))
    requests = [request for endpoint in endpoints["openapi"] if endpoint.method != "get"
                for request in walker.requests_for(endpoint, leak_world)]
    assert requests
    findings = checks.write_leaks(who, client, leak_world, requests, hidden)
    assert not findings, "\n".join(findings)


def test_the_owner_finds_every_record_so_the_walk_can_see_leaks(leak_world, endpoints):
    """Positive control: as ThaiCERT's analyst (creator of them all) every marker shows up."""
    client = client_for(leak_world, "thai_analyst")
    requests = (read_requests(endpoints, leak_world, "pages")
                + read_requests(endpoints, leak_world, "openapi"))
    found = checks.markers_shown(checks.walk(client, requests), leak_world.fixtures)
    missing = [str(f) for f in leak_world.fixtures if f not in found]
    assert not missing, ("no page or API operation shows these records to their owner, so the "
                         "suite cannot notice them leaking: " + ", ".join(missing))


def test_outsiders_still_see_what_the_rule_gives_them(leak_world, endpoints):
    """The CLEAR and community-GREEN records reach MyCERT's analyst: the walk is not blind."""
    client = client_for(leak_world, "my_analyst")
    visible = leak_world.visible_to(leak_world.world.my_analyst)
    assert {f.variant for f in visible} == {"CLEAR", "GREEN community"}
    found = checks.markers_shown(
        checks.walk(client, read_requests(endpoints, leak_world, "openapi")), visible)
    assert {f.registration.label for f in found} == {r.label for r in registry.registered()}


def test_the_walk_covers_the_whole_urlconf(endpoints):
    """Every route is walked or skipped for a stated reason; the API from its OpenAPI document."""
    assert len(endpoints["openapi"]) > 20
    walked = {e.template for e in endpoints["pages"]}
    assert {"/", "/directory/", "/directory/{slug}/"} <= walked
    for route, reason in endpoints["skipped"]:
        assert reason, route
    assert all(route.startswith(("admin/", "i18n/")) for route, _ in endpoints["skipped"])


def test_admin_turns_members_away(leak_world):
    for attribute in OUTSIDERS.values():
        client = client_for(leak_world, attribute)
        for url in ("/admin/", "/admin/directory/contact/",
                    f"/admin/directory/contact/{leak_world.fixtures[-1].pk}/change/"):
            response = client.get(url)
            assert response.status_code == 302, url
            assert "/login/" in response["Location"]
            assert "LEAKMARK" not in response.content.decode()
