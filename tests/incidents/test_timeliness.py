"""Timeliness: median and 90th percentile (nearest rank) of time to acknowledge and complete,
per receiving organisation and month, from fixed timestamps, against hand-computed figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured

from certhub.incidents import clocks, queries, services
from certhub.incidents.models import CoordinationRequest

from .conftest import make_incident

UTC = dt.UTC
MIN, HOUR, DAY = 60, 3600, 86400


def _request(world, incident, to_org, sent, *, ack=None, complete=None, declined=False):
    req = services.create_request(incident.pk, user=world.thai_analyst, to_org=to_org,
                                  text="Please act.")
    fields = {"created": sent, "ack_due": sent + dt.timedelta(hours=4),
              "complete_due": sent + dt.timedelta(days=3)}
    if ack is not None:
        fields.update(acknowledged_at=sent + dt.timedelta(seconds=ack),
                      status="declined" if declined else "accepted")
    if complete is not None:
        fields.update(completed_at=sent + dt.timedelta(seconds=complete), status="completed")
    CoordinationRequest.unrestricted.filter(pk=req.pk).update(**fields)
    return req


@pytest.fixture
def history(world):
    incident = make_incident(world.thai_analyst, severity="high")
    nov = dt.datetime(2025, 11, 2, 8, 0, tzinfo=UTC)
    # MyCERT, November: acknowledged after 10 min, 30 min, 1 h, 2 h; completed after 2 h, 5 h,
    # 1 day (the fourth was declined).
    _request(world, incident, world.my, nov, ack=10 * MIN, complete=2 * HOUR)
    _request(world, incident, world.my, nov + dt.timedelta(days=1), ack=30 * MIN,
             complete=5 * HOUR)
    _request(world, incident, world.my, nov + dt.timedelta(days=2), ack=HOUR, complete=DAY)
    _request(world, incident, world.my, nov + dt.timedelta(days=3), ack=2 * HOUR, declined=True)
    # MyCERT, December: one, acknowledged after 15 min, still open for completion.
    _request(world, incident, world.my, dt.datetime(2025, 12, 1, 0, 0, tzinfo=UTC),
             ack=15 * MIN)
    # SingCERT, November: never answered.
    _request(world, incident, world.sg, nov)
    return incident


def test_figures_match_hand_computed_values(world, history):
    now = dt.datetime(2025, 12, 1, 1, 0, tzinfo=UTC)
    rows = {(r.organisation, r.month): r for r in queries.timeliness(world.thai_analyst,
                                                                      now=now)}
    assert sorted(rows) == [("MyCERT", "2025-11"), ("MyCERT", "2025-12"),
                            ("SingCERT", "2025-11")]
    nov = rows[("MyCERT", "2025-11")]
    assert (nov.received, nov.acknowledged, nov.completed) == (4, 4, 3)
    # Acknowledgement, sorted: 600, 1800, 3600, 7200 s. Nearest rank: median = rank
    # ceil(0.5 × 4) = 2 → 1800; 90th = rank ceil(0.9 × 4) = 4 → 7200.
    assert (nov.ack_median_s, nov.ack_p90_s) == (1800, 7200)
    # Completion: 7200, 18000, 86400 s. Median = rank 2 → 18000; 90th = rank 3 → 86400.
    assert (nov.complete_median_s, nov.complete_p90_s) == (18000, 86400)
    dec = rows[("MyCERT", "2025-12")]
    assert (dec.ack_median_s, dec.ack_p90_s, dec.complete_median_s) == (900, 900, None)
    assert dec.overdue == 0
    sg = rows[("SingCERT", "2025-11")]
    assert (sg.received, sg.acknowledged, sg.ack_median_s, sg.overdue) == (1, 0, None, 1)


def test_api_serves_the_same_figures_and_the_overdue_list(world, history, api):
    body = api.get(world.thai_analyst, "/timeliness", organisation="MyCERT",
                   since="2025-11-01T00:00:00Z", until="2025-12-01T00:00:00Z").json()
    assert body["percentile_method"] == "nearest-rank"
    assert [(r["month"], r["ack_median_s"], r["complete_p90_s"]) for r in body["rows"]] == [
        ("2025-11", 1800, 86400)]
    everything = api.get(world.thai_analyst, "/timeliness").json()
    assert [(r["to_org"], r["overdue"]) for r in everything["overdue"]] == [
        ("SingCERT", "ack_overdue"), ("MyCERT", "complete_overdue")]
    # MyCERT sees the incident (it received requests) and so the same figures.
    assert api.get(world.my_analyst, "/timeliness").json()["rows"] == everything["rows"]
    assert api.get(world.partner_analyst, "/timeliness").json()["rows"] == []


@pytest.mark.parametrize(("values", "p", "expected"), [
    ([], 50, None), ([7], 90, 7), ([1, 2, 3, 4], 50, 2), ([4, 1, 3, 2, 5], 50, 3),
    (list(range(1, 11)), 90, 9), (list(range(1, 11)), 100, 10), ([3, 1], 1, 1)])
def test_nearest_rank_percentile(values, p, expected):
    assert clocks.percentile(values, p) == expected


def test_targets_parse_strictly(settings):
    parsed = clocks.parse_targets("critical=30m/12h, low=2d/10d")
    assert parsed["critical"] == (dt.timedelta(minutes=30), dt.timedelta(hours=12))
    for bad in ("urgent=1h/1d", "critical=1h", "critical=1x/1d", "critical=1d/1h",
                "critical=0h/1d"):
        with pytest.raises(ValueError):
            clocks.parse_targets(bad)
    settings.INCIDENT_TARGETS = "critical=banana"
    with pytest.raises(ImproperlyConfigured, match="CERTHUB_INCIDENT_TARGETS"):
        clocks.targets()
    settings.INCIDENT_TARGETS = "critical=15m/6h"
    assert clocks.targets()["critical"] == (dt.timedelta(minutes=15), dt.timedelta(hours=6))
    assert clocks.targets()["low"] == (dt.timedelta(days=3), dt.timedelta(days=30))
