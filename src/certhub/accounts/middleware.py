"""Sends users who must use two-factor to set it up or to enter their code before anything else."""

from __future__ import annotations

from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from . import two_factor

# Areas that authenticate each request themselves and refuse a half-logged-in session on their
# own (the API through CerthubAuth), or hold nothing private (static files, language switch).
_OPEN_PREFIXES = ("/static/", "/i18n/", "/api/", "/taxii2/")

# The only pages a half-logged-in user may open: those that finish (or abandon) logging in.
# Named, not by path prefix, so that e.g. /accounts/tokens/ stays closed.
OPEN_VIEWS = frozenset({
    "login", "logout", "two_factor", "two_factor_setup",
    "password_reset", "password_reset_done", "password_reset_confirm",
    "password_reset_complete",
})


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated
                and not request.path.startswith(_OPEN_PREFIXES)
                and not _is_open_view(request.path_info)
                and two_factor.pending(user)):
            target = "accounts:two_factor" if two_factor.has_device(user) else \
                "accounts:two_factor_setup"
            return redirect(target)
        return self.get_response(request)


def _is_open_view(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.namespace == "accounts" and match.url_name in OPEN_VIEWS
