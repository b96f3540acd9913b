"""certhub user ... and certhub token ... commands."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, ManagementUtility, call_command
from django.utils import timezone

from certhub.accounts import tokens
from certhub.accounts.models import ApiToken, Role, User
from certhub.audit.models import Action, AuditEntry

from .helpers import bearer


def run(*args, stdin: str | None = None, monkeypatch=None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_user_create_without_password_sends_a_link(world):
    out, _ = run("user", "create", "--org", "thaicert", "--role", "analyst",
                 "New@ThaiCERT.example", "--name", "New Analyst")
    user = User.objects.get(email="new@thaicert.example")
    assert (user.organisation, user.role, user.full_name) == (world.thai, Role.ANALYST,
                                                             "New Analyst")
    assert not user.has_usable_password()
    assert "emailed a link" in out
    assert "certhub changepassword" in out
    assert mail.outbox[0].to == ["new@thaicert.example"]
    assert AuditEntry.objects.filter(action=Action.CREATE, object_id=str(user.pk)).exists()


def test_user_create_with_password_from_stdin(world, monkeypatch):
    out, _ = run("user", "create", "--org", "MyCERT", "--role", "org_admin", "boss@my.example",
                 "--password-stdin", stdin="a long enough passphrase 99\n",
                 monkeypatch=monkeypatch)
    user = User.objects.get(email="boss@my.example")
    assert user.check_password("a long enough passphrase 99")
    assert mail.outbox == []
    assert "Two-factor authentication is required" in out


def test_user_create_refuses_a_weak_password(world, monkeypatch):
    with pytest.raises(CommandError, match="too short"):
        run("user", "create", "--org", "MyCERT", "--role", "analyst", "weak@my.example",
            "--password-stdin", stdin="short\n", monkeypatch=monkeypatch)
    assert not User.objects.filter(email="weak@my.example").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--org", "NoSuchCERT", "--role", "analyst"], "unknown organisation 'NoSuchCERT'"),
    (["--org", "ThaiCERT", "--role", "overlord"], "unknown role 'overlord'"),
])
def test_user_create_fails_clearly(world, args, message):
    with pytest.raises(CommandError, match=message):
        run("user", "create", *args, "someone@example.org")
    assert not User.objects.filter(email="someone@example.org").exists()


def test_user_create_refuses_a_malformed_email(world):
    with pytest.raises(CommandError, match="valid email"):
        run("user", "create", "--org", "ThaiCERT", "--role", "viewer", "someone@")
    assert User.objects.count() == 8


def test_user_create_duplicate_fails_clearly(world):
    with pytest.raises(CommandError, match="already exists"):
        run("user", "create", "--org", "ThaiCERT", "--role", "viewer", world.thai_viewer.email)


def test_failure_exits_with_code_1_and_a_message(world, capsys):
    utility = ManagementUtility(["certhub", "user", "create", "--org", "Nope", "--role",
                                 "viewer", "x@example.org"])
    with pytest.raises(SystemExit) as exc:
        utility.execute()
    assert exc.value.code == 1
    assert "unknown organisation 'Nope'" in capsys.readouterr().err


def test_user_list_and_deactivate(world):
    out, _ = run("user", "list", "--org", "ThaiCERT")
    assert world.thai_admin.email in out
    assert world.my_analyst.email not in out
    out, _ = run("user", "deactivate", world.thai_viewer.email.upper())
    assert "Deactivated" in out
    world.thai_viewer.refresh_from_db()
    assert not world.thai_viewer.is_active
    out, _ = run("user", "list", "--org", "ThaiCERT")
    assert "inactive" in out
    with pytest.raises(CommandError, match="no user"):
        run("user", "deactivate", "ghost@example.org")


def test_user_reset_two_factor(world):
    from certhub.accounts import two_factor

    from .helpers import add_authenticator

    add_authenticator(world.hub_admin)
    out, _ = run("user", "reset-two-factor", world.hub_admin.email)
    assert "new authenticator at the next login" in out
    assert not two_factor.has_device(world.hub_admin)
    assert AuditEntry.objects.filter(action=Action.SECURITY,
                                     object_id=str(world.hub_admin.pk)).exists()


def test_token_create_prints_only_the_token(client, world):
    out, err = run("token", "create", world.thai_analyst.email, "--scope", "write",
                   "--expires", "30", "--name", "siem")
    raw = out.strip()
    assert out == raw + "\n"
    assert raw.startswith("chub_")
    assert "not stored" in err
    token = ApiToken.objects.get(name="siem")
    assert token.scope == "write"
    assert token.expires - timezone.now() > timedelta(days=29)
    assert client.get("/api/v1/accounts/me", **bearer(raw)).status_code == 200


def test_token_create_fails_clearly(world):
    with pytest.raises(CommandError, match="no user"):
        run("token", "create", "ghost@example.org", "--scope", "read")
    with pytest.raises(CommandError, match="1 to"):
        run("token", "create", world.thai_analyst.email, "--scope", "read", "--expires", "0")
    with pytest.raises(CommandError, match="only a read token"):
        run("token", "create", world.thai_viewer.email, "--scope", "write")
    with pytest.raises(CommandError):
        run("token", "create", world.thai_analyst.email, "--scope", "admin")
    assert not ApiToken.objects.exists()


def test_token_list_and_revoke(client, world):
    token, raw = tokens.issue(world.thai_analyst, name="nightly", scope="read")
    out, _ = run("token", "list", world.thai_analyst.email)
    assert "nightly" in out
    assert token.hint in out
    assert raw not in out
    out, _ = run("token", "revoke", str(token.pk))
    assert "Revoked" in out
    assert client.get("/api/v1/accounts/me", **bearer(raw)).status_code == 401
    out, _ = run("token", "list", world.thai_analyst.email)
    assert "revoked" in out
    with pytest.raises(CommandError, match="no token"):
        run("token", "revoke", "999999")
