"""Leak-suite fixtures: one record of every registered shareable type at every TLP label.

All records are owned by ThaiCERT and created by its analyst. Each carries a unique marker
(``LEAKMARK-<hex>``) in its registered text field, so a response body shows whose record leaked.
Audiences are the narrowest that still make each label meaningful:

- CLEAR: nobody named (everyone may see it);
- GREEN (community): nobody named, so every signed-in user may see it;
- GREEN, AMBER, AMBER+STRICT: ThaiCERT only;
- RED: ThaiCERT's viewer by name (and the creator).

Record ids are moved into a range of their own per type (7,100,000 and up) so that an id in a
URL can only mean that record, and ``NONEXISTENT_ID`` means nothing anywhere.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import pytest
from django.db import connection

from certhub.sharing import registry
from certhub.sharing.tlp import TLP

from . import registrations  # noqa: F401  (registers today's shareable types)

NONEXISTENT_ID = 999_999_937
MARKER_PREFIX = "LEAKMARK-"
ID_RANGE_START, ID_RANGE_STEP = 7_100_000, 100_000

# Plausible values for path and query parameters a generic guess cannot fill; the records'
# own values come first. Extend it when an endpoint needs a value only its domain knows.
PARAM_HINTS: dict[str, list[str]] = {
    "type": ["ipv4-addr"],
    "value": ["192.0.2.1"],
    "q": ["192.0.2.1"],
    "search": [MARKER_PREFIX],
}

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Fixture:
    """One record of the suite: its type, label, variant and marker."""

    registration: registry.Registration
    pk: int
    tlp: str
    variant: str
    marker: str
    uuids: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.registration.label} #{self.pk} {self.variant}"


@dataclass
class LeakWorld:
    world: object
    fixtures: list[Fixture] = field(default_factory=list)

    def by_marker(self) -> dict[str, Fixture]:
        return {f.marker: f for f in self.fixtures}

    def visible_to(self, user) -> set[Fixture]:
        """What the one rule lets ``user`` see (proven against the docs by the property tests)."""
        seen = set()
        for registration in registry.registered():
            pks = set(registration.model.objects.visible_to(user).values_list("pk", flat=True))
            seen |= {f for f in self.fixtures if f.registration is registration and f.pk in pks}
        return seen

    def invisible_to(self, user) -> set[Fixture]:
        return set(self.fixtures) - self.visible_to(user)


def start_ids_at(model, start: int) -> None:
    """Make the next row of ``model`` get id ``start`` (rolled back with the test)."""
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, %s), %s, false)",
                           [table, column, start])
        elif connection.vendor == "sqlite":
            cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s",
                           [start - 1, table])
            if cursor.rowcount == 0:
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                               [table, start - 1])
        else:  # pragma: no cover
            raise NotImplementedError(connection.vendor)


VARIANTS = [
    # (variant name, label, audience)
    ("CLEAR", TLP.CLEAR, "none"),
    ("GREEN community", TLP.GREEN, "none"),
    ("GREEN ThaiCERT", TLP.GREEN, "owner"),
    ("AMBER ThaiCERT", TLP.AMBER, "owner"),
    ("AMBER+STRICT ThaiCERT", TLP.AMBER_STRICT, "owner"),
    ("RED thai_viewer", TLP.RED, "named"),
]


@pytest.fixture
def leak_world(world) -> LeakWorld:
    leak = LeakWorld(world)
    for index, registration in enumerate(registry.registered()):
        start_ids_at(registration.model, ID_RANGE_START + index * ID_RANGE_STEP)
        for variant, tlp, audience in VARIANTS:
            record = registration.make_record(world.thai, tlp, world.thai_analyst)
            marker = f"{MARKER_PREFIX}{uuid.uuid4().hex}"
            registration.model.unrestricted.filter(pk=record.pk).update(
                **{registration.marker_field: marker})
            if audience == "owner":
                record.audience_orgs.set([world.thai])
            elif audience == "named":
                record.audience_users.set([world.thai_viewer])
            record.refresh_from_db()
            uuids = tuple(sorted({m for f in registration.model._meta.concrete_fields
                                  if isinstance(getattr(record, f.attname), str)
                                  for m in UUID_RE.findall(getattr(record, f.attname))}))
            leak.fixtures.append(Fixture(registration, record.pk, tlp, variant, marker, uuids))
    return leak
