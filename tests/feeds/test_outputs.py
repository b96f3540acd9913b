"""After each run, a signed "feeds.findings" webhook call per organisation that got findings,
received by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import pytest
from tests.notify.conftest import Receiver

from certhub.feeds import services
from certhub.feeds.models import Finding
from certhub.feeds.outputs import deliver_run_outputs
from certhub.notify import services as notify
from certhub.notify import webhooks
from certhub.notify.models import WebhookDelivery

from .conftest import SAMPLES, make_feed

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    server = Receiver()
    yield server
    server.close()


def test_run_sends_signed_findings_to_each_organisations_webhook(
        world, receiver, django_capture_on_commit_callbacks):
    _thai_hook, thai_secret = notify.create_webhook(world.thai_admin, world.thai, name="SIEM",
                                                   url=receiver.url, events=["feeds.*"])
    notify.create_webhook(world.hub_admin, world.my, name="MyCERT", url=receiver.url + "?my",
                          events=["feeds.findings"])
    notify.create_webhook(world.hub_admin, world.sg, name="SG", url=receiver.url + "?sg",
                          events=["incidents.*"])  # not subscribed
    feed = make_feed("shadow", "shadowserver-csv",
                     SAMPLES / "2025-03-02-scan_http-asean-geo.csv")
    with django_capture_on_commit_callbacks(execute=True):
        runs = services.run_feed(feed)  # the engine calls deliver_run_outputs on commit
    run = runs[0]
    by_path = {r["path"]: r for r in receiver.requests}
    assert set(by_path) <= {"/hook", "/hook?my"}
    assert "/hook" in by_path
    thai = by_path["/hook"]
    headers = {k.lower(): v for k, v in thai["headers"].items()}
    assert headers["x-certhub-event"] == "feeds.findings"
    assert webhooks.verify(thai_secret, headers["x-certhub-signature"], thai["body"])
    data = receiver.json(receiver.requests.index(thai))["data"]
    expected = set(Finding.objects.filter(run=run, organisation=world.thai)
                   .values_list("id", flat=True))
    assert data["feed"] == "shadow"
    assert data["run"] == run.pk
    assert data["organisation"] == "ThaiCERT"
    assert data["count"] == len(expected)
    assert {f["id"] for f in data["findings"]} == expected
    assert data["findings_url"].endswith(f"/api/v1/feeds/findings?run_id={run.pk}")


def test_outputs_are_sent_once_per_run(world, receiver, django_capture_on_commit_callbacks):
    notify.create_webhook(world.thai_admin, world.thai, name="SIEM", url=receiver.url,
                          events=["feeds.findings"])
    feed = make_feed("urlhaus-th", "urlhaus-csv", SAMPLES / "urlhaus_country.csv")
    runs = services.run_feed(feed)
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver_run_outputs(runs[0])
        again = deliver_run_outputs(runs[0])
    assert first == 1
    assert again == 0
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.count() == 1
