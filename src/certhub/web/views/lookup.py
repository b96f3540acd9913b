"""The lookup form: who is responsible for each of these values, and why.

Public like the single-value lookup API: what it reveals (organisations and their
constituencies) is the public directory. Anonymous visitors get smaller batches.
"""

from __future__ import annotations

from django.views.decorators.http import require_http_methods

from certhub.directory.lookup import resolve_many

from ..forms import MAX_LOOKUP_LINES, MAX_LOOKUP_LINES_ANONYMOUS, LookupForm
from ._common import render_page_or_fragment


@require_http_methods(["GET", "POST"])
def lookup(request):
    max_lines = MAX_LOOKUP_LINES if request.user.is_authenticated else MAX_LOOKUP_LINES_ANONYMOUS
    # GET ?q=... makes a lookup linkable (dashboard box, bookmarks); POST carries long lists.
    data = request.POST if request.method == "POST" else (
        {"values": request.GET["q"]} if request.GET.get("q") else None)
    form = LookupForm(data, max_lines=max_lines)
    results = None
    if form.is_bound and form.is_valid():
        results = resolve_many(form.cleaned_data["values"])
    context = {"form": form, "results": results, "max_lines": max_lines,
               "errors": sum(1 for r in results if r.error) if results else 0}
    return render_page_or_fragment(request, "web/lookup/form.html", "web/lookup/_results.html",
                                   context)
