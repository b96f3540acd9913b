"""Import and export: round trip, idempotence, all-or-nothing with row numbers, permissions."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from tests.conftest import add_constituency, make_org, make_user

from certhub.accounts.models import Role, User
from certhub.audit.models import Action, AuditEntry
from certhub.core.errors import InvalidInput, PermissionDenied
from certhub.directory import importexport, services
from certhub.directory.models import ConstituencyEntry, Contact, Organisation
from certhub.sharing import services as sharing
from certhub.sharing.models import SharingGroup
from certhub.sharing.tlp import TLP

from .conftest import make_contact


def _sample_directory(pgp_public: str):
    hub = make_org("Hub", kind="regional_hub", name="Regional hub", country="SG",
                   hours="Office hours", time_zone="Asia/Singapore")
    thai = make_org("ThaiCERT", country="TH", website="https://thaicert.or.th")
    bank = make_org("Bank", kind="private_sector", country="TH", coordinator=thai)
    add_constituency(thai, "country", "TH")
    add_constituency(thai, "domain", "th")
    add_constituency(thai, "asn", "7470")
    add_constituency(thai, "prefix", "192.0.2.0/24", "2001:db8::/32")
    ConstituencyEntry.objects.filter(kind="asn").update(note="public registry fact")
    group = sharing.create_group(None, name="National CERTs", managed_by=hub,
                                 members=[hub, thai])
    make_contact(thai, tlp=TLP.CLEAR, name="Incident reports", email="ir@thaicert.example",
                 phone="+6621234567", pgp_key=pgp_public.strip(), is_example=True)
    make_contact(thai, tlp=TLP.AMBER, name="Duty officer", role="emergency_24x7",
                 groups=[group])
    make_contact(bank, tlp=TLP.GREEN, name="SOC", role="technical")
    return hub


def _wipe():
    Contact.unrestricted.all().delete()
    SharingGroup.objects.all().delete()
    ConstituencyEntry.objects.all().delete()
    Organisation.objects.update(coordinator=None)
    Organisation.objects.all().delete()


@pytest.mark.django_db
def test_json_round_trip_into_an_empty_directory(pgp_key):
    hub = _sample_directory(pgp_key[0])
    admin = make_user(hub, Role.HUB_ADMIN, email="admin@hub.example")
    first = importexport.export_data(admin)
    assert {c["name"] for o in first["organisations"] for c in o["contacts"]} == {
        "Incident reports", "Duty officer", "SOC"}
    content = json.dumps(first)
    admin.delete()
    _wipe()
    assert not Organisation.objects.exists()

    result = importexport.import_directory(content)
    assert result.organisations_created == 3
    assert result.contacts_created == 3
    again = make_user(Organisation.objects.get(short_name="Hub"), Role.HUB_ADMIN,
                      email="admin@hub.example")
    assert importexport.export_data(again) == first
    contact = Contact.objects.visible_to(again).get(name="Incident reports")
    assert contact.pgp_fingerprint == pgp_key[1]


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing(pgp_key):
    hub = _sample_directory(pgp_key[0])
    admin = make_user(hub, Role.HUB_ADMIN, email="admin@hub.example")
    content = json.dumps(importexport.export_data(admin))
    counts = (Organisation.objects.count(), Contact.unrestricted.count(),
              ConstituencyEntry.objects.count(), SharingGroup.objects.count())
    audit_before = AuditEntry.objects.count()
    result = importexport.import_directory(content, user=admin)
    assert not any(result.as_dict().values())
    assert counts == (Organisation.objects.count(), Contact.unrestricted.count(),
                      ConstituencyEntry.objects.count(), SharingGroup.objects.count())
    assert AuditEntry.objects.count() == audit_before


@pytest.mark.django_db
def test_csv_round_trip_of_organisations_and_constituencies(pgp_key):
    hub = _sample_directory(pgp_key[0])
    admin = make_user(hub, Role.HUB_ADMIN, email="admin@hub.example")
    csv_text = importexport.to_csv(importexport.export_data(admin))
    assert csv_text.splitlines()[0].startswith("short_name,name,kind")
    assert "192.0.2.0/24 2001:db8::/32" in csv_text
    admin.delete()
    _wipe()
    result = importexport.import_directory(csv_text, fmt="csv")
    assert result.organisations_created == 3
    thai = Organisation.objects.get(short_name="ThaiCERT")
    assert set(thai.constituency.values_list("kind", "value")) == {
        ("country", "TH"), ("domain", "th"), ("asn", "7470"), ("prefix", "192.0.2.0/24"),
        ("prefix", "2001:db8::/32")}
    assert Organisation.objects.get(short_name="Bank").coordinator == thai
    assert importexport.import_directory(csv_text, fmt="csv").organisations_updated == 0


def _file(*organisations):
    return json.dumps({"organisations": list(organisations)})


GOOD = {"short_name": "Good", "name": "Good CERT", "kind": "national_cert", "country": "TH",
        "constituency": {"domains": ["good.example"]}}


@pytest.mark.django_db
@pytest.mark.parametrize(("bad", "where", "field"), [
    ({"short_name": "Bad", "name": "B", "kind": "spaceship"}, "row 2 (Bad)", "kind"),
    ({"short_name": "Bad", "name": "B", "kind": "national_cert",
      "constituency": {"asns": ["AS12", "ASX"]}}, "row 2 (Bad)", "constituency.asns[2]"),
    ({"short_name": "Bad", "name": "B", "kind": "national_cert",
      "contacts": [{"role": "policy", "name": "ok", "tlp": "clear"},
                   {"role": "policy", "name": "P", "tlp": "clear", "phone": "12345"}]},
     "row 2 (Bad)", "contacts[2].phone"),
    ({"short_name": "Bad", "name": "B", "kind": "national_cert", "coordinator": "Nobody"},
     "row 2 (Bad)", "coordinator"),
    ({"short_name": "Bad", "name": "B", "kind": "national_cert", "colour": "red"},
     "row 2 (Bad)", "colour"),
    ({"short_name": "Good", "name": "Twice", "kind": "national_cert"}, "row 2 (Good)",
     "short_name"),
])
def test_one_bad_row_rejects_the_whole_import(bad, where, field):
    with pytest.raises(InvalidInput) as exc:
        importexport.import_directory(_file(GOOD, bad))
    assert exc.value.field == field
    assert exc.value.message.startswith(where)
    assert not Organisation.objects.exists()
    assert not ConstituencyEntry.objects.exists()
    assert not Contact.unrestricted.exists()


@pytest.mark.django_db
def test_csv_errors_name_the_row_and_line():
    csv_text = ("short_name,name,kind,country,asns\n"
                "Good,Good CERT,national_cert,TH,7470\n"
                "Bad,Bad CERT,national_cert,ZZ,\n")
    with pytest.raises(InvalidInput) as exc:
        importexport.import_directory(csv_text, fmt="csv")
    assert exc.value.message.startswith("row 2, line 3 (Bad)")
    assert exc.value.field == "country"
    assert not Organisation.objects.exists()


def test_only_hub_admins_import(world):
    with pytest.raises(PermissionDenied):
        importexport.import_directory(_file(GOOD), user=world.thai_admin)


def test_export_is_audited_and_follows_the_sharing_rule(world, api):
    make_contact(world.thai, tlp=TLP.AMBER, name="Hidden duty officer")
    make_contact(world.thai, tlp=TLP.CLEAR, name="Public desk")
    response = api.get(world.my_analyst, "/export", format="json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Public desk" in text
    assert "Hidden duty officer" not in text
    entry = AuditEntry.objects.filter(action=Action.EXPORT).latest("seq")
    assert entry.actor == world.my_analyst.email
    csv_response = api.get(world.my_analyst, "/export", format="csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "ThaiCERT" in csv_response.content.decode()
    assert api.get(None, "/export").status_code == 401
    assert api.get(world.my_analyst, "/export", format="xml").status_code == 400


def test_import_api_is_all_or_nothing(world, api):
    bad = {"organisations": [GOOD, {"short_name": "Bad", "name": "B", "kind": "nope"}]}
    response = api.post(world.hub_admin, "/import", bad)
    assert response.status_code == 400
    assert response.json()["message"].startswith("row 2 (Bad)")
    assert response.json()["field"] == "kind"
    assert not Organisation.objects.filter(short_name="Good").exists()
    ok = api.post(world.hub_admin, "/import", {"organisations": [GOOD]})
    assert ok.status_code == 200, ok.content
    assert ok.json()["organisations_created"] == 1
    assert api.post(world.thai_admin, "/import", {"organisations": [GOOD]}).status_code == 403


def test_cli_export_and_import(world, tmp_path, capsys):
    out = tmp_path / "directory.json"
    call_command("directory", "export", "--format", "json", "--out", str(out),
                 "--as", world.hub_admin.email)
    data = json.loads(out.read_text())
    assert {o["short_name"] for o in data["organisations"]} >= {"ThaiCERT", "MyCERT"}
    call_command("directory", "import", str(out))
    bad = tmp_path / "bad.json"
    bad.write_text(_file(GOOD, {"short_name": "Bad", "name": "B", "kind": "nope"}))
    with pytest.raises(CommandError, match=r"row 2 \(Bad\)"):
        call_command("directory", "import", str(bad))
    assert not Organisation.objects.filter(short_name="Good").exists()


def test_import_updates_existing_organisation_by_short_name(world):
    result = importexport.import_directory(_file(
        {"short_name": "thaicert", "hours": "24/7",
         "contacts": [{"role": "policy", "name": "Policy desk", "tlp": "green",
                       "audience_orgs": ["MyCERT"]}]}))
    assert (result.organisations_created, result.organisations_updated) == (0, 1)
    world.thai.refresh_from_db()
    assert world.thai.hours == "24/7"
    contact = Contact.objects.visible_to(world.my_analyst).get(name="Policy desk")
    assert contact.owner == world.thai
    # The service layer reads the same contact back for its owner.
    assert services.update_contact(world.thai_analyst, contact.pk, availability="x")
    assert User.objects.count() >= 1


def test_api_import_cannot_relabel_a_contact_its_user_may_not_edit(world, api):
    hidden = make_contact(world.thai, tlp=TLP.RED, name="Named duty phone",
                          role="emergency_24x7", users=[world.thai_admin])
    relabel = {"short_name": "ThaiCERT", "name": "ThaiCERT", "kind": "national_cert",
               "country": "TH",
               "contacts": [{"role": "emergency_24x7", "name": "Named duty phone",
                             "tlp": "clear", "email": "leak@example.org"}]}
    response = api.post(world.hub_admin, "/import", {"organisations": [relabel]})
    assert response.status_code == 200, response.content
    hidden = Contact.unrestricted.get(pk=hidden.pk)
    assert hidden.tlp == TLP.RED
    assert hidden.email != "leak@example.org"
    assert list(hidden.audience_users.all()) == [world.thai_admin]
