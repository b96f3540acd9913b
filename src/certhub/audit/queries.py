"""Reading the audit log: hub administrators only, everyone else is told it does not exist.

The log names who did what to which record, so it is as sensitive as the records themselves;
member organisations' users do not get a partial view of it.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from certhub.core.errors import InvalidInput, NotFound

from .models import Action, AuditEntry


def may_browse(user) -> bool:
    # audit sits below accounts in the import layers: read the role through the user object.
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and getattr(user, "is_active", False) and getattr(user, "is_hub_admin", False))


def entries(user, *, action: str = "", actor: str = "", object_type: str = "",
            object_id: str = "", since: datetime | None = None,
            until: datetime | None = None) -> QuerySet[AuditEntry]:
    """Entries newest first, filtered; raises NotFound for anyone but a hub administrator."""
    if not may_browse(user):
        raise NotFound()
    qs = AuditEntry.objects.order_by("-seq")
    if action:
        if action not in Action.values:
            raise InvalidInput(f"unknown action {action!r}; use one of "
                               + ", ".join(Action.values), field="action")
        qs = qs.filter(action=action)
    if actor.strip():
        qs = qs.filter(actor__icontains=actor.strip())
    if object_type.strip():
        qs = qs.filter(object_type__icontains=object_type.strip())
    if object_id.strip():
        qs = qs.filter(object_id=object_id.strip())
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    return qs


def entry(user, seq: int) -> AuditEntry:
    found = entries(user).filter(seq=seq).first()
    if found is None:
        raise NotFound()
    return found
