"""The hash chain: how an entry's hash is computed from its content and its predecessor."""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings

GENESIS = "0" * 64


def _key() -> bytes:
    return hashlib.sha256(b"certhub-audit-chain:" + settings.AUDIT_KEY.encode()).digest()


def entry_hash(fields: dict, prev_hash: str) -> str:
    payload = json.dumps({**fields, "prev": prev_hash}, sort_keys=True, separators=(",", ":"),
                         ensure_ascii=False, default=str)
    return hmac.new(_key(), payload.encode(), hashlib.sha256).hexdigest()


def hashed_fields(entry) -> dict:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "organisation": entry.organisation,
        "address": entry.address,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "details": entry.details,
    }
