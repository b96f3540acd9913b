"""Email-in: a real-format .eml becomes an incident in the hub's triage queue with the
indicators intel's extractor finds in it, linked; the CLI imports files and refuses bad ones."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certhub.audit.models import AuditEntry
from certhub.core.errors import InvalidInput
from certhub.incidents import queries, services
from certhub.incidents.models import Attachment, Incident, Source

from .conftest import SAMPLES

EML = SAMPLES / "phishing_report.eml"


def _values(incident):
    return {(i.type, i.value) for i in incident.indicators(manager="unrestricted").all()}


def test_eml_becomes_a_triage_incident_with_its_indicators(world):
    incident, created = services.import_email(EML.read_bytes())
    assert created
    assert incident.owner == world.hub
    assert incident.in_triage
    assert incident.source == Source.EMAIL
    assert incident.title == "Phishing site imitating our bank – please help"
    assert incident.reporter_email == "soc@bank.example.co.th"
    assert incident.reporter_name == "Somchai Jaidee"
    assert "fake internet-banking page" in incident.description
    values = _values(incident)
    assert ("ipv4-addr", "175.136.10.20") in values
    assert ("url", "https://login-bank.example.my/verify?session=1") in values
    assert ("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08") \
        in values
    assert any(kind == "domain-name" and value == "collect.phish-kit.example.com"
               for kind, value in values)
    attachment = Attachment.unrestricted.get(incident=incident)
    assert attachment.filename == "phish-headers.txt"
    assert len(attachment.sha256) == 64
    assert AuditEntry.objects.filter(object_type="incidents.incident",
                                     object_id=str(incident.pk), action="create").exists()
    # The hub sees it in triage; the bank that wrote it does not (it has no account link).
    assert [i.pk for i in queries.triage_queue(world.hub_admin)] == [incident.pk]
    assert list(queries.triage_queue(world.bank_analyst)) == []


def test_the_same_message_twice_is_one_incident(world):
    first, created = services.import_email(EML.read_bytes())
    again, created_again = services.import_email(EML.read_bytes())
    assert created
    assert not created_again
    assert again.pk == first.pk
    assert Incident.unrestricted.count() == 1


def test_a_message_imported_again_tells_the_hub_only_what_it_may_see(world):
    """After assignment the member may make the incident RED; re-importing the message must
    not hand the hub its current state."""
    from certhub.core.errors import Conflict

    incident, _ = services.import_email(EML.read_bytes(), user=world.hub_admin)
    services.assign_incident(incident.pk, world.thai, user=world.hub_admin)
    services.update_incident(incident.pk, user=world.thai_analyst, tlp="red",
                             audience_orgs=[], audience_groups=[],
                             audience_users=[world.thai_analyst])
    with pytest.raises(Conflict):
        services.import_email(EML.read_bytes(), user=world.hub_admin)
    assert Incident.unrestricted.count() == 1


def test_nul_characters_in_a_message_are_dropped_not_stored(world):
    raw = EML.read_bytes().replace(b"a fake internet-banking", b"a fake\x00 internet-banking", 1)
    assert b"\x00" in raw
    incident, created = services.import_email(raw)
    assert created
    assert "\x00" not in incident.description
    assert "fake internet-banking page" in incident.description


def test_suggested_recipient_for_the_malaysian_address_is_mycert(world):
    incident, _ = services.import_email(EML.read_bytes())
    suggestions = queries.suggest_recipients(world.hub_admin, incident)
    assert "MyCERT" in {s.short_name for s in suggestions}
    mycert = next(s for s in suggestions if s.short_name == "MyCERT")
    assert mycert.value in {"175.136.10.20", "https://login-bank.example.my/verify?session=1",
                            "login-bank.example.my"}


@pytest.mark.parametrize("raw", [b"", b"   \n", b"just some bytes without headers\n"])
def test_not_a_message_is_refused_and_stores_nothing(world, raw):
    with pytest.raises(InvalidInput):
        services.import_email(raw)
    assert Incident.unrestricted.count() == 0


def test_cli_imports_eml_files(world, capsys):
    call_command("incidents", "import-eml", str(EML))
    out = capsys.readouterr().out
    assert "in triage" in out
    assert "INC-" in out
    call_command("incidents", "import-eml", str(EML))
    assert "already imported" in capsys.readouterr().out
    assert Incident.unrestricted.count() == 1


def test_cli_refuses_a_missing_or_bad_file(world, tmp_path):
    with pytest.raises(CommandError, match="not a readable file"):
        call_command("incidents", "import-eml", str(tmp_path / "missing.eml"))
    bad = tmp_path / "bad.eml"
    bad.write_bytes(b"\n")
    with pytest.raises(CommandError, match="could not be imported"):
        call_command("incidents", "import-eml", str(bad))
    assert Incident.unrestricted.count() == 0


def test_fetch_mail_without_a_mailbox_does_nothing(world, capsys):
    call_command("incidents", "fetch-mail")
    assert "not set" in capsys.readouterr().out


def test_api_import_is_for_the_hub(world, api):
    response = api.upload(world.thai_analyst, "/import/eml", "report.eml", EML.read_bytes())
    assert response.status_code == 403
    response = api.upload(world.hub_admin, "/import/eml", "report.eml", EML.read_bytes())
    assert response.status_code == 201, response.content
    assert response.json()["created"] is True
    assert response.json()["incident"]["in_triage"] is True


def test_mailbox_url_is_read_strictly(settings):
    from certhub.incidents import mailin

    settings.MAILIN_URL = "imaps://reports%40hub@mail.example.org/Incoming"
    settings.MAILIN_PASSWORD = "s3cret"
    box = mailin.configured_mailbox()
    assert (box.scheme, box.host, box.port, box.user, box.folder) == (
        "imaps", "mail.example.org", None, "reports@hub", "Incoming")
    assert box.password == "s3cret"
    settings.MAILIN_URL = "https://mail.example.org/"
    with pytest.raises(InvalidInput, match="CERTHUB_MAILIN_URL"):
        mailin.configured_mailbox()
    settings.MAILIN_URL = ""
    assert mailin.configured_mailbox() is None
