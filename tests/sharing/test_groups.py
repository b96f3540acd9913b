"""Sharing groups: who may create them and change their members; audience validation."""

from __future__ import annotations

import pytest

from certhub.audit.models import Action, AuditEntry
from certhub.core.errors import Conflict, InvalidInput, PermissionDenied
from certhub.sharing import queries, services
from certhub.sharing.models import SharingGroup
from certhub.sharing.tlp import TLP


@pytest.fixture
def group(world):
    return services.create_group(world.hub_admin, name="Thai banking sector",
                                 managed_by=world.thai, members=[world.thai, world.bank])


def test_hub_admin_creates_a_group_and_it_is_audited(world, group):
    assert group.slug == "thai-banking-sector"
    assert set(group.members.all()) == {world.thai, world.bank}
    assert AuditEntry.objects.filter(action=Action.CREATE, object_type="sharing.sharinggroup",
                                     object_id=str(group.pk)).exists()


@pytest.mark.parametrize("who", ["thai_admin", "thai_analyst", "thai_viewer"])
def test_others_cannot_create_groups(world, who):
    with pytest.raises(PermissionDenied):
        services.create_group(getattr(world, who), name="Mine", managed_by=world.thai)
    assert not SharingGroup.objects.filter(name="Mine").exists()


def test_group_names_are_unique(world, group):
    with pytest.raises(Conflict):
        services.create_group(world.hub_admin, name="thai banking sector",
                              managed_by=world.thai)


def test_managing_organisation_admin_changes_members(world, group):
    services.add_members(world.thai_admin, group, [world.my])
    assert set(group.members.all()) == {world.thai, world.bank, world.my}
    services.remove_members(world.thai_admin, group, [world.bank])
    assert set(group.members.all()) == {world.thai, world.my}
    entry = AuditEntry.objects.filter(action=Action.CHANGE).latest("seq")
    assert entry.details == {"members_added": [], "members_removed": ["Example Bank"]}


@pytest.mark.parametrize("who", ["thai_analyst", "thai_viewer", "my_analyst"])
def test_others_cannot_change_members(world, group, who):
    with pytest.raises(PermissionDenied):
        services.add_members(getattr(world, who), group, [world.sg])
    assert world.sg not in group.members.all()


def test_admin_of_another_organisation_cannot_change_members(world, group):
    from tests.conftest import make_user

    my_admin = make_user(world.my, "org_admin")
    with pytest.raises(PermissionDenied):
        services.set_members(my_admin, group, [world.my])


def test_only_hub_admin_renames_or_rehomes(world, group):
    with pytest.raises(PermissionDenied):
        services.update_group(world.thai_admin, group, name="Renamed")
    services.update_group(world.thai_admin, group, description="Banks coordinated by ThaiCERT")
    services.update_group(world.hub_admin, group, name="Thai banks", managed_by=world.hub)
    group.refresh_from_db()
    assert (group.name, group.managed_by, group.description) == (
        "Thai banks", world.hub, "Banks coordinated by ThaiCERT")


def test_every_signed_in_user_lists_groups_anonymous_none(world, group):
    from django.contrib.auth.models import AnonymousUser

    assert list(queries.groups(world.partner_analyst)) == [group]
    assert list(queries.groups(AnonymousUser())) == []


def test_unknown_organisations_are_named(world):
    with pytest.raises(InvalidInput, match="Nowhere CERT"):
        services.organisations_by_short_name(["thaicert", "Nowhere CERT"])
    assert services.organisations_by_short_name(["thaicert", "ThaiCERT"]) == [world.thai]


@pytest.mark.parametrize(("tlp", "audience", "field"), [
    (TLP.RED, {"orgs": ["org"]}, "audience_orgs"),
    (TLP.RED, {"groups": ["group"]}, "audience_groups"),
    (TLP.AMBER, {"users": ["user"]}, "audience_users"),
    (TLP.GREEN, {"users": ["user"]}, "audience_users"),
    (TLP.CLEAR, {"orgs": ["org"]}, "audience_orgs"),
])
def test_audiences_that_the_label_cannot_mean_are_refused(tlp, audience, field):
    with pytest.raises(InvalidInput) as exc:
        services.validate_audience(tlp, **audience)
    assert exc.value.field == field


@pytest.mark.parametrize(("tlp", "audience"), [
    (TLP.RED, {"users": ["user"]}), (TLP.RED, {}), (TLP.AMBER, {"orgs": ["o"], "groups": ["g"]}),
    (TLP.AMBER_STRICT, {"orgs": ["o"]}), (TLP.GREEN, {}), (TLP.CLEAR, {}),
])
def test_sensible_audiences_are_accepted(tlp, audience):
    services.validate_audience(tlp, **audience)


def test_red_with_organisations_says_why():
    with pytest.raises(InvalidInput, match="TLP:RED goes to named people, not organisations"):
        services.validate_audience(TLP.RED, orgs=["org"])
