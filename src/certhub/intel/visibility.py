"""Visibility for records that belong to a shareable parent (observables and STIX objects of a
report): they are exactly as visible and as editable as their parent.

The queryset keeps the sharing app's guard: evaluating it without ``visible_to``/``editable_by``
raises, like a Shareable queryset. Proposed for certhub.sharing as a generic ``SharedThrough``
helper once a second app needs it.
"""

from __future__ import annotations

from django.db import models

from certhub.sharing.models import ShareableQuerySet


class SharedThroughQuerySet(ShareableQuerySet):
    """Rows visible through the shareable model named by the subclass's ``via`` foreign key."""

    via = "report"

    def _parent_model(self):
        return self.model._meta.get_field(self.via).related_model

    def visible_to(self, user) -> SharedThroughQuerySet:
        parents = self._parent_model().objects.visible_to(user).values("pk")
        return self.filter(**{f"{self.via}__in": parents})._mark()

    def editable_by(self, user) -> SharedThroughQuerySet:
        parents = self._parent_model().objects.editable_by(user).values("pk")
        return self.filter(**{f"{self.via}__in": parents})._mark()

    def of_visible(self, parent) -> SharedThroughQuerySet:
        """Rows of one parent the caller already obtained through ``visible_to``."""
        return self.filter(**{self.via: parent})._mark()

    def of_visible_many(self, parents) -> SharedThroughQuerySet:
        """Rows of several parents the caller already obtained through ``visible_to``."""
        return self.filter(**{f"{self.via}__in": [parent.pk for parent in parents]})._mark()


class SharedThroughManager(models.Manager.from_queryset(SharedThroughQuerySet)):
    pass


# --- Compiled visible queries, reused -----------------------------------------------------------
# A single-value lookup through the API costs ~4 ms of Python just to build and compile its two
# ORM queries (the sharing rule is a dozen EXISTS subqueries, copied and relabelled each time),
# several times what the database needs to answer them. The SQL that ``visible_to(user)``
# produces depends only on what ``certhub.sharing.rules.visibility_q`` reads of the user in
# Python; memberships, audiences and labels are evaluated by the database when the query runs.
# So the SQL is compiled once per such user key and query, and reused with new parameters.

_PUBLIC_KEY = ("public",)
_CACHE_LIMIT = 512


def visibility_key(user) -> tuple:
    """Everything ``rules.visibility_q`` reads of ``user`` (keep the two in step): whether the
    user is signed in and active, their id, organisation and that organisation's coordinator."""
    if user is None or not user.is_authenticated or not getattr(user, "is_active", False):
        return _PUBLIC_KEY
    return (user.pk, user.organisation_id, user.organisation.coordinator_id)


class Marker:
    """Stands for the parameter a cached query receives per call (the values looked up)."""


def run_cached(name: str, user, model, build, argument) -> list[tuple]:
    """Rows of ``build(user, marker)`` (a ``visible_to(user)`` values_list/values queryset of
    ``model`` whose SQL takes the marker as one parameter), run with ``argument(connection)`` in
    the marker's place. Built and compiled once per (name, user key) and database connection
    (a compiler belongs to its connection's thread and backend); later calls only execute."""
    from django.db import connections, router

    connection = connections[router.db_for_read(model)]
    cache = connection.__dict__.setdefault("_certhub_intel_compiled", {})
    key = (name, visibility_key(user))
    entry = cache.get(key)
    if entry is None:
        marker = Marker()
        qs = build(user, marker)
        qs._guard()  # the sharing guard, as evaluating the queryset would apply it
        compiler = qs.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots = [index for index, param in enumerate(params) if param is marker]
        if len(slots) != 1:
            raise RuntimeError(f"query {name} must take its marker parameter exactly once")
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        entry = cache[key] = (compiler, sql, tuple(params), slots[0])
    compiler, sql, params, slot = entry
    params = list(params)
    params[slot] = argument(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # The compiler's converters turn raw columns into Python values as the ORM would (SQLite's
    # text timestamps into aware datetimes, for one).
    return list(compiler.results_iter(results=[rows], tuple_expected=True))
