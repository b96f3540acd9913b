"""Sends users who must use two-factor to set it up or to enter their code before anything else."""

from __future__ import annotations

from django.shortcuts import redirect

# Paths a half-logged-in user may still reach: the two-factor pages, logout, static files, the
# language switch. The API authenticates by token and is not affected.
_OPEN_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/api/", "/taxii2/")


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated
                and not request.path.startswith(_OPEN_PREFIXES)
                and not user.is_verified() and _needs_second_factor(user)):
            return redirect("accounts:two_factor")
        return self.get_response(request)


def _needs_second_factor(user) -> bool:
    from django_otp import user_has_device

    return user.requires_two_factor or user_has_device(user, confirmed=True)
