"""Small helpers shared by the account views."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from certhub.core.errors import InvalidInput, NotFound, PermissionDenied


def home_url() -> str:
    try:
        return reverse(settings.LOGIN_REDIRECT_URL)
    except NoReverseMatch:  # the dashboard is the web app's; "/" is where it lives
        return "/"


def next_url(request) -> str:
    """The safe place to go after a step of logging in: ``next`` if it is on this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return home_url()


def with_next(url: str, request) -> str:
    from urllib.parse import urlencode

    target = request.POST.get("next") or request.GET.get("next")
    return f"{url}?{urlencode({'next': target})}" if target else url


def domain_errors(view):
    """Turn the services' NotFound/PermissionDenied into 404/403 pages."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from None

    return wrapper


def add_domain_error(form, exc: InvalidInput | PermissionDenied) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def account_page(view):
    """A page of a fully logged-in user (the middleware has already demanded the second factor)."""
    return login_required(domain_errors(view))


def set_language_cookie(response, language: str) -> None:
    if language:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language,
                            max_age=settings.LANGUAGE_COOKIE_AGE or 365 * 86400,
                            samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
