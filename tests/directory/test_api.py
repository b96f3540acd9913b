"""Directory API: visibility of contacts (404, lists, counts), permissions, formats."""

from __future__ import annotations

import pytest

from certhub.directory.models import Contact, Organisation
from certhub.sharing.tlp import TLP

from .conftest import make_contact


@pytest.fixture
def thai_contacts(world):
    """ThaiCERT's public contact, its AMBER duty officer (for the bank's CERT only: itself and
    no audience) and a GREEN one for the community."""
    return {
        "clear": make_contact(world.thai, tlp=TLP.CLEAR, name="Incident reports"),
        "amber": make_contact(world.thai, tlp=TLP.AMBER, name="Duty officer",
                              role="emergency_24x7", phone="+6621234567"),
        "green": make_contact(world.thai, tlp=TLP.GREEN, name="Policy", role="policy"),
    }


def _names(response):
    body = response.json()
    items = body["items"] if isinstance(body, dict) and "items" in body else body
    return {item["name"] for item in items}


def test_amber_contact_of_thaicert_is_404_for_a_mycert_analyst(api, world, thai_contacts):
    amber = thai_contacts["amber"]
    response = api.get(world.my_analyst, f"/contacts/{amber.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "Duty officer" not in response.content.decode()
    # The owner's own analyst reads it.
    assert api.get(world.thai_analyst, f"/contacts/{amber.pk}").status_code == 200


def test_amber_contact_is_absent_from_lists_and_counts(api, world, thai_contacts):
    detail = api.get(world.my_analyst, "/organisations/thaicert").json()
    assert {c["name"] for c in detail["contacts"]} == {"Incident reports", "Policy"}
    assert detail["contact_count"] == 2
    assert _names(api.get(world.my_analyst, "/organisations/thaicert/contacts")) == {
        "Incident reports", "Policy"}
    listing = api.get(world.my_analyst, "/contacts", organisation="thaicert").json()
    assert listing["count"] == 2
    orgs = api.get(world.my_analyst, "/organisations", search="ThaiCERT").json()
    assert orgs["items"][0]["contact_count"] == 2
    own = api.get(world.thai_analyst, "/organisations/thaicert").json()
    assert own["contact_count"] == 3


def test_anonymous_sees_only_clear_contacts(api, world, thai_contacts):
    detail = api.get(None, "/organisations/thaicert")
    assert detail.status_code == 200
    assert [c["name"] for c in detail.json()["contacts"]] == ["Incident reports"]
    assert detail.json()["contact_count"] == 1
    assert _names(api.get(None, "/contacts")) == {"Incident reports"}
    for key in ("amber", "green"):
        assert api.get(None, f"/contacts/{thai_contacts[key].pk}").status_code == 404


def test_amber_shared_with_mycert_is_visible_to_it(api, world):
    shared = make_contact(world.thai, tlp=TLP.AMBER, name="Shared duty", orgs=[world.my])
    assert api.get(world.my_analyst, f"/contacts/{shared.pk}").status_code == 200
    assert api.get(world.sg_analyst, f"/contacts/{shared.pk}").status_code == 404


def test_writes_on_an_invisible_contact_are_404(api, world, thai_contacts):
    amber = thai_contacts["amber"]
    assert api.patch(world.my_analyst, f"/contacts/{amber.pk}",
                     {"name": "x"}).status_code == 404
    assert api.delete(world.my_analyst, f"/contacts/{amber.pk}").status_code == 404
    assert Contact.unrestricted.get(pk=amber.pk).name == "Duty officer"


def test_organisation_list_filters_and_paginates(api, world):
    body = api.get(None, "/organisations", kind="national_cert", limit=2).json()
    assert body["count"] == 3
    assert len(body["items"]) == 2
    assert {o["short_name"] for o in api.get(None, "/organisations", country="th").json()[
        "items"]} == {"ThaiCERT", "Example Bank"}
    assert [o["short_name"] for o in api.get(None, "/organisations",
                                             membership="dialogue_partner").json()["items"]] == [
        "JPCERT/CC"]


def test_organisation_detail_has_profile_and_constituency(api, world):
    body = api.get(None, "/organisations/mycert").json()
    assert body["short_name"] == "MyCERT"
    assert {(e["kind"], e["value"]) for e in body["constituency"]} == {
        ("country", "MY"), ("domain", "my"), ("asn", "4788")}
    assert api.get(None, "/organisations/nope").status_code == 404


def test_org_admin_updates_own_organisation_through_the_api(api, world):
    ok = api.patch(world.thai_admin, "/organisations/thaicert", {"hours": "24/7"})
    assert ok.status_code == 200, ok.content
    assert ok.json()["hours"] == "24/7"
    other = api.patch(world.thai_admin, "/organisations/mycert", {"hours": "24/7"})
    assert other.status_code == 403
    viewer = api.patch(world.thai_viewer, "/organisations/thaicert", {"hours": "x"})
    assert viewer.status_code == 403
    anonymous = api.patch(None, "/organisations/thaicert", {"hours": "x"})
    assert anonymous.status_code == 401


def test_hub_admin_creates_an_organisation(api, world):
    response = api.post(world.hub_admin, "/organisations",
                        {"short_name": "LaoCERT", "name": "Lao CERT", "kind": "national_cert",
                         "country": "LA", "coordinator": ""})
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "laocert"
    assert api.post(world.thai_admin, "/organisations",
                    {"short_name": "X", "name": "X", "kind": "national_cert"}).status_code == 403
    bad = api.post(world.hub_admin, "/organisations",
                   {"short_name": "Y", "name": "Y", "kind": "spaceship"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "kind"
    assert not Organisation.objects.filter(short_name__in=["X", "Y"]).exists()


def test_constituency_add_and_remove(api, world):
    added = api.post(world.thai_admin, "/organisations/thaicert/constituency",
                     {"kind": "asn", "value": "AS7470"})
    assert added.status_code == 201
    assert added.json()["value"] == "7470"
    bad = api.post(world.thai_admin, "/organisations/thaicert/constituency",
                   {"kind": "prefix", "value": "300.1.2.0/24"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "prefix"
    entry_id = added.json()["id"]
    assert api.delete(world.my_analyst,
                      f"/organisations/thaicert/constituency/{entry_id}").status_code == 403
    assert api.delete(world.thai_admin,
                      f"/organisations/thaicert/constituency/{entry_id}").status_code == 204


def test_contact_create_with_audience_and_fingerprint(api, world, pgp_key):
    response = api.post(world.thai_analyst, "/organisations/thaicert/contacts",
                        {"role": "emergency_24x7", "name": "Duty officer", "tlp": "AMBER",
                         "audience_orgs": ["MyCERT"], "phone": "+6621234567",
                         "pgp_key": pgp_key[0]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["audience_orgs"] == ["MyCERT"]
    assert body["pgp_fingerprint"] == pgp_key[1]
    assert body["pgp_fingerprint_display"].replace(" ", "") == pgp_key[1]
    red = api.post(world.thai_analyst, "/organisations/thaicert/contacts",
                   {"role": "policy", "name": "P", "tlp": "red", "audience_orgs": ["MyCERT"]})
    assert red.status_code == 400
    assert "named people, not organisations" in red.json()["message"]
    phone = api.post(world.thai_analyst, "/organisations/thaicert/contacts",
                     {"role": "policy", "name": "P", "tlp": "clear", "phone": "12345"})
    assert (phone.status_code, phone.json()["field"]) == (400, "phone")


def test_read_token_cannot_write(api, world):
    response = api.post(world.thai_analyst, "/organisations/thaicert/contacts",
                        {"role": "policy", "name": "P", "tlp": "clear"}, scope="read")
    assert response.status_code == 403


def test_opening_a_red_contact_is_audited(api, world):
    from certhub.audit.models import Action, AuditEntry

    red = make_contact(world.thai, tlp=TLP.RED, name="Named only", users=[world.my_analyst])
    assert api.get(world.my_analyst, f"/contacts/{red.pk}").status_code == 200
    entry = AuditEntry.objects.get(action=Action.VIEW_RED)
    assert (entry.actor, entry.object_id) == (world.my_analyst.email, str(red.pk))
    assert api.get(world.sg_analyst, f"/contacts/{red.pk}").status_code == 404
    assert AuditEntry.objects.filter(action=Action.VIEW_RED).count() == 1
