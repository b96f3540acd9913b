"""E.164 phone numbers and PGP keys of points of contact."""

from __future__ import annotations

import pytest

from certhub.core.errors import InvalidInput
from certhub.directory import services
from certhub.directory.validators import format_fingerprint


@pytest.mark.parametrize("phone", ["+6621234567", "+60 3 8992 6888", "+65-6211-0888"])
def test_valid_phone_numbers_are_stored_in_e164(world, phone):
    contact = services.create_contact(world.thai_analyst, world.thai, tlp="clear",
                                      role="emergency_24x7", name=f"Duty {phone}", phone=phone)
    assert contact.phone.startswith("+")
    assert contact.phone[1:].isdigit()


@pytest.mark.parametrize("phone", ["021234567", "+0123456789", "+66 12", "phone me",
                                   "+999999999999"])
def test_invalid_phone_numbers_are_refused(world, phone):
    with pytest.raises(InvalidInput) as exc:
        services.create_contact(world.thai_analyst, world.thai, tlp="clear",
                                role="emergency_24x7", name="Duty", phone=phone)
    assert exc.value.field == "phone"


def test_pgp_fingerprint_is_computed_from_a_real_key(world, pgp_key):
    public, fingerprint, _private = pgp_key
    contact = services.create_contact(world.thai_analyst, world.thai, tlp="clear",
                                      role="incident_reports", name="Incident reports",
                                      pgp_key=public)
    assert contact.pgp_fingerprint == fingerprint
    assert len(fingerprint) == 40
    services.update_contact(world.thai_analyst, contact.pk, pgp_key="")
    contact.refresh_from_db()
    assert contact.pgp_fingerprint == ""


def test_private_key_is_refused(world, pgp_key):
    with pytest.raises(InvalidInput, match="private key") as exc:
        services.create_contact(world.thai_analyst, world.thai, tlp="clear",
                                role="incident_reports", name="Incident", pgp_key=pgp_key[2])
    assert exc.value.field == "pgp_key"


def test_garbage_key_is_refused(world):
    with pytest.raises(InvalidInput) as exc:
        services.create_contact(world.thai_analyst, world.thai, tlp="clear",
                                role="incident_reports", name="Incident",
                                pgp_key="-----BEGIN PGP PUBLIC KEY BLOCK-----\nnope\n")
    assert exc.value.field == "pgp_key"


def test_team_key_fingerprint_on_the_organisation(world, pgp_key):
    org = services.update_organisation(world.thai_admin, world.thai, pgp_key=pgp_key[0])
    assert org.pgp_fingerprint == pgp_key[1]


def test_fingerprint_display_groups():
    assert format_fingerprint("A" * 40).count(" ") == 10
