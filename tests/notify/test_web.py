"""Pages: my notifications (with the unread count in the navigation), webhooks for admins."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from certhub.notify.models import Notification, Webhook, WebhookDelivery
from certhub.notify.services import create_webhook, notify

from .conftest import logged_in


@pytest.fixture
def noted(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify("x.one", subject="Request overdue", body="Body text", url="/feeds/",
               users=[world.thai_analyst])
        notify("x.two", subject="Another", body="", users=[world.thai_analyst])
    return world


def test_list_page_and_nav_count(noted):
    client = logged_in(noted.thai_analyst)
    page = client.get(reverse("web:notifications")).content.decode()
    assert "Request overdue" in page
    assert "Body text" in page
    assert re.search(r'class="badge"[^>]*>2</span>', page)
    note = Notification.objects.get(subject="Request overdue")
    response = client.get(reverse("web:notification-open", args=[note.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/feeds/"
    note.refresh_from_db()
    assert note.read_at is not None
    client.post(reverse("web:notifications-read-all"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert not re.search(r'class="badge"[^>]*>\d+</span>',
                         client.get(reverse("web:notifications")).content.decode())


def test_others_notifications_are_404(noted):
    note = Notification.objects.first()
    client = logged_in(noted.my_analyst)
    assert client.get(reverse("web:notification-open", args=[note.pk])).status_code == 404
    assert client.post(reverse("web:notification-read", args=[note.pk])).status_code == 404
    assert "Request overdue" not in client.get(reverse("web:notifications")).content.decode()


def test_admin_manages_webhooks_in_the_ui(world, receiver, allow_private,
                                          django_capture_on_commit_callbacks):
    client = logged_in(world.thai_admin)
    page = client.get(reverse("web:webhooks")).content.decode()
    assert "New webhook" in page
    response = client.post(reverse("web:webhooks"), {"name": "SIEM", "url": receiver.url,
                                                     "events": "feeds.findings incidents.*",
                                                     "active": "on"})
    hook = Webhook.objects.get()
    text = response.content.decode()
    assert hook.secret in text  # shown once ...
    assert hook.events == ["feeds.findings", "incidents.*"]
    detail = reverse("web:webhook", args=[hook.pk])
    assert hook.secret not in client.get(detail).content.decode()  # ... and never again
    assert hook.secret not in client.get(reverse("web:webhooks")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(detail, {"action": "ping"})
    call = WebhookDelivery.objects.get()
    assert call.status == "succeeded"
    assert len(receiver.requests) == 1
    assert "ping" in client.get(detail).content.decode()
    client.post(detail, {"action": "save", "name": "SIEM 2", "url": receiver.url,
                         "events": "*"})
    hook.refresh_from_db()
    assert hook.name == "SIEM 2"
    assert hook.events == ["*"]
    assert not hook.active
    client.post(detail, {"action": "delete"})
    assert not Webhook.objects.exists()


def test_bad_webhook_url_is_shown_on_the_form(world):
    client = logged_in(world.thai_admin)
    response = client.post(reverse("web:webhooks"), {"name": "x", "url": "ftp://example.org/",
                                                     "events": "*"})
    assert response.status_code == 200
    assert not Webhook.objects.exists()
    assert "http:// or https://" in response.content.decode()


def test_webhook_pages_are_404_for_non_admins(world):
    hook, _ = create_webhook(world.thai_admin, world.thai, name="SIEM",
                             url="https://example.org/h", events=["*"])
    for user in (world.thai_analyst, world.my_analyst):
        client = logged_in(user)
        assert client.get(reverse("web:webhooks")).status_code == 404
        assert client.get(reverse("web:webhook", args=[hook.pk])).status_code == 404
        assert client.post(reverse("web:webhook", args=[hook.pk]),
                           {"action": "delete"}).status_code == 404
        assert "Webhooks" not in client.get(reverse("web:notifications")).content.decode()
    assert Webhook.objects.exists()
