"""Generated STIX data and record factories for intel tests (and the sharing leak suite)."""

from __future__ import annotations

import uuid

from django.utils import timezone

from certhub.intel.models import Report, Sighting


def indicator_bundle(count: int, *, prefix: str = "10.77") -> dict:
    """A valid bundle of ``count`` IPv4 indicators."""
    objects = []
    for number in range(count):
        address = f"{prefix}.{number // 256 % 256}.{number % 256}"
        objects.append({
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z",
            "name": f"Scanner {address}", "description": "Seen scanning member networks.",
            "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value = '{address}']", "pattern_type": "stix",
            "valid_from": "2024-05-01T00:00:00Z"})
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}


def make_report(owner_org, tlp, creator) -> Report:
    """One report of ``owner_org`` at ``tlp`` created by ``creator`` (leak-suite signature)."""
    return Report.unrestricted.create(owner=owner_org, created_by=creator, tlp=tlp,
                                      stix_id=f"report--{uuid.uuid4()}",
                                      title=f"Report of {owner_org}")


def make_sighting(owner_org, tlp, creator) -> Sighting:
    now = timezone.now()
    return Sighting.unrestricted.create(owner=owner_org, created_by=creator, tlp=tlp,
                                        stix_id=f"sighting--{uuid.uuid4()}",
                                        observable_type="ipv4-addr", value="192.0.2.1",
                                        first_seen=now, last_seen=now)

