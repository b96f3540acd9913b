"""Token authentication of the JSON API and the accounts endpoints (/api/v1/accounts/)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from certhub.accounts import tokens
from certhub.accounts.models import ApiToken, hash_token
from certhub.audit.models import Action, AuditEntry

from .helpers import bearer, login_verified

ME = "/api/v1/accounts/me"
TOKENS = "/api/v1/accounts/tokens"


@pytest.mark.parametrize("header", [
    "Bearer chub_not-a-real-token",
    "Bearer ",
    "Bearer something-without-the-prefix",
    "Basic dXNlcjpwYXNz",
])
def test_a_wrong_token_gets_401_with_www_authenticate(client, world, header):
    response = client.get(ME, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401
    assert body["code"] == "unauthenticated"


def test_no_credentials_gets_401(client, world):
    response = client.get(ME)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


def test_a_good_token_identifies_its_user(client, world, issue_token):
    _token, raw = issue_token(world.thai_analyst)
    response = client.get(ME, **bearer(raw))
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == world.thai_analyst.email
    assert body["organisation"]["short_name"] == "ThaiCERT"
    assert body["role"] == "analyst"
    assert body["token_scope"] == "read"


def test_a_revoked_token_stops_working(client, world, issue_token):
    token, raw = issue_token(world.thai_analyst)
    assert client.get(ME, **bearer(raw)).status_code == 200
    tokens.revoke(token, actor=world.thai_analyst)
    response = client.get(ME, **bearer(raw))
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]


def test_an_expired_token_stops_working(client, world, issue_token):
    token, raw = issue_token(world.thai_analyst, expires_in_days=1)
    assert client.get(ME, **bearer(raw)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    assert client.get(ME, **bearer(raw)).status_code == 401


def test_a_deactivated_users_token_stops_working(client, world, issue_token):
    _token, raw = issue_token(world.thai_analyst)
    world.thai_analyst.is_active = False
    world.thai_analyst.save()
    assert client.get(ME, **bearer(raw)).status_code == 401


def test_a_read_token_cannot_write_but_a_write_token_can(client, world, issue_token):
    _read, read_raw = issue_token(world.thai_analyst, scope="read")
    _write, write_raw = issue_token(world.thai_analyst, scope="write")
    payload = {"name": "from a script", "scope": "read"}
    refused = client.post(TOKENS, payload, content_type="application/json", **bearer(read_raw))
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert ApiToken.objects.filter(name="from a script").count() == 0
    allowed = client.post(TOKENS, payload, content_type="application/json", **bearer(write_raw))
    assert allowed.status_code == 201
    assert ApiToken.objects.filter(name="from a script").count() == 1


def test_a_read_token_cannot_revoke(client, world, issue_token):
    token, raw = issue_token(world.thai_analyst, scope="read")
    response = client.delete(f"{TOKENS}/{token.pk}", **bearer(raw))
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.revoked is None


def test_a_viewer_gets_only_read_tokens(client, world):
    login_verified(client, world.thai_viewer)
    client.handler.enforce_csrf_checks = False
    ok = client.post(TOKENS, {"name": "r", "scope": "read"}, content_type="application/json")
    assert ok.status_code == 201
    refused = client.post(TOKENS, {"name": "w", "scope": "write"},
                          content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["field"] == "scope"


def test_created_token_is_returned_once_and_stored_hashed(client, world, issue_token):
    _write, write_raw = issue_token(world.thai_analyst, scope="write")
    response = client.post(TOKENS, {"name": "siem", "scope": "read", "expires_days": 30},
                           content_type="application/json", **bearer(write_raw))
    assert response.status_code == 201
    created = response.json()
    raw = created["token"]
    assert raw.startswith("chub_")
    assert created["expires"] is not None
    # The list never shows the token again.
    listed = client.get(TOKENS, **bearer(raw)).json()
    assert all("token" not in item for item in listed)
    assert {item["name"] for item in listed} == {"siem", "test"}
    # Nowhere in the table: only the SHA-256 and a short hint.
    token = ApiToken.objects.get(pk=created["id"])
    assert token.key_hash == hash_token(raw)
    assert raw not in token.key_hash
    assert len(token.hint) < len(raw)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        rows = cursor.fetchall()
    assert not any(raw in str(value) for row in rows for value in row)
    assert not any(raw in str(entry.details) for entry in AuditEntry.objects.all())


def test_a_token_cannot_mint_a_longer_lived_token(client, world, issue_token):
    _write, raw = issue_token(world.thai_analyst, scope="write", expires_in_days=7)
    too_long = client.post(TOKENS, {"name": "x", "scope": "read", "expires_days": 30},
                           content_type="application/json", **bearer(raw))
    assert too_long.status_code == 400
    inherits = client.post(TOKENS, {"name": "y", "scope": "read"},
                           content_type="application/json", **bearer(raw))
    assert inherits.status_code == 201
    assert inherits.json()["expires"] is not None


def test_bad_token_input_is_400_with_field(client, world, issue_token):
    _write, raw = issue_token(world.thai_analyst, scope="write")
    response = client.post(TOKENS, {"name": "x", "scope": "admin"},
                           content_type="application/json", **bearer(raw))
    assert response.status_code == 400
    assert response.json()["field"] == "scope"
    response = client.post(TOKENS, {"name": "x", "scope": "read", "expires_days": 100000},
                           content_type="application/json", **bearer(raw))
    assert response.status_code == 400
    assert response.json()["field"] == "expires_days"


def test_revoke_own_token_and_others_are_not_found(client, world, issue_token):
    _write, raw = issue_token(world.thai_analyst, scope="write")
    mine, _ = issue_token(world.thai_analyst, name="mine")
    theirs, _ = issue_token(world.my_analyst, name="theirs")
    assert client.delete(f"{TOKENS}/{theirs.pk}", **bearer(raw)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked is None
    assert client.delete(f"{TOKENS}/{mine.pk}", **bearer(raw)).status_code == 204
    mine.refresh_from_db()
    assert mine.revoked is not None
    assert AuditEntry.objects.filter(action=Action.TOKEN, object_id=str(mine.pk),
                                     details__event="revoked").exists()


def test_session_writes_need_csrf(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    login_verified(client, world.thai_analyst)
    assert client.get(ME).status_code == 200
    response = client.post(TOKENS, {"name": "x", "scope": "read"},
                           content_type="application/json")
    assert response.status_code == 403
