"""What the intel views share: the writer check, audiences, staged imports."""

from __future__ import annotations

import secrets
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from certhub.directory.services import audience_from_names
from certhub.sharing.rules import user_may_write

STAGE_SECONDS = 3600


def writer_required(view):
    """Signed in (else the login page) and a role that writes intelligence (else 403)."""
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not user_may_write(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)
    return wrapper


def audience(form) -> dict:
    """The form's audience names as objects (InvalidInput naming an unknown one)."""
    names = form.audience_names()
    found = audience_from_names(groups=names["groups"], orgs=names["orgs"],
                                users=names["users"])
    return {key: value or [] for key, value in found.items()}


def _key(user, token: str) -> str:
    return f"intel-ui:staged:{user.pk}:{token}"


def stage(user, kind: str, content: bytes, **extra) -> str:
    """Keep an upload between its preview and its saving (shared cache, one hour); the token
    is only valid for the user who uploaded it."""
    token = secrets.token_urlsafe(18)
    cache.set(_key(user, token), {"kind": kind, "content": content, **extra}, STAGE_SECONDS)
    return token


def staged(user, kind: str, token: str) -> dict | None:
    if not token or len(token) > 64:
        return None
    found = cache.get(_key(user, token))
    return found if found and found.get("kind") == kind else None


def unstage(user, token: str) -> None:
    cache.delete(_key(user, token))
