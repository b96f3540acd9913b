"""The suite catches leaks: run its checks against deliberately leaky pages."""

from __future__ import annotations

from django.test import Client, override_settings

from certhub.directory.models import Contact

from . import checks, walker


@override_settings(ROOT_URLCONF="tests.leak.leaky_urls")
def test_the_checks_catch_each_kind_of_leak(leak_world):
    openapi = walker.openapi_endpoints(Client())
    pages, _ = walker.urlconf_endpoints(openapi)
    leaky = [e for e in pages if e.template.startswith("/leaky/")]
    assert len(leaky) >= 3  # found by walking the URLconf, not listed by hand
    requests = [r for endpoint in leaky for r in walker.requests_for(endpoint, leak_world)]
    client = Client(raise_request_exception=False)
    client.force_login(leak_world.world.my_analyst)
    hidden = leak_world.invisible_to(leak_world.world.my_analyst)
    answers = checks.walk(client, requests)

    bodies = checks.body_leaks("outsider", answers, hidden)
    existence = checks.existence_leaks("outsider", client, answers, hidden)
    counts = checks.count_leaks("outsider", client, leak_world, answers, hidden)

    hidden_contacts = {f for f in hidden if f.registration.model is Contact}
    assert len(hidden_contacts) == 4  # GREEN and AMBER for ThaiCERT, AMBER+STRICT, RED
    for fixture in hidden_contacts:
        assert any("/leaky/list/" in line and fixture.marker in line for line in bodies)
    assert any("/leaky/contact/" in line and "403 where 404 is required" in line
               for line in existence)
    assert any("/leaky/count/" in line for line in counts)
    assert not any("/leaky/contact/" in line for line in bodies)  # it hides the names


@override_settings(ROOT_URLCONF="tests.leak.leaky_urls")
def test_the_checks_catch_a_write_to_anothers_record(leak_world):
    endpoint = walker.Endpoint("post", "/leaky/contact/{pk}/", (("pk", "int"),))
    requests = list(walker.requests_for(endpoint, leak_world))
    client = Client(raise_request_exception=False)
    client.force_login(leak_world.world.my_analyst)
    hidden = leak_world.invisible_to(leak_world.world.my_analyst)
    findings = checks.write_leaks("outsider", client, leak_world, requests, hidden)
    contacts = [f for f in leak_world.fixtures if f.registration.model is Contact]
    for fixture in contacts:
        assert any(f"changed {fixture}" in line for line in findings), fixture
    assert any("succeeded (204)" in line for line in findings)
