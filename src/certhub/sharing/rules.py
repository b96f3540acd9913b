"""The one rule: who may see and who may edit a shareable record.

Every read path in certhub reaches records through ``visible_to(user)`` built here; no view,
API handler, export or count filters by hand. docs/sharing.md states the same rule as a table,
and tests/sharing/test_properties.py checks the two agree on random data.

A user here is anything with ``is_authenticated``; authenticated users carry ``organisation_id``,
``organisation.coordinator_id`` (the national CERT that serves their organisation) and
``can_write``. Anonymous visitors see TLP:CLEAR only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q

from .tlp import TLP

if TYPE_CHECKING:
    from django.db import models


def _through(model: type[models.Model], field_name: str):
    """(through model, column naming the shareable, column naming the target) of an M2M."""
    field = model._meta.get_field(field_name)
    return field.remote_field.through, field.m2m_field_name(), field.m2m_reverse_field_name()


def _audience_names_org(model, org_id: int) -> Q:
    """The record's audience names ``org_id``, directly or through one of its sharing groups."""
    orgs, src, dst = _through(model, "audience_orgs")
    groups, gsrc, gdst = _through(model, "audience_groups")
    return Q(Exists(orgs.objects.filter(**{src: OuterRef("pk"), dst: org_id}))) | Q(
        Exists(groups.objects.filter(**{gsrc: OuterRef("pk"), f"{gdst}__members": org_id}))
    )


def _audience_is_empty(model) -> Q:
    orgs, src, _ = _through(model, "audience_orgs")
    groups, gsrc, _ = _through(model, "audience_groups")
    return ~Q(Exists(orgs.objects.filter(**{src: OuterRef("pk")}))) & ~Q(
        Exists(groups.objects.filter(**{gsrc: OuterRef("pk")}))
    )


def visibility_q(model: type[models.Model], user) -> Q:
    """A filter selecting exactly the rows of ``model`` that ``user`` may see."""
    public = Q(tlp=TLP.CLEAR)
    if user is None or not user.is_authenticated or not getattr(user, "is_active", False):
        return public
    org_id = user.organisation_id
    users, usrc, udst = _through(model, "audience_users")
    named_recipient = Q(Exists(users.objects.filter(**{usrc: OuterRef("pk"), udst: user.pk})))

    rule = public
    rule |= Q(owner_id=org_id) & ~Q(tlp=TLP.RED)
    rule |= Q(tlp=TLP.RED) & (Q(created_by_id=user.pk) | named_recipient)
    rule |= Q(tlp__in=[TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT]) & _audience_names_org(model, org_id)
    rule |= Q(tlp=TLP.GREEN) & _audience_is_empty(model)
    coordinator_id = user.organisation.coordinator_id
    if coordinator_id:
        # AMBER reaches the recipients' clients (organisations their CERT coordinates); GREEN,
        # being less restrictive, must reach at least as far.
        rule |= Q(tlp__in=[TLP.GREEN, TLP.AMBER]) & _audience_names_org(model, coordinator_id)
    return rule


def user_may_write(user) -> bool:
    return bool(user is not None and user.is_authenticated and getattr(user, "can_write", False))


def editing_q(model: type[models.Model], user) -> Q | None:
    """Rows ``user`` may change: visible ones their own organisation owns, if their role writes."""
    if not user_may_write(user):
        return None
    return visibility_q(model, user) & Q(owner_id=user.organisation_id)
