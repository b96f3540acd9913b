"""A URLconf with three deliberately leaky pages on top of the real one, for test_detection.py.

Each leaks in one of the ways the suite must catch: a body showing hidden records, a 403 that
tells a hidden record exists, a count over rows the asker may not see, and a write that
changes a record the asker may not change.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from certhub.config.urls import urlpatterns as real_urlpatterns
from certhub.directory.models import Contact


def leaky_list(request):
    return HttpResponse("\n".join(Contact.unrestricted.values_list("name", flat=True)))


@csrf_exempt
def leaky_detail(request, pk: int):
    if not Contact.unrestricted.filter(pk=pk).exists():
        raise Http404
    if request.method == "POST":  # renames anyone's contact
        Contact.unrestricted.filter(pk=pk).update(name="renamed")
        return HttpResponse(status=204)
    contact = Contact.objects.visible_to(request.user).filter(pk=pk).first()
    if contact is None:
        return HttpResponseForbidden("not yours")
    return HttpResponse(contact.name)


def leaky_count(request):
    return HttpResponse(f"{Contact.unrestricted.count()} contacts in the directory")


urlpatterns = [
    path("leaky/list/", leaky_list),
    path("leaky/contact/<int:pk>/", leaky_detail),
    path("leaky/count/", leaky_count),
    *real_urlpatterns,
]
