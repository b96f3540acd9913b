"""Pulling a remote TAXII 2.1 collection into intel reports, idempotently.

``pull`` asks the remote for the objects added after the collection's resume point, page by
page (``more``/``next``), and hands the objects the owner organisation does not hold yet (same
id and version: ``modified``, or none for SCOs) to ``intel.services.import_stix`` in batches:
one report per batch, owned by the configured organisation, created by the configured account,
at the configured TLP and audience. Each batch commits with the new resume point, so a run that
fails half-way keeps what it stored and the next run continues after it; a re-run stores
nothing new. An object the STIX validator refuses is counted as failed, with its reason, and
the rest of its batch is stored.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.core.errors import CerthubError, Conflict, InvalidInput
from certhub.feeds import schedule as schedules
from certhub.intel import services as intel_services
from certhub.intel.models import StixObject
from certhub.intel.plan import parse_timestamp
from certhub.intel.stix import importer as stix_importer

from . import remote as remote_client
from .models import PullRun, RemoteCollection, RunStatus
from .validation import check_remote

log = logging.getLogger(__name__)

BATCH_OBJECTS = 5000  # objects per stored report (a big first pull becomes several reports)
LOOKUP_CHUNK = 500
MAX_PROBLEMS = 50
STALE_AFTER = dt.timedelta(minutes=30)

Progress = Callable[[PullRun, int], None]


def pull(remote: RemoteCollection, *, trigger: str = "", progress: Progress | None = None,
         batch_objects: int = BATCH_OBJECTS) -> PullRun:
    """Pull ``remote`` now. The run is returned succeeded or failed (with its reason); only an
    unexpected error propagates (after being recorded). Conflict if a pull of it is running."""
    now = timezone.now()
    # Check and start under the remote's row lock: a "Pull now" racing the schedule starts
    # one run, not two.
    with transaction.atomic():
        RemoteCollection.objects.select_for_update().filter(pk=remote.pk).first()
        running = remote.runs.filter(status=RunStatus.RUNNING)
        if running.filter(heartbeat_at__gte=now - STALE_AFTER).exists():
            raise Conflict(_("%(name)s is being pulled already.") % {"name": remote.name})
        running.update(status=RunStatus.FAILED, finished_at=now,
                       error=_("abandoned: the pull stopped making progress"))
        run = PullRun.objects.create(remote=remote, status=RunStatus.RUNNING,
                                     trigger=trigger[:100], started_at=now, heartbeat_at=now,
                                     added_after=remote.added_after)
        RemoteCollection.objects.filter(pk=remote.pk).update(last_started_at=now)
    try:
        check_remote(remote)
        if not remote.run_as.is_active:
            raise InvalidInput(_("The account the reports are stored as is deactivated."),
                               field="run_as")
        _Pull(remote, run, progress, batch_objects).go()
    except (remote_client.RemoteError, CerthubError) as exc:
        _finish(run, RunStatus.FAILED, exc.message)
        log.warning("taxii pull %s run %s failed: %s", remote.name, run.pk, exc.message)
        return run
    except Exception as exc:
        _finish(run, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    _finish(run, RunStatus.SUCCEEDED, "")
    log.info("taxii pull %s run %s: fetched %d, stored %d, skipped %d, failed %d", remote.name,
             run.pk, run.fetched, run.stored, run.skipped, run.failed)
    return run


def _finish(run: PullRun, status: str, error: str) -> None:
    run.status, run.error, run.finished_at = status, error[:5000], timezone.now()
    run.save()


def _just_before(cursor: str) -> str:
    """A TAXII timestamp one microsecond before ``cursor`` (added_after is exclusive)."""
    try:
        moment = parse_timestamp(cursor)
    except (TypeError, ValueError):
        return ""
    if moment is None:
        return ""
    return (moment - dt.timedelta(microseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _key(obj: dict) -> tuple[str, dt.datetime | None]:
    try:
        return str(obj.get("id")), parse_timestamp(obj.get("modified"))
    except (TypeError, ValueError):
        return str(obj.get("id")), None


class _Pull:
    def __init__(self, remote: RemoteCollection, run: PullRun, progress: Progress | None,
                 batch_objects: int):
        self.remote, self.run, self.progress = remote, run, progress
        self.batch_objects = batch_objects
        self.user = remote.run_as
        self.groups = list(remote.audience_groups.all())
        self.orgs = list(remote.audience_orgs.all())

    def go(self) -> None:
        pending: list[dict] = []
        pending_keys: set[tuple] = set()
        cursor = self.remote.added_after
        for page in remote_client.pages(self.remote, added_after=self.remote.added_after):
            self.run.pages += 1
            self.run.fetched += len(page.objects)
            for obj in self._unknown(page.objects):
                key = _key(obj)
                if key in pending_keys:
                    self.run.skipped += 1
                    continue
                pending_keys.add(key)
                pending.append(obj)
            cursor = page.date_added_last or cursor
            if len(pending) >= self.batch_objects:
                # More objects may share this page's last date added: resume just before it,
                # so a run that stops here misses none (the overlap is skipped as known).
                self._store(pending, _just_before(cursor))
                pending, pending_keys = [], set()
            else:
                self.run.heartbeat_at = timezone.now()
                self.run.save()
            if self.progress:
                self.progress(self.run, len(page.objects))
        self._store(pending, cursor)

    def _unknown(self, objects: list) -> list[dict]:
        """The page's objects the owner organisation does not hold (this id and version)."""
        fresh = []
        for obj in objects:
            if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
                self._refuse(obj, _("not a STIX object with an id"))
            else:
                fresh.append(obj)
        known: set[tuple] = set()
        ids = sorted({obj["id"] for obj in fresh})
        for start in range(0, len(ids), LOOKUP_CHUNK):
            known.update(StixObject.objects.visible_to(self.user).filter(
                report__owner_id=self.remote.owner_id,
                stix_id__in=ids[start:start + LOOKUP_CHUNK]).values_list("stix_id", "modified"))
        unknown = [obj for obj in fresh if _key(obj) not in known]
        self.run.skipped += len(fresh) - len(unknown)
        return unknown

    def _store(self, objects: list[dict], cursor: str) -> None:
        """Store a batch and move the resume point past it, in one transaction."""
        with transaction.atomic():
            if objects:
                self._import(objects)
            if cursor and cursor != self.remote.added_after:
                self.remote.added_after = cursor
                RemoteCollection.objects.filter(pk=self.remote.pk).update(added_after=cursor)
            self.run.resumed_to = self.remote.added_after
            self.run.heartbeat_at = timezone.now()
            self.run.save()

    def _import(self, objects: list[dict], *, retry: bool = True) -> None:
        reports = [obj for obj in objects if obj.get("type") == "report"]
        title = "" if len(reports) == 1 else (
            _("%(remote)s: pulled %(when)s") % {
                "remote": self.remote.title or self.remote.name,
                "when": timezone.now().strftime("%Y-%m-%d %H:%M UTC")})
        bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
        try:
            report = intel_services.import_stix(
                bundle, user=self.user, tlp=self.remote.tlp, audience_groups=self.groups,
                audience_orgs=self.orgs, title=title, allow_custom=self.remote.allow_custom)
        except InvalidInput as exc:
            if exc.code == "invalid_stix" and retry:
                self._import_valid(objects)
            else:
                self._refuse_all(objects, exc.message)
            return
        except Conflict as exc:
            # A new version of a STIX report whose id the owner holds already: report versions
            # are not merged into the existing report; the other objects are stored.
            if retry and len(reports) == 1:
                self._refuse(reports[0], exc.message)
                rest = [obj for obj in objects if obj is not reports[0]]
                if rest:
                    self._import(rest, retry=False)
            else:
                self._refuse_all(objects, exc.message)
            return
        except IntegrityError as exc:
            self._refuse_all(objects, _("cannot be stored: %(reason)s") % {"reason": exc})
            return
        self.run.stored += len(objects)
        self.run.reports.add(report)

    def _import_valid(self, objects: list[dict]) -> None:
        valid = []
        for obj in objects:
            try:
                stix_importer.validate([obj], allow_custom=self.remote.allow_custom)
            except InvalidInput as exc:
                self._refuse(obj, exc.message.replace("1 invalid object(s), nothing imported: ",
                                                      ""))
                continue
            valid.append(obj)
        if valid:
            self._import(valid, retry=False)

    def _refuse(self, obj, reason: str) -> None:
        self.run.failed += 1
        if len(self.run.problems) < MAX_PROBLEMS:
            object_id = obj.get("id", "") if isinstance(obj, dict) else ""
            self.run.problems.append({"id": str(object_id)[:200], "reason": str(reason)[:1000]})

    def _refuse_all(self, objects: list, reason: str) -> None:
        for obj in objects:
            self._refuse(obj, reason)


def due_remotes(now: dt.datetime | None = None) -> list[RemoteCollection]:
    """Enabled remote collections whose schedule says they should be pulled now."""
    now = now or timezone.now()
    due = []
    for remote in RemoteCollection.objects.filter(enabled=True).exclude(schedule=""):
        try:
            if schedules.is_due(remote.schedule, remote.last_started_at, now):
                due.append(remote)
        except InvalidInput:
            log.warning("taxii remote %s has an invalid schedule", remote.name)
    return due

