"""Fixtures of the feed tests: samples in the real layouts, a clean lookup index, feeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from certhub.directory import lookup

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture(autouse=True)
def _fresh_index(settings, tmp_path):
    """No IP-to-ASN data (routing by prefix and country only), a clean index, own data dir."""
    settings.ASN_DB = ""
    settings.COUNTRY_DB = ""
    settings.DATA_DIR = tmp_path / "data"
    lookup.invalidate()
    yield
    lookup.invalidate()


def make_feed(name: str, parser: str, location: Path | str, **fields):
    from certhub.feeds.services import feed_from_definition

    definition = {"name": name, "source": fields.pop("source", "file"),
                  "location": str(location), "parser": parser, **fields}
    feed = feed_from_definition(definition)
    feed.save()
    return feed


def logged_in(user):
    """A client whose session passed every login step the user needs (two-factor included)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    if user.requires_two_factor:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
