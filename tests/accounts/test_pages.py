"""The user's own pages: profile and API tokens."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from certhub.accounts.models import ApiToken
from certhub.audit.models import Action, AuditEntry

from .helpers import bearer, login_verified

PROFILE = reverse("accounts:profile")
TOKENS = reverse("accounts:tokens")


def test_profile_shows_role_and_organisation_and_saves_preferences(client, world):
    login_verified(client, world.thai_viewer)
    page = client.get(PROFILE)
    assert page.status_code == 200
    text = page.content.decode()
    assert "ThaiCERT" in text
    assert "viewer" in text
    assert '<option value="Asia/Bangkok">' in text
    response = client.post(PROFILE, {"full_name": "Somchai", "time_zone": "Asia/Bangkok",
                                     "language": "th"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "th"
    world.thai_viewer.refresh_from_db()
    assert (world.thai_viewer.full_name, world.thai_viewer.time_zone,
            world.thai_viewer.language) == ("Somchai", "Asia/Bangkok", "th")
    assert AuditEntry.objects.filter(action=Action.CHANGE,
                                     object_id=str(world.thai_viewer.pk)).exists()


def test_profile_rejects_unknown_zone_and_language(client, world):
    login_verified(client, world.thai_viewer)
    response = client.post(PROFILE, {"full_name": "", "time_zone": "Mars/Olympus",
                                     "language": "xx"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"time_zone", "language"}
    world.thai_viewer.refresh_from_db()
    assert world.thai_viewer.time_zone == ""


def test_profile_needs_login(client, world):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_token_page_shows_the_new_token_once(client, world):
    login_verified(client, world.thai_analyst)
    response = client.post(TOKENS, {"name": "SIEM export", "scope": "write",
                                    "expires_days": "30"})
    assert response.status_code == 200
    secret = response.context["new_secret"]
    assert secret.startswith("chub_")
    assert secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(name="SIEM export")
    assert token.scope == "write"
    assert token.expires is not None
    # It works, and the page never shows it again.
    assert client.get("/api/v1/accounts/me", **bearer(secret)).status_code == 200
    assert secret not in client.get(TOKENS).content.decode()


def test_token_page_refuses_bad_expiry(client, world):
    login_verified(client, world.thai_analyst)
    response = client.post(TOKENS, {"name": "x", "scope": "read", "expires_days": "99999"})
    assert response.status_code == 200
    assert "expires_days" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_viewer_token_form_offers_read_only(client, world):
    login_verified(client, world.thai_viewer)
    response = client.post(TOKENS, {"name": "x", "scope": "write"})
    assert "scope" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_revoke_own_token_in_the_ui_and_not_someone_elses(client, world, issue_token):
    mine, raw = issue_token(world.thai_analyst)
    theirs, _ = issue_token(world.my_analyst)
    login_verified(client, world.thai_analyst)
    assert client.post(reverse("accounts:token_revoke", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("accounts:token_revoke", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked is not None
    assert theirs.revoked is None
    assert client.get("/api/v1/accounts/me", **bearer(raw)).status_code == 401


def test_backup_codes_can_be_regenerated(client, world):
    login_verified(client, world.thai_admin)
    response = client.post(reverse("accounts:backup_codes"))
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10


def test_admin_cannot_turn_two_factor_off(client, world):
    login_verified(client, world.thai_admin)
    assert client.post(reverse("accounts:two_factor_disable")).status_code == 403


def test_analyst_may_turn_optional_two_factor_off(client, world):
    login_verified(client, world.thai_analyst)
    assert client.post(reverse("accounts:two_factor_disable")).status_code == 302
    from certhub.accounts import two_factor

    assert not two_factor.has_device(world.thai_analyst)


@pytest.mark.parametrize("name", ["profile", "tokens", "password_change", "users", "user_create",
                                  "two_factor_setup", "password_reset", "password_reset_done",
                                  "password_reset_complete"])
def test_every_account_page_renders_for_a_verified_admin(client, world, name):
    login_verified(client, world.hub_admin)
    response = client.get(reverse(f"accounts:{name}"))
    assert response.status_code == 200
    assert b"<main" in response.content


def test_user_page_renders(client, world):
    login_verified(client, world.hub_admin)
    response = client.get(reverse("accounts:user_detail", args=[world.thai_analyst.pk]))
    assert response.status_code == 200
    assert world.thai_analyst.email in response.content.decode()
