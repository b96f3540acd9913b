"""The daily findings digest: contents through Django's test outbox, PGP/MIME-encrypted when
the contact has a key (decrypted here with the private key of a test key pair)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core import mail
from django.utils import timezone
from tests.notify.conftest import decrypt_pgp_mime, make_key_pair

from certhub.directory.models import Contact, ContactRole
from certhub.feeds import digest, services
from certhub.feeds.models import FeedRun, Finding

from .conftest import SAMPLES, make_feed

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def keys():
    return make_key_pair("duty@thaicert.example")


@pytest.fixture
def delivered(world):
    feed = make_feed("urlhaus-th", "urlhaus-csv", SAMPLES / "urlhaus_country.csv")
    services.run_feed(feed)
    scan = make_feed("shadow", "shadowserver-csv", SAMPLES / "2025-03-02-scan_http-asean-geo.csv")
    services.run_feed(scan)
    return world


def contact(org, role, email, **fields):
    return Contact.unrestricted.create(owner=org, created_by=None, tlp="amber", role=role,
                                       name=email, email=email, **fields)


def rows_of(content: bytes | str) -> list[dict]:
    """CSV rows (Django keeps a text attachment as str, a decrypted part gives bytes)."""
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    return list(csv.DictReader(io.StringIO(text)))


def test_digest_is_encrypted_to_the_contacts_key_with_the_csv_inside(delivered, keys,
                                                                     django_capture_on_commit_callbacks):
    w = delivered
    private, public = keys
    contact(w.thai, ContactRole.INCIDENT_REPORTS, "ir@thaicert.example", pgp_key=public)
    contact(w.thai, ContactRole.EMERGENCY, "duty@thaicert.example")
    contact(w.thai, ContactRole.POLICY, "policy@thaicert.example")
    with django_capture_on_commit_callbacks(execute=True):
        sent = digest.send_digests()
    expected = set(Finding.objects.filter(organisation=w.thai).values_list("id", flat=True))
    assert sent["ThaiCERT"] == 2
    assert len(expected) == 2
    by_address = {m.to[0]: m for m in mail.outbox}
    assert "policy@thaicert.example" not in by_address
    encrypted = by_address["ir@thaicert.example"]
    assert "ThaiCERT" in encrypted.subject
    assert "2" in encrypted.subject
    raw = encrypted.message().as_bytes()
    assert b"Mozi" not in raw
    assert b"urlhaus-th" not in raw
    inner = decrypt_pgp_mime(encrypted, private)
    parts = list(inner.walk())
    body = next(p for p in parts if p.get_content_type() == "text/plain"
                and not p.get_filename()).get_payload(decode=True).decode()
    assert "urlhaus-th: 1" in body
    assert "shadow: 1" in body
    attachment = next(p for p in parts if (p.get_filename() or "").endswith(".csv"))
    assert attachment.get_filename().startswith("findings-thaicert-")
    rows = rows_of(attachment.get_payload(decode=True))
    assert {int(r["id"]) for r in rows} == expected
    assert all(r["organisation"] == "ThaiCERT" for r in rows)
    # A contact without a key (and no team key) gets it in clear.
    plain = by_address["duty@thaicert.example"]
    _name, content, mimetype = plain.attachments[0]
    assert mimetype == "text/csv"
    assert {int(r["id"]) for r in rows_of(content)} == expected


def test_digest_only_once_a_day_and_only_new_findings(delivered,
                                                      django_capture_on_commit_callbacks):
    w = delivered
    contact(w.thai, ContactRole.EMERGENCY, "duty@thaicert.example")
    now = timezone.now() + dt.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert digest.send_digest(w.thai, now=now) == 1
        assert digest.send_digest(w.thai, now=now + dt.timedelta(hours=1)) == 0  # same day
        # The next day: nothing new since the last digest, nothing sent.
        assert digest.send_digest(w.thai, now=now + dt.timedelta(days=1)) == 0
    assert len(mail.outbox) == 1
    # A run finishing after the first digest is in the next one, alone.
    feed = make_feed("urlhaus-again", "urlhaus-csv", SAMPLES / "urlhaus_country.csv",
                     dedupe_window_hours=0)
    runs = services.run_feed(feed)
    FeedRun.objects.filter(pk__in=[r.pk for r in runs]).update(
        finished_at=now + dt.timedelta(days=1, hours=2))
    new = set(Finding.objects.filter(organisation=w.thai, run__in=runs)
              .values_list("id", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        assert digest.send_digest(w.thai, now=now + dt.timedelta(days=2)) == 1
    content = mail.outbox[-1].attachments[0][1]
    assert new
    assert {int(r["id"]) for r in rows_of(content)} == new


def test_no_digest_for_other_organisations_findings(delivered,
                                                    django_capture_on_commit_callbacks):
    w = delivered
    contact(w.sg, ContactRole.INCIDENT_REPORTS, "ir@singcert.example")
    with django_capture_on_commit_callbacks(execute=True):
        digest.send_digests()
    for message in mail.outbox:
        if message.to == ["ir@singcert.example"]:
            ids = {int(r["id"]) for r in rows_of(message.attachments[0][1])}
            assert ids == set(Finding.objects.filter(organisation=w.sg)
                              .values_list("id", flat=True))
            assert not ids & set(Finding.objects.filter(organisation=w.thai)
                                 .values_list("id", flat=True))


def test_digest_task_has_a_pinned_name():
    from certhub.config.celery import app

    assert digest.send_digests_task.name == "certhub.feeds.send_digests"
    assert "certhub.feeds.send_digests" in {
        entry["task"] for entry in app.conf.beat_schedule.values()}
