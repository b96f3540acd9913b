"""Ninja schemas of the notify API."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ninja import Field, Schema


class NotificationOut(Schema):
    id: int
    event: str
    subject: str
    body: str
    url: str
    created: datetime
    read_at: datetime | None


class UnreadOut(Schema):
    unread: int


class MarkReadIn(Schema):
    ids: list[int] | None = Field(None, description="Notifications to mark read; null: all")


class MarkedOut(Schema):
    marked: int


class WebhookOut(Schema):
    id: int
    organisation: str = Field(description="Short name of the owning organisation")
    name: str
    url: str
    events: list[str]
    active: bool
    created: datetime


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="The signing secret. Shown this once.")


class WebhookIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(max_length=2000)
    events: list[str] = Field(description="Event names, or prefixes such as 'incidents.*'; "
                                          "'*' for every event")
    active: bool = True
    organisation: str | None = Field(
        None, description="Slug of the organisation (hub administrators); default: your own")


class WebhookPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    url: str | None = Field(None, max_length=2000)
    events: list[str] | None = None
    active: bool | None = None


class SecretOut(Schema):
    secret: str


class DeliveryOut(Schema):
    id: UUID
    event: str
    status: str
    attempts: int
    response_status: int | None
    error: str
    created: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None
