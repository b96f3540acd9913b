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
