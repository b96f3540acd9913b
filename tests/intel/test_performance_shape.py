"""Imports and lookups cost a fixed number of queries, whatever their size (no timing here:
speed is measured by bench/intel.py)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from certhub.intel import queries, services
from certhub.intel.models import Observable

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


def test_lookup_runs_two_queries_per_chunk(world):
    services.import_stix(indicator_bundle(50, prefix="10.3"), user=world.thai_analyst,
                         tlp="green")
    values = [f"10.3.{i // 256}.{i % 256}" for i in range(queries.CHUNK + 10)]
    queries.lookup(world.my_analyst, values[:1])  # warm the warning lists
    with CaptureQueriesContext(connection) as captured:
        results = queries.lookup(world.my_analyst, values)
    assert len(captured) == 4
    assert sum(1 for r in results if r.found) == 50
