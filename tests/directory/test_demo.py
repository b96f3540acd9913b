"""The demo: eleven member states, the named organisations, idempotence, demo logins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.conftest import make_org, make_user

from certhub.accounts.models import Role, User
from certhub.directory import demo
from certhub.directory.models import ConstituencyEntry, Contact, Organisation
from certhub.sharing.models import SharingGroup

REFERENCE = Path("/work/shared/reference/asean.json")
NATIONAL_CERTS = {"BN": "BruCERT", "KH": "CamCERT", "ID": "Id-SIRTII/CC", "LA": "LaoCERT",
                  "MY": "MyCERT", "MM": "mmCERT", "PH": "CERT-PH", "SG": "SingCERT",
                  "TH": "ThaiCERT", "VN": "VNCERT/CC"}


def _member_state_codes() -> set[str]:
    if REFERENCE.exists():
        return {s["iso_alpha2"] for s in json.loads(REFERENCE.read_text())["member_states"]}
    return {*NATIONAL_CERTS, "TL"}


def _snapshot():
    return (list(Organisation.objects.order_by("pk").values()),
            list(ConstituencyEntry.objects.order_by("pk").values("organisation", "kind",
                                                                  "value", "note")),
            list(Contact.unrestricted.order_by("pk").values("owner", "name", "tlp", "email")),
            list(SharingGroup.objects.order_by("pk").values("slug", "name")),
            list(User.objects.order_by("pk").values("email", "role", "organisation")),
            TOTPDevice.objects.count())


@pytest.fixture
def demo_loaded(db):
    call_command("loaddemo", "--quiet")


def test_demo_has_eleven_member_states_and_the_named_organisations(demo_loaded):
    countries = set(ConstituencyEntry.objects.filter(
        kind="country", organisation__membership="member").values_list("value", flat=True))
    assert _member_state_codes() <= countries
    assert len(_member_state_codes()) == 11
    for country, short_name in NATIONAL_CERTS.items():
        org = Organisation.objects.get(short_name=short_name)
        assert (org.kind, org.country, org.membership) == ("national_cert", country, "member")
        assert set(org.constituency.filter(kind="country").values_list("value", flat=True)) == {
            country}
        assert org.constituency.filter(kind="domain", value=country.lower()).exists()
    hub = Organisation.objects.get(kind="regional_hub")
    assert hub.country == "SG"
    assert hub.constituency.filter(kind="country", value="TL").exists()  # last resort
    assert hub.constituency.filter(kind="domain", value="tl").exists()
    assert Organisation.objects.get(short_name="JPCERT/CC").membership == "dialogue_partner"
    assert Organisation.objects.filter(kind="private_sector").count() == 1
    assert Organisation.objects.filter(kind="academia").count() == 1
    assert Organisation.objects.get(short_name="MyCERT").constituency.filter(
        kind="asn", value="4788").exists()
    assert set(SharingGroup.objects.values_list("name", flat=True)) == {
        "ASEAN national CERTs", "ASEAN + dialogue partners", "Thai banking sector"}


def test_no_invented_people_every_contact_is_a_marked_example(demo_loaded):
    contacts = list(Contact.unrestricted.all())
    assert contacts
    assert all(c.is_example for c in contacts)
    assert all(c.email.endswith(".example") for c in contacts if c.email)
    assert not any(c.phone for c in contacts)


def test_demo_users_of_every_role(demo_loaded):
    roles = set(User.objects.filter(email__endswith="@demo.certhub.invalid")
                .values_list("role", flat=True))
    assert roles == set(Role.values)
    for user in User.objects.filter(role__in=[Role.HUB_ADMIN, Role.ORG_ADMIN]):
        assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_loading_twice_changes_nothing(demo_loaded):
    before = _snapshot()
    call_command("loaddemo", "--quiet")
    assert _snapshot() == before


def test_loaddemo_prints_the_logins(db, capsys):
    call_command("loaddemo")
    out = capsys.readouterr().out
    assert "hub.admin@demo.certhub.invalid" in out
    assert "asean-demo-2026" in out
    assert "certhub demo-code hub.admin@demo.certhub.invalid" in out


def test_demo_code_matches_the_device(demo_loaded, capsys):
    from django_otp.oath import TOTP

    email = "thaicert.admin@demo.certhub.invalid"
    call_command("demo_code", email)
    code = capsys.readouterr().out.strip()
    device = TOTPDevice.objects.get(user__email=email)
    assert len(code) == 6
    assert code == f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def test_demo_code_refuses_other_accounts(demo_loaded):
    real = make_user(make_org("RealCERT", country="TH"), Role.ORG_ADMIN,
                     email="admin@realcert.example")
    TOTPDevice.objects.create(user=real, name="authenticator", confirmed=True)
    with pytest.raises(CommandError, match="not a demo account"):
        call_command("demo_code", real.email)
    with pytest.raises(CommandError):  # a demo analyst has no authenticator
        call_command("demo_code", "thaicert.analyst@demo.certhub.invalid")


def test_demo_code_refuses_a_demo_account_with_a_replaced_authenticator(demo_loaded):
    email = "hub.admin@demo.certhub.invalid"
    TOTPDevice.objects.filter(user__email=email).delete()
    TOTPDevice.objects.create(user=User.objects.get(email=email), name="phone", confirmed=True)
    with pytest.raises(CommandError):
        call_command("demo_code", email)
    assert demo.demo_totp_key(email) != TOTPDevice.objects.get(user__email=email).key
