"""Deduplication: the same feed, value type and value within the feed's window is a duplicate.

The key is a 64-bit BLAKE2b of (feed, value type, value), stored with each finding and, per
committed batch, in one ``DedupeBlock`` (the batch's new keys, sorted and packed). A run keeps
the keys of its feed's window in one sorted numpy array: the blocks within the window are read
once, then, at each batch, only the blocks committed since (by this run or by other workers of
the same feed). Membership is a vectorised binary search: no index probe per event, and no
random-access index on the findings table (which cost more than the rest of the insert).

``process`` runs inside the batch's transaction, after the feed row is locked: two workers on
the same feed cannot both let the same value through, and a rolled-back batch leaves nothing
behind (its block is rolled back with it; the array only ever grows from committed blocks).
Blocks of failed runs are not read (their findings were never shown). Memory: 8 bytes per key
in the window.
"""

from __future__ import annotations

import datetime as dt
from hashlib import blake2b
from itertools import compress

import numpy as np
from django.db import connection

from ..events import Event

_PACKED = np.dtype(">i8")  # big-endian on disk, whatever the machine


def dedupe_key(feed_id: int, value_type: str, value: str) -> int:
    digest = blake2b(f"{feed_id}\x1f{value_type}\x1f{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def pack(keys: np.ndarray) -> bytes:
    return np.asarray(keys, dtype=np.int64).astype(_PACKED).tobytes()


def unpack(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype=_PACKED).astype(np.int64)


def contains(sorted_keys: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Which candidates ``sorted_keys`` holds (a boolean array)."""
    if not len(sorted_keys):
        return np.zeros(len(candidates), dtype=bool)
    at = np.searchsorted(sorted_keys, candidates)
    at[at == len(sorted_keys)] = 0
    return sorted_keys[at] == candidates


def merge(sorted_keys: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``sorted_keys`` with the sorted unique ``new`` inserted: one copy, no re-sort (a run
    merges a batch into a window of millions of keys a hundred times)."""
    new = new[~contains(sorted_keys, new)]
    if not len(new):
        return sorted_keys
    return np.insert(sorted_keys, np.searchsorted(sorted_keys, new), new)


class Deduplicator:
    def __init__(self, feed_id: int, window: dt.timedelta):
        self.feed_id = feed_id
        self.window = window
        self.prefix = f"{feed_id}\x1f"
        self.seen = np.empty(0, dtype=np.int64)  # sorted, unique
        self.last_block = None  # highest block id merged; None: nothing read yet

    def keys(self, events: list[Event]) -> None:
        """Set ``event.key`` on every event (no database access: may run before the lock)."""
        prefix = self.prefix
        from_bytes = int.from_bytes
        for event in events:
            event.key = from_bytes(blake2b(f"{prefix}{event.value_type}\x1f{event.value}"
                                           .encode(), digest_size=8).digest(), "big",
                                   signed=True)

    def keys_of(self, value_type: str, values: list[str]) -> np.ndarray:
        """``dedupe_key`` of each value of one type, as an int64 array (the columnar path)."""
        prefix = f"{self.prefix}{value_type}\x1f"
        digests = b"".join([blake2b((prefix + value).encode(), digest_size=8).digest()
                            for value in values])
        return np.frombuffer(digests, dtype=_PACKED).astype(np.int64)

    def fresh(self, keys: np.ndarray, now: dt.datetime) -> np.ndarray:
        """Which of ``keys`` to keep (a boolean array): the first of each key in the batch, when
        the window has not seen it. In the batch's transaction, after the feed row lock."""
        keep = np.zeros(len(keys), dtype=bool)
        if not len(keys):
            return keep
        _unique, first = np.unique(keys, return_index=True)
        keep[first] = True
        if self.window:
            self._catch_up(now)
            keep[first] = ~contains(self.seen, keys[first])
        return keep

    def record_keys(self, run_id: int, keys: np.ndarray, now: dt.datetime) -> None:
        """Store the block of the batch's new keys (in the batch's transaction)."""
        if not len(keys) or not self.window:
            return
        from ...models import DedupeBlock

        DedupeBlock.objects.create(feed_id=self.feed_id, run_id=run_id, created=now,
                                   keys=pack(np.unique(keys)))

    def process(self, events: list[Event], now: dt.datetime) -> tuple[list[Event], int]:
        """(events not seen before, number of duplicates): ``fresh`` on the events' keys, which
        must be set (``keys``)."""
        keys = np.fromiter((event.key for event in events), dtype=np.int64, count=len(events))
        kept = list(compress(events, self.fresh(keys, now).tolist()))
        return kept, len(events) - len(kept)

    def record(self, run_id: int, events: list[Event], now: dt.datetime) -> None:
        """Store the block of the batch's new keys (in the batch's transaction)."""
        self.record_keys(run_id, np.fromiter((event.key for event in events), dtype=np.int64,
                                             count=len(events)), now)

    def _catch_up(self, now: dt.datetime) -> None:
        """Merge the blocks committed since the last call (all of the window the first time)."""
        from ...models import DedupeBlock, FeedRun, RunStatus

        blocks = DedupeBlock._meta.db_table
        runs = FeedRun._meta.db_table
        if self.last_block is None:
            condition, params = "b.created >= %s", [now - self.window]
        else:
            condition, params = "b.id > %s", [self.last_block]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT b.id, b.keys FROM {blocks} b JOIN {runs} r ON r.id = b.run_id "  # noqa: S608 (table names from the models)
                f"WHERE b.feed_id = %s AND {condition} AND r.status <> %s ORDER BY b.id",
                [self.feed_id, *params, RunStatus.FAILED])
            rows = cursor.fetchall()
        if self.last_block is None:
            self.last_block = 0
        if not rows:
            return
        self.last_block = max(self.last_block, rows[-1][0])
        self.seen = merge(self.seen, np.unique(np.concatenate([unpack(data)
                                                               for _id, data in rows])))

