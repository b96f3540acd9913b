"""The notify API: my notifications, webhooks for organisation administrators only."""

from __future__ import annotations

import pytest

from certhub.audit.models import AuditEntry
from certhub.notify.models import Notification, Webhook
from certhub.notify.services import create_webhook, notify

from .conftest import logged_in

API = "/api/v1/notifications"


@pytest.fixture
def notes(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify("x.one", subject="One", body="B1", url="/feeds/", users=[world.thai_analyst])
        notify("x.two", subject="Two", body="B2", users=[world.thai_analyst])
        notify("x.mine", subject="Theirs", body="B3", users=[world.my_analyst])
    return world


def test_list_and_mark_read(notes):
    w = notes
    client = logged_in(w.thai_analyst)
    body = client.get(f"{API}/").json()
    assert body["count"] == 2
    assert [i["subject"] for i in body["items"]] == ["Two", "One"]
    assert client.get(f"{API}/unread").json() == {"unread": 2}
    first = body["items"][1]["id"]
    assert client.post(f"{API}/{first}/read").status_code == 204
    assert client.get(f"{API}/unread").json() == {"unread": 1}
    assert client.get(f"{API}/", {"unread": "true"}).json()["count"] == 1
    assert client.post(f"{API}/read", {"ids": None}, content_type="application/json").json() \
        == {"marked": 1}
    assert client.get(f"{API}/unread").json() == {"unread": 0}


def test_others_notifications_do_not_exist(notes):
    w = notes
    theirs = Notification.objects.get(user=w.my_analyst)
    client = logged_in(w.thai_analyst)
    assert client.post(f"{API}/{theirs.pk}/read").status_code == 404
    assert client.post(f"{API}/read", {"ids": [theirs.pk]},
                       content_type="application/json").json() == {"marked": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.get(f"{API}/").json()["count"] == 2


def test_anonymous_gets_401(notes):
    from django.test import Client

    assert Client().get(f"{API}/").status_code == 401


def test_admin_creates_webhook_secret_shown_once(world, settings):
    client = logged_in(world.thai_admin)
    response = client.post(f"{API}/webhooks", {"name": "SIEM", "url": "https://example.org/h",
                                                "events": ["feeds.findings", "incidents.*"]},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["organisation"] == "ThaiCERT"
    hook = Webhook.objects.get()
    assert hook.secret == created["secret"]
    listed = client.get(f"{API}/webhooks").json()
    assert [h["id"] for h in listed] == [hook.pk]
    assert "secret" not in listed[0]
    assert "secret" not in client.get(f"{API}/webhooks/{hook.pk}").json()
    assert AuditEntry.objects.filter(object_type="notify.webhook", action="create").exists()
    changed = client.patch(f"{API}/webhooks/{hook.pk}", {"active": False},
                           content_type="application/json").json()
    assert changed["active"] is False
    rotated = client.post(f"{API}/webhooks/{hook.pk}/secret").json()["secret"]
    assert rotated != created["secret"]
    assert client.get(f"{API}/webhooks/{hook.pk}/deliveries").json()["count"] == 0
    assert client.delete(f"{API}/webhooks/{hook.pk}").status_code == 204
    assert not Webhook.objects.exists()


def test_bad_webhook_input_is_a_400_with_a_reason(world):
    client = logged_in(world.thai_admin)
    for url in ("ftp://example.org/", "http://127.0.0.1/", "http://10.0.0.1/"):
        response = client.post(f"{API}/webhooks", {"name": "x", "url": url, "events": ["*"]},
                               content_type="application/json")
        assert response.status_code == 400
        assert response.json()["field"] == "url"
        assert response.json()["message"]
    response = client.post(f"{API}/webhooks", {"name": "x", "url": "https://example.org/",
                                               "events": ["Not valid"]},
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json()["field"] == "events"


def test_webhooks_do_not_exist_for_others(world):
    hook, _ = create_webhook(world.thai_admin, world.thai, name="SIEM",
                             url="https://example.org/h", events=["*"])
    for user in (world.thai_analyst, world.thai_viewer, world.my_analyst):
        client = logged_in(user)
        assert client.get(f"{API}/webhooks").json() == []
        assert client.get(f"{API}/webhooks/{hook.pk}").status_code == 404
        assert client.get(f"{API}/webhooks/{hook.pk}/deliveries").status_code == 404
    assert logged_in(world.thai_analyst).patch(
        f"{API}/webhooks/{hook.pk}", {"active": False},
        content_type="application/json").status_code == 404
    assert logged_in(world.thai_viewer).delete(f"{API}/webhooks/{hook.pk}").status_code in (
        403, 404)
    other_admin = logged_in(world.hub_admin)
    assert other_admin.get(f"{API}/webhooks/{hook.pk}").status_code == 200
    assert Webhook.objects.filter(pk=hook.pk, active=True).exists()
