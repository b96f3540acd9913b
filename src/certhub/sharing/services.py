"""Every write of the sharing app: sharing groups and their members, and audiences of records.

Who may do what with sharing groups:
- hub administrators create groups, rename them, hand them to another managing organisation
  and change any group's members;
- administrators of the group's managing organisation change its description and members;
- every authenticated user may list groups and see their members (to choose an audience).

Functions taking ``user=None`` act for the command-line operator (loaddemo, directory import),
who has the machine and so every right; API and UI callers always pass a user.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext as _

from certhub.audit.services import Action, record
from certhub.core.errors import Conflict, InvalidInput, PermissionDenied

from .models import SharingGroup
from .tlp import TLP, parse_tlp


def _organisation_model():
    # The directory sits above sharing in the import layers; reach its model through the FK.
    return SharingGroup._meta.get_field("members").related_model


def is_hub_admin(user) -> bool:
    return user is None or bool(getattr(user, "is_active", False)
                                and getattr(user, "is_hub_admin", False))


def can_manage_group(user, group: SharingGroup) -> bool:
    """May change ``group``'s description and members."""
    if user is None:
        return True
    administers = getattr(user, "administers", None)
    return bool(administers and administers(group.managed_by))


def organisations_by_short_name(names: Iterable[str], *, field: str = "members") -> list:
    """The organisations named (case-insensitively); InvalidInput naming any unknown one."""
    wanted = [str(name).strip() for name in names if str(name).strip()]
    if not wanted:
        return []
    query = Q()
    for name in wanted:
        query |= Q(short_name__iexact=name)
    found = {org.short_name.lower(): org for org in _organisation_model().objects.filter(query)}
    missing = [name for name in wanted if name.lower() not in found]
    if missing:
        # Organisations are public directory entries, so naming the unknown ones leaks nothing.
        raise InvalidInput(_("Unknown organisation: %(names)s.") % {"names": ", ".join(missing)},
                           field=field)
    return list({found[name.lower()].pk: found[name.lower()] for name in wanted}.values())


def groups_by_slug(slugs: Iterable[str], *, field: str = "audience_groups") -> list[SharingGroup]:
    wanted = [str(slug).strip().lower() for slug in slugs if str(slug).strip()]
    found = {group.slug: group for group in SharingGroup.objects.filter(slug__in=wanted)}
    missing = [slug for slug in wanted if slug not in found]
    if missing:
        raise InvalidInput(_("Unknown sharing group: %(names)s.") % {"names": ", ".join(missing)},
                           field=field)
    return list({found[slug].pk: found[slug] for slug in wanted}.values())


# --- Sharing groups --------------------------------------------------------------------------

def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("A sharing group needs a name."), field="name")
    if len(name) > 200:
        raise InvalidInput(_("The name is too long (at most 200 characters)."), field="name")
    return name


def _clean_slug(slug: str, name: str) -> str:
    slug = slugify(slug or name)[:80]
    if not slug:
        raise InvalidInput(_("Give the group a short name of letters, digits and hyphens."),
                           field="slug")
    return slug


def create_group(user, *, name: str, managed_by, slug: str = "", description: str = "",
                 members: Iterable = (), request=None) -> SharingGroup:
    """A new sharing group (hub administrators only). ``members`` are organisations."""
    if not is_hub_admin(user):
        raise PermissionDenied(_("Only hub administrators create sharing groups."))
    name = _clean_name(name)
    slug = _clean_slug(slug, name)
    with transaction.atomic():
        if SharingGroup.objects.filter(name__iexact=name).exists():
            raise Conflict(_("A sharing group with this name exists."), field="name")
        if SharingGroup.objects.filter(slug=slug).exists():
            raise Conflict(_("A sharing group with this short name exists."), field="slug")
        try:
            group = SharingGroup.objects.create(name=name, slug=slug, managed_by=managed_by,
                                                description=(description or "").strip())
        except IntegrityError:
            raise Conflict(_("A sharing group with this name exists."), field="name") from None
        group.members.set(list(members))
        record(Action.CREATE, user=user, request=request, obj=group,
               details={"managed_by": managed_by.short_name,
                        "members": sorted(org.short_name for org in group.members.all())})
    return group


def update_group(user, group: SharingGroup, *, name: str | None = None,
                 description: str | None = None, managed_by=None, request=None) -> SharingGroup:
    """Rename or re-home a group (hub administrators), or describe it (its managers too)."""
    if not can_manage_group(user, group):
        raise PermissionDenied(_("Only hub administrators and the administrators of the "
                                 "managing organisation change this group."))
    if (name is not None or managed_by is not None) and not is_hub_admin(user):
        raise PermissionDenied(_("Only hub administrators rename a sharing group or change "
                                 "who manages it."))
    with transaction.atomic():
        group = SharingGroup.objects.select_for_update().get(pk=group.pk)
        changes = {}
        if name is not None and _clean_name(name) != group.name:
            name = _clean_name(name)
            if SharingGroup.objects.filter(name__iexact=name).exclude(pk=group.pk).exists():
                raise Conflict(_("A sharing group with this name exists."), field="name")
            changes["name"] = [group.name, name]
            group.name = name
        if description is not None and description.strip() != group.description:
            changes["description"] = "changed"
            group.description = description.strip()
        if managed_by is not None and managed_by.pk != group.managed_by_id:
            changes["managed_by"] = [group.managed_by.short_name, managed_by.short_name]
            group.managed_by = managed_by
        if changes:
            group.save()
            record(Action.CHANGE, user=user, request=request, obj=group, details=changes)
    return group


def set_members(user, group: SharingGroup, organisations: Iterable, *,
                request=None) -> SharingGroup:
    """Make ``organisations`` exactly the group's members."""
    if not can_manage_group(user, group):
        raise PermissionDenied(_("Only hub administrators and the administrators of the "
                                 "managing organisation change this group's members."))
    wanted = {org.pk: org for org in organisations}
    with transaction.atomic():
        group = SharingGroup.objects.select_for_update().get(pk=group.pk)
        before = {org.pk: org.short_name for org in group.members.all()}
        added = sorted(org.short_name for pk, org in wanted.items() if pk not in before)
        removed = sorted(name for pk, name in before.items() if pk not in wanted)
        if added or removed:
            group.members.set(list(wanted.values()))
            record(Action.CHANGE, user=user, request=request, obj=group,
                   details={"members_added": added, "members_removed": removed})
    return group


def add_members(user, group: SharingGroup, organisations: Iterable, *,
                request=None) -> SharingGroup:
    current = list(group.members.all())
    return set_members(user, group, [*current, *organisations], request=request)


def remove_members(user, group: SharingGroup, organisations: Iterable, *,
                   request=None) -> SharingGroup:
    gone = {org.pk for org in organisations}
    return set_members(user, group, [org for org in group.members.all() if org.pk not in gone],
                       request=request)


# --- Audiences of shareable records ----------------------------------------------------------

def clean_tlp(value) -> str:
    try:
        return parse_tlp(str(value or "")).value
    except ValueError as exc:
        raise InvalidInput(str(exc), field="tlp") from None


def validate_audience(tlp: str, *, groups: Iterable = (), orgs: Iterable = (),
                      users: Iterable = ()) -> None:
    """Refuse audiences that the label cannot mean (see docs/sharing.md).

    - TLP:CLEAR is public: an audience would suggest a restriction that does not exist.
    - TLP:RED goes to named people; organisations and groups are not people.
    - Named recipients exist for TLP:RED only; other labels reach organisations.
    """
    groups, orgs, users = list(groups), list(orgs), list(users)
    if tlp == TLP.CLEAR and (groups or orgs or users):
        raise InvalidInput(_("TLP:CLEAR is public: remove the audience, or choose TLP:GREEN or "
                             "stricter to restrict who sees it."),
                           field="audience_orgs" if orgs else
                           "audience_groups" if groups else "audience_users")
    if tlp == TLP.RED and (groups or orgs):
        raise InvalidInput(_("TLP:RED goes to named people, not organisations: name the "
                             "recipients, or choose TLP:AMBER+STRICT."),
                           field="audience_orgs" if orgs else "audience_groups")
    if tlp != TLP.RED and users:
        raise InvalidInput(_("Named recipients are for TLP:RED only; share with sharing groups "
                             "or organisations instead."), field="audience_users")


def set_audience(shareable, *, tlp: str, groups: Iterable = (), orgs: Iterable = (),
                 users: Iterable = ()) -> None:
    """Validate, then store the audience of a saved shareable record (inside the caller's
    transaction, which also writes the audit entry)."""
    groups, orgs, users = list(groups), list(orgs), list(users)
    validate_audience(tlp, groups=groups, orgs=orgs, users=users)
    shareable.audience_groups.set(groups)
    shareable.audience_orgs.set(orgs)
    shareable.audience_users.set(users)


def rows_for_operator(model):
    """Every row of a shareable ``model``, whatever its label, for the command-line operator
    and for administrative bulk operations that must stay idempotent whoever runs them (the
    directory import matches existing contacts to update them). Never returned to a reader.
    """
    return model.unrestricted.all()


def rows_owned_by(model, owner):
    """``rows_for_operator`` of one owner organisation."""
    return rows_for_operator(model).filter(owner=owner)
