"""Every write of the feeds app: feed definitions, runs, acknowledgements, expiry.

Runs: ``run_feed`` first resumes the feed's unfinished run (failed, or left "running" by a
worker that died: no progress for STALE_AFTER), reading the very same input again from its
committed position; only when nothing is left to resume does it collect the source anew. A
run whose input has changed or vanished, or that failed MAX_ATTEMPTS times, is given up
(status failed: its findings stay invisible and do not count as seen for deduplication).

Parts: a large input of a parser whose records never span lines may be split into parts
(``RunPart``, planned by ``parts.plan``) that several workers process at once: the worker
processes ``run_feed(workers=N)`` starts, or one Celery task per part (``dispatch``). A part is
claimed, fenced, committed and resumed exactly like a whole run (its own ``attempts`` and
``position``); the run keeps the counters and its status, and ends once, under its row lock,
when its last part has ended (``_end_split_run``): succeeded when every part has, and only
then are its findings visible and its outputs delivered.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import multiprocessing
import os
import shutil
import socket
from collections.abc import Callable, Iterable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.audit.services import Action, record
from certhub.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied

from . import queries, schedule
from .connectors import collectors, parsers
from .connectors.collectors import Input
from .models import Feed, FeedRun, Finding, RunPart, RunStatus, SourceKind
from .pipeline import DEFAULT_BATCH, Pipeline, RunTakenOver
from .validation import DEFINITION_FIELDS, check_feed

log = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5
Progress = Callable[[FeedRun, int], None]
# Sends the parts of a split run to other workers (Celery): called with the run and part ids.
Dispatch = Callable[[FeedRun, list[int]], None]
# Inputs smaller than this are never split; parts aim at PART_BYTES (settings may change both).
SPLIT_MIN_BYTES = 64 * 1024 * 1024
PART_BYTES = 48 * 1024 * 1024


# --- feed definitions ----------------------------------------------------------------------------
def _require_hub_admin(user) -> None:
    if user is not None and not getattr(user, "is_hub_admin", False):
        raise PermissionDenied(_("Only hub administrators manage feeds."))


def feed_from_definition(definition: dict, feed: Feed | None = None) -> Feed:
    """A validated (unsaved) Feed from a YAML/JSON definition; InvalidInput naming the field."""
    if not isinstance(definition, dict):
        raise InvalidInput(_("A feed definition must be a mapping."))
    unknown = sorted(set(definition) - DEFINITION_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown field %(names)s in the definition of feed %(feed)s.")
                           % {"names": ", ".join(unknown), "feed": definition.get("name", "?")},
                           field=unknown[0])
    for required in ("name", "source", "location", "parser"):
        if not definition.get(required):
            raise InvalidInput(_("A feed definition needs %(field)s.") % {"field": required},
                               field=required)
    feed = feed or Feed()
    values = dict(definition)
    values["source_kind"] = values.pop("source")
    # The definition is the whole truth: a field it leaves out goes back to its default.
    for name in DEFINITION_FIELDS - {"source"} - set(values):
        values[name] = Feed._meta.get_field(name).get_default()
    for name, value in values.items():
        setattr(feed, name, value if value is not None else "")
    for name in ("collector_params", "parser_params"):
        if not getattr(feed, name):
            setattr(feed, name, {})
    check_feed(feed)
    from django.core.exceptions import ValidationError

    try:
        feed.full_clean(validate_unique=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidInput(f"{feed.name}: {field}: {' '.join(messages)}", field=field) from None
    return feed


def load_feeds(definitions: Iterable[dict], *, user=None) -> tuple[list[Feed], list[Feed]]:
    """Create or update feeds by name, all or nothing. Returns (created, updated)."""
    _require_hub_admin(user)
    definitions = list(definitions)
    names = [d.get("name") for d in definitions if isinstance(d, dict)]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise InvalidInput(_("Feed %(name)s is defined twice.") % {"name": duplicated[0]},
                           field="name")
    created, updated = [], []
    with transaction.atomic():
        for definition in definitions:
            existing = Feed.objects.filter(name=(definition or {}).get("name")).first() \
                if isinstance(definition, dict) else None
            feed = feed_from_definition(definition, existing)
            feed.save()
            (updated if existing else created).append(feed)
            record(Action.CHANGE if existing else Action.CREATE, user=user, obj=feed,
                   details={"source": feed.source_kind, "parser": feed.parser})
    return created, updated


def ingest_feed(name: str, path: Path, parser: str, params: dict, *, user=None) -> Feed:
    """The feed ``certhub ingest`` runs a local file under: the named one, or a new file feed."""
    feed = Feed.objects.filter(name=name).first()
    if feed is not None:
        if feed.parser != parser:
            raise InvalidInput(_("Feed %(feed)s uses the parser %(feed_parser)s, not "
                                 "%(parser)s.") % {"feed": name, "feed_parser": feed.parser,
                                                   "parser": parser}, field="parser")
        if params:
            feed.parser_params = parsers.get(parser).check({**feed.parser_params, **params})
        return feed
    parser_class = parsers.get(parser)
    kind = SourceKind.FOLDER if parser_class.input_kind == "folder" else SourceKind.FILE
    feed = feed_from_definition({"name": name, "source": kind, "location": str(path),
                                 "parser": parser, "parser_params": params,
                                 "title": _("Ingested with %(parser)s") % {"parser": parser}})
    with transaction.atomic():
        feed.save()
        record(Action.CREATE, user=user, obj=feed, details={"via": "ingest"})
    return feed


# --- runs -----------------------------------------------------------------------------------------
def run_feed(feed: Feed, *, trigger: str = "", progress: Progress | None = None,
             batch_size: int = DEFAULT_BATCH, input_path: Path | None = None,
             fail_after_batches: int | None = None,
             requested_at: dt.datetime | None = None,
             resume_only: bool = False, workers: int = 1,
             dispatch: Dispatch | None = None) -> list[FeedRun]:
    """Resume the feed's unfinished run, or collect and process its source. Returns the runs
    processed (a folder source gives one run per file). ``input_path`` reads that file instead
    of collecting (``certhub ingest``). A run that fails is left failed (resumable) and the
    exception propagates. With ``requested_at`` (when the run was asked for), nothing new is
    collected if a run of the feed has started since: a redelivered request runs once. With
    ``resume_only`` nothing new is collected at all.

    A large input of a splittable parser is split into parts: with ``workers`` > 1, as many
    worker processes take them; with ``dispatch``, each part is sent to it (a Celery task per
    part) and the run ends when its last part does."""
    split = _Split(workers=max(1, workers), dispatch=dispatch)
    runs = _resume(feed, progress, batch_size, fail_after_batches, input_path, split)
    if runs or resume_only:
        return runs
    if requested_at is not None:
        # A request (a task message, perhaps delivered twice) is satisfied by any run started
        # after it was made.
        started = Feed.objects.filter(pk=feed.pk).values_list("last_started_at", flat=True)
        if started and started[0] is not None and started[0] >= requested_at:
            return []
    run = FeedRun.objects.create(feed=feed, status=RunStatus.RUNNING, trigger=trigger[:100],
                                 started_at=timezone.now(), heartbeat_at=timezone.now(),
                                 worker=this_worker(),
                                 source=str(input_path or feed.location)[:2000])
    Feed.objects.filter(pk=feed.pk).update(last_started_at=run.started_at)
    parser_class = parsers.get(feed.parser)
    try:
        if input_path is not None:
            if not input_path.exists():
                raise InvalidInput(_("%(path)s does not exist.") % {"path": input_path},
                                   field="file")
            collected = collectors.Collected([Input.of(input_path, str(input_path))])
        else:
            collector = collectors.get(feed.source_kind)(feed.location, **feed.collector_params)
            collected = collector.collect(feed, spool_dir(run),
                                          folder_input=parser_class.input_kind == "folder")
    except Exception as exc:
        _fail(run, exc)
        raise
    if collected.etag != feed.etag or collected.last_modified != feed.last_modified:
        feed.etag, feed.last_modified = collected.etag, collected.last_modified
        Feed.objects.filter(pk=feed.pk).update(etag=feed.etag, last_modified=feed.last_modified)
    if collected.not_modified or not collected.inputs:
        run.not_modified = collected.not_modified
        run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
        run.save()
        return [run]
    inputs = _not_yet_read(feed, collected.inputs) if feed.source_kind == SourceKind.FOLDER \
        else collected.inputs
    if not inputs:  # every file of the folder was read by an earlier run
        run.not_modified = True
        run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
        run.save()
        return [run]
    runs = []
    for number, item in enumerate(inputs):
        if number:
            run = FeedRun.objects.create(feed=feed, trigger=run.trigger,
                                         source=item.source[:2000])
        # Queued until processed: a worker that dies in between leaves them to be resumed.
        run.status = RunStatus.QUEUED
        run.input_path, run.input_size, run.input_mtime_ns = (str(item.path), item.size,
                                                              item.mtime_ns)
        run.source = item.source[:2000]
        run.total = item.size if item.path.is_file() else None
        run.save()
        runs.append(run)
    for run in runs:
        _process(feed, run, progress, batch_size, fail_after_batches, split)
    return runs


def _not_yet_read(feed: Feed, inputs: list[Input]) -> list[Input]:
    """The folder's files that no successful run of this feed has read in this very state."""
    done = set(feed.runs.filter(status=RunStatus.SUCCEEDED, input_path__in=[
        str(item.path) for item in inputs]).values_list("input_path", "input_size",
                                                         "input_mtime_ns"))
    return [item for item in inputs if (str(item.path), item.size, item.mtime_ns) not in done]


def _resume(feed, progress, batch_size, fail_after_batches, input_path=None,
            split: _Split | None = None) -> list[FeedRun]:
    split = split or _Split()
    now = timezone.now()
    resumed = []
    unfinished = feed.runs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING,
                                              RunStatus.FAILED],
                                  attempts__lt=MAX_ATTEMPTS).exclude(input_path="")
    if input_path is not None:  # certhub ingest FILE: only a run of that very file
        unfinished = unfinished.filter(input_path=str(input_path))
    for run in unfinished.order_by("pk"):
        if run.parts.exists():
            if not _same_input(run):
                _give_up(run, _("its input changed or disappeared before it could be resumed"))
                continue
            if _resume_split(feed, run, progress, batch_size, fail_after_batches, split, now):
                resumed.append(run)
            continue
        if run.status == RunStatus.RUNNING and _owner_alive(run, now):
            raise Conflict(_("Feed %(feed)s is being run (run %(run)d).")
                           % {"feed": feed.name, "run": run.pk})
        if not _same_input(run):
            _give_up(run, _("its input changed or disappeared before it could be resumed"))
            continue
        _process(feed, run, progress, batch_size, fail_after_batches, split)
        resumed.append(run)
    return resumed


_GIVEN_UP = "given up: "


def _same_input(run: FeedRun) -> bool:
    path = Path(run.input_path)
    try:
        stat = path.stat()
    except OSError:
        return False
    return (run.input_size, run.input_mtime_ns) == (stat.st_size, stat.st_mtime_ns)


def _give_up(run: FeedRun, reason: str) -> None:
    run.status, run.finished_at = RunStatus.FAILED, timezone.now()
    run.attempts = MAX_ATTEMPTS
    run.error = f"{_GIVEN_UP}{reason}"
    run.save()
    _clean_spool(run)


def _process_space() -> str:
    """The host name and, where Linux tells it, the pid namespace: containers may share a
    host name (host networking, replicas named alike) without seeing each other's pids."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}/{namespace}" if namespace else socket.gethostname()


def this_worker() -> str:
    """Who runs an attempt: "<host[/pid namespace]>:pid"."""
    return f"{_process_space()}:{os.getpid()}"[:300]


def _worker_gone(worker: str) -> bool:
    """True when ``worker`` was a process of this host and pid namespace that no longer
    exists. Any other worker is never known to be gone: STALE_AFTER decides for it."""
    host, _sep, pid = worker.rpartition(":")
    if host != _process_space() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def _owner_alive(run: FeedRun, now: dt.datetime) -> bool:
    """Whether the attempt holding a "running" run may still be at work."""
    if run.heartbeat_at is None or now - run.heartbeat_at >= STALE_AFTER:
        return False
    return not (run.worker and _worker_gone(run.worker))


def _claim(run: FeedRun) -> FeedRun:
    """Start a new attempt of ``run``, atomically: the row is locked, an attempt still at work
    elsewhere is a Conflict. ``attempts`` is the fencing token: the pipeline commits a batch
    only while the run's attempts are still its own, so an attempt thought dead that wakes up
    again cannot write anything twice."""
    now = timezone.now()
    with transaction.atomic():
        current = FeedRun.objects.select_for_update().get(pk=run.pk)
        if current.status == RunStatus.SUCCEEDED or (
                current.status == RunStatus.RUNNING and _owner_alive(current, now)):
            raise Conflict(_("Feed %(feed)s is being run (run %(run)d).")
                           % {"feed": current.feed.name, "run": current.pk})
        current.status = RunStatus.RUNNING
        current.attempts += 1
        current.started_at = current.started_at or now
        current.heartbeat_at = now
        current.worker = this_worker()
        current.error = ""
        current.save()
    return current


def _finish(run: FeedRun, status: str, error: str = "") -> bool:
    """End the attempt ``run`` holds (fenced: nothing happens if another attempt took the run
    over). Returns whether it was still ours."""
    run.status, run.finished_at, run.error = status, timezone.now(), error[:5000]
    changed = FeedRun.objects.filter(pk=run.pk, attempts=run.attempts).update(
        status=status, finished_at=run.finished_at, error=run.error)
    return bool(changed)


def _process(feed, run, progress, batch_size, fail_after_batches,
             split: _Split | None = None) -> None:
    claimed = _claim(run)
    run.__dict__.update({f.attname: getattr(claimed, f.attname) for f in FeedRun._meta.fields})
    parser = parsers.get(feed.parser)(**feed.parser_params)
    split = split or _Split()
    try:
        split_run = run.parts.exists() or _plan_parts(run, parser, split)
    except Exception as exc:
        _fail(run, exc)
        raise
    if split_run:
        _run_parts(feed, run, progress, batch_size, fail_after_batches, split)
        return
    pipeline = Pipeline(feed, run, batch_size=batch_size, progress=progress,
                        fail_after_batches=fail_after_batches)
    try:
        if parser.columnar_path and settings.FEEDS_COLUMNAR:
            pipeline.consume_lines(parser, Path(run.input_path), start=run.position)
        else:
            pipeline.consume(parser.items(Path(run.input_path), start=run.position))
    except RunTakenOver:
        raise Conflict(_("Run %(run)d was taken over by another worker.") % {"run": run.pk}) \
            from None
    except Exception as exc:
        attempts = run.attempts
        run.refresh_from_db()
        if run.attempts == attempts:
            _fail(run, exc)
        raise
    run.refresh_from_db()
    if not _finish(run, RunStatus.SUCCEEDED):
        raise Conflict(_("Run %(run)d was taken over by another worker.") % {"run": run.pk})
    _clean_spool(run)
    log.info("feed %s run %s: read %d, failed %d, duplicates %d, routed %d, unrouted %d",
             feed.name, run.pk, run.read, run.failed, run.duplicates, run.routed, run.unrouted)
    _deliver_outputs(run)


# --- split runs: parts of one large input, several workers ---------------------------------------
class _Split:
    """How a run may be split: ``workers`` processes here, or parts sent to ``dispatch``."""

    def __init__(self, workers: int = 1, dispatch: Dispatch | None = None):
        self.workers = workers
        self.dispatch = dispatch


def _plan_parts(run: FeedRun, parser, split: _Split) -> bool:
    """Split the run's input into parts when that is allowed and worth it; whether it was."""
    if parser.input_kind != "file" or not parser.can_split():
        return False
    if split.dispatch is None and split.workers <= 1:
        return False  # one process here: the whole input in one pass, as ever
    size = run.input_size or 0
    if size < int(getattr(settings, "FEEDS_SPLIT_MIN_BYTES", SPLIT_MIN_BYTES)):
        return False
    path = Path(run.input_path)
    header = parser.header_end(path)
    if header is None:
        return False
    part_bytes = max(1, int(getattr(settings, "FEEDS_PART_BYTES", PART_BYTES)))
    from .parts import plan

    planned = plan(path, max(split.workers, math.ceil(size / part_bytes)), header)
    if len(planned) < 2:
        return False
    RunPart.objects.bulk_create([
        RunPart(run=run, number=number, byte_start=part.start, byte_end=part.end,
                header_bytes=header if part.start else 0, first_line=part.first_line,
                last_line=part.last_line)
        for number, part in enumerate(planned, 1)])
    log.info("feed %s run %s: %d parts", run.feed_id, run.pk, len(planned))
    return True


def _run_parts(feed, run, progress, batch_size, fail_after_batches, split: _Split, *,
               holding: bool = True) -> None:
    """Have the parts of the run processed, here or by the dispatched tasks. ``holding``:
    this attempt claimed the run (no other coordinator may still start workers on it)."""
    # A part that failed is tried again by this attempt of the run (not by the same worker
    # at once: a failing part would otherwise use up its attempts in a loop).
    RunPart.objects.filter(run=run, status=RunStatus.FAILED,
                           attempts__lt=MAX_ATTEMPTS).update(status=RunStatus.QUEUED)
    if split.dispatch is not None:
        split.dispatch(run, _claimable_part_ids(run))
        return
    if split.workers > 1:
        _work_in_processes(run, split.workers, batch_size, progress)
    else:
        work_parts(run, batch_size=batch_size, progress=progress,
                   fail_after_batches=fail_after_batches)
    status = _end_split_run(run, final=holding)
    run.refresh_from_db()
    if status == RunStatus.FAILED:
        raise RuntimeError(run.error or _("A part of run %(run)d failed.") % {"run": run.pk})
    if status == RunStatus.RUNNING:  # parts still held by workers started elsewhere
        return
    log.info("feed %s run %s (%d parts): read %d, failed %d, duplicates %d, routed %d, "
             "unrouted %d", feed.name, run.pk, run.parts.count(), run.read, run.failed,
             run.duplicates, run.routed, run.unrouted)


def _resume_split(feed, run, progress, batch_size, fail_after_batches, split: _Split,
                  now: dt.datetime) -> bool:
    """Resume a split run: its parts that failed or whose worker is gone. A run still at
    work elsewhere with nothing to resume is a Conflict (as for a whole run)."""
    stuck = RunPart.objects.filter(run=run, attempts__lt=MAX_ATTEMPTS).filter(
        status__in=[RunStatus.FAILED, RunStatus.RUNNING])
    stuck = [part for part in stuck
             if part.status == RunStatus.FAILED or not _owner_alive(part, now)]
    holding = not (run.status == RunStatus.RUNNING and _owner_alive(run, now))
    if not holding and not stuck:
        raise Conflict(_("Feed %(feed)s is being run (run %(run)d).")
                       % {"feed": feed.name, "run": run.pk})
    if holding:
        claimed = _claim(run)
        run.__dict__.update({f.attname: getattr(claimed, f.attname)
                             for f in FeedRun._meta.fields})
    _run_parts(feed, run, progress, batch_size, fail_after_batches, split, holding=holding)
    return True


def _claimable(part: RunPart, now: dt.datetime) -> bool:
    return part.attempts < MAX_ATTEMPTS and (
        part.status == RunStatus.QUEUED
        or (part.status == RunStatus.RUNNING and not _owner_alive(part, now)))


def _claimable_part_ids(run: FeedRun) -> list[int]:
    now = timezone.now()
    return [part.pk for part in RunPart.objects.filter(
        run=run, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]) if _claimable(part, now)]


def _claim_part(run: FeedRun, part_id: int | None = None) -> RunPart | None:
    """Start a new attempt of a part of ``run`` (that one, or the first one left), or None.
    Queued parts, and parts whose worker is gone, may be claimed. The claim is a
    compare-and-set on (status, attempts): two workers never both hold a part, whatever the
    database; on PostgreSQL, rows another worker is claiming are skipped, not waited for."""
    now = timezone.now()
    with transaction.atomic():
        candidates = (RunPart.objects.select_for_update(skip_locked=True)
                      .filter(run=run, status__in=[RunStatus.QUEUED, RunStatus.RUNNING],
                              attempts__lt=MAX_ATTEMPTS).order_by("number"))
        if part_id is not None:
            candidates = candidates.filter(pk=part_id)
        claimed = None
        for part in candidates:
            if not _claimable(part, now):
                continue
            if RunPart.objects.filter(pk=part.pk, status=part.status,
                                      attempts=part.attempts).update(
                    status=RunStatus.RUNNING, attempts=part.attempts + 1, worker=this_worker(),
                    heartbeat_at=now, started_at=part.started_at or now, error=""):
                claimed = RunPart.objects.get(pk=part.pk)
                break
    if claimed is not None:
        # Claiming is progress: the run is not stale while its parts are taken. (After the
        # claim's transaction: part rows are never locked while waiting for the run's row.)
        FeedRun.objects.filter(pk=run.pk).update(heartbeat_at=now)
    return claimed


def work_parts(run: FeedRun, *, batch_size: int = DEFAULT_BATCH,
               progress: Progress | None = None,
               fail_after_batches: int | None = None) -> int:
    """A worker's loop: claim and process parts of ``run`` until none is left to claim.
    A part that fails is left failed (its error recorded) and the loop goes on with the
    others. Returns how many parts this worker ended."""
    feed = run.feed
    ended = 0
    while (part := _claim_part(run)) is not None:
        try:
            _process_part(feed, run, part, batch_size=batch_size, progress=progress,
                          fail_after_batches=fail_after_batches)
        except Exception:
            log.exception("feed %s run %s part %s failed", feed.name, run.pk, part.number)
        ended += 1
    return ended


def run_part(part_id: int, *, batch_size: int = DEFAULT_BATCH) -> RunPart | None:
    """Process one part (a Celery task's work): claimed here unless another worker holds
    it or it is done. Returns the part processed, or None."""
    part = RunPart.objects.select_related("run__feed").filter(pk=part_id).first()
    if part is None:
        return None
    run = part.run
    if run.status == RunStatus.FAILED and run.attempts < MAX_ATTEMPTS:
        # Ended failed while this part waited (another part failed): it goes on.
        FeedRun.objects.filter(pk=run.pk, status=RunStatus.FAILED).update(
            status=RunStatus.RUNNING, finished_at=None, heartbeat_at=timezone.now())
        run.refresh_from_db()
    if run.status != RunStatus.RUNNING:
        return None
    claimed = _claim_part(run, part_id)
    if claimed is None:
        log.info("part %s of run %s is done or held by another worker", part.number, run.pk)
        return None
    try:
        _process_part(run.feed, run, claimed, batch_size=batch_size)
    except Exception:
        log.exception("feed %s run %s part %s failed", run.feed.name, run.pk, part.number)
    return claimed


def _process_part(feed, run, part: RunPart, *, batch_size: int, progress=None,
                  fail_after_batches=None) -> None:
    from .connectors.parsers.base import Span

    parser = parsers.get(feed.parser)(**feed.parser_params)
    pipeline = Pipeline(feed, run, batch_size=batch_size, progress=progress,
                        fail_after_batches=fail_after_batches, part=part)
    span = Span(part.byte_start, part.byte_end, part.first_line, part.header_bytes)
    try:
        if parser.columnar_path and settings.FEEDS_COLUMNAR and not span.header:
            pipeline.consume_lines(parser, Path(run.input_path), part.position, span)
        else:
            pipeline.consume(parser.part_items(Path(run.input_path), part.position, span))
    except RunTakenOver:
        log.info("part %s of run %s was taken over by another worker", part.number, run.pk)
        return
    except Exception as exc:
        _finish_part(part, RunStatus.FAILED,
                     getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}")
        _end_split_run(run, final=False)
        raise
    _finish_part(part, RunStatus.SUCCEEDED)
    _end_split_run(run, final=False)


def _finish_part(part: RunPart, status: str, error: str = "") -> bool:
    """End the attempt ``part`` holds (fenced on its attempts); whether it was still ours."""
    part.status, part.finished_at, part.error = status, timezone.now(), error[:5000]
    return bool(RunPart.objects.filter(pk=part.pk, attempts=part.attempts).update(
        status=status, finished_at=part.finished_at, error=part.error))


def _end_split_run(run: FeedRun, *, final: bool) -> str:
    """End the split run if its parts are over, exactly once (under the run's row lock, and
    only from "running"): succeeded when every part has (outputs delivered once it commits);
    given up when a part used up its attempts; failed (resumable) when no part is left at
    work: none running in a live worker and, unless ``final`` (no worker will take a queued
    part now), none queued. Returns the run's status."""
    now = timezone.now()
    with transaction.atomic():
        current = FeedRun.objects.select_for_update().get(pk=run.pk)
        if current.status != RunStatus.RUNNING:
            return current.status
        parts = list(RunPart.objects.filter(run=current))
        if all(part.status == RunStatus.SUCCEEDED for part in parts):
            FeedRun.objects.filter(pk=current.pk, status=RunStatus.RUNNING).update(
                status=RunStatus.SUCCEEDED, finished_at=now, error="",
                position=max(part.last_line for part in parts))
            current.refresh_from_db()
            _clean_spool(current)
            _deliver_outputs(current)
            return RunStatus.SUCCEEDED
        failed = [part for part in parts if part.status == RunStatus.FAILED]
        given_up = [part for part in failed if part.attempts >= MAX_ATTEMPTS]
        at_work = [part for part in parts if (part.status == RunStatus.QUEUED and not final)
                   or (part.status == RunStatus.RUNNING and _owner_alive(part, now))]
        if not given_up and at_work:
            return RunStatus.RUNNING
        reason = "; ".join(_("part %(number)d: %(error)s")
                           % {"number": part.number, "error": part.error}
                           for part in failed[:5]) or _(
            "parts %(numbers)s were not processed") % {"numbers": ", ".join(
                str(part.number) for part in parts if part.status != RunStatus.SUCCEEDED)}
        if given_up:
            FeedRun.objects.filter(pk=current.pk).update(
                status=RunStatus.FAILED, finished_at=now, attempts=MAX_ATTEMPTS,
                error=f"{_GIVEN_UP}{reason}"[:5000])
            RunPart.objects.filter(run=current).exclude(status=RunStatus.SUCCEEDED).update(
                status=RunStatus.FAILED)
        else:
            FeedRun.objects.filter(pk=current.pk).update(status=RunStatus.FAILED,
                                                         finished_at=now, error=reason[:5000])
    return RunStatus.FAILED


def _work_in_processes(run: FeedRun, workers: int, batch_size: int,
                       progress: Progress | None) -> None:
    """Start ``workers`` processes that claim the run's parts until none is left, showing
    the run's counters as they grow; start more while parts of a worker that died are left
    (at most MAX_ATTEMPTS rounds: each claim uses one of the part's attempts)."""
    from django.db import connection, connections

    from .workers import take_parts, take_parts_forked, warm_up

    if "fork" in multiprocessing.get_all_start_methods():
        warm_up(run.feed)
        context, target, args = (multiprocessing.get_context("fork"), take_parts_forked,
                                 (run.pk, batch_size))
    else:
        context, target, args = (multiprocessing.get_context("spawn"), take_parts,
                                 (run.pk, batch_size, str(connection.settings_dict["NAME"])))
    shown = _Shown(run, progress)
    for _round in range(MAX_ATTEMPTS):
        left = _claimable_part_ids(run)
        if not left:
            break
        claims = _claims(run)
        processes = [context.Process(target=target, args=args,
                                     name=f"certhub-run-{run.pk}-worker-{number}")
                     for number in range(min(workers, len(left)))]
        connections.close_all()  # a forked child must not inherit an open connection
        for process in processes:
            process.start()
        while any(process.is_alive() for process in processes):
            for process in processes:
                process.join(timeout=0.5 / len(processes))
            shown.update()
        shown.update()
        for process in processes:
            if process.exitcode:
                log.warning("run %s: worker %s ended with %s", run.pk, process.name,
                            process.exitcode)
        if _claims(run) == claims:  # the workers could not even claim a part: stop here
            break


def _claims(run: FeedRun) -> int:
    return sum(RunPart.objects.filter(run=run).values_list("attempts", flat=True))


class _Shown:
    """Feeds the progress callback from the run's counters, which the workers add to."""

    def __init__(self, run: FeedRun, progress: Progress | None):
        self.run = run
        self.progress = progress
        self.read = run.read

    def update(self) -> None:
        if self.progress is None:
            return
        counters = ("read", "parsed", "failed", "duplicates", "routed", "unrouted")
        values = FeedRun.objects.filter(pk=self.run.pk).values(*counters).first()
        if not values:
            return
        for name in counters:
            setattr(self.run, name, values[name])
        if values["read"] > self.read:
            self.progress(self.run, values["read"] - self.read)
            self.read = values["read"]


def _deliver_outputs(run: FeedRun) -> None:
    """Hand a succeeded run to the outputs (digest, webhooks) once its commit is durable.
    Outputs failing never fail the run: its findings are already delivered to the inboxes."""
    try:
        from .outputs import deliver_run_outputs
    except ImportError:  # outputs not installed yet
        return

    def deliver() -> None:
        try:
            deliver_run_outputs(run)
        except Exception:
            log.exception("outputs of feed run %s failed", run.pk)

    transaction.on_commit(deliver)


def _fail(run: FeedRun, exc: Exception) -> None:
    _finish(run, RunStatus.FAILED,
            getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}")
    if run.attempts >= MAX_ATTEMPTS:
        _clean_spool(run)


def spool_dir(run: FeedRun) -> Path:
    return Path(settings.DATA_DIR) / "feeds" / "spool" / f"run-{run.pk}"


def _clean_spool(run: FeedRun) -> None:
    folder = spool_dir(run)
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)


def due_feeds(now: dt.datetime | None = None) -> list[Feed]:
    """Enabled feeds whose schedule says they should run now, and feeds with a run to resume
    (failed with attempts left, or left running by a worker that stopped making progress)."""
    now = now or timezone.now()
    _abandon_stale_collections(now)
    resumable = resumable_feed_ids(now)
    return [feed for feed in Feed.objects.filter(enabled=True)
            if feed.pk in resumable
            or (feed.schedule and schedule.is_due(feed.schedule, feed.last_started_at, now))]


def resumable_feed_ids(now: dt.datetime | None = None) -> set[int]:
    """Feeds with a run to resume: failed with attempts left, queued, or left running by a
    worker that is gone (or made no progress for STALE_AFTER)."""
    now = now or timezone.now()
    candidates = (FeedRun.objects.filter(attempts__lt=MAX_ATTEMPTS).exclude(input_path="")
                  .filter(status__in=[RunStatus.FAILED, RunStatus.QUEUED, RunStatus.RUNNING])
                  .values_list("feed_id", "status", "heartbeat_at", "worker"))
    resumable = {feed_id for feed_id, status, heartbeat_at, worker in candidates
                 if status != RunStatus.RUNNING or not _owner_alive(
                     FeedRun(heartbeat_at=heartbeat_at, worker=worker), now)}
    # Parts of a running split run that failed, or whose worker is gone.
    parts = (RunPart.objects.filter(run__status=RunStatus.RUNNING, attempts__lt=MAX_ATTEMPTS,
                                    status__in=[RunStatus.FAILED, RunStatus.RUNNING])
             .values_list("run__feed_id", "status", "heartbeat_at", "worker"))
    resumable |= {feed_id for feed_id, status, heartbeat_at, worker in parts
                  if status == RunStatus.FAILED or not _owner_alive(
                      RunPart(heartbeat_at=heartbeat_at, worker=worker), now)}
    return resumable


def _abandon_stale_collections(now: dt.datetime) -> None:
    """A run whose worker died while collecting its source has nothing to resume: fail it."""
    for run in FeedRun.objects.filter(status=RunStatus.RUNNING, input_path=""):
        if not _owner_alive(run, now):
            _finish(run, RunStatus.FAILED, _("the worker stopped while collecting the source"))


def request_run(user, feed: Feed, *, request=None) -> None:
    """Ask for a run of ``feed`` now (hub administrators): the task is sent once the request's
    transaction commits; without a broker it runs in-process."""
    _require_hub_admin(user)
    if user is None:
        raise PermissionDenied(_("Only hub administrators manage feeds."))
    from . import tasks

    with transaction.atomic():
        record(Action.CHANGE, user=user, request=request, obj=feed,
               details={"run": "requested"})
        feed_id, trigger = feed.pk, (f"user:{user.email}")[:100]
        requested_at = timezone.now().isoformat()
        transaction.on_commit(lambda: tasks.run_feed.delay(feed_id, trigger=trigger,
                                                           requested_at=requested_at))


# --- findings ------------------------------------------------------------------------------------
def acknowledge(user, finding_ids: Iterable[int], *, acknowledged: bool = True,
                request=None) -> int:
    """Mark findings of the user's own inbox as handled (or not). Returns how many changed.

    Only findings routed to the user's organisation can be acknowledged, by a role that
    writes; ids the user cannot see are ignored (never told apart from missing ones)."""
    if not getattr(user, "can_write", False):
        raise PermissionDenied(_("Your role cannot acknowledge findings."))
    ids = [int(pk) for pk in finding_ids]
    if not ids:
        return 0
    with transaction.atomic():
        targets = queries.visible_findings(user).filter(pk__in=ids,
                                                        organisation_id=user.organisation_id)
        if acknowledged:
            changed = targets.filter(acknowledged_at__isnull=True).update(
                acknowledged_at=timezone.now(), acknowledged_by=user)
        else:
            changed = targets.filter(acknowledged_at__isnull=False).update(
                acknowledged_at=None, acknowledged_by=None)
        if not changed and len(ids) == 1 and not targets.exists():
            raise NotFound()
        record(Action.CHANGE, user=user, request=request, object_type="feeds.finding",
               object_id=",".join(map(str, ids[:20])),
               object_repr=_("%(n)d findings acknowledged") % {"n": changed} if acknowledged
               else _("%(n)d findings reopened") % {"n": changed},
               details={"ids": ids[:1000], "acknowledged": acknowledged, "changed": changed})
    return changed


def export_inbox_csv(user, *, request=None, **filters):
    """The CSV lines of the user's inbox with these filters; the export is audited."""
    findings = queries.inbox(user, **filters)
    record(Action.EXPORT, user=user, request=request, object_type="feeds.finding",
           object_repr=_("findings inbox as CSV"),
           details={key: str(value) for key, value in filters.items() if value is not None})
    return queries.inbox_csv(findings)


def expire_findings(now: dt.datetime | None = None) -> int:
    """Remove findings past their expiry, and deduplication blocks older than their feed's
    window (they can no longer make anything a duplicate). Returns how many findings went."""
    from .models import DedupeBlock

    now = now or timezone.now()
    deleted, _per_model = Finding.objects.filter(expires_at__lt=now).delete()
    for feed_id, hours in Feed.objects.values_list("pk", "dedupe_window_hours"):
        DedupeBlock.objects.filter(feed_id=feed_id,
                                   created__lt=now - dt.timedelta(hours=hours)).delete()
    return deleted
