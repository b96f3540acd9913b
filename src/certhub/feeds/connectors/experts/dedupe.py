"""Deduplication: the same feed, value type and value within the feed's window is a duplicate.

The key is a 64-bit BLAKE2b of (feed, value type, value), stored and indexed with each
finding. A batch is checked with one query for the keys stored within the window (by runs
that did not fail: a failed run's findings were never shown) and a dictionary for repeats
inside the batch. Run inside the batch's transaction, after the feed row is locked, so two
workers on the same feed cannot both let the same value through.
"""

from __future__ import annotations

import datetime as dt
from hashlib import blake2b

from django.db import connection

from ..events import Event

_QUERY_CHUNK = 5000  # keys per query (SQLite allows 32,766 parameters)


def dedupe_key(feed_id: int, value_type: str, value: str) -> int:
    digest = blake2b(f"{feed_id}\x1f{value_type}\x1f{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Deduplicator:
    def __init__(self, feed_id: int, window: dt.timedelta):
        self.feed_id = feed_id
        self.window = window
        self.prefix = f"{feed_id}\x1f"

    def process(self, events: list[Event], now: dt.datetime) -> tuple[list[Event], int]:
        """(events not seen before, number of duplicates)."""
        prefix = self.prefix
        first: dict[int, Event] = {}
        for event in events:
            key = int.from_bytes(blake2b(f"{prefix}{event.value_type}\x1f{event.value}".encode(),
                                         digest_size=8).digest(), "big", signed=True)
            event.key = key
            if key not in first:
                first[key] = event
        seen = self.stored(list(first), now) if self.window else set()
        kept = [event for key, event in first.items() if key not in seen]
        return kept, len(events) - len(kept)

    def stored(self, keys: list[int], now: dt.datetime) -> set[int]:
        from ...models import FeedRun, Finding, RunStatus

        finding = Finding._meta.db_table
        run = FeedRun._meta.db_table
        since = now - self.window
        found: set[int] = set()
        vendor = connection.vendor
        with connection.cursor() as cursor:
            for start in range(0, len(keys), _QUERY_CHUNK if vendor != "postgresql" else
                               len(keys) or 1):
                chunk = keys[start:start + _QUERY_CHUNK] if vendor != "postgresql" else keys
                if vendor == "postgresql":
                    condition, params = "f.dedupe_key = ANY(%s)", [chunk]
                else:
                    condition = f"f.dedupe_key IN ({','.join(['%s'] * len(chunk))})"
                    params = list(chunk)
                cursor.execute(
                    f"SELECT f.dedupe_key FROM {finding} f JOIN {run} r ON r.id = f.run_id "  # noqa: S608 (table names from the models)
                    f"WHERE {condition} AND f.created >= %s AND r.status <> %s",
                    [*params, since, RunStatus.FAILED])
                found.update(row[0] for row in cursor.fetchall())
                if vendor == "postgresql":
                    break
        return found
