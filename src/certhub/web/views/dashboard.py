"""The landing page after logging in: who you are, what the directory holds, a quick lookup."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from certhub.directory import queries
from certhub.directory.models import ConstituencyEntry, ConstituencyKind, Membership

from ..forms import LookupForm


@login_required
def dashboard(request):
    user = request.user
    organisations = queries.organisations(user)
    members = organisations.filter(membership=Membership.MEMBER)
    # Countries some member organisation answers for (the hub covers a state without a CERT).
    countries_covered = (ConstituencyEntry.objects
                         .filter(kind=ConstituencyKind.COUNTRY,
                                 organisation__membership=Membership.MEMBER)
                         .values("value").distinct().count())
    counts = {
        "organisations": organisations.count(),
        "national_certs": members.filter(kind="national_cert").count(),
        "countries_covered": countries_covered,
        # Contacts are shareable: counted only through the sharing rule.
        "own_contacts": queries.contacts(user, user.organisation).count(),
        "visible_contacts": queries.contacts(user).count(),
    }
    return render(request, "web/dashboard.html", {
        "organisation": user.organisation,
        "counts": counts,
        "lookup_form": LookupForm(),
    })
