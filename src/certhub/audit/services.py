"""Writing to and verifying the audit log. ``record`` is the only way entries are made."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone, translation

from . import chain
from .models import Action, AuditEntry, ChainHead

__all__ = ["Action", "VerifyResult", "record", "verify"]


def _client_address(request) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR is what the server saw; behind a proxy, settings make Django trust XFF.
    return request.META.get("REMOTE_ADDR") or None


def _describe(obj) -> str:
    """How the log names ``obj``: its text, unless it is a shared record above TLP:CLEAR.

    Hub administrators browse the log but have no special right to read members' records
    (docs/sharing.md), so a shared record is named by type, id and label only; its owner can
    look it up by id.
    """
    tlp = getattr(obj, "tlp", None)
    if tlp and tlp != "clear":
        label = obj.get_tlp_display() if hasattr(obj, "get_tlp_display") else tlp
        with translation.override("en"):  # the log is written once, in one language
            return f"{obj._meta.verbose_name} #{obj.pk} ({label})"
    return str(obj)[:300]


def record(action: str, *, user=None, request=None, obj=None, object_type: str = "",
           object_id: str = "", object_repr: str = "", details: dict | None = None) -> AuditEntry:
    """Append one entry inside the caller's transaction: it commits or rolls back with it."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or _describe(obj)
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        entry = AuditEntry(
            seq=head.last_seq + 1,
            at=timezone.now(),
            actor_id=user.pk if authenticated else None,
            actor=str(user) if authenticated else "",
            organisation=str(getattr(user, "organisation", "") or "") if authenticated else "",
            address=_client_address(request),
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            object_repr=object_repr[:300],
            details=details or {},
            prev_hash=head.last_hash,
        )
        entry.hash = chain.entry_hash(chain.hashed_fields(entry), entry.prev_hash)
        entry.save()
        head.last_seq, head.last_hash = entry.seq, entry.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return entry


@dataclass
class VerifyResult:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(progress=None) -> VerifyResult:
    """Walk the chain in order; report every entry whose hash or link does not hold."""
    result = VerifyResult()
    expected_prev, expected_seq = chain.GENESIS, 1
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        result.checked += 1
        if entry.seq != expected_seq:
            result.problems.append(f"entry #{expected_seq} is missing (next is #{entry.seq})")
        if entry.prev_hash != expected_prev:
            result.problems.append(f"entry #{entry.seq} does not link to the entry before it")
        if chain.entry_hash(chain.hashed_fields(entry), entry.prev_hash) != entry.hash:
            result.problems.append(f"entry #{entry.seq} was altered after it was written")
        expected_prev, expected_seq = entry.hash, entry.seq + 1
        if progress:
            progress(1)
    head = ChainHead.objects.filter(pk=1).first()
    if head and (head.last_seq != expected_seq - 1 or head.last_hash != expected_prev):
        result.problems.append(
            f"the log ends at #{expected_seq - 1} but #{head.last_seq} was the last written "
            "(entries were removed from the end)"
        )
    return result
