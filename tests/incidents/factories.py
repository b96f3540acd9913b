"""Record factories for incidents tests and the sharing leak suite."""

from __future__ import annotations

from certhub.incidents.models import Incident


def make_incident_record(owner_org, tlp, creator) -> Incident:
    """One incident of ``owner_org`` at ``tlp`` created by ``creator`` (leak-suite signature)."""
    return Incident.unrestricted.create(owner=owner_org, created_by=creator, tlp=tlp,
                                        title=f"Incident of {owner_org}",
                                        description="Leak-suite incident.")
