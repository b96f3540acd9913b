"""The audit log page: hub administrators only; everyone else gets 404."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from certhub.audit.models import Action, AuditEntry
from certhub.audit.services import record

from .conftest import logged_in

pytestmark = pytest.mark.django_db

URL = reverse("web:audit")


@pytest.mark.parametrize("who", ["thai_admin", "thai_analyst", "thai_viewer", "my_analyst",
                                 "partner_analyst"])
def test_not_found_for_everyone_but_hub_administrators(world, who):
    assert logged_in(getattr(world, who)).get(URL).status_code == 404


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_hub_admin_sees_entries_newest_first(world):
    record(Action.CREATE, user=world.thai_admin, object_type="directory.contact", object_id="1",
           object_repr="first")
    record(Action.DELETE, user=world.my_analyst, object_type="directory.organisation",
           object_id="2", object_repr="second")
    response = logged_in(world.hub_admin).get(URL)
    assert response.status_code == 200
    reprs = [entry.object_repr for entry in response.context["page"] if entry.object_repr]
    assert reprs.index("second") < reprs.index("first")


def test_filters(world):
    record(Action.CREATE, user=world.thai_admin, object_type="directory.contact",
           object_repr="made by thai")
    record(Action.DELETE, user=world.my_analyst, object_type="directory.organisation",
           object_repr="deleted by my")
    client = logged_in(world.hub_admin)

    def shown(**params):
        return {e.object_repr for e in client.get(URL, params).context["page"] if e.object_repr}

    assert shown(action="delete") == {"deleted by my"}
    assert shown(actor="thai") == {"made by thai"}
    assert shown(object_type="organisation") == {"deleted by my"}
    # The page reads dates in the user's zone (here the display zone): "today" is there, not
    # in UTC (between 16:00 and 24:00 UTC it is already tomorrow in Singapore).
    today = timezone.localdate(timezone=ZoneInfo(settings.DISPLAY_TIME_ZONE))
    assert "made by thai" in shown(since=today.isoformat(), until=today.isoformat())
    assert shown(until=(today - timedelta(days=2)).isoformat()) == set()


def test_times_are_shown_in_the_users_zone(world):
    world.hub_admin.time_zone = "Asia/Bangkok"
    world.hub_admin.save()
    record(Action.CREATE, user=world.thai_admin, object_repr="zoned")
    text = logged_in(world.hub_admin).get(URL).content.decode()
    assert "+07" in text  # Bangkok's zone abbreviation next to each time
    assert "Asia/Bangkok" in text  # and named in the footer


def test_pages(world):
    for i in range(60):
        record(Action.CREATE, user=world.thai_admin, object_repr=f"entry {i}")
    client = logged_in(world.hub_admin)
    first = client.get(URL, {"action": "create"})
    assert first.context["page"].has_next()
    second = client.get(URL, {"action": "create", "page": 2})
    assert second.status_code == 200
    assert second.context["page"].number == 2
    assert AuditEntry.objects.count() >= 60


def test_details_are_shown_escaped(world):
    record(Action.CHANGE, user=world.thai_admin, object_repr="with details",
           details={"name": ["<b>old</b>", "new"]})
    text = logged_in(world.hub_admin).get(URL).content.decode()
    assert "&lt;b&gt;old&lt;/b&gt;" in text
    assert "<b>old</b>" not in text


def test_long_logs_are_paged_keeping_the_filters(world):
    for number in range(60):
        record(Action.CHANGE, user=world.thai_admin, object_type="directory.contact",
               object_id=str(number), object_repr=f"entry {number}")
    first = logged_in(world.hub_admin).get(URL, {"action": Action.CHANGE}).content.decode()
    assert 'rel="next"' in first
    assert 'rel="prev"' not in first
    assert "page=2" in first
    assert f"action={Action.CHANGE}" in first.split('rel="next"')[0].rsplit("<a", 1)[1]
    second = logged_in(world.hub_admin).get(URL, {"action": Action.CHANGE, "page": 2})
    assert 'rel="prev"' in second.content.decode()
    assert len(second.context["page"]) == 10
