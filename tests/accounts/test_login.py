"""Logging in: password, the second factor, setting one up, lockout, audit."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.conftest import PASSWORD, make_org, make_user

from certhub.accounts.models import Role
from certhub.audit.models import Action, AuditEntry

from .helpers import add_authenticator, current_code

LOGIN = reverse("accounts:login")
TWO_FACTOR = reverse("accounts:two_factor")
SETUP = reverse("accounts:two_factor_setup")
PROFILE = reverse("accounts:profile")
ME = "/api/v1/accounts/me"


def password_step(client, user, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": user.email, "password": password, **extra})


def assert_locked_out_of_everything(client):
    """A session that passed the password but not the second factor reaches nothing."""
    for path in ["/", PROFILE, reverse("accounts:tokens"), reverse("accounts:users"),
                 reverse("accounts:password_change"), "/admin/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] in (TWO_FACTOR, SETUP), path
    assert client.get(ME).status_code == 401
    response = client.post("/api/v1/accounts/tokens", {"name": "x", "scope": "write"},
                           content_type="application/json")
    assert response.status_code == 401


def test_login_page_has_csrf_protection(client, world):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(LOGIN, {"username": world.thai_analyst.email, "password": PASSWORD})
    assert response.status_code == 403
    page = client.get(LOGIN)
    assert page.status_code == 200
    assert b"csrfmiddlewaretoken" in page.content


def test_analyst_without_two_factor_logs_in_with_password(client, world):
    response = password_step(client, world.thai_analyst, next=PROFILE)
    assert response.status_code == 302
    assert response["Location"] == PROFILE
    assert client.get(PROFILE).status_code == 200
    assert client.get(ME).json()["email"] == world.thai_analyst.email
    entry = AuditEntry.objects.filter(action=Action.LOGIN).latest("seq")
    assert entry.actor == world.thai_analyst.email
    assert entry.details == {"method": "password"}


def test_next_must_stay_on_this_site(client, world):
    response = password_step(client, world.thai_analyst, next="https://evil.example/")
    assert response.status_code == 302
    assert "evil" not in response["Location"]


def test_admin_cannot_get_in_with_the_password_alone(client, world):
    device = add_authenticator(world.thai_admin)
    response = password_step(client, world.thai_admin, next=PROFILE)
    assert response.status_code == 302
    assert response["Location"].startswith(TWO_FACTOR)
    assert_locked_out_of_everything(client)
    assert not AuditEntry.objects.filter(action=Action.LOGIN).exists()

    wrong = client.post(TWO_FACTOR, {"code": "000000" if current_code(device) != "000000"
                                     else "111111"})
    assert wrong.status_code == 200
    assert_locked_out_of_everything(client)
    failed = AuditEntry.objects.get(action=Action.LOGIN_FAILED)
    assert failed.details["reason"] == "second factor"

    # The device's throttle delays a retry after a failure; a real user waits, the test resets.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0,
                                                   throttling_failure_timestamp=None)
    right = client.post(f"{TWO_FACTOR}?next={PROFILE}", {"code": current_code(device)})
    assert right.status_code == 302
    assert right["Location"] == PROFILE
    assert client.get(PROFILE).status_code == 200
    assert client.get(ME).status_code == 200
    assert AuditEntry.objects.get(action=Action.LOGIN).details == {
        "method": "password+authenticator"}


def test_hub_admin_without_a_device_must_set_one_up(client, world):
    response = password_step(client, world.hub_admin)
    assert response["Location"].startswith(SETUP)
    assert_locked_out_of_everything(client)

    page = client.get(SETUP)
    assert page.status_code == 200
    assert b"<svg" in page.content  # the QR code, rendered inline
    secret = page.context["secret"].replace(" ", "")
    device = TOTPDevice.objects.get(user=world.hub_admin, confirmed=False)
    assert re.fullmatch(r"[A-Z2-7]+", secret)
    assert "otpauth://" not in page.content.decode()  # no external QR service, no URL leak

    bad = client.post(SETUP, {"code": "12345"})
    assert bad.status_code == 200
    assert_locked_out_of_everything(client)

    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0,
                                                   throttling_failure_timestamp=None)
    done = client.post(SETUP, {"code": current_code(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(PROFILE).status_code == 200
    assert client.get(ME).status_code == 200
    assert AuditEntry.objects.filter(action=Action.SECURITY,
                                     details__event="two-factor authenticator set up").exists()

    # Next time: a backup code works, once.
    client.post(reverse("accounts:logout"))
    password_step(client, world.hub_admin)
    assert client.post(TWO_FACTOR, {"code": codes[0].upper()}).status_code == 302
    assert client.get(PROFILE).status_code == 200
    assert StaticToken.objects.filter(device__user=world.hub_admin).count() == 9
    client.post(reverse("accounts:logout"))
    password_step(client, world.hub_admin)
    assert client.post(TWO_FACTOR, {"code": codes[0]}).status_code == 200
    assert_locked_out_of_everything(client)


def test_setup_page_cannot_add_a_device_with_the_password_alone(client, world):
    """Otherwise a stolen password would be enough to enrol the thief's phone."""
    add_authenticator(world.thai_admin)
    password_step(client, world.thai_admin)
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith(TWO_FACTOR)
    assert client.post(SETUP, {"code": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=world.thai_admin).count() == 1


def test_organisation_can_require_two_factor_for_everyone(client, world):
    strict = make_org("StrictCERT", country="BN", require_mfa=True)
    analyst = make_user(strict, Role.ANALYST)
    response = password_step(client, analyst)
    assert response["Location"].startswith(SETUP)
    assert_locked_out_of_everything(client)


def test_a_user_with_an_optional_device_must_still_use_it(client, world):
    device = add_authenticator(world.thai_analyst)
    response = password_step(client, world.thai_analyst)
    assert response["Location"].startswith(TWO_FACTOR)
    assert_locked_out_of_everything(client)
    client.post(TWO_FACTOR, {"code": current_code(device)})
    assert client.get(PROFILE).status_code == 200


def test_failed_password_is_audited_without_the_password(client, world):
    response = password_step(client, world.thai_analyst, password="wrong password 1")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    entry = AuditEntry.objects.get(action=Action.LOGIN_FAILED)
    assert entry.object_id == str(world.thai_analyst.pk)
    assert entry.details == {"email": world.thai_analyst.email, "reason": "password"}
    assert "wrong password" not in str(entry.details) + entry.object_repr


def test_lockout_after_repeated_failures(client, world):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert password_step(client, world.thai_analyst, password="nope").status_code == 200
    locked = password_step(client, world.thai_analyst, password="nope")
    assert locked.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in locked.templates]
    assert "Too many failed logins" in locked.content.decode()
    # Even the right password is refused now, and nobody is logged in.
    again = password_step(client, world.thai_analyst)
    assert again.status_code == 429
    assert client.get(ME).status_code == 401
    assert AuditEntry.objects.filter(action=Action.LOGIN_FAILED,
                                     details__reason="locked out").exists()
    # The lockout is per account: another user from the same address still gets in.
    assert password_step(client, world.my_analyst).status_code == 302


def test_inactive_user_cannot_log_in(client, world):
    world.thai_analyst.is_active = False
    world.thai_analyst.save()
    response = password_step(client, world.thai_analyst)
    assert response.status_code == 200
    assert client.get(ME).status_code == 401


def test_logout_is_post_only(client, world):
    password_step(client, world.thai_analyst)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(ME).status_code == 401


def test_login_activates_the_users_language(client, world):
    world.thai_analyst.language = "th"
    world.thai_analyst.save()
    response = password_step(client, world.thai_analyst)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "th"


@pytest.mark.parametrize("path", [LOGIN, TWO_FACTOR, SETUP, reverse("accounts:password_reset")])
def test_pages_render_for_anonymous_visitors(client, world, path):
    response = client.get(path)
    assert response.status_code in (200, 302)
