"""Password reset by email, invitations, password change."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse
from tests.conftest import PASSWORD

from certhub.accounts import services
from certhub.accounts.models import Role, User
from certhub.audit.models import Action, AuditEntry

from .helpers import login_verified

NEW_PASSWORD = "a brand new passphrase 2026"


def _link_path(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def _set_password_through(client, path: str, password: str = NEW_PASSWORD):
    page = client.get(path, follow=True)
    assert page.status_code == 200
    assert page.context["validlink"]
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else path
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def test_password_reset_email_flow(client, world):
    response = client.post(reverse("accounts:password_reset"),
                           {"email": world.thai_analyst.email.upper()})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [world.thai_analyst.email]
    path = _link_path(message)

    done = _set_password_through(client, path)
    assert done.status_code == 302
    assert done["Location"] == reverse("accounts:password_reset_complete")
    world.thai_analyst.refresh_from_db()
    assert world.thai_analyst.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.filter(action=Action.SECURITY,
                                     details__event="password set by email link").exists()
    # The link works once.
    again = client.get(path, follow=True)
    assert not again.context["validlink"]
    # And the new password logs in.
    login = client.post(reverse("accounts:login"),
                        {"username": world.thai_analyst.email, "password": NEW_PASSWORD})
    assert login.status_code == 302


def test_reset_for_unknown_address_sends_nothing_and_says_the_same(client, world):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@x.example"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_reset_does_not_bypass_two_factor(client, world):
    client.post(reverse("accounts:password_reset"), {"email": world.thai_admin.email})
    _set_password_through(client, _link_path(mail.outbox[0]))
    response = client.post(reverse("accounts:login"),
                           {"username": world.thai_admin.email, "password": NEW_PASSWORD})
    assert response["Location"].startswith(reverse("accounts:two_factor_setup"))
    assert client.get("/api/v1/accounts/me").status_code == 401


def test_invited_user_sets_a_password_from_the_email(client, world,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.create_user(world.thai_admin, email="New.Analyst@ThaiCERT.example",
                                    organisation=world.thai, role=Role.ANALYST)
    assert user.email == "new.analyst@thaicert.example"
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    assert "ThaiCERT" in mail.outbox[0].body
    _set_password_through(client, _link_path(mail.outbox[0]))
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_lost_invitation_can_be_replaced_by_a_reset(client, world):
    user = User.objects.create_user("invited@thaicert.example", None, organisation=world.thai)
    client.post(reverse("accounts:password_reset"), {"email": user.email})
    assert len(mail.outbox) == 1


def test_password_change(client, world):
    login_verified(client, world.thai_analyst)
    url = reverse("accounts:password_change")
    assert client.get(url).status_code == 200
    wrong = client.post(url, {"old_password": "nope", "new_password1": NEW_PASSWORD,
                              "new_password2": NEW_PASSWORD})
    assert wrong.status_code == 200
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": "short",
                             "new_password2": "short"})
    assert weak.status_code == 200
    ok = client.post(url, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                           "new_password2": NEW_PASSWORD})
    assert ok.status_code == 302
    world.thai_analyst.refresh_from_db()
    assert world.thai_analyst.check_password(NEW_PASSWORD)
    assert client.get(reverse("accounts:profile")).status_code == 200  # still logged in
    assert AuditEntry.objects.filter(action=Action.SECURITY,
                                     details__event="password changed").exists()


def test_password_change_keeps_two_factor_verification(client, world):
    login_verified(client, world.thai_admin)
    client.post(reverse("accounts:password_change"),
                {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                 "new_password2": NEW_PASSWORD})
    assert client.get(reverse("accounts:profile")).status_code == 200
