"""Every public read of the directory. Contacts go through the sharing rule; organisations,
their profiles and constituencies are public RFC 2350 information."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from certhub.core.errors import NotFound

from .models import ConstituencyEntry, Contact, Organisation


def organisations(user, *, search: str = "", kind: str = "", country: str = "",
                  membership: str = "") -> QuerySet[Organisation]:
    qs = Organisation.objects.select_related("coordinator")
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(short_name__icontains=search)
                       | Q(parent_body__icontains=search)
                       | Q(constituency__value__iexact=search.strip().lower().lstrip(".")))
    if kind:
        qs = qs.filter(kind=kind)
    if country:
        qs = qs.filter(country=country.upper())
    if membership:
        qs = qs.filter(membership=membership)
    return qs.distinct().order_by("short_name")


def organisation(user, slug: str) -> Organisation:
    org = Organisation.objects.select_related("coordinator").filter(slug=slug).first()
    if org is None:
        raise NotFound()
    return org


def contacts(user, organisation: Organisation | None = None) -> QuerySet[Contact]:
    qs = Contact.objects.visible_to(user).select_related("owner")
    if organisation is not None:
        qs = qs.filter(owner=organisation)
    return qs


def contact(user, pk: int) -> Contact:
    found = contacts(user).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def constituency(organisation: Organisation) -> QuerySet[ConstituencyEntry]:
    return organisation.constituency.order_by("kind", "value")
