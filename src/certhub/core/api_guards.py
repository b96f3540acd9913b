"""Request guards for API handlers of every app.

They read only what the API's authentication (accounts.api_auth.CerthubAuth) put on the request
(``request.auth``, ``request.api_token``) and attributes of the user, so apps below accounts in
the import layers (sharing, directory) can use them too.
"""

from __future__ import annotations

from ninja.errors import AuthenticationError, HttpError


def require_user(request):
    """The authenticated user, or 401."""
    user = request.auth
    if user is None or not user.is_authenticated:
        raise AuthenticationError(401, "authentication required")
    return user


def require_write_scope(request):
    """The authenticated user, unless the request came with a read-only token (then 403).

    For changes to one's own account (tokens), which every role may make.
    """
    user = require_user(request)
    token = getattr(request, "api_token", None)
    if token is not None and not token.allows_write:
        raise HttpError(403, "this token is read-only")
    return user


def require_writer(request):
    """A user whose role and token scope both allow writing, or 401/403."""
    user = require_write_scope(request)
    if not user.can_write:
        raise HttpError(403, "your role cannot change records")
    return user
