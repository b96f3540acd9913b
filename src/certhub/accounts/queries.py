"""Every public read of accounts: the users an administrator manages, a user's tokens."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from certhub.core.errors import NotFound

from .models import ApiToken, Role, User


def manageable_users(actor, *, organisation=None, search: str = "") -> QuerySet[User]:
    """Users ``actor`` administers: all for a hub administrator, their own organisation's (hub
    administrators excepted) for an organisation administrator, nobody otherwise."""
    qs = User.objects.select_related("organisation")
    if actor.is_hub_admin:
        pass
    elif actor.role == Role.ORG_ADMIN and actor.is_active:
        qs = qs.filter(organisation_id=actor.organisation_id).exclude(role=Role.HUB_ADMIN)
    else:
        return qs.none()
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    if search:
        qs = qs.filter(Q(email__icontains=search) | Q(full_name__icontains=search))
    return qs.order_by("organisation__short_name", "email")


def manageable_user(actor, pk) -> User:
    user = manageable_users(actor).filter(pk=pk).first()
    if user is None:
        raise NotFound()
    return user


def tokens_of(user) -> QuerySet[ApiToken]:
    # Usable tokens first (revoked is NULL), the same on SQLite and PostgreSQL.
    return ApiToken.objects.filter(user=user).order_by(F("revoked").asc(nulls_first=True),
                                                       "-created")


def own_token(user, pk) -> ApiToken:
    """One of ``user``'s tokens; someone else's token is simply not found."""
    token = ApiToken.objects.select_related("user").filter(user=user, pk=pk).first()
    if token is None:
        raise NotFound()
    return token
