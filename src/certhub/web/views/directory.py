"""The public member directory: the list with search and filters, and each RFC 2350 profile.

Organisations and their constituencies are public RFC 2350 information; points of contact are
shareable records, so each visitor sees only those the sharing rule lets them see (anonymous
visitors: TLP:CLEAR only).
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from certhub.directory import queries, services
from certhub.directory.models import ConstituencyKind, Organisation
from certhub.directory.normalise import country_name

from ..forms import DirectoryFilterForm
from ._common import not_found_as_404, render_page_or_fragment


def _country_choices():
    language = get_language() or "en"
    codes = (Organisation.objects.exclude(country="").order_by()
             .values_list("country", flat=True).distinct())
    return sorted(((code, country_name(code, language)) for code in codes),
                  key=lambda choice: choice[1])


@require_GET
def directory(request):
    form = DirectoryFilterForm(request.GET or None, country_choices=_country_choices())
    filters = form.cleaned_data if form.is_valid() else {}
    organisations = queries.with_visible_contact_counts(
        queries.organisations(request.user, search=filters.get("q", ""),
                              kind=filters.get("kind", ""), country=filters.get("country", ""),
                              membership=filters.get("membership", "")),
        request.user)
    context = {"form": form, "organisations": organisations}
    return render_page_or_fragment(request, "web/directory/list.html",
                                   "web/directory/_results.html", context)


@require_GET
@not_found_as_404
def organisation(request, slug: str):
    org = queries.organisation(request.user, slug)
    entries = list(queries.constituency(org))
    by_kind = {kind: [entry for entry in entries if entry.kind == kind]
               for kind in ConstituencyKind.values}
    contacts = list(queries.contacts(request.user, org).order_by("role", "name", "pk"))
    services.record_opened(request.user, contacts, request=request)  # TLP:RED reads are audited
    return render(request, "web/directory/organisation.html", {
        "org": org,
        "countries": by_kind[ConstituencyKind.COUNTRY],
        "asns": by_kind[ConstituencyKind.ASN],
        "prefixes": by_kind[ConstituencyKind.PREFIX],
        "domains": by_kind[ConstituencyKind.DOMAIN],
        "contacts": contacts,
        "clients": queries.organisations(request.user).filter(coordinator=org),
    })
