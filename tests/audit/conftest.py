"""Audit fixtures: a short chain, and a way to tamper with it the way an attacker would."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import connection

from certhub.audit.models import Action
from certhub.audit.services import record

TRIGGER = "audit_entry_append_only"


@contextmanager
def tampering():
    """Bypass every application guard, as someone with direct database access would.

    On PostgreSQL the table also has a trigger refusing UPDATE/DELETE; its owner can disable it,
    so the chain must catch what gets past. The ALTER is rolled back with the test transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE audit_auditentry DISABLE TRIGGER {TRIGGER}")
    try:
        yield
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE audit_auditentry ENABLE TRIGGER {TRIGGER}")


@pytest.fixture
def chain(world):
    """Five entries by different people about different things."""
    return [
        record(Action.LOGIN, user=world.thai_analyst),
        record(Action.CREATE, user=world.thai_analyst, object_type="directory.contact",
               object_id="7", object_repr="Duty officer (24/7 emergency)"),
        record(Action.CHANGE, user=world.thai_admin, object_type="directory.contact",
               object_id="7", object_repr="Duty officer (24/7 emergency)",
               details={"fields": ["phone"]}),
        record(Action.VIEW_RED, user=world.my_analyst, object_type="directory.contact",
               object_id="9", object_repr="Red contact"),
        record(Action.EXPORT, user=world.hub_admin, object_type="directory.organisation"),
    ]
