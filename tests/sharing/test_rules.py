"""The rule on the shared ``world``, row by row as docs/sharing.md states it, and the guard that
refuses to read shareable rows without it."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count

from certhub.directory.models import Contact
from certhub.sharing.models import Shareable, SharingGroup, UnrestrictedQueryError
from certhub.sharing.tlp import TLP

# --- The docs table ------------------------------------------------------------------------

# Columns of docs/sharing.md, as (name in the table, how to get that user from ``world``).
# The record is owned by ThaiCERT, created by thai_analyst, addressed to MyCERT (directly) and
# to the group "ASEAN group" (SingCERT); RED is addressed to my_analyst by name.
COLUMNS = {
    "owner organisation's users": "thai_viewer",
    "creator": "thai_analyst",
    "named recipient": "my_analyst",
    "audience organisation": "my_analyst",
    "audience via sharing group": "sg_analyst",
    "client of an audience organisation": "bank_analyst",
    "other member organisation": "partner_analyst",
    "hub administrator": "hub_admin",
    "anonymous visitor": None,
}

# What each label lets each column see, exactly as in docs/sharing.md.
TABLE = {
    TLP.CLEAR: dict.fromkeys(COLUMNS, True),
    TLP.GREEN: {
        "owner organisation's users": True, "creator": True, "named recipient": True,
        "audience organisation": True, "audience via sharing group": True,
        "client of an audience organisation": True, "other member organisation": False,
        "hub administrator": False, "anonymous visitor": False,
    },
    TLP.AMBER: {
        "owner organisation's users": True, "creator": True, "named recipient": True,
        "audience organisation": True, "audience via sharing group": True,
        "client of an audience organisation": True, "other member organisation": False,
        "hub administrator": False, "anonymous visitor": False,
    },
    TLP.AMBER_STRICT: {
        "owner organisation's users": True, "creator": True, "named recipient": True,
        "audience organisation": True, "audience via sharing group": True,
        "client of an audience organisation": False, "other member organisation": False,
        "hub administrator": False, "anonymous visitor": False,
    },
    TLP.RED: {
        "owner organisation's users": False, "creator": True, "named recipient": True,
        "audience organisation": True,  # my_analyst is the named recipient
        "audience via sharing group": False, "client of an audience organisation": False,
        "other member organisation": False, "hub administrator": False,
        "anonymous visitor": False,
    },
}


@pytest.fixture
def audience_world(world):
    # The bank is ThaiCERT's client in ``world``; make it MyCERT's for the "client" column.
    world.bank.coordinator = world.my
    world.bank.save(update_fields=["coordinator"])
    world.bank_analyst.organisation.refresh_from_db()
    world.group = SharingGroup.objects.create(name="ASEAN group", slug="asean-group",
                                              managed_by=world.hub)
    world.group.members.set([world.sg])
    return world


def make_record(world, tlp: str, *, addressed: bool = True) -> Contact:
    contact = Contact.unrestricted.create(owner=world.thai, created_by=world.thai_analyst,
                                          tlp=tlp, role="technical", name=f"{tlp} record")
    if addressed:
        if tlp == TLP.RED:
            contact.audience_users.set([world.my_analyst])
        else:
            contact.audience_orgs.set([world.my])
            contact.audience_groups.set([world.group])
    return contact


def principal(world, attribute):
    return AnonymousUser() if attribute is None else getattr(world, attribute)


@pytest.mark.parametrize("tlp", list(TABLE))
@pytest.mark.parametrize("column", list(COLUMNS))
def test_the_docs_table(audience_world, tlp, column):
    record = make_record(audience_world, tlp)
    user = principal(audience_world, COLUMNS[column])
    seen = Contact.objects.visible_to(user).filter(pk=record.pk).exists()
    assert seen is TABLE[tlp][column]


def test_green_without_audience_reaches_the_whole_community(audience_world):
    record = make_record(audience_world, TLP.GREEN, addressed=False)
    for attribute in COLUMNS.values():
        user = principal(audience_world, attribute)
        seen = Contact.objects.visible_to(user).filter(pk=record.pk).exists()
        assert seen is (attribute is not None), attribute


@pytest.mark.parametrize("tlp", [TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT])
def test_owner_writers_edit_viewers_and_others_do_not(audience_world, tlp):
    record = make_record(audience_world, tlp)
    w = audience_world
    for user, may in [(w.thai_admin, True), (w.thai_analyst, True), (w.thai_viewer, False),
                      (w.my_analyst, False), (w.hub_admin, False), (AnonymousUser(), False)]:
        assert Contact.objects.editable_by(user).filter(pk=record.pk).exists() is may, user


def test_red_is_edited_only_by_an_owner_writer_who_may_see_it(audience_world):
    record = make_record(audience_world, TLP.RED)
    w = audience_world
    assert Contact.objects.editable_by(w.thai_analyst).filter(pk=record.pk).exists()
    assert not Contact.objects.editable_by(w.thai_admin).filter(pk=record.pk).exists()
    assert not Contact.objects.editable_by(w.my_analyst).filter(pk=record.pk).exists()


def test_deactivated_users_see_clear_alone(audience_world):
    w = audience_world
    records = {tlp: make_record(w, tlp) for tlp in TABLE}
    w.thai_analyst.is_active = False
    w.thai_analyst.save(update_fields=["is_active"])
    assert list(Contact.objects.visible_to(w.thai_analyst)) == [records[TLP.CLEAR]]
    assert not Contact.objects.editable_by(w.thai_analyst).exists()


# --- The guard -----------------------------------------------------------------------------

UNGUARDED_READS = {
    "list": lambda qs: list(qs),
    "iterate": lambda qs: next(iter(qs)),
    "len": lambda qs: len(qs),
    "bool": lambda qs: bool(qs),
    "index": lambda qs: qs[0],
    "first": lambda qs: qs.first(),
    "get": lambda qs: qs.get(name="x"),
    "count": lambda qs: qs.count(),
    "exists": lambda qs: qs.exists(),
    "contains": lambda qs: qs.contains(Contact(pk=1)),
    "iterator": lambda qs: list(qs.iterator()),
    "aggregate": lambda qs: qs.aggregate(n=Count("pk")),
    "values": lambda qs: list(qs.values("name")),
    "values_list": lambda qs: list(qs.values_list("name", flat=True)),
    "in_bulk": lambda qs: qs.in_bulk([1]),
    "latest": lambda qs: qs.latest("created"),
    "update": lambda qs: qs.update(name="changed"),
    "delete": lambda qs: qs.delete(),
    "get_or_create": lambda qs: qs.get_or_create(name="x", defaults={"owner_id": 1}),
}


@pytest.mark.parametrize("operation", list(UNGUARDED_READS))
def test_the_guard_refuses_rows_without_the_rule(world, operation):
    make_record(world, TLP.AMBER, addressed=False)
    with pytest.raises(UnrestrictedQueryError):
        UNGUARDED_READS[operation](Contact.objects.all())
    with pytest.raises(UnrestrictedQueryError):
        UNGUARDED_READS[operation](Contact.objects.filter(tlp=TLP.AMBER).order_by("pk"))
    assert Contact.unrestricted.filter(name="changed").count() == 0
    assert Contact.unrestricted.count() == 1


def test_the_rule_opens_the_guard_and_survives_chaining(world):
    record = make_record(world, TLP.AMBER, addressed=False)
    qs = Contact.objects.visible_to(world.thai_viewer).filter(tlp=TLP.AMBER).order_by("name")
    assert list(qs.values_list("pk", flat=True)) == [record.pk]
    assert qs.count() == 1
    assert Contact.objects.filter(tlp=TLP.AMBER).visible_to(world.thai_viewer).exists()
    assert Contact.objects.editable_by(world.thai_viewer).count() == 0
    assert list(Contact.objects.none()) == []


def test_combining_with_an_unrestricted_queryset_stays_guarded(world):
    make_record(world, TLP.AMBER, addressed=False)
    visible = Contact.objects.visible_to(world.my_analyst)
    for combined in (visible | Contact.objects.all(), Contact.objects.all() | visible,
                     visible ^ Contact.objects.all(), visible.union(Contact.objects.all()),
                     Contact.objects.all().union(visible)):
        with pytest.raises(UnrestrictedQueryError):
            list(combined)
    # Narrowing a restricted queryset is safe: the result is within what the user may see.
    assert list(visible & Contact.objects.all()) == []
    assert (visible | Contact.objects.visible_to(world.my_analyst)).count() == 0


def shareable_models():
    return [m for m in apps.get_models() if issubclass(m, Shareable)]


@pytest.mark.django_db
def test_every_shareable_model_is_guarded_by_default():
    assert Contact in shareable_models()
    for model in shareable_models():
        assert model._default_manager is model.objects, model
        with pytest.raises(UnrestrictedQueryError):
            list(model.objects.all())
        with pytest.raises(UnrestrictedQueryError):
            model._default_manager.count()


@pytest.mark.django_db
def test_reverse_relations_to_shareable_rows_are_guarded():
    """Related managers (``org.<something>_set``) read shareable rows through the guarded
    queryset, so they cannot be a way round ``visible_to``. Hidden relations (``+``) have no
    manager at all; every visible one found here is checked, including ones added later."""
    shareable = tuple(shareable_models())
    for other in apps.get_models():
        for field in other._meta.get_fields():  # hidden ("+") relations are not listed
            if not (field.auto_created and not field.concrete
                    and field.related_model in shareable):
                continue
            instance = other(pk=0)
            manager = getattr(instance, field.get_accessor_name())
            with pytest.raises(UnrestrictedQueryError):
                list(manager.all())
