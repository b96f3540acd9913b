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
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from pathlib import Path

import polars as pl
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from certhub.core.gc import collector_paused

from . import validation
from .columnar import frames
from .columnar.lines import line_batches
from .connectors.events import Bad, Event
from .connectors.experts import (
    Classifier,
    Deduplicator,
    Normaliser,
    Router,
    WarninglistFlagger,
    enrich_observable_index,
)
from .connectors.parsers.base import Parser, Span
from .models import Feed, FeedRun, RunError, RunPart
from .storage import (
    Same,
    insert_findings,
    json_or_none,
    prepare_connection,
    same_time,
    time_adapter,
)

DEFAULT_BATCH = 10_000


class RunTakenOver(RuntimeError):
    """Another attempt of the run has started (this one was thought dead): stop, commit
    nothing more."""


class SimulatedCrash(RuntimeError):
    """Raised by the ``fail_after_batches`` testing hook, as if the worker died mid-batch."""


class _Prepared:
    """A batch ready to commit: its events, refused lines, lines read and last position."""

    __slots__ = ("events", "position", "read", "refused")

    def __init__(self, events: list[Event], refused: list[Bad], read: int, position: int):
        self.events = events
        self.refused = refused
        self.read = read
        self.position = position


class _Writer:
    """Commits prepared batches on its own thread, in order, one at a time; the submitter may
    prepare the next batch meanwhile (psycopg and sqlite3 release the GIL while the database
    works). The first error stops the writer and is raised in the submitting thread, at the
    next ``submit`` or at the end; batches after it are never committed."""

    def __init__(self, commit: Callable[[_Prepared], None]):
        self.commit = commit
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="certhub-feed-writer",
                                       daemon=True)

    def __enter__(self) -> _Writer:
        self.thread.start()
        return self

    def submit(self, prepared: _Prepared) -> None:
        self._raise()
        while True:  # never wait forever on a writer that has stopped
            try:
                self.queue.put(prepared, timeout=0.5)
                return
            except queue.Full:
                self._raise()
                if not self.thread.is_alive():
                    raise RuntimeError("the feed writer thread stopped") from None

    def __exit__(self, kind, value, traceback) -> None:
        # On an error here (the parser failed) the batches already handed over are still
        # committed: they are whole batches, and the position says where to resume.
        while self.thread.is_alive():
            try:
                self.queue.put(None, timeout=0.5)
                break
            except queue.Full:
                continue
        self.thread.join()
        if kind is None:
            self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def _work(self) -> None:
        prepare_connection()
        try:
            while True:
                prepared = self.queue.get()
                if prepared is None:
                    return
                self.commit(prepared)
        except BaseException as exc:  # handed to the submitting thread
            self.error = exc
        finally:
            connections.close_all()  # this thread's connections only


class Pipeline:
    overlap = True  # commit on a writer thread when not inside a transaction (see consume)

    def __init__(self, feed: Feed, run: FeedRun, *, batch_size: int = DEFAULT_BATCH,
                 progress: Callable[[FeedRun, int], None] | None = None,
                 fail_after_batches: int | None = None, part: RunPart | None = None):
        """``fail_after_batches`` is a testing hook: after that many committed batches, the
        next batch raises SimulatedCrash inside its transaction (which is rolled back).
        ``part``: the part of a split run this pipeline reads (its attempt is the fence)."""
        self.feed = feed
        self.run = run
        self.part = part
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
        """Process ``items`` batch by batch. Outside a transaction, a writer thread commits
        batch k (on its own database connection) while this thread prepares batch k+1: the
        database's work overlaps Python's. Inside one (a caller's atomic block, a test) every
        batch is committed here, in order, on the caller's connection."""
        self._drive(map(self.prepare, self._batches(items)))

    def consume_lines(self, parser: Parser, path: Path, start: int = 0,
                      span: Span | None = None) -> None:
        """``consume`` for a parser with a columnar path (``parser.columnar``): the input (or
        the part ``span``) in batches of physical lines after line ``start``; a clean batch
        goes as a frame, any other is read by the parser itself and goes as events."""
        self._drive(self._line_batches(parser, path, start, span))

    def _line_batches(self, parser: Parser, path: Path, start: int, span: Span | None
                      ) -> Iterator[_Prepared | frames.PreparedFrame]:
        size = self.batch_size
        pending = None  # events of clean line batches not yet in a batch of ``size``
        for batch in line_batches(path, span, size):
            if batch.last_line <= start:
                continue
            events = None if batch.lines is None else parser.columnar(batch.lines,
                                                                      batch.first_line, start)
            if events is None:
                if pending is not None and pending.height:
                    yield frames.prepare(self, pending)
                pending = None
                items = parser.part_items(path, start, batch.span)
                yield from map(self.prepare, self._batches(items))
                continue
            if not events.height:
                continue
            pending = events if pending is None else pl.concat([pending, events])
            while pending.height >= size:  # batches of ``size`` events, as ``_batches`` makes
                yield frames.prepare(self, pending.slice(0, size))
                pending = pending.slice(size)
        if pending is not None and pending.height:
            yield frames.prepare(self, pending)

    def _drive(self, prepared: Iterable[_Prepared | frames.PreparedFrame]) -> None:
        with collector_paused():
            if connection.in_atomic_block or not self.overlap:
                for batch in prepared:
                    self._commit_any(batch)
                return
            with _Writer(self._commit_any) as writer:
                for batch in prepared:
                    writer.submit(batch)

    def _commit_any(self, prepared: _Prepared | frames.PreparedFrame) -> None:
        if type(prepared) is frames.PreparedFrame:
            self.commit_frame(prepared)
        else:
            self.commit(prepared)

    def _batches(self, items: Iterable[Event | Bad]) -> Iterator[list[Event | Bad]]:
        batch: list[Event | Bad] = []
        size = self.batch_size
        last_line = None
        for item in items:
            if len(batch) >= size and item.line != last_line:
                yield batch
                batch = []
            batch.append(item)
            last_line = item.line
        if batch:
            yield batch

    def process(self, batch: list[Event | Bad]) -> None:
        """Prepare and commit one batch (here, on this thread's connection)."""
        self.commit(self.prepare(batch))

    def prepare(self, batch: list[Event | Bad]) -> _Prepared:
        """Everything that needs no database state: normalise, classify, key, flag, route.
        Runs before the feed's lock is taken, so workers sharing a feed only take turns for
        ``commit``. Flags and routes of duplicates are computed and dropped: cheaper than a
        second pass."""
        events: list[Event] = []
        refused: list[Bad] = []
        for item in batch:
            (events if type(item) is Event else refused).append(item)
        events = self.normaliser.process(events, refused)
        events = self.classifier.process(events, refused)
        self.deduplicator.keys(events)
        self.flagger.process(events)
        self.router.process(events)
        return _Prepared(events, refused, len(batch), batch[-1].line)

    def commit(self, prepared: _Prepared) -> None:
        """One transaction: deduplicate against the feed's committed keys, store the
        findings, the refused lines and the progress."""
        events, refused, read, position = (prepared.events, prepared.refused, prepared.read,
                                           prepared.position)
        now = timezone.now()
        naive_now = now.replace(tzinfo=None)  # storage convention: naive UTC
        with transaction.atomic():
            # Serialises batches of the same feed across workers (deduplication stays exact).
            list(Feed.objects.select_for_update().filter(pk=self.feed.pk).values_list("pk"))
            kept, duplicates = self.deduplicator.process(events, now)
            columns, routed, unrouted, batch_per_org = self._columns(kept, naive_now)
            insert_findings(columns)
            self.deduplicator.record(self.run.pk, kept, now)
            if refused:
                RunError.objects.bulk_create(
                    [RunError(run_id=self.run.pk, line=item.line, reason=item.reason[:500],
                              raw=item.raw) for item in refused])
            per_org = self._advance(position, now, read=read, parsed=len(events),
                                    failed=len(refused), duplicates=duplicates, routed=routed,
                                    unrouted=unrouted, batch_per_org=batch_per_org)
            enrich_observable_index(self.run, kept)
            self._crash_hook()
        self._committed(per_org, position, read=read, parsed=len(events), failed=len(refused),
                        duplicates=duplicates, routed=routed, unrouted=unrouted)

    def commit_frame(self, prepared: frames.PreparedFrame) -> None:
        """``commit`` for a batch prepared as a frame (it has no refused lines)."""
        now = timezone.now()
        keys = prepared.keys
        with transaction.atomic():
            list(Feed.objects.select_for_update().filter(pk=self.feed.pk).values_list("pk"))
            keep = self.deduplicator.fresh(keys, now)
            batch_per_org = frames.store(self, prepared, keep, now.replace(tzinfo=None))
            self.deduplicator.record_keys(self.run.pk, keys[keep], now)
            kept = int(keep.sum())
            routed = int((keep & prepared.routed).sum())
            counts = {"read": prepared.read, "parsed": len(keys), "failed": 0,
                      "duplicates": len(keys) - kept, "routed": routed,
                      "unrouted": kept - routed}
            per_org = self._advance(prepared.position, now, **counts,
                                    batch_per_org=batch_per_org)
            self._crash_hook()
        self._committed(per_org, prepared.position, **counts)

    def _crash_hook(self) -> None:
        if (self.fail_after_batches is not None
                and self.committed_batches >= self.fail_after_batches):
            raise SimulatedCrash(f"simulated crash after {self.committed_batches} batches")

    def _committed(self, per_org: dict[str, int], position: int, *, read: int, parsed: int,
                   failed: int, duplicates: int, routed: int, unrouted: int) -> None:
        """The run's counters after a committed batch (as the database now holds them)."""
        self.committed_batches += 1
        self.per_org = per_org
        run = self.run
        run.position = position
        run.read += read
        run.parsed += parsed
        run.failed += failed
        run.duplicates += duplicates
        run.routed += routed
        run.unrouted += unrouted
        run.routed_per_org = dict(self.per_org)
        if self.progress is not None:
            self.progress(run, read)

    def _advance(self, position: int, now, *, read: int, parsed: int, failed: int,
                 duplicates: int, routed: int, unrouted: int,
                 batch_per_org: dict[str, int]) -> dict[str, int]:
        """Record the batch's progress in its transaction; returns the run's findings per
        organisation so far. Fenced: only while the run is still this attempt's, after the
        position this attempt last committed; otherwise nothing of the batch is kept
        (RunTakenOver rolls it back)."""
        if self.part is not None:
            return self._advance_part(position, now, read=read, parsed=parsed, failed=failed,
                                      duplicates=duplicates, routed=routed, unrouted=unrouted,
                                      batch_per_org=batch_per_org)
        per_org = dict(self.per_org)
        for key, count in batch_per_org.items():
            per_org[key] = per_org.get(key, 0) + count
        mine = FeedRun.objects.filter(pk=self.run.pk, attempts=self.run.attempts,
                                      position=self.run.position).update(
            position=position, heartbeat_at=now, read=F("read") + read,
            parsed=F("parsed") + parsed, failed=F("failed") + failed,
            duplicates=F("duplicates") + duplicates, routed=F("routed") + routed,
            unrouted=F("unrouted") + unrouted, routed_per_org=per_org)
        if not mine:
            raise RunTakenOver(f"run {self.run.pk} was taken over by another attempt")
        return per_org

    def _advance_part(self, position: int, now, *, read: int, parsed: int, failed: int,
                      duplicates: int, routed: int, unrouted: int,
                      batch_per_org: dict[str, int]) -> dict[str, int]:
        """``_advance`` for a part of a split run: fenced on the part's attempt and position;
        the counters are added to the run's. Other parts commit to the same run row, so the
        findings per organisation are read and merged here: the feed row lock taken at the
        start of the batch's transaction serialises the batches of every part."""
        part = self.part
        mine = RunPart.objects.filter(pk=part.pk, attempts=part.attempts,
                                      position=part.position).update(position=position,
                                                                     heartbeat_at=now)
        if not mine:
            raise RunTakenOver(f"part {part.number} of run {self.run.pk} was taken over by "
                               "another attempt")
        stored = FeedRun.objects.filter(pk=self.run.pk).values_list("routed_per_org",
                                                                    flat=True).first()
        per_org = {str(key): value for key, value in (stored or {}).items()}
        for key, count in batch_per_org.items():
            per_org[key] = per_org.get(key, 0) + count
        FeedRun.objects.filter(pk=self.run.pk).update(
            heartbeat_at=now, read=F("read") + read, parsed=F("parsed") + parsed,
            failed=F("failed") + failed, duplicates=F("duplicates") + duplicates,
            routed=F("routed") + routed, unrouted=F("unrouted") + unrouted,
            routed_per_org=per_org)
        # Only this attempt moves the part on; a rolled-back batch ends the attempt anyway.
        part.position = position
        part.heartbeat_at = now
        return per_org

    def _columns(self, events: list[Event], now: dt.datetime
                 ) -> tuple[list, int, int, dict[str, int]]:
        """The findings of ``events`` as columns laid out as storage.COLUMNS (one row per
        responsible organisation, one without organisation when nobody is), the number of
        events routed and not, and rows per organisation id."""
        as_time = time_adapter()
        observed = list(map(_observed, events))
        if as_time is not same_time:
            observed = [None if moment is None else as_time(moment) for moment in observed]
        matches = list(map(_matches, events))
        # Rows of a feed repeat the same few details ({"url_status": "online", ...}):
        # serialise each distinct one once per batch.
        texts: dict[tuple, str | None] = {}
        extras = []
        for extra in map(_extra, events):
            if not extra:
                extras.append(None)
                continue
            try:
                signature = tuple(extra.items())
                text = texts.get(signature, False)
                if text is False:
                    text = texts[signature] = json_or_none(extra)
            except TypeError:  # unhashable values (lists): no sharing
                text = json_or_none(extra)
            extras.append(text)
        flags = [json_or_none(list(names)) if names else None
                 for names in map(_warninglists, events)]
        columns = [Same(self.feed.pk), Same(self.run.pk), list(map(_line, events)),
                   list(map(_raw, events)), Same(as_time(now)), observed,
                   Same(as_time(now + self.expiry)), list(map(_taxonomy, events)),
                   list(map(_type, events)), list(map(_value_type, events)),
                   list(map(_value, events)), list(map(_ip, events)),
                   list(map(_port, events)), list(map(_asn, events)),
                   list(map(_country, events)), extras, flags, Same(self.feed.tlp),
                   list(map(_key, events)),
                   [found[0].organisation_id if found else None for found in matches],
                   [found[0].rule if found else "" for found in matches]]
        routed = sum(1 for found in matches if found)
        per_org = Counter(str(match.organisation_id) for found in matches for match in found)
        if routed and any(len(found) > 1 for found in matches):
            columns = _fan_out(columns, matches)
        return columns, routed, len(events) - routed, dict(per_org)


def _fan_out(columns: list, matches: list[tuple]) -> list:
    """One row per responsible organisation for events with several."""
    rows = [index for index, found in enumerate(matches) for _ in (found or (None,))]
    organisations = [match.organisation_id if match else None
                     for found in matches for match in (found or (None,))]
    rules = [match.rule if match else "" for found in matches for match in (found or (None,))]
    expanded = [column if isinstance(column, Same) else [column[index] for index in rows]
                for column in columns[:-2]]
    return [*expanded, organisations, rules]


(_line, _raw, _observed, _taxonomy, _type, _value_type, _value, _ip, _port, _asn, _country,
 _extra, _key, _matches, _warninglists) = map(attrgetter, (
    "line", "raw", "observed", "taxonomy", "type", "value_type", "value", "ip", "port", "asn",
    "country", "extra", "key", "matches", "warninglists"))
