"""Which collections a user reads and writes: the configured ones, plus one virtual collection
per sharing group the user's organisation belongs to (unless a collection is configured for
that group).

A collection is readable exactly when its kind has something the user may be shown:

- ``visible`` and ``own``: every signed-in user (the rule narrows what each one reads);
- ``group``: users of the group's member organisations;
- ``findings``: every user (their organisation's findings; hub staff see all), or, when the
  collection names an organisation, that organisation's users and hub staff.

A user may write to a readable collection that has a write TLP when their role writes and the
token has the write scope.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from certhub.core.errors import NotFound
from certhub.feeds.queries import is_hub_staff
from certhub.sharing.models import SharingGroup
from certhub.sharing.rules import user_may_write
from certhub.sharing.tlp import TLP

from .models import ApiRoot, Collection, CollectionKind

_VIRTUAL_NAMESPACE = uuid.UUID("5d0c2f0e-6a43-4f7a-9a55-3f7d3c1b2e90")
GROUP_WRITE_TLP = TLP.AMBER


@dataclass
class CollectionView:
    """A collection as one user sees it."""

    id: str
    title: str
    description: str
    alias: str
    kind: str
    can_read: bool
    can_write: bool
    group_id: int | None = None
    organisation_id: int | None = None
    write_tlp: str = ""
    configured: Collection | None = None
    group: SharingGroup | None = None

    def write_audience(self) -> tuple[list, list]:
        """(sharing groups, organisations) that objects POSTed here are shared with."""
        groups, orgs = [], []
        if self.configured is not None:
            groups = list(self.configured.write_audience_groups.all())
            orgs = list(self.configured.write_audience_orgs.all())
        if self.kind == CollectionKind.GROUP and self.group_id not in {g.pk for g in groups}:
            groups.append(self.group or SharingGroup.objects.get(pk=self.group_id))
        return groups, orgs

    def resource(self) -> dict:
        body = {"id": self.id, "title": self.title, "can_read": self.can_read,
                "can_write": self.can_write, "media_types": ["application/stix+json;version=2.1"]}
        if self.description:
            body["description"] = self.description
        if self.alias:
            body["alias"] = self.alias
        return body


def virtual_group_id(group_pk: int) -> str:
    return str(uuid.uuid5(_VIRTUAL_NAMESPACE, f"sharing-group:{group_pk}"))


def api_root(slug: str) -> ApiRoot:
    root = ApiRoot.objects.filter(slug=slug).first()
    if root is None:
        raise NotFound(_("No such API root."))
    return root


def _member_group_ids(user) -> set[int]:
    return set(SharingGroup.objects.filter(members=user.organisation_id)
               .values_list("pk", flat=True))


def _readable(user, collection: Collection, groups: set[int]) -> bool:
    if collection.kind == CollectionKind.GROUP:
        return collection.sharing_group_id in groups
    if collection.kind == CollectionKind.FINDINGS and collection.organisation_id:
        return collection.organisation_id == user.organisation_id or is_hub_staff(user)
    return True


def _writable(user, token, write_tlp: str) -> bool:
    return bool(write_tlp) and user_may_write(user) and (token is None or token.allows_write)


def _configured_view(user, token, row: Collection) -> CollectionView:
    return CollectionView(
        id=str(row.id), title=row.title, description=row.description, alias=row.alias,
        kind=row.kind, can_read=True, can_write=_writable(user, token, row.write_tlp),
        group_id=row.sharing_group_id, organisation_id=row.organisation_id,
        write_tlp=row.write_tlp, configured=row)


def _virtual_view(user, token, group: SharingGroup) -> CollectionView:
    return CollectionView(
        id=virtual_group_id(group.pk), title=_("Shared with %(group)s") % {"group": group.name},
        description=_("Intelligence shared with the sharing group %(group)s that you may see; "
                      "what you add is shared with the group as TLP:AMBER.")
        % {"group": group.name},
        alias=f"group-{group.slug}", kind=CollectionKind.GROUP, can_read=True,
        can_write=_writable(user, token, GROUP_WRITE_TLP), group_id=group.pk,
        write_tlp=GROUP_WRITE_TLP, group=group)


def _signed_in(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def collections_for(user, root: ApiRoot, token=None) -> list[CollectionView]:
    """The collections of ``root`` that ``user`` may read, configured ones first."""
    if not _signed_in(user):
        return []
    groups = _member_group_ids(user)
    found: list[CollectionView] = []
    configured_groups: set[int] = set()
    for row in Collection.objects.filter(api_root=root, enabled=True).order_by("title", "id"):
        if row.kind == CollectionKind.GROUP:
            configured_groups.add(row.sharing_group_id)
        if _readable(user, row, groups):
            found.append(_configured_view(user, token, row))
    if root.default:
        for group in SharingGroup.objects.filter(pk__in=groups - configured_groups):
            found.append(_virtual_view(user, token, group))
    return found


def collection(user, root: ApiRoot, collection_id: str, token=None) -> CollectionView:
    """One readable collection by id (or alias); NotFound if missing or not readable.

    Costs a query or two (it is asked on every page a client reads)."""
    if _signed_in(user):
        try:
            by_id = Q(id=uuid.UUID(collection_id))
        except ValueError:
            by_id = Q(alias=collection_id) & ~Q(alias="")
        row = Collection.objects.filter(by_id, api_root=root, enabled=True).first()
        if row is not None:
            member_of = ({row.sharing_group_id} if row.kind == CollectionKind.GROUP and
                         SharingGroup.objects.filter(pk=row.sharing_group_id,
                                                     members=user.organisation_id).exists()
                         else set())
            if _readable(user, row, member_of):
                return _configured_view(user, token, row)
        elif root.default:
            for view in collections_for(user, root, token):
                if view.configured is None and collection_id in (view.id, view.alias):
                    return view
    raise NotFound(_("No such collection."))
