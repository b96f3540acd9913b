"""What an import will store, built in memory first (no queries), then written in bulk.

Converters (STIX, MISP, later CSV and free text) produce an ``ImportPlan``; ``store`` writes it
inside the caller's transaction with one bulk insert per table, so an import costs a handful of
queries whatever its size, and a bad object found while planning stores nothing.
"""

from __future__ import annotations

import gc
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone

from certhub.sharing.tlp import RESTRICTIVENESS, TLP

from .models import Observable, Report, Sighting, StixObject

BATCH = 2000
_FRACTION = re.compile(r"(\.\d{6})\d+")


@contextmanager
def bulk_work() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while an import builds hundreds of thousands of
    small objects: otherwise each collection walks everything built so far, and a 100,000-object
    bundle spends a third of its time there. Nothing built here forms cycles that need it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_timestamp(text: str | None) -> datetime | None:
    """A STIX/ISO 8601 timestamp as an aware UTC datetime (nanoseconds cut to microseconds)."""
    if not text:
        return None
    text = str(text)
    moment = datetime.fromisoformat(_FRACTION.sub(r"\1", text) if len(text) > 27 else text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def stix_timestamp(moment: datetime) -> str:
    """Millisecond precision, as stix2-validator asks of created/modified."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def dumps(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@dataclass
class PlannedObject:
    stix_id: str
    type: str
    json: str
    created: datetime | None = None
    modified: datetime | None = None
    revoked: bool = False
    name: str = ""
    pattern: str = ""
    valid_from: datetime | None = None
    valid_until: datetime | None = None


@dataclass
class PlannedObservable:
    type: str
    value: str
    object_index: int | None = None  # into ImportPlan.objects
    to_ids: bool = True
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    comment: str = ""
    misp_type: str = ""
    misp_value: str = ""
    misp_category: str = ""
    misp_uuid: uuid.UUID | None = None
    misp_part: int = 0
    misp_object_uuid: uuid.UUID | None = None
    misp_object_relation: str = ""


@dataclass
class PlannedSighting:
    stix_id: str
    first_seen: datetime
    last_seen: datetime
    count: int = 1
    observable_type: str = ""
    value: str = ""
    indicator_stix_id: str = ""
    source: str = ""


@dataclass
class ImportPlan:
    stix_id: str
    title: str
    description: str = ""
    published: datetime | None = None
    labels: list[str] = field(default_factory=list)
    confidence: int | None = None
    tlp_found: set[str] = field(default_factory=set)  # TLP labels the source itself carries
    misp: dict = field(default_factory=dict)
    objects: list[PlannedObject] = field(default_factory=list)
    observables: list[PlannedObservable] = field(default_factory=list)
    sightings: list[PlannedSighting] = field(default_factory=list)
    skipped_values: int = 0  # pattern constants that did not normalise

    def strictest_tlp(self, asked: str) -> str:
        """The asked TLP, raised to the most restrictive label the source is marked with:
        importing never makes intelligence more shareable than its producer said."""
        labels = [TLP(asked), *(TLP(label) for label in self.tlp_found)]
        return max(labels, key=RESTRICTIVENESS.__getitem__).value


_OBJECT_FIELDS = ("report", "stix_id", "type", "spec_version", "created", "modified",
                  "revoked", "name", "pattern", "valid_from", "valid_until", "added", "json")
_OBSERVABLE_FIELDS = ("report", "stix_object", "type", "value", "first_seen", "last_seen",
                      "to_ids", "comment", "misp_type", "misp_value", "misp_category",
                      "misp_uuid", "misp_part", "misp_object_uuid", "misp_object_relation")


def _object_row(report_id: int, o: PlannedObject, now: datetime) -> tuple:
    return (report_id, o.stix_id, o.type, "2.1", o.created, o.modified, o.revoked, o.name[:500],
            o.pattern, o.valid_from, o.valid_until, now, o.json)


class ObjectStream:
    """STIX objects on their way into the database (COPY) while the importer still checks the
    rest of the bundle: PostgreSQL then parses, indexes and logs them on the other core instead
    of waiting for the whole bundle to be checked (the largest part of a big import's time).
    The report's id and the objects' ids are reserved from their sequences first, so rows can
    name their report before it is inserted (foreign keys are checked at commit)."""

    def __init__(self, report_id: int, ids: list[int], copy):
        self.report_id = report_id
        self.ids = ids
        self.written = 0
        self._copy = copy
        self._now = timezone.now()

    def write(self, objects: list[PlannedObject]) -> None:
        for planned in objects:
            self._copy.write_row((self.ids[self.written],
                                  *_object_row(self.report_id, planned, self._now)))
            self.written += 1


@contextmanager
def object_stream(count: int) -> Iterator[ObjectStream | None]:
    """An ObjectStream for at most ``count`` objects, inside the caller's transaction, on
    PostgreSQL; None elsewhere (the importer plans first, ``store`` inserts afterwards). An
    exception inside aborts the COPY; the caller's transaction then rolls everything back."""
    if connection.vendor != "postgresql":
        yield None
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))",
                       [Report._meta.db_table])
        report_id = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                       "FROM generate_series(1, %s)", [StixObject._meta.db_table, count])
        ids = [row[0] for row in cursor.fetchall()]
        columns = ["id", *(StixObject._meta.get_field(name).column for name in _OBJECT_FIELDS)]
        names = ", ".join(connection.ops.quote_name(column) for column in columns)
        table = connection.ops.quote_name(StixObject._meta.db_table)
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            yield ObjectStream(report_id, ids, copy)


def store(report: Report, plan: ImportPlan,
          stream: ObjectStream | None = None) -> dict[str, int]:
    """Write the plan's rows for the saved ``report``; returns counts for the audit record.
    With ``stream`` (whose report id ``report`` took), its objects are already written.

    On PostgreSQL the two big tables are written with COPY (ids of STIX objects reserved from
    their sequence first, so observables can point at them): ~10x faster than INSERT batches.
    """
    if stream is not None:
        if stream.written != len(plan.objects) or stream.report_id != report.pk:
            raise RuntimeError("the object stream does not hold this plan's objects")
        object_ids = stream.ids
        object_count = stream.written
    else:
        now = timezone.now()
        object_rows = [_object_row(report.pk, o, now) for o in plan.objects]
        object_ids = _insert(StixObject, _OBJECT_FIELDS, object_rows, want_ids=True)
        object_count = len(object_rows)
    observable_rows = [
        (report.pk, object_ids[p.object_index] if p.object_index is not None else None,
         p.type, p.value, p.first_seen, p.last_seen, p.to_ids, p.comment[:1000], p.misp_type,
         p.misp_value, p.misp_category, p.misp_uuid, p.misp_part, p.misp_object_uuid,
         p.misp_object_relation)
        for p in plan.observables
    ]
    _insert(Observable, _OBSERVABLE_FIELDS, observable_rows, want_ids=False)
    if object_count:
        _mark_versioned(report.pk)
    sightings = [
        Sighting(owner_id=report.owner_id, created_by_id=report.created_by_id, tlp=report.tlp,
                 report=report, stix_id=s.stix_id, observable_type=s.observable_type,
                 value=s.value, indicator_stix_id=s.indicator_stix_id, count=s.count,
                 first_seen=s.first_seen, last_seen=s.last_seen, source=s.source[:200])
        for s in plan.sightings
    ]
    Sighting.unrestricted.bulk_create(sightings, batch_size=BATCH)
    if sightings:
        copy_audience(report, sightings)
    return {"objects": object_count, "observables": len(observable_rows),
            "sightings": len(sightings), "values_not_indexed": plan.skipped_values}


def _mark_versioned(report_id: int) -> None:
    """Set StixObject.versioned on the report's objects whose id another row already holds,
    and on those other rows: one statement over the stix_id index."""
    table = StixObject._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET versioned = %s WHERE stix_id IN ("  # noqa: S608 (our table name)
            f"SELECT new.stix_id FROM {table} new WHERE new.report_id = %s AND EXISTS ("
            f"SELECT 1 FROM {table} other WHERE other.stix_id = new.stix_id "
            f"AND other.id <> new.id)) AND versioned = %s",
            [True, report_id, False])


def _insert(model, fields: tuple[str, ...], rows: list[tuple], *, want_ids: bool) -> list[int]:
    """Insert ``rows`` (values in ``fields`` order, foreign keys as ids); their new ids if
    ``want_ids``. COPY on PostgreSQL, bulk_create elsewhere."""
    if not rows:
        return []
    columns = [model._meta.get_field(name).column for name in fields]
    if connection.vendor == "postgresql":
        return _copy(model, columns, rows, want_ids=want_ids)
    instances = [model(**dict(zip(columns, row, strict=True))) for row in rows]
    model.unrestricted.bulk_create(instances, batch_size=BATCH)
    return [instance.pk for instance in instances] if want_ids else []


def _copy(model, columns: list[str], rows: list[tuple], *, want_ids: bool) -> list[int]:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        ids: list[int] = []
        if want_ids:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                           "FROM generate_series(1, %s)", [model._meta.db_table, len(rows)])
            ids = [row[0] for row in cursor.fetchall()]
            columns = ["id", *columns]
            rows = [(pk, *row) for pk, row in zip(ids, rows, strict=True)]
        names = ", ".join(connection.ops.quote_name(column) for column in columns)
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return ids


def copy_audience(source, targets) -> None:
    """Give shareable ``targets`` the audience of ``source`` (sightings inherit their report's)."""
    for name in ("audience_groups", "audience_orgs", "audience_users"):
        member_ids = list(getattr(source, name).values_list("pk", flat=True))
        if not member_ids:
            continue
        m2m = targets[0]._meta.get_field(name)
        through = m2m.remote_field.through
        src, dst = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
        through.objects.bulk_create(
            [through(**{f"{src}_id": target.pk, f"{dst}_id": pk})
             for target in targets for pk in member_ids], batch_size=BATCH)
