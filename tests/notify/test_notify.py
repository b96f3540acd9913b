"""notify(): in-app notifications, emails (language, PGP/MIME), deduplication, on_commit."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils.translation import gettext_lazy

from certhub.core.errors import InvalidInput
from certhub.directory.models import Contact, ContactRole
from certhub.notify import queries
from certhub.notify.models import EmailDelivery, Message, Notification
from certhub.notify.services import notify

from .conftest import decrypt_pgp_mime


def test_organisation_users_get_in_app_and_email(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        count = notify("incidents.request.created", subject="New request",
                       body="A request for ThaiCERT.", url="/incidents/1/",
                       organisations=[world.thai])
    thai_users = {world.thai_admin, world.thai_analyst, world.thai_viewer}
    assert count == 2 * len(thai_users)
    assert {n.user for n in Notification.objects.all()} == thai_users
    assert queries.unread_count(world.thai_analyst) == 1
    assert queries.unread_count(world.my_analyst) == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in thai_users)
    sent = mail.outbox[0]
    assert sent.subject == "New request"
    assert "A request for ThaiCERT." in sent.body
    assert "http://127.0.0.1:8000/incidents/1/" in sent.body or "/incidents/1/" in sent.body
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_individual_users_and_inactive_users(world, django_capture_on_commit_callbacks):
    world.thai_viewer.is_active = False
    world.thai_viewer.save()
    with django_capture_on_commit_callbacks(execute=True):
        count = notify("x.y", subject="S", body="B", users=[world.my_analyst, world.thai_viewer],
                       organisations=[world.thai])
    recipients = {n.user for n in Notification.objects.all()}
    assert recipients == {world.my_analyst, world.thai_admin, world.thai_analyst}
    assert count == 6
    assert len(mail.outbox) == 3


def test_nothing_goes_out_for_a_rolled_back_change(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                notify("x.y", subject="S", body="B", users=[world.thai_analyst])
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert callbacks == []
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_emails_in_the_recipients_language(world, django_capture_on_commit_callbacks):
    world.thai_analyst.language = "th"
    world.thai_analyst.save()
    # A lazy string renders per recipient, in the recipient's language.
    subject = gettext_lazy("Directory")
    with django_capture_on_commit_callbacks(execute=True):
        notify("x.y", subject=subject, body="B", users=[world.thai_analyst, world.my_analyst])
    thai = EmailDelivery.objects.get(user=world.thai_analyst)
    other = EmailDelivery.objects.get(user=world.my_analyst)
    assert thai.language == "th"
    assert other.language == "en"
    assert other.subject == "Directory"
    assert thai.subject == "ทำเนียบหน่วยงาน"
    assert {m.subject for m in mail.outbox} == {"Directory", "ทำเนียบหน่วยงาน"}
    assert len(mail.outbox) == 2


def test_dedupe_key_delivers_once(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = notify("incidents.request.overdue", subject="Overdue", body="B",
                       users=[world.thai_analyst], dedupe_key="overdue:42")
        with transaction.atomic():  # the caller's transaction survives the duplicate
            second = notify("incidents.request.overdue", subject="Overdue", body="B",
                            users=[world.thai_analyst], dedupe_key="overdue:42")
            Message.objects.create(event="still.usable")
    assert first == 2
    assert second == 0
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_dedupe_key_is_race_safe(world):
    """Two threads with the same key at once: the unique constraint lets one through."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the constraint alone decides (other test)")
    results, barrier = [], threading.Barrier(2)

    def send():
        try:
            barrier.wait()
            results.append(notify("x.race", subject="S", body="B", users=[world.thai_analyst],
                                  dedupe_key="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 2]
    assert Notification.objects.count() == 1


def test_emergency_contacts_get_encrypted_mail_with_attachment(
        world, key_pair, django_capture_on_commit_callbacks):
    private, public = key_pair
    Contact.unrestricted.create(owner=world.thai, created_by=world.thai_admin, tlp="amber",
                                role=ContactRole.EMERGENCY, name="Duty",
                                email="duty@thaicert.example", pgp_key=public)
    Contact.unrestricted.create(owner=world.thai, created_by=world.thai_admin, tlp="amber",
                                role=ContactRole.EMERGENCY, name="Plain",
                                email="plain@thaicert.example")
    Contact.unrestricted.create(owner=world.thai, created_by=world.thai_admin, tlp="amber",
                                role=ContactRole.POLICY, name="Policy",
                                email="policy@thaicert.example")
    Contact.unrestricted.create(owner=world.thai, created_by=world.thai_admin, tlp="amber",
                                role=ContactRole.EMERGENCY, name="Demo", is_example=True,
                                email="demo@thaicert.example")
    with django_capture_on_commit_callbacks(execute=True):
        notify("incidents.request.overdue", subject="Overdue request", body="Secret details.",
               organisations=[world.thai], to_emergency_contacts=True,
               attachments=[("report.csv", b"a,b\n1,2\n", "text/csv")])
    by_address = {m.to[0]: m for m in mail.outbox}
    assert "policy@thaicert.example" not in by_address
    assert "demo@thaicert.example" not in by_address  # demo placeholders get no mail
    encrypted = by_address["duty@thaicert.example"]
    raw = encrypted.message().as_bytes()
    assert b"Secret details." not in raw
    assert b"a,b" not in raw
    inner = decrypt_pgp_mime(encrypted, private)
    parts = list(inner.walk())
    text = next(p for p in parts if p.get_content_type() == "text/plain")
    assert "Secret details." in text.get_payload(decode=True).decode()
    csv_part = next(p for p in parts if p.get_filename() == "report.csv")
    # Text parts travel in canonical form (CRLF line ends, RFC 3156 section 3).
    assert csv_part.get_payload(decode=True).replace(b"\r\n", b"\n") == b"a,b\n1,2\n"
    plain = by_address["plain@thaicert.example"]
    assert "Secret details." in plain.body
    assert plain.attachments[0][0] == "report.csv"


def test_contact_without_key_uses_team_key(world, key_pair, django_capture_on_commit_callbacks):
    private, public = key_pair
    world.thai.pgp_key = public
    world.thai.save()
    Contact.unrestricted.create(owner=world.thai, created_by=world.thai_admin, tlp="amber",
                                role=ContactRole.EMERGENCY, name="Team",
                                email="cert@thaicert.example")
    with django_capture_on_commit_callbacks(execute=True):
        notify("x.y", subject="S", body="Team eyes only.", organisations=[world.thai],
               to_emergency_contacts=True)
    sent = next(m for m in mail.outbox if m.to == ["cert@thaicert.example"])
    assert "Team eyes only." in decrypt_pgp_mime(sent, private).as_string()
    users_mail = next(m for m in mail.outbox if m.to == [world.thai_analyst.email])
    assert "Team eyes only." in users_mail.body  # users' mail is not encrypted (documented)


def test_failed_mail_is_retried_with_backoff(world, settings, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from certhub.notify.services import retry_due

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: refused
    with django_capture_on_commit_callbacks(execute=True):
        notify("x.y", subject="S", body="B", users=[world.thai_analyst])
    delivery = EmailDelivery.objects.get()
    assert delivery.status == "retrying"
    assert delivery.attempts == 1
    assert delivery.error
    assert delivery.next_attempt_at > timezone.now()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert retry_due()["emails"] == 0  # not yet due
    assert retry_due(now=delivery.next_attempt_at)["emails"] == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert delivery.attempts == 2
    assert len(mail.outbox) == 1


def test_bad_event_name_is_refused(world):
    with pytest.raises(InvalidInput):
        notify("Not An Event", subject="S", body="B", users=[world.thai_analyst])


def test_tasks_have_pinned_names_and_retries_are_scheduled():
    from certhub.config.celery import app
    from certhub.notify import tasks

    assert tasks.deliver_message.name == "certhub.notify.deliver_message"
    assert tasks.retry_deliveries.name == "certhub.notify.retry_deliveries"
    assert "certhub.notify.retry_deliveries" in {
        entry["task"] for entry in app.conf.beat_schedule.values()}


def test_overlong_keys_are_refused_before_writing(world):
    with pytest.raises(InvalidInput):
        notify("x.y", subject="S", body="B", users=[world.thai_analyst], dedupe_key="k" * 300)
    with pytest.raises(InvalidInput):
        notify("x.y", subject="S", body="B", users=[world.thai_analyst], url="/" + "a" * 2001)
    assert not Message.objects.exists()
