"""Accounts API: who am I, and my personal tokens."""

from __future__ import annotations

from ninja import Router, Status

from . import queries, tokens, two_factor
from .api_auth import require_user, require_write_scope
from .schemas import MeOut, TokenCreatedOut, TokenIn, TokenOut

router = Router(tags=["accounts"])


def _token_out(token, secret: str | None = None) -> dict:
    data = {"id": token.pk, "name": token.name, "hint": token.hint, "scope": token.scope,
            "created": token.created, "expires": token.expires, "last_used": token.last_used,
            "revoked": token.revoked, "usable": token.is_usable()}
    if secret is not None:
        data["token"] = secret
    return data


@router.get("/me", response=MeOut, summary="The user making the request")
def me(request):
    user = require_user(request)
    token = getattr(request, "api_token", None)
    org = user.organisation
    return {"id": user.pk, "email": user.email, "full_name": user.full_name, "role": user.role,
            "organisation": {"id": org.pk, "short_name": org.short_name, "name": org.name,
                             "slug": org.slug},
            "time_zone": user.time_zone, "language": user.language, "can_write": user.can_write,
            "two_factor": two_factor.has_device(user),
            "token_scope": token.scope if token is not None else None}


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
def list_tokens(request):
    user = require_user(request)
    return [_token_out(token) for token in queries.tokens_of(user)]


@router.post("/tokens", response={201: TokenCreatedOut},
             summary="Create an API token (the response is the only time it is shown)")
def create_token(request, payload: TokenIn):
    user = require_write_scope(request)
    token, secret = tokens.issue(user, name=payload.name, scope=payload.scope,
                                 expires_in_days=payload.expires_days, request=request,
                                 issued_by_token=getattr(request, "api_token", None))
    return Status(201, _token_out(token, secret))


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke one of my tokens")
def revoke_token(request, token_id: int):
    user = require_write_scope(request)
    token = queries.own_token(user, token_id)
    tokens.revoke(token, actor=user, request=request)
    return Status(204, None)
