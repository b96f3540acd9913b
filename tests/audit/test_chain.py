"""record() appends hash-chained entries; verify() finds every kind of tampering."""

from __future__ import annotations

import itertools

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.utils import translation

from certhub.audit import chain as chain_module
from certhub.audit.models import Action, AppendOnlyError, AuditEntry, ChainHead
from certhub.audit.services import record, verify

from .conftest import tampering


def test_record_chains_each_entry_to_the_one_before(chain):
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == chain_module.GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    head = ChainHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (5, entries[-1].hash)
    assert len({e.hash for e in entries}) == 5


def test_record_notes_who_from_where_and_what(world):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    request.user = world.thai_analyst
    entry = record(Action.DELETE, request=request, obj=world.thai,
                   details={"reason": "duplicate"})
    assert entry.actor_id == world.thai_analyst.pk
    assert entry.actor == world.thai_analyst.email
    assert entry.organisation == "ThaiCERT"
    assert entry.address == "203.0.113.9"
    assert (entry.object_type, entry.object_id) == ("directory.organisation", str(world.thai.pk))
    assert entry.details == {"reason": "duplicate"}


def _failing_change(user):
    with transaction.atomic():
        record(Action.CREATE, user=user, object_type="x", object_id="1")
        raise RuntimeError("the change failed")


def test_an_entry_rolls_back_with_the_change_it_records(world):
    with pytest.raises(RuntimeError):
        _failing_change(world.thai_analyst)
    assert not AuditEntry.objects.exists()
    assert verify().ok


def test_intact_chain_verifies(chain):
    result = verify()
    assert result.ok
    assert result.checked == 5


def test_empty_log_verifies(db):
    assert verify().ok
    assert verify().checked == 0


def test_entries_cannot_be_changed_or_deleted_through_the_model(chain):
    entry = AuditEntry.objects.get(seq=2)
    entry.object_repr = "something else"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AuditEntry.objects.get(seq=2).object_repr == "Duty officer (24/7 emergency)"
    assert verify().ok


@pytest.mark.parametrize(("field", "value"), [
    ("actor", "someone.else@example.org"),
    ("action", Action.LOGIN),
    ("object_id", "8"),
    ("details", {"fields": ["email"]}),
    ("address", "198.51.100.1"),
])
def test_an_edited_row_is_named(chain, field, value):
    with tampering():
        AuditEntry.objects.filter(seq=3).update(**{field: value})
    result = verify()
    assert not result.ok
    assert result.problems == ["entry #3 was altered after it was written"]


def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link(chain):
    entry = AuditEntry.objects.get(seq=3)
    entry.actor = "someone.else@example.org"
    forged = chain_module.entry_hash(chain_module.hashed_fields(entry), entry.prev_hash)
    with tampering():
        AuditEntry.objects.filter(seq=3).update(actor=entry.actor, hash=forged)
    problems = verify().problems
    assert "entry #4 does not link to the entry before it" in problems


def test_a_deleted_middle_row_is_named(chain):
    with tampering():
        AuditEntry.objects.filter(seq=3).delete()
    problems = verify().problems
    assert "entry #3 is missing (next is #4)" in problems
    assert "entry #4 does not link to the entry before it" in problems


def test_a_truncated_tail_is_detected(chain):
    with tampering():
        AuditEntry.objects.filter(seq__gte=4).delete()
    problems = verify().problems
    assert len(problems) == 1
    assert "ends at #3 but #5 was the last written" in problems[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL-only")
def test_postgresql_refuses_update_and_delete_in_the_database(chain):
    for attempt in (lambda qs: qs.update(actor="x"), lambda qs: qs.delete()):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt(AuditEntry.objects.filter(seq=2))
    assert verify().ok


def test_shared_records_above_clear_are_named_by_type_and_id_only(world):
    from certhub.directory.models import Contact

    secret = Contact.unrestricted.create(owner=world.thai, tlp="amber", role="technical",
                                         name="Night duty officer Somchai")
    public = Contact.unrestricted.create(owner=world.thai, tlp="clear", role="technical",
                                         name="Public desk")
    with translation.override("th"):
        entry = record(Action.CHANGE, user=world.thai_analyst, obj=secret)
    assert entry.object_repr == \
        f"point of contact #{secret.pk} (TLP:AMBER)"
    assert record(Action.CHANGE, user=world.thai_analyst, obj=public).object_repr == \
        "Public desk (technical)"
    assert verify().ok
