"""One run's processing: parser items in batches through the experts into the findings table.

Each batch is one transaction holding its findings, its refused lines, the run's counters and
the run's committed position (the last input line of the batch). A run stopped at any point
(worker killed, database restarted, an exception) has committed whole batches only; resumed,
it continues after the committed position, so every line is processed exactly once. Findings
stay invisible until the run has succeeded (``queries.visible_findings`` filters on it).

Batches end only between input lines: the events of one line (a STIX pattern with several
values) are never split across two transactions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import validation
from .connectors.events import Bad, Event
from .connectors.experts import (
    Classifier,
    Deduplicator,
    Normaliser,
    Router,
    WarninglistFlagger,
    enrich_observable_index,
)
from .models import Feed, FeedRun, RunError
from .storage import insert_findings, json_or_none, prepare_connection, time_adapter

DEFAULT_BATCH = 10_000


class RunTakenOver(RuntimeError):
    """Another attempt of the run has started (this one was thought dead): stop, commit
    nothing more."""


class SimulatedCrash(RuntimeError):
    """Raised by the ``fail_after_batches`` testing hook, as if the worker died mid-batch."""


class Pipeline:
    def __init__(self, feed: Feed, run: FeedRun, *, batch_size: int = DEFAULT_BATCH,
                 progress: Callable[[FeedRun, int], None] | None = None,
                 fail_after_batches: int | None = None):
        """``fail_after_batches`` is a testing hook: after that many committed batches, the
        next batch raises SimulatedCrash inside its transaction (which is rolled back)."""
        self.feed = feed
        self.run = run
        self.batch_size = max(1, batch_size)
        self.progress = progress
        self.fail_after_batches = fail_after_batches
        self.committed_batches = 0
        self.normaliser = Normaliser()
        self.classifier = Classifier(validation.default_classification(feed))
        self.deduplicator = Deduplicator(feed.pk, dt.timedelta(hours=feed.dedupe_window_hours))
        self.flagger = WarninglistFlagger(feed.warninglists)
        self.router = Router()
        self.expiry = dt.timedelta(days=feed.expiry_days)
        self.per_org: dict[str, int] = {str(k): v for k, v in (run.routed_per_org or {}).items()}
        prepare_connection()

    def consume(self, items: Iterable[Event | Bad]) -> None:
        batch: list[Event | Bad] = []
        size = self.batch_size
        last_line = None
        for item in items:
            if len(batch) >= size and item.line != last_line:
                self.process(batch)
                batch = []
            batch.append(item)
            last_line = item.line
        if batch:
            self.process(batch)

    def process(self, batch: list[Event | Bad]) -> None:
        events: list[Event] = []
        refused: list[Bad] = []
        for item in batch:
            (events if type(item) is Event else refused).append(item)
        read = len(batch)
        position = batch[-1].line
        events = self.normaliser.process(events, refused)
        events = self.classifier.process(events, refused)
        now = timezone.now()
        naive_now = now.replace(tzinfo=None)  # storage convention: naive UTC
        with transaction.atomic():
            # Serialises batches of the same feed across workers (deduplication stays exact).
            list(Feed.objects.select_for_update().filter(pk=self.feed.pk).values_list("pk"))
            kept, duplicates = self.deduplicator.process(events, naive_now)
            self.flagger.process(kept)
            self.router.process(kept)
            rows, routed, unrouted, batch_per_org = self._rows(kept, naive_now)
            per_org = dict(self.per_org)
            for key, count in batch_per_org.items():
                per_org[key] = per_org.get(key, 0) + count
            insert_findings(rows)
            if refused:
                RunError.objects.bulk_create(
                    [RunError(run_id=self.run.pk, line=item.line, reason=item.reason[:500],
                              raw=item.raw) for item in refused])
            # Fenced: only while the run is still this attempt's, after the position this
            # attempt last committed; otherwise nothing of the batch is kept.
            mine = FeedRun.objects.filter(pk=self.run.pk, attempts=self.run.attempts,
                                          position=self.run.position).update(
                position=position, heartbeat_at=now, read=F("read") + read,
                parsed=F("parsed") + len(events), failed=F("failed") + len(refused),
                duplicates=F("duplicates") + duplicates, routed=F("routed") + routed,
                unrouted=F("unrouted") + unrouted, routed_per_org=per_org)
            if not mine:
                raise RunTakenOver(f"run {self.run.pk} was taken over by another attempt")
            enrich_observable_index(self.run, kept)
            if (self.fail_after_batches is not None
                    and self.committed_batches >= self.fail_after_batches):
                raise SimulatedCrash(f"simulated crash after {self.committed_batches} batches")
        self.committed_batches += 1
        self.per_org = per_org
        run = self.run
        run.position = position
        run.read += read
        run.parsed += len(events)
        run.failed += len(refused)
        run.duplicates += duplicates
        run.routed += routed
        run.unrouted += unrouted
        run.routed_per_org = dict(self.per_org)
        if self.progress is not None:
            self.progress(run, read)

    def _rows(self, events: list[Event], now: dt.datetime
              ) -> tuple[list[tuple], int, int, dict[str, int]]:
        feed_id, run_id, tlp = self.feed.pk, self.run.pk, self.feed.tlp
        as_time = time_adapter()
        expires = as_time(now + self.expiry)
        now = as_time(now)
        per_org: dict[str, int] = {}
        rows = []
        append = rows.append
        routed = unrouted = 0
        # Rows of a feed repeat the same few details ({"url_status": "online", ...}):
        # serialise each distinct one once per batch.
        texts: dict[tuple, str | None] = {}
        for event in events:
            extra = event.extra
            if extra:
                try:
                    signature = tuple(extra.items())
                    text = texts.get(signature, False)
                    if text is False:
                        text = texts[signature] = json_or_none(extra)
                except TypeError:  # unhashable values (lists): no sharing
                    text = json_or_none(extra)
            else:
                text = None
            observed = event.observed
            base = (feed_id, run_id, event.line, event.raw, now,
                    None if observed is None else as_time(observed), expires,
                    event.taxonomy, event.type, event.value_type, event.value, event.ip,
                    event.port, event.asn, event.country or "", text,
                    json_or_none(list(event.warninglists)), tlp, event.key)
            if event.matches:
                routed += 1
                for match in event.matches:
                    append((*base, match.organisation_id, match.rule))
                    key = str(match.organisation_id)
                    per_org[key] = per_org.get(key, 0) + 1
            else:
                unrouted += 1
                append((*base, None, ""))
        return rows, routed, unrouted, per_org
