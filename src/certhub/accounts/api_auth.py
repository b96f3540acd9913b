"""How the JSON API knows who is asking: a Bearer token, or the browser session, or nobody."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from ninja.errors import AuthenticationError, HttpError
from ninja.throttling import SimpleRateThrottle
from ninja.utils import check_csrf

from certhub.core.api_guards import require_user, require_write_scope, require_writer

from . import tokens, two_factor

__all__ = ["CerthubAuth", "PerTokenThrottle", "require_user", "require_write_scope",
           "require_writer"]

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class CerthubAuth:
    """Every request gets a principal: a token's user, the session's user, or AnonymousUser.

    A presented but bad token is refused (401) rather than treated as anonymous, so a client with
    a revoked token learns it at once instead of silently seeing only TLP:CLEAR.
    """

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request):
        request.api_token = None
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, raw = header.partition(" ")
            if scheme.lower() != "bearer":
                raise AuthenticationError(401, "use 'Authorization: Bearer <token>'")
            token = tokens.authenticate(raw.strip())
            if token is None:
                raise AuthenticationError(401, "invalid, expired or revoked token")
            request.api_token = token
            request.user = token.user
            return token.user
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if two_factor.pending(user):
                # Password alone does not open the API: the session must pass the second factor.
                return AnonymousUser()
            if request.method not in _SAFE_METHODS and check_csrf(request) is not None:
                raise HttpError(403, "CSRF check failed")
            return user
        return AnonymousUser()


class PerTokenThrottle(SimpleRateThrottle):
    """One budget per token; per user for browser sessions; per address for anonymous callers."""

    scope = "api"

    def __init__(self, rate: str):
        super().__init__(rate)

    def get_cache_key(self, request) -> str:
        token = getattr(request, "api_token", None)
        user = getattr(request, "auth", None)
        if token is not None:
            ident = f"token:{token.pk}"
        elif user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
