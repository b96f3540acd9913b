"""Schemas of the audit API."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema


class AuditEntryOut(Schema):
    seq: int
    at: datetime
    actor_id: int | None
    actor: str
    organisation: str
    address: str | None
    action: str
    object_type: str
    object_id: str
    object_repr: str
    details: dict
    prev_hash: str
    hash: str
