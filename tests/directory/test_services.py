"""Directory services: who may change organisations, constituencies and contacts; audit."""

from __future__ import annotations

import pytest

from certhub.audit.models import Action, AuditEntry
from certhub.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from certhub.directory import services
from certhub.directory.models import ConstituencyEntry, Contact, Organisation
from certhub.sharing.tlp import TLP

from .conftest import make_contact


def test_hub_admin_creates_organisation_and_it_is_audited(world):
    org = services.create_organisation(world.hub_admin, short_name="CamCERT",
                                       name="Cambodia CERT", kind="national_cert", country="kh")
    assert org.slug == "camcert"
    assert org.country == "KH"
    entry = AuditEntry.objects.get(action=Action.CREATE, object_id=str(org.pk),
                                   object_type="directory.organisation")
    assert entry.actor == world.hub_admin.email


@pytest.mark.parametrize("who", ["thai_admin", "thai_analyst", "thai_viewer"])
def test_only_hub_admins_create_organisations(world, who):
    with pytest.raises(PermissionDenied):
        services.create_organisation(getattr(world, who), short_name="X", name="X",
                                     kind="national_cert")
    assert not Organisation.objects.filter(short_name="X").exists()


def test_duplicate_short_name_is_a_conflict(world):
    with pytest.raises(Conflict):
        services.create_organisation(world.hub_admin, short_name="thaicert", name="Again",
                                     kind="national_cert")


def test_org_admin_edits_own_profile_not_others(world):
    services.update_organisation(world.thai_admin, world.thai, hours="24/7",
                                 reporting_instructions="Email us.")
    world.thai.refresh_from_db()
    assert world.thai.hours == "24/7"
    with pytest.raises(PermissionDenied):
        services.update_organisation(world.thai_admin, world.my, hours="24/7")
    world.my.refresh_from_db()
    assert world.my.hours == ""


def test_org_admin_cannot_change_what_the_organisation_is(world):
    with pytest.raises(PermissionDenied) as exc:
        services.update_organisation(world.thai_admin, world.thai, membership="observer")
    assert exc.value.field == "membership"


@pytest.mark.parametrize("who", ["thai_analyst", "thai_viewer"])
def test_analysts_and_viewers_cannot_edit_the_profile(world, who):
    with pytest.raises(PermissionDenied):
        services.update_organisation(getattr(world, who), world.thai, hours="24/7")


def test_hub_admin_changes_kind_and_coordinator(world):
    services.update_organisation(world.hub_admin, world.bank, coordinator=world.my,
                                 membership="observer")
    world.bank.refresh_from_db()
    assert (world.bank.coordinator, world.bank.membership) == (world.my, "observer")


def test_bad_profile_values_are_refused_and_nothing_changes(world):
    with pytest.raises(InvalidInput) as exc:
        services.update_organisation(world.thai_admin, world.thai, hours="9-5",
                                     time_zone="Mars/Olympus")
    assert exc.value.field == "time_zone"
    world.thai.refresh_from_db()
    assert world.thai.hours == ""


def test_constituency_is_normalised_and_invalidates_the_lookup(
        world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        entry = services.add_constituency(world.thai_admin, world.thai, "asn", "AS7470")
    assert entry.value == "7470"
    assert any(getattr(cb, "__name__", "") == "invalidate" for cb in callbacks)
    domain = services.add_constituency(world.thai_admin, world.thai, "domain", ".Example.CO.TH.")
    assert domain.value == "example.co.th"
    prefix = services.add_constituency(world.thai_admin, world.thai, "prefix", "2001:DB8::/32")
    assert prefix.value == "2001:db8::/32"


@pytest.mark.parametrize(("kind", "value"), [("asn", "ASX"), ("prefix", "10.0.0.1/8"),
                                             ("country", "XX"), ("domain", "-bad-.th"),
                                             ("planet", "earth")])
def test_invalid_constituency_is_refused(world, kind, value):
    with pytest.raises(InvalidInput):
        services.add_constituency(world.thai_admin, world.thai, kind, value)


def test_duplicate_constituency_is_a_conflict(world):
    with pytest.raises(Conflict):
        services.add_constituency(world.thai_admin, world.thai, "domain", "TH")


def test_constituency_of_another_organisation_is_refused(world):
    with pytest.raises(PermissionDenied):
        services.add_constituency(world.thai_admin, world.my, "domain", "example.my")
    entry = ConstituencyEntry.objects.get(organisation=world.my, kind="domain")
    with pytest.raises(PermissionDenied):
        services.remove_constituency(world.thai_admin, world.my, entry.pk)
    services.remove_constituency(world.hub_admin, world.my, entry.pk)
    assert not ConstituencyEntry.objects.filter(pk=entry.pk).exists()


def test_contact_create_update_delete_by_own_analyst(world):
    contact = services.create_contact(world.thai_analyst, world.thai, tlp="amber",
                                      audience_groups=[], audience_orgs=[world.my],
                                      role="emergency_24x7", name="Duty officer",
                                      phone="+66 2 123 4567")
    assert contact.phone == "+6621234567"
    assert contact.created_by == world.thai_analyst
    services.update_contact(world.thai_analyst, contact.pk, availability="24/7")
    assert Contact.unrestricted.get(pk=contact.pk).availability == "24/7"
    services.delete_contact(world.thai_analyst, contact.pk)
    assert not Contact.unrestricted.filter(pk=contact.pk).exists()
    actions = list(AuditEntry.objects.filter(object_type="directory.contact").order_by("seq")
                   .values_list("action", flat=True))
    assert actions == [Action.CREATE, Action.CHANGE, Action.DELETE]


def test_viewer_cannot_write_contacts(world):
    with pytest.raises(PermissionDenied):
        services.create_contact(world.thai_viewer, world.thai, tlp="clear", role="policy",
                                name="Policy")
    contact = make_contact(world.thai)
    with pytest.raises(PermissionDenied):
        services.update_contact(world.thai_viewer, contact.pk, name="Changed")


def test_contacts_of_another_organisation_cannot_be_added(world):
    with pytest.raises(PermissionDenied):
        services.create_contact(world.my_analyst, world.thai, tlp="clear", role="policy",
                                name="Policy")


def test_invisible_contact_is_not_found_visible_one_is_forbidden(world):
    hidden = make_contact(world.thai, tlp=TLP.AMBER)
    with pytest.raises(NotFound):
        services.update_contact(world.my_analyst, hidden.pk, name="x")
    with pytest.raises(NotFound):
        services.delete_contact(world.my_analyst, hidden.pk)
    public = make_contact(world.thai, tlp=TLP.CLEAR, name="Public")
    with pytest.raises(PermissionDenied):
        services.update_contact(world.my_analyst, public.pk, name="x")


def test_tlp_red_refuses_organisations_in_the_audience(world):
    with pytest.raises(InvalidInput, match="named people, not organisations"):
        services.create_contact(world.thai_analyst, world.thai, tlp="red",
                                audience_orgs=[world.my], role="policy", name="Policy")
    assert not Contact.unrestricted.exists()


def test_named_recipients_only_for_red(world):
    with pytest.raises(InvalidInput) as exc:
        services.create_contact(world.thai_analyst, world.thai, tlp="amber",
                                audience_users=[world.my_analyst], role="policy", name="P")
    assert exc.value.field == "audience_users"
    red = services.create_contact(world.thai_analyst, world.thai, tlp="red",
                                  audience_users=[world.my_analyst], role="policy", name="P")
    assert Contact.objects.visible_to(world.my_analyst).filter(pk=red.pk).exists()
    assert not Contact.objects.visible_to(world.sg_analyst).filter(pk=red.pk).exists()


def test_clear_with_audience_is_refused(world):
    with pytest.raises(InvalidInput):
        services.create_contact(world.thai_analyst, world.thai, tlp="clear",
                                audience_orgs=[world.my], role="policy", name="P")


def test_changing_the_label_revalidates_the_stored_audience(world):
    contact = services.create_contact(world.thai_analyst, world.thai, tlp="amber",
                                      audience_orgs=[world.my], role="policy", name="P")
    with pytest.raises(InvalidInput):
        services.update_contact(world.thai_analyst, contact.pk, tlp="red")
    assert Contact.unrestricted.get(pk=contact.pk).tlp == TLP.AMBER


def test_unknown_tlp_is_refused(world):
    with pytest.raises(InvalidInput) as exc:
        services.create_contact(world.thai_analyst, world.thai, tlp="purple", role="policy",
                                name="P")
    assert exc.value.field == "tlp"
