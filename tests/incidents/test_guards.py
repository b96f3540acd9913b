"""What lives inside an incident stays behind the sharing guard: its querysets and the related
managers refuse to produce rows without ``visible_to``/``editable_by``, and follow the incident
when they have it."""

from __future__ import annotations

import pytest

from certhub.incidents import services
from certhub.incidents.models import (
    Attachment,
    CoordinationRequest,
    Incident,
    Indicator,
    Task,
    TimelineEntry,
)
from certhub.sharing.models import UnrestrictedQueryError

INSIDE = [TimelineEntry, Task, Attachment, Indicator, CoordinationRequest]


@pytest.mark.parametrize("model", INSIDE, ids=lambda m: m.__name__)
def test_unguarded_reads_are_refused(world, thai_incident, model):
    with pytest.raises(UnrestrictedQueryError):
        list(model.objects.all())
    with pytest.raises(UnrestrictedQueryError):
        model.objects.count()
    with pytest.raises(UnrestrictedQueryError):
        Incident.objects.filter(pk=thai_incident.pk).exists()


@pytest.mark.parametrize("related", ["timeline", "tasks", "attachments", "indicators",
                                     "requests"])
def test_related_managers_are_guarded(world, thai_incident, related):
    with pytest.raises(UnrestrictedQueryError):
        list(getattr(thai_incident, related).all())


def test_inside_rows_follow_their_incident(world, thai_incident):
    services.add_task(thai_incident.pk, user=world.thai_analyst, title="Check logs")
    services.create_request(thai_incident.pk, user=world.thai_analyst, to_org=world.my,
                            text="Please check.")
    for model in INSIDE:
        owner_rows = model.objects.visible_to(world.thai_viewer).count()
        assert owner_rows > 0 or model is Attachment
        assert model.objects.visible_to(world.sg_analyst).count() == 0
        assert model.objects.visible_to(None).count() == 0
        assert model.objects.visible_to(world.my_analyst).count() == owner_rows
        assert model.objects.editable_by(world.my_analyst).count() == 0
