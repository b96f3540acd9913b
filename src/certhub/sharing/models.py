"""TLP 2.0 sharing: sharing groups and the Shareable base every shareable record inherits."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from certhub.core.models import TimeStampedModel

from . import rules
from .tlp import TLP


class UnrestrictedQueryError(RuntimeError):
    """A shareable queryset was evaluated without passing through ``visible_to``."""


class ShareableQuerySet(models.QuerySet):
    """Refuses to produce rows until ``visible_to`` or ``editable_by`` has been applied.

    Forgetting the rule fails loudly in tests instead of leaking in production. Code inside the
    sharing app, migrations and tests that truly need every row use ``Model.unrestricted``.
    """

    _visibility_applied = False

    def _clone(self):
        clone = super()._clone()
        clone._visibility_applied = self._visibility_applied
        return clone

    def _mark(self):
        self._visibility_applied = True
        return self

    def visible_to(self, user) -> ShareableQuerySet:
        return self.filter(rules.visibility_q(self.model, user))._mark()

    def none(self) -> ShareableQuerySet:
        return super().none()._mark()  # no rows: nothing to hide

    def editable_by(self, user) -> ShareableQuerySet:
        rule = rules.editing_q(self.model, user)
        return (self.filter(rule) if rule is not None else self.none())._mark()

    # Combining querysets must not launder an unrestricted operand through a restricted one:
    # ``visible_to(u) | Model.objects.all()`` would otherwise return every row unguarded.
    def _combined(self, result, *others, need_all: bool):
        flags = [self._visibility_applied,
                 *(getattr(o, "_visibility_applied", False) for o in others)]
        result = result._chain()
        result._visibility_applied = all(flags) if need_all else any(flags)
        return result

    def __or__(self, other):
        return self._combined(super().__or__(other), other, need_all=True)

    def __xor__(self, other):
        return self._combined(super().__xor__(other), other, need_all=True)

    def __and__(self, other):
        return self._combined(super().__and__(other), other, need_all=False)

    def union(self, *other_qs, all=False):
        return self._combined(super().union(*other_qs, all=all), *other_qs, need_all=True)

    def intersection(self, *other_qs):
        return self._combined(super().intersection(*other_qs), *other_qs, need_all=False)

    def _guard(self):
        if not self._visibility_applied:
            raise UnrestrictedQueryError(
                f"{self.model.__name__} rows must be read through .visible_to(user) or "
                f".editable_by(user); use {self.model.__name__}.unrestricted only inside sharing, "
                "migrations and tests."
            )

    def _fetch_all(self):
        if self._result_cache is None:
            self._guard()
        super()._fetch_all()

    def count(self):
        self._guard()
        return super().count()

    def exists(self):
        self._guard()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._guard()
        return super().aggregate(*args, **kwargs)

    def iterator(self, *args, **kwargs):
        self._guard()
        return super().iterator(*args, **kwargs)

    def update(self, **kwargs):
        self._guard()
        return super().update(**kwargs)

    def delete(self):
        self._guard()
        return super().delete()


class ShareableManager(models.Manager.from_queryset(ShareableQuerySet)):
    pass


class SharingGroup(TimeStampedModel):
    """A named set of organisations that records can be shared with, e.g. 'ASEAN national CERTs'."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("short name"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    members = models.ManyToManyField("directory.Organisation", related_name="sharing_groups",
                                     verbose_name=_("member organisations"), blank=True)
    managed_by = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT,
                                   related_name="managed_sharing_groups",
                                   verbose_name=_("managed by"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("sharing group")
        verbose_name_plural = _("sharing groups")

    def __str__(self) -> str:
        return self.name


class Shareable(TimeStampedModel):
    """Owner organisation, TLP label and audience; the base of every shareable record.

    Subclasses get ``objects`` (restricted: ``visible_to``/``editable_by``) and ``unrestricted``.
    """

    owner = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("owner organisation"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))
    tlp = models.CharField("TLP", max_length=16, choices=TLP.choices, default=TLP.AMBER,
                           db_index=True)
    audience_groups = models.ManyToManyField(SharingGroup, blank=True, related_name="+",
                                             verbose_name=_("audience: sharing groups"))
    audience_orgs = models.ManyToManyField("directory.Organisation", blank=True, related_name="+",
                                           verbose_name=_("audience: organisations"))
    audience_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                            related_name="+",
                                            verbose_name=_("named recipients (TLP:RED)"))

    objects = ShareableManager()
    unrestricted = models.Manager()

    class Meta:
        abstract = True
        default_manager_name = "objects"
        base_manager_name = "unrestricted"
