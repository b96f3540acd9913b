"""Every read of the TAXII server: objects, manifests and versions of a collection, through the
one sharing rule.

A page is built in three steps, each cheap whatever the collection's size:

1. the reports the collection shows the user: ``Report.objects.visible_to(user)`` narrowed by
   the collection's kind, fetched as ids;
2. their objects through ``StixObject.objects.of_visible_many`` with the filters, read by
   keyset on (date added, id) from the position ``next`` carries, walking intel's (added, id)
   index: objects added while a client pages come after the ones it has read, never shifting
   them, and a page costs the same at the millionth object as at the first;
3. the version filter ("last" by default) on the page's rows: one grouped query finds the few
   objects with several versions.

Objects are served as the JSON text stored at import, never re-serialised. Feed findings are
turned into STIX indicators (``findings``).
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.core import signing
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Count,
    DateTimeField,
    F,
    Func,
    Max,
    Min,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput, NotFound
from certhub.intel.models import Report, StixObject
from certhub.intel.plan import parse_timestamp

from . import findings
from .collections import CollectionView
from .models import CollectionKind

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
_SIGNER = signing.Signer(salt="certhub.taxii.next")


@dataclass
class Filters:
    added_after: datetime | None = None
    ids: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)  # "first", "last", "all", timestamps
    spec_versions: list[str] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    after: tuple[datetime, int] | None = None  # decoded ``next``
    # What a ``next`` value is good for: this endpoint with these filters, so that it cannot
    # continue a different read (which would then go unaudited: only first pages are).
    scope: str = ""


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def timestamp(text: str, name: str) -> datetime:
    try:
        moment = parse_timestamp(text)
    except (TypeError, ValueError):
        moment = None
    if moment is None:
        raise InvalidInput(_("%(name)s is not a timestamp: %(value)s")
                           % {"name": name, "value": text[:60]}, field=name)
    return moment


def format_timestamp(moment: datetime) -> str:
    """UTC, with as many fraction digits as needed (milliseconds at least) to be exact."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    micro = moment.microsecond
    return f"{text}.{micro // 1000:03d}Z" if micro % 1000 == 0 else f"{text}.{micro:06d}Z"


def parse_filters(params, user, *, path: str, default_version: str = "last") -> Filters:
    """Filters of a request's query string (``params`` is a QueryDict) on endpoint ``path``."""
    known = {"added_after", "limit", "next", "match[id]", "match[type]", "match[version]",
             "match[spec_version]"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise InvalidInput(_("Unknown parameter: %(name)s") % {"name": unknown[0]},
                           field=unknown[0])
    filters = Filters(scope=_scope(path, params))
    if params.get("added_after"):
        filters.added_after = timestamp(params["added_after"], "added_after")
    if params.get("limit"):
        text = params["limit"]
        if not text.isdigit() or int(text) < 1:
            raise InvalidInput(_("limit is a positive whole number."), field="limit")
        filters.limit = min(int(text), MAX_LIMIT)
    if params.get("next"):
        filters.after = decode_next(params["next"], user, filters.scope)
    filters.ids = _split(params.getlist("match[id]"))
    filters.types = _split(params.getlist("match[type]"))
    filters.spec_versions = _split(params.getlist("match[spec_version]"))
    versions = _split(params.getlist("match[version]")) or [default_version]
    for version in versions:
        if version not in ("first", "last", "all"):
            timestamp(version, "match[version]")
    filters.versions = versions
    return filters


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _scope(path: str, params) -> str:
    """A short digest of the endpoint and every filter but ``next``."""
    items = sorted((key, value) for key in params if key != "next"
                   for value in params.getlist(key))
    return hashlib.sha256(repr((path, items)).encode()).hexdigest()[:16]


def encode_next(user, scope: str, added: datetime, pk: int) -> str:
    micros = (added - _EPOCH) // timedelta(microseconds=1)
    return _SIGNER.sign(f"{user.pk}.{scope}.{micros}.{pk}")


def decode_next(text: str, user, scope: str) -> tuple[datetime, int]:
    """The position a ``next`` value continues from; only its own user may use it, on the
    endpoint and with the filters it was handed out for."""
    try:
        owner, its_scope, micros, pk = _SIGNER.unsign(text).split(".")
        if int(owner) != user.pk or its_scope != scope:
            raise ValueError
        return _EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except (signing.BadSignature, ValueError):
        raise InvalidInput(_("next is not a value this server handed out."),
                           field="next") from None


# --- Rows of a collection --------------------------------------------------------------------


def visible_reports(user, collection: CollectionView) -> list[Report]:
    """The reports whose objects the collection shows ``user`` (ids only)."""
    reports = Report.objects.visible_to(user).order_by().only("pk", "owner_id")
    if collection.kind == CollectionKind.OWN:
        reports = reports.filter(owner_id=user.organisation_id)
    elif collection.kind == CollectionKind.GROUP:
        reports = reports.filter(audience_groups=collection.group_id)
    return list(reports)


def collection_rows(user, collection: CollectionView) -> QuerySet[StixObject]:
    """The STIX object versions of an intel collection that ``user`` may see.

    The visible reports are fetched first and named by id: the planner then sees a plain list
    and walks the (added, id) index in order, instead of joining every visible object to sort
    them (which a report-id subquery leads it to)."""
    return StixObject.objects.of_visible_many(visible_reports(user, collection))


def _filtered(base: QuerySet, filters: Filters, after: tuple[datetime, int] | None) -> QuerySet:
    """Rows of ``base`` matching every filter but the version, after ``after``, in order."""
    rows = base
    if filters.added_after:
        rows = rows.filter(added__gt=filters.added_after)
    if filters.ids:
        rows = rows.filter(stix_id__in=filters.ids)
    if filters.types:
        rows = rows.filter(type__in=filters.types)
    if filters.spec_versions:
        rows = rows.filter(spec_version__in=filters.spec_versions)
    if after:
        added, pk = after
        rows = rows.filter(TupleGreaterThan(Tuple(F("added"), F("id")), (added, pk)),
                           added__gte=added)
    return rows.order_by("added", "id")


def _version_of(modified, created, added) -> datetime:
    return modified or created or added


def _one_of(field: str, values) -> Q | Func:
    """``field`` is one of ``values``: one array parameter on PostgreSQL (a thousand ids in an
    IN list cost more to send and parse than the lookup itself)."""
    values = list(values)
    if connection.vendor == "postgresql":
        return Func(F(field), RawSQL("%s", (values,)), arg_joiner=" = ANY(",
                    template="%(expressions)s)", output_field=BooleanField())
    return Q(**{f"{field}__in": values})


def _kept(base: QuerySet, batch: list[tuple], versions: list[str], *,
          have_versions: bool) -> list[tuple]:
    """The rows of ``batch`` ((added, pk, stix id, modified, created, ..., versioned)) whose version
    matches ``versions``. "first" and "last" are judged against every version of the object in
    the collection: one grouped query finds the batch's ids that have several versions (most
    have one), a second the first and last version of those. Without ``have_versions`` the
    rows carry no modified time (it costs to read): it is fetched for those objects only."""
    if "all" in versions:
        return batch
    moments = {parse_timestamp(v) for v in versions if v not in ("first", "last")}
    bounds: dict[str, tuple] = {}
    modified_of: dict[int, datetime | None] = {}
    if "first" in versions or "last" in versions:
        # Only rows whose object has other versions somewhere (StixObject.versioned, the last
        # element of each row) can lose to another version: most have none, and probing every
        # id of a page is what made pages of a large collection slow.
        ids = {row[2] for row in batch if row[-1]}
        repeated = list(base.filter(_one_of("stix_id", ids)).order_by().values("stix_id")
                        .annotate(n=Count("id")).filter(n__gt=1)
                        .values_list("stix_id", flat=True)) if ids else []
        if repeated:
            bounds = {stix_id: (low, high) for stix_id, low, high in
                      base.filter(_one_of("stix_id", repeated)).order_by().values("stix_id")
                      .annotate(low=Min("modified"), high=Max("modified"))
                      .values_list("stix_id", "low", "high")}
            if not have_versions:
                chosen = [row[1] for row in batch if row[2] in bounds]
                modified_of = dict(base.filter(pk__in=chosen).values_list("pk", "modified"))
    kept = []
    for row in batch:
        stix_id, modified = row[2], modified_of.get(row[1], row[3])
        low, high = bounds.get(stix_id, (None, None))
        if (_version_of(modified, row[4], row[0]) in moments
                or ("last" in versions and (modified is None or high is None or modified >= high))
                or ("first" in versions and (modified is None or low is None or modified <= low))):
            kept.append(row)
    return kept


@contextmanager
def _in_index_order(wanted: bool = True):
    """On PostgreSQL, read a page by walking the (added, id) index from the keyset position.

    Left to itself, the planner sometimes fetches every visible row by report and sorts them
    to return a thousand: always when its statistics are stale, as they are right after a bulk
    import. Walking the index costs one page's rows when most objects are visible (the usual
    case) and stays bounded when few are. Not for a few ids: their own index finds them."""
    if not wanted or connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_sort', 'off', true), "
                       "set_config('enable_bitmapscan', 'off', true), "
                       "set_config('jit', 'off', true)")
        yield


def _scan(user, base: QuerySet, filters: Filters, payload: tuple[str, ...], *,
          with_created: bool = False, one_object: bool = False) -> Page:
    """A page of (added, pk, stix id, modified, created, *payload) rows.

    Rows are read in (added, id) order from the keyset position, in batches, and the version
    filter is applied to each batch, until the page is full or the rows run out: every query
    is an index range scan that stops after a page, whatever the collection's size."""
    # A row's version (modified, else created) is only needed for a version asked by
    # timestamp, for the manifest, and for objects with several versions (fetched apart):
    # reading a thousand datetimes costs more than the rest of a page.
    have_versions = with_created or any(v not in ("first", "last", "all")
                                        for v in filters.versions)
    absent = Value(None, output_field=DateTimeField())
    columns = ("added", "id", "stix_id", *(("modified", "created") if have_versions
                                           else (absent, absent)), *payload, "versioned")
    limit, after = filters.limit, filters.after
    found: list[tuple] = []
    while len(found) <= limit:
        want = limit + 1 - len(found)
        with _in_index_order(not filters.ids and not one_object):
            batch = list(_filtered(base, filters, after).values_list(*columns)[:max(want, 100)])
        found += [row[:-1] for row in _kept(base, batch, filters.versions,
                                            have_versions=have_versions)]
        if len(batch) < max(want, 100):
            break
        after = (batch[-1][0], batch[-1][1])
    return _page(found[:limit + 1], filters, user)


@dataclass
class Page:
    rows: list[tuple]  # (added, pk, payload...)
    more: bool
    next: str | None

    @property
    def first_added(self) -> datetime | None:
        return self.rows[0][0] if self.rows else None

    @property
    def last_added(self) -> datetime | None:
        return self.rows[-1][0] if self.rows else None


def _page(rows: list[tuple], filters: Filters, user) -> Page:
    limit = filters.limit
    more = len(rows) > limit
    rows = rows[:limit]
    following = encode_next(user, filters.scope, rows[-1][0], rows[-1][1]) if more else None
    return Page(rows, more, following)


def objects(user, collection: CollectionView, filters: Filters, *,
            object_id: str | None = None) -> Page:
    """A page of (added, pk, json text) of the collection's objects (of one object's versions
    when ``object_id`` is given: NotFound if the user sees no version of it here)."""
    if collection.kind == CollectionKind.FINDINGS:
        return findings.objects(user, collection, filters, object_id=object_id,
                                page=_page)
    base = collection_rows(user, collection)
    if object_id is not None:
        base = base.filter(stix_id=object_id)
        if not base.exists():
            raise NotFound(_("No such object."))
    page = _scan(user, base, filters, ("json",), one_object=object_id is not None)
    page.rows = [(row[0], row[1], row[5]) for row in page.rows]
    return page


def manifest(user, collection: CollectionView, filters: Filters) -> Page:
    """A page of (added, pk, stix id, version) of the collection's objects."""
    if collection.kind == CollectionKind.FINDINGS:
        return findings.manifest(user, collection, filters, page=_page)
    page = _scan(user, collection_rows(user, collection), filters, (), with_created=True)
    page.rows = [(added, pk, stix_id, _version_of(modified, created, added))
                 for added, pk, stix_id, modified, created in page.rows]
    return page


def versions(user, collection: CollectionView, object_id: str, filters: Filters) -> Page:
    """A page of (added, pk, version) of one object; NotFound if the user sees none here."""
    if collection.kind == CollectionKind.FINDINGS:
        return findings.versions(user, collection, object_id, filters, page=_page)
    base = collection_rows(user, collection).filter(stix_id=object_id)
    if not base.exists():
        raise NotFound(_("No such object."))
    rows = _filtered(base, filters, filters.after).values_list("added", "id", "modified",
                                                                 "created")
    page = _page(list(rows[:filters.limit + 1]), filters, user)
    page.rows = [(added, pk, modified or created or added)
                 for added, pk, modified, created in page.rows]
    return page


def stored_versions(user, collection: CollectionView, org_id: int,
                    stix_ids: list[str]) -> set[tuple[str, datetime | None]]:
    """(id, modified) of the given objects the organisation already holds in the collection."""
    found: set[tuple[str, datetime | None]] = set()
    own = [report for report in visible_reports(user, collection) if report.owner_id == org_id]
    base = StixObject.objects.of_visible_many(own)
    if not own:
        return found
    for start in range(0, len(stix_ids), 5000):
        chunk = stix_ids[start:start + 5000]
        found.update(base.filter(_one_of("stix_id", chunk)).values_list("stix_id", "modified"))
    return found


__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Filters", "Page", "collection_rows",
           "format_timestamp", "manifest", "objects", "parse_filters", "stored_versions",
           "versions"]
