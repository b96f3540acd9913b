"""Fixtures of the web UI tests: contacts at several TLP labels, logged-in clients."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.conftest import add_constituency

from certhub.directory import lookup
from certhub.directory.models import Contact
from certhub.sharing.tlp import TLP

THAI_PREFIX = "1.0.128.0/17"  # TOT, Thailand (APNIC); registered with ThaiCERT below


def make_contact(owner, *, tlp, name, role="incident_reports", orgs=(), users=(), **fields):
    contact = Contact.unrestricted.create(owner=owner, tlp=tlp, name=name, role=role, **fields)
    contact.audience_orgs.set(orgs)
    contact.audience_users.set(users)
    return contact


@pytest.fixture(autouse=True)
def _fresh_lookup_index(settings):
    settings.ASN_DB = ""
    settings.COUNTRY_DB = ""
    lookup.invalidate()
    yield
    lookup.invalidate()


@pytest.fixture
def directory(world):
    """``world`` plus ThaiCERT's contacts at CLEAR, AMBER (shared with SingCERT) and RED, and a
    registered Thai prefix."""
    add_constituency(world.thai, "prefix", THAI_PREFIX)
    world.clear_contact = make_contact(
        world.thai, tlp=TLP.CLEAR, name="Public incident desk",
        email="report@thaicert.example", is_example=True)
    world.amber_contact = make_contact(
        world.thai, tlp=TLP.AMBER, name="Night duty officer", role="emergency_24x7",
        phone="+6621234567", orgs=[world.sg])
    world.red_contact = make_contact(
        world.thai, tlp=TLP.RED, name="Head of operations private line", role="policy",
        users=[world.thai_admin], created_by=world.thai_admin)
    return world


def logged_in(user) -> Client:
    """A client whose session passed every login step the user needs (two-factor included)."""
    client = Client()
    client.force_login(user)
    if user.requires_two_factor:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
