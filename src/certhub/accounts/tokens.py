"""Issuing, checking and revoking personal API tokens."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from certhub.audit.services import Action, record
from certhub.core.errors import InvalidInput

from .models import TOKEN_PREFIX, ApiToken, TokenScope, hash_token


def issue(user, *, name: str, scope: str = TokenScope.READ, expires_in_days: int | None = None,
          request=None, actor=None) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored and never shown again."""
    if scope not in TokenScope.values:
        raise InvalidInput(f"scope must be one of {', '.join(TokenScope.values)}", field="scope")
    if expires_in_days is not None and not 0 < expires_in_days <= settings.API_TOKEN_MAX_DAYS:
        raise InvalidInput(f"expiry must be 1 to {settings.API_TOKEN_MAX_DAYS} days",
                           field="expires")
    if scope == TokenScope.WRITE and not user.can_write:
        raise InvalidInput("this user's role cannot write, so a write token makes no sense",
                           field="scope")
    raw = ApiToken.generate()
    expires = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name.strip() or "token",
                                        key_hash=hash_token(raw), hint=raw[:12], scope=scope,
                                        expires=expires)
        record(Action.TOKEN, user=actor or user, request=request, obj=token,
               details={"event": "issued", "scope": scope, "for": user.email,
                        "expires": expires.isoformat() if expires else None})
    return token, raw


def authenticate(raw: str) -> ApiToken | None:
    """The usable token matching ``raw``, or None (unknown, revoked, expired, inactive user)."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (ApiToken.objects.select_related("user", "user__organisation")
             .filter(key_hash=hash_token(raw)).first())
    if token is None or not token.is_usable():
        return None
    now = timezone.now()
    # Write last_used at most once a minute: a busy client must not turn reads into writes.
    if token.last_used is None or now - token.last_used > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token


def revoke(token: ApiToken, *, actor, request=None) -> None:
    with transaction.atomic():
        if token.revoked is None:
            token.revoked = timezone.now()
            token.save(update_fields=["revoked"])
            record(Action.TOKEN, user=actor, request=request, obj=token,
                   details={"event": "revoked", "for": token.user.email})
