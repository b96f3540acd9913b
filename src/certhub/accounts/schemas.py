"""Ninja schemas of the accounts API."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from .models import TokenScope


class OrganisationRef(Schema):
    id: int
    short_name: str
    name: str
    slug: str


class MeOut(Schema):
    id: int
    email: str
    full_name: str
    role: str
    organisation: OrganisationRef
    time_zone: str = Field(description="IANA zone; empty means the site default")
    language: str
    can_write: bool
    two_factor: bool
    token_scope: str | None = Field(
        None, description="Scope of the token used for this request; null for a browser session")


class TokenOut(Schema):
    id: int
    name: str
    hint: str = Field(description="The first characters of the token, to recognise it")
    scope: str
    created: datetime
    expires: datetime | None
    last_used: datetime | None
    revoked: datetime | None
    usable: bool


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    scope: TokenScope = TokenScope.READ
    expires_days: int | None = Field(
        None, ge=1, description="Days until the token stops working; null for no expiry")


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The token itself. Shown this once; it is stored hashed.")
