"""Property tests: the database rule (``visible_to``/``editable_by``) against the reference.

Hypothesis builds random worlds (organisations with random coordinators, sharing groups with
random members, users of random roles, some deactivated, records at random labels with random
audiences, creators and named recipients) and checks, for every user and record:

- the SQL rule in sharing/rules.py equals the plain-Python reference in sharing/visibility.py;
- nothing is visible outside its audience; RED reaches only its creator and named recipients;
- anonymous visitors (and deactivated users) see TLP:CLEAR alone;
- editable_by is a subset of visible_to, and only the owner organisation's writers edit;
- a less restrictive label never reaches fewer users than a more restrictive one with the same
  owner, creator and audience.

Each example runs in a savepoint that is rolled back, so the tests work on SQLite and
PostgreSQL inside pytest-django's test transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certhub.accounts.models import WRITING_ROLES, Role, User
from certhub.directory.models import Contact, Organisation
from certhub.sharing.models import SharingGroup
from certhub.sharing.tlp import TLP
from certhub.sharing.visibility import RecordFacts, UserFacts, may_edit, may_see

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow])


# --- Random worlds, as plain data ---------------------------------------------------------

@dataclass(frozen=True)
class WorldSpec:
    coordinators: tuple[int | None, ...]           # per organisation: index of its coordinator
    groups: tuple[frozenset[int], ...]             # per group: member organisation indexes
    users: tuple[tuple[int, str, bool], ...]       # (organisation, role, active)
    records: tuple[dict, ...]


@st.composite
def worlds(draw) -> WorldSpec:
    n_orgs = draw(st.integers(2, 5))
    org = st.integers(0, n_orgs - 1)
    coordinators = tuple(draw(st.none() | org) for _ in range(n_orgs))
    groups = tuple(draw(st.lists(st.frozensets(org, max_size=n_orgs), max_size=3)))
    # (organisation, role, active); roughly one user in eight is deactivated.
    users = tuple(draw(st.lists(
        st.tuples(org, st.sampled_from(Role.values), st.integers(0, 7).map(lambda n: n != 0)),
        min_size=1, max_size=7)))
    user = st.integers(0, len(users) - 1)
    group = st.integers(0, len(groups) - 1) if groups else st.nothing()
    record = st.fixed_dictionaries({
        "tlp": st.sampled_from(TLP.values),
        "owner": org,
        "creator": st.none() | user,
        "audience_orgs": st.frozensets(org, max_size=3),
        "audience_groups": st.frozensets(group, max_size=2) if groups else st.just(frozenset()),
        "recipients": st.frozensets(user, max_size=3),
    })
    records = tuple(draw(st.lists(record, min_size=1, max_size=8)))
    return WorldSpec(coordinators, groups, users, records)


# --- The same world in the database, and as reference facts -------------------------------

@dataclass
class World:
    users: list[User]
    user_facts: dict[int, UserFacts]
    records: dict[int, RecordFacts]   # contact pk -> facts

    def reference_visible(self, facts: UserFacts) -> set[int]:
        return {pk for pk, record in self.records.items() if may_see(facts, record)}

    def reference_editable(self, facts: UserFacts) -> set[int]:
        return {pk for pk, record in self.records.items() if may_edit(facts, record)}


def build(spec: WorldSpec) -> World:
    orgs = [Organisation.objects.create(name=f"Prop {i}", short_name=f"PROP{i}",
                                        slug=f"prop{i}", kind="national_cert")
            for i in range(len(spec.coordinators))]
    for org, coordinator in zip(orgs, spec.coordinators, strict=True):
        if coordinator is not None:
            org.coordinator = orgs[coordinator]
            org.save(update_fields=["coordinator"])
    groups = []
    for i, members in enumerate(spec.groups):
        group = SharingGroup.objects.create(name=f"Prop group {i}", slug=f"prop-group-{i}",
                                            managed_by=orgs[0])
        group.members.set([orgs[m] for m in members])
        groups.append(group)
    users = [User.objects.create_user(f"u{i}@prop.example", organisation=orgs[o], role=role,
                                      is_active=active)
             for i, (o, role, active) in enumerate(spec.users)]
    user_facts = {
        u.pk: UserFacts(user_id=u.pk, organisation_id=u.organisation_id,
                        coordinator_id=u.organisation.coordinator_id, active=u.is_active,
                        writer=u.role in WRITING_ROLES)
        for u in users
    }
    records = {}
    for i, r in enumerate(spec.records):
        creator = users[r["creator"]] if r["creator"] is not None else None
        contact = Contact.unrestricted.create(owner=orgs[r["owner"]], tlp=r["tlp"],
                                              created_by=creator, role="technical",
                                              name=f"record {i}")
        contact.audience_orgs.set([orgs[o] for o in r["audience_orgs"]])
        contact.audience_groups.set([groups[g] for g in r["audience_groups"]])
        contact.audience_users.set([users[u] for u in r["recipients"]])
        records[contact.pk] = RecordFacts(
            tlp=r["tlp"], owner_id=orgs[r["owner"]].pk,
            creator_id=creator.pk if creator else None,
            audience_org_ids=frozenset(orgs[o].pk for o in r["audience_orgs"]),
            audience_groups=tuple(frozenset(orgs[m].pk for m in spec.groups[g])
                                  for g in sorted(r["audience_groups"])),
            recipient_ids=frozenset(users[u].pk for u in r["recipients"]),
        )
    return World(users, user_facts, records)


def visible_pks(user) -> set[int]:
    return set(Contact.objects.visible_to(user).values_list("pk", flat=True))


def editable_pks(user) -> set[int]:
    return set(Contact.objects.editable_by(user).values_list("pk", flat=True))


def in_rolled_back_world(check):
    """Run ``check(world)`` on a freshly built world inside a savepoint that is rolled back."""
    def run(spec: WorldSpec):
        with transaction.atomic():
            check(build(spec))
            transaction.set_rollback(True)
    return run


# --- The properties -----------------------------------------------------------------------

@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(spec=worlds())
def test_database_rule_equals_the_reference(spec):
    def check(world: World):
        for user in world.users:
            facts = world.user_facts[user.pk]
            assert visible_pks(user) == world.reference_visible(facts), user
            assert editable_pks(user) == world.reference_editable(facts), user
        anonymous = UserFacts.anonymous()
        assert visible_pks(AnonymousUser()) == world.reference_visible(anonymous)
    in_rolled_back_world(check)(spec)


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(spec=worlds())
def test_nothing_is_visible_outside_its_audience(spec):
    def check(world: World):
        for user in world.users:
            facts = world.user_facts[user.pk]
            for pk in visible_pks(user):
                record = world.records[pk]
                reached = (
                    record.tlp == TLP.CLEAR
                    or (record.tlp == TLP.RED
                        and user.pk in record.recipient_ids | {record.creator_id})
                    or (record.tlp != TLP.RED and facts.organisation_id == record.owner_id)
                    or (record.tlp in (TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT)
                        and record.audience_includes(facts.organisation_id))
                    or (record.tlp in (TLP.GREEN, TLP.AMBER)
                        and record.audience_includes(facts.coordinator_id))
                    or (record.tlp == TLP.GREEN and not record.audience_named)
                )
                assert reached, (user, record)
    in_rolled_back_world(check)(spec)


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(spec=worlds())
def test_red_reaches_only_its_creator_and_named_recipients(spec):
    def check(world: World):
        for pk, record in world.records.items():
            if record.tlp != TLP.RED:
                continue
            seen_by = {user.pk for user in world.users if pk in visible_pks(user)}
            assert seen_by <= record.recipient_ids | {record.creator_id}
            active = {u.pk for u in world.users if u.is_active}
            assert seen_by == (record.recipient_ids | {record.creator_id}) & active
    in_rolled_back_world(check)(spec)


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(spec=worlds())
def test_anonymous_and_deactivated_users_see_clear_alone(spec):
    def check(world: World):
        clear = {pk for pk, record in world.records.items() if record.tlp == TLP.CLEAR}
        assert visible_pks(AnonymousUser()) == clear
        assert visible_pks(None) == clear
        assert editable_pks(AnonymousUser()) == set()
        for user in world.users:
            if not user.is_active:
                assert visible_pks(user) == clear
                assert editable_pks(user) == set()
    in_rolled_back_world(check)(spec)


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(spec=worlds())
def test_only_owner_writers_edit_and_only_what_they_see(spec):
    def check(world: World):
        for user in world.users:
            editable = editable_pks(user)
            assert editable <= visible_pks(user)
            for pk in editable:
                assert world.records[pk].owner_id == user.organisation_id
                assert user.is_active
                assert user.role in WRITING_ROLES
            if user.role == Role.VIEWER:
                assert editable == set()
    in_rolled_back_world(check)(spec)


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(spec=worlds())
def test_a_less_restrictive_label_never_reaches_fewer_users(spec):
    """Relabelling a record from AMBER+STRICT towards CLEAR only ever adds readers.

    RED is left out on purpose: its audience is named people, the other labels' is organisations,
    so RED -> AMBER+STRICT changes who the audience is, not only how far it reaches.
    """
    order = [TLP.AMBER_STRICT, TLP.AMBER, TLP.GREEN, TLP.CLEAR]

    def check(world: World):
        for pk in world.records:
            readers_before: set[int] = set()
            for label in order:
                Contact.unrestricted.filter(pk=pk).update(tlp=label)
                readers = {u.pk for u in world.users if pk in visible_pks(u)}
                assert readers_before <= readers, (label, readers_before - readers)
                readers_before = readers
    in_rolled_back_world(check)(spec)
