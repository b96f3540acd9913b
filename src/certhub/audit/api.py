"""Audit API, mounted at /api/v1/audit/: hub administrators browse and filter the log.

Everyone else, signed in or not, gets 404: the log's existence is no secret, but answering 403
would confirm entries exist for a given record.
"""

from datetime import datetime

from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from . import queries
from .schemas import AuditEntryOut

router = Router(tags=["audit"])


class EntryFilters(Schema):
    action: str = ""
    actor: str = ""
    object_type: str = ""
    object_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


@router.get("/entries", response=list[AuditEntryOut],
            summary="Browse the audit log, newest first (hub administrators)")
@paginate(LimitOffsetPagination)
def list_entries(request, filters: Query[EntryFilters]):
    return queries.entries(request.auth, **filters.dict())


@router.get("/entries/{seq}", response=AuditEntryOut,
            summary="One audit entry by its sequence number (hub administrators)")
def get_entry(request, seq: int):
    return queries.entry(request.auth, seq)
