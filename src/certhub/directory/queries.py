"""Every public read of the directory. Contacts go through the sharing rule; organisations,
their profiles and constituencies are public RFC 2350 information."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

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


def constituency_entry(organisation: Organisation, entry_id: int) -> ConstituencyEntry:
    found = organisation.constituency.filter(pk=entry_id).first()
    if found is None:
        raise NotFound()
    return found


def with_visible_contact_counts(qs: QuerySet[Organisation], user) -> QuerySet[Organisation]:
    """Annotate ``visible_contacts``: contacts of each organisation that ``user`` may see.

    Counts go through the sharing rule like every read, so a hidden contact changes no number.
    """
    visible = (Contact.objects.visible_to(user).filter(owner=OuterRef("pk")).order_by()
               .values("owner").annotate(n=Count("pk")).values("n"))
    return qs.annotate(visible_contacts=Coalesce(Subquery(visible), 0))


def contacts_with_audience(user, organisation: Organisation | None = None) -> QuerySet[Contact]:
    """``contacts`` with what the API shows of each prefetched (audience, owner)."""
    return contacts(user, organisation).prefetch_related(
        "audience_groups", "audience_orgs", "audience_users").order_by("owner__short_name",
                                                                       "role", "name", "pk")
