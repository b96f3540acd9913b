"""Registrations of today's shareable types with the leak suite.

Each app's own code could register its types (e.g. in its AppConfig.ready); until that is
decided they live here, where the suite imports them. test_registry.py fails if a Shareable
model is registered nowhere.
"""

from __future__ import annotations

from tests.incidents.factories import Incident, make_incident_record
from tests.intel.factories import make_report, make_sighting

from certhub.directory.models import Contact, ContactRole
from certhub.intel.models import Report, Sighting
from certhub.sharing import registry


def make_contact(owner_org, tlp, creator) -> Contact:
    return Contact.unrestricted.create(owner=owner_org, created_by=creator, tlp=tlp,
                                       role=ContactRole.TECHNICAL, name="Leak-suite contact",
                                       email="duty@example.org")


registry.register(Contact, make_contact, marker_field="name")
registry.register(Report, make_report, marker_field="title")
# Sightings are shown on the page of the value they saw (see PARAM_HINTS in conftest.py).
registry.register(Sighting, make_sighting, marker_field="source")
registry.register(Incident, make_incident_record, marker_field="title")
