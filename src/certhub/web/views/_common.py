"""Small helpers shared by the web views."""

from __future__ import annotations

from functools import wraps

from django.http import Http404
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from certhub.core.errors import NotFound


def is_htmx(request) -> bool:
    """htmx asks for a fragment; a plain request (no JavaScript) gets the whole page."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request")


def render_page_or_fragment(request, page: str, fragment: str, context: dict):
    """The whole page, or only the part htmx swaps in; caches must tell the two apart."""
    response = render(request, fragment if is_htmx(request) else page, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def not_found_as_404(view):
    """Queries raise NotFound for what is missing or not visible: both become the same 404."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
    return wrapper
