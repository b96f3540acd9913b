"""Every public read of the sharing app: sharing groups and their members.

Groups and their members are visible to every authenticated user (they choose audiences from
them); anonymous visitors see none.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from certhub.core.errors import NotFound

from .models import SharingGroup


def _signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated and getattr(user, "is_active", False))


def groups(user, *, search: str = "", member: str = "") -> QuerySet[SharingGroup]:
    """Sharing groups with their members prefetched; none for anonymous visitors."""
    if not _signed_in(user):
        return SharingGroup.objects.none()
    organisation = SharingGroup._meta.get_field("members").related_model
    qs = SharingGroup.objects.select_related("managed_by").prefetch_related(
        Prefetch("members", queryset=organisation.objects.order_by("short_name")))
    if search:
        qs = qs.filter(name__icontains=search.strip())
    if member:
        qs = qs.filter(members__short_name__iexact=member.strip())
    return qs.distinct().order_by("name")


def group(user, slug: str) -> SharingGroup:
    found = groups(user).filter(slug=slug).first()
    if found is None:
        raise NotFound()
    return found
