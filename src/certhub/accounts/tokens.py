"""Issuing, checking and revoking personal API tokens."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.audit.services import Action, record
from certhub.core.errors import InvalidInput

from .models import TOKEN_PREFIX, ApiToken, TokenScope, hash_token


def issue(user, *, name: str, scope: str = TokenScope.READ, expires_in_days: int | None = None,
          request=None, actor=None, issued_by_token: ApiToken | None = None,
          ) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored and never shown again.

    A token made through the API with another token (``issued_by_token``) expires no later than
    that token, so a leaked token cannot mint itself a longer life.
    """
    name = (name or "").strip()
    if len(name) > 100:
        raise InvalidInput(_("The name is longer than 100 characters."), field="name")
    if scope not in TokenScope.values:
        raise InvalidInput(_("The scope must be one of: %(scopes)s.")
                           % {"scopes": ", ".join(TokenScope.values)}, field="scope")
    if expires_in_days is not None and not 0 < expires_in_days <= settings.API_TOKEN_MAX_DAYS:
        raise InvalidInput(_("The expiry must be 1 to %(max)s days.")
                           % {"max": settings.API_TOKEN_MAX_DAYS}, field="expires_days")
    if scope == TokenScope.WRITE and not user.can_write:
        raise InvalidInput(_("This user's role cannot change records, so only a read token "
                             "can be issued."), field="scope")
    raw = ApiToken.generate()
    expires = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    parent_expires = issued_by_token.expires if issued_by_token is not None else None
    if parent_expires is not None:
        if expires is not None and expires > parent_expires:
            raise InvalidInput(_("A token cannot outlive the token that creates it."),
                               field="expires_days")
        expires = expires or parent_expires
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name or "token",
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
