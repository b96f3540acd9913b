"""Imports and lookups cost a fixed number of queries, whatever their size (no timing here:
speed is measured by bench/intel.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certhub.core.errors import InvalidInput
from certhub.intel import queries, services
from certhub.intel.models import Observable, Report, StixObject
from certhub.intel.stix.importer import STREAM_CHUNK

from .factories import indicator_bundle


def _queries_for_import(user, size: int, prefix: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        services.import_stix(indicator_bundle(size, prefix=prefix), user=user, tlp="green")
    return len(captured)


def test_import_query_count_does_not_grow_with_the_bundle(world):
    small = _queries_for_import(world.thai_analyst, 10, "10.1")
    large = _queries_for_import(world.thai_analyst, 300, "10.2")
    # Only bulk-insert batches grow with size (SQLite caps parameters per statement).
    assert large - small < 12
    assert Observable.unrestricted.count() == 310


def test_lookup_runs_two_queries_whatever_the_number_of_values(world):
    services.import_stix(indicator_bundle(50, prefix="10.3"), user=world.thai_analyst,
                         tlp="green")
    values = [f"10.3.{i // 256}.{i % 256}" for i in range(2500)]
    queries.lookup(world.my_analyst, values[:1])  # warm the warning lists
    with CaptureQueriesContext(connection) as captured:
        results = queries.lookup(world.my_analyst, values)
    assert len(captured) == 2
    assert sum(1 for r in results if r.found) == 50


def test_lookup_reuses_compiled_sql_only_for_the_same_visibility(world):
    """The compiled lookup is cached per user key: another user, or the same user moved to
    another organisation, gets the sharing rule's answer for them, not the cached one."""
    report = services.import_stix(indicator_bundle(3, prefix="10.4"), user=world.thai_analyst,
                                  tlp="amber")  # no audience: ThaiCERT only
    value = "10.4.0.0"
    assert queries.lookup(world.thai_analyst, [value])[0].report_ids == [report.pk]
    assert queries.lookup(world.thai_viewer, [value])[0].report_ids == [report.pk]
    assert queries.lookup(world.my_analyst, [value])[0].found is False
    assert queries.lookup(world.my_analyst, [value])[0].found is False  # cached, still hidden
    analyst = world.thai_analyst
    analyst.organisation = world.my
    analyst.save()
    assert queries.lookup(analyst, [value])[0].found is False


def test_bad_object_after_streamed_ones_still_stores_nothing(world):
    """On PostgreSQL objects are written while later ones are checked (plan.ObjectStream):
    an object failing after whole chunks went to the database still rejects everything."""
    bundle = indicator_bundle(STREAM_CHUNK + 500, prefix="10.5")
    bad = bundle["objects"][STREAM_CHUNK + 300]
    bad["pattern"] = "[ipv4-addr:value = '10.5.0.1'"  # unbalanced bracket
    with pytest.raises(InvalidInput) as raised:
        services.import_stix(bundle, user=world.thai_analyst, tlp="green")
    assert f"object {STREAM_CHUNK + 300} ({bad['id']})" in raised.value.message
    assert raised.value.field == f"objects[{STREAM_CHUNK + 300}]"
    assert not Report.unrestricted.exists()
    assert not StixObject.unrestricted.exists()
    assert not Observable.unrestricted.exists()
    # And the same bundle, repaired, imports whole.
    bad["pattern"] += "]"
    report = services.import_stix(bundle, user=world.thai_analyst, tlp="green")
    assert StixObject.unrestricted.filter(report=report).count() == STREAM_CHUNK + 500
    assert Observable.unrestricted.filter(report=report).count() == STREAM_CHUNK + 500


def test_compiled_lookup_follows_a_change_of_coordinator(world):
    """The cache key holds what the sharing rule reads of the user in Python, the coordinator
    of their organisation included: AMBER shared with ThaiCERT reaches the bank it serves, and
    stops reaching it when the bank is served by another CERT."""
    services.create_report(user=world.sg_analyst, title="amber", tlp="amber",
                           observables=[("", "192.0.2.77")], audience_orgs=[world.thai])
    assert queries.lookup(world.bank_analyst, ["192.0.2.77"])[0].found
    world.bank.coordinator = world.my
    world.bank.save()
    analyst = type(world.bank_analyst).objects.select_related("organisation").get(
        pk=world.bank_analyst.pk)
    assert not queries.lookup(analyst, ["192.0.2.77"])[0].found
