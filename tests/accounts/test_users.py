"""User management by administrators, in the UI and through the services."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from certhub.accounts import services, two_factor
from certhub.accounts.models import Role, User
from certhub.audit.models import Action, AuditEntry
from certhub.core.errors import InvalidInput, NotFound, PermissionDenied

from .helpers import add_authenticator, bearer, login_verified

USERS = reverse("accounts:users")
NEW = reverse("accounts:user_create")


def detail(user, action=None):
    return reverse(f"accounts:user_{action}" if action else "accounts:user_detail",
                   args=[user.pk])


def test_org_admin_sees_only_their_organisation(client, world):
    login_verified(client, world.thai_admin)
    page = client.get(USERS)
    assert page.status_code == 200
    emails = {u.email for u in page.context["page"]}
    assert world.thai_analyst.email in emails
    assert world.my_analyst.email not in emails
    assert world.hub_admin.email not in emails
    assert client.get(detail(world.my_analyst)).status_code == 404
    assert client.post(detail(world.my_analyst, "deactivate")).status_code == 404


def test_hub_admin_sees_everyone(client, world):
    login_verified(client, world.hub_admin)
    page = client.get(USERS)
    assert len(page.context["page"]) == User.objects.count()
    filtered = client.get(USERS, {"org": "mycert"})
    assert {u.email for u in filtered.context["page"]} == {world.my_analyst.email}


@pytest.mark.parametrize("who", ["thai_analyst", "thai_viewer"])
def test_non_admins_cannot_manage_users(client, world, who):
    login_verified(client, getattr(world, who))
    assert client.get(USERS).status_code == 404
    assert client.get(NEW).status_code == 404
    assert client.get(detail(world.thai_viewer)).status_code == 404


def test_org_admin_invites_a_user_of_their_organisation(client, world,
                                                        django_capture_on_commit_callbacks):
    login_verified(client, world.thai_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, {"email": "duty@thaicert.example", "full_name": "Duty",
                                     "organisation": world.thai.pk, "role": Role.ANALYST})
    assert response.status_code == 302
    user = User.objects.get(email="duty@thaicert.example")
    assert user.organisation == world.thai
    assert user.role == Role.ANALYST
    assert not user.has_usable_password()
    assert mail.outbox[0].to == ["duty@thaicert.example"]
    entry = AuditEntry.objects.get(action=Action.CREATE, object_id=str(user.pk))
    assert entry.actor == world.thai_admin.email


def test_org_admin_cannot_create_users_elsewhere_or_hub_admins(client, world):
    login_verified(client, world.thai_admin)
    other_org = client.post(NEW, {"email": "x@mycert.example", "organisation": world.my.pk,
                                  "role": Role.ANALYST})
    assert other_org.status_code == 200
    assert "organisation" in other_org.context["form"].errors
    hub = client.post(NEW, {"email": "y@thaicert.example", "organisation": world.thai.pk,
                            "role": Role.HUB_ADMIN})
    assert "role" in hub.context["form"].errors
    assert not User.objects.filter(email__in=["x@mycert.example", "y@thaicert.example"]).exists()
    # The same rules hold below the UI.
    with pytest.raises(PermissionDenied):
        services.create_user(world.thai_admin, email="z@mycert.example",
                             organisation=world.my, role=Role.ANALYST)
    with pytest.raises(PermissionDenied):
        services.create_user(world.thai_admin, email="z@thaicert.example",
                             organisation=world.thai, role=Role.HUB_ADMIN)
    with pytest.raises(PermissionDenied):
        services.change_user(world.thai_admin, world.thai_analyst, role=Role.HUB_ADMIN)


def test_duplicate_email_is_refused(world):
    with pytest.raises(InvalidInput) as exc:
        services.create_user(world.hub_admin, email=world.thai_analyst.email.upper(),
                             organisation=world.thai, role=Role.VIEWER)
    assert exc.value.field == "email"


def test_hub_admin_can_grant_hub_admin(client, world):
    login_verified(client, world.hub_admin)
    response = client.post(detail(world.thai_analyst), {"full_name": "Promoted",
                                                        "role": Role.HUB_ADMIN})
    assert response.status_code == 302
    world.thai_analyst.refresh_from_db()
    assert world.thai_analyst.role == Role.HUB_ADMIN
    entry = AuditEntry.objects.get(action=Action.CHANGE, object_id=str(world.thai_analyst.pk))
    assert entry.details["role"] == [Role.ANALYST, Role.HUB_ADMIN]


def test_org_admin_changes_a_role_in_their_organisation(client, world):
    login_verified(client, world.thai_admin)
    response = client.post(detail(world.thai_viewer), {"full_name": "", "role": Role.ANALYST})
    assert response.status_code == 302
    world.thai_viewer.refresh_from_db()
    assert world.thai_viewer.role == Role.ANALYST


def test_admin_cannot_demote_or_deactivate_themselves(world):
    with pytest.raises(InvalidInput):
        services.change_user(world.thai_admin, world.thai_admin, role=Role.VIEWER)
    with pytest.raises(InvalidInput):
        services.set_active(world.thai_admin, world.thai_admin, False)


def test_deactivation_stops_sessions_and_tokens(client, world, issue_token):
    from django.test import Client

    _token, raw = issue_token(world.thai_analyst)
    analyst_session = Client()
    login_verified(analyst_session, world.thai_analyst)
    assert analyst_session.get("/api/v1/accounts/me").status_code == 200

    login_verified(client, world.thai_admin)
    assert client.post(detail(world.thai_analyst, "deactivate")).status_code == 302
    world.thai_analyst.refresh_from_db()
    assert not world.thai_analyst.is_active
    assert client.get("/api/v1/accounts/me", **bearer(raw)).status_code == 401
    assert analyst_session.get("/api/v1/accounts/me").status_code == 401
    assert AuditEntry.objects.filter(action=Action.CHANGE, object_id=str(world.thai_analyst.pk),
                                     details__is_active=[True, False]).exists()

    assert client.post(detail(world.thai_analyst, "activate")).status_code == 302
    world.thai_analyst.refresh_from_db()
    assert world.thai_analyst.is_active


def test_admin_resets_a_lost_second_factor(client, world):
    add_authenticator(world.thai_analyst)
    login_verified(client, world.thai_admin)
    assert client.post(detail(world.thai_analyst, "reset_two_factor")).status_code == 302
    assert not two_factor.has_device(world.thai_analyst)
    assert AuditEntry.objects.filter(action=Action.SECURITY,
                                     object_id=str(world.thai_analyst.pk)).exists()


def test_admin_revokes_a_token_of_their_user(client, world, issue_token):
    token, _ = issue_token(world.thai_analyst)
    other, _ = issue_token(world.my_analyst)
    login_verified(client, world.thai_admin)
    page = client.get(detail(world.thai_analyst))
    assert token.hint in page.content.decode()
    url = reverse("accounts:user_token_revoke", args=[world.thai_analyst.pk, token.pk])
    assert client.post(url).status_code == 302
    token.refresh_from_db()
    assert token.revoked is not None
    url = reverse("accounts:user_token_revoke", args=[world.my_analyst.pk, other.pk])
    assert client.post(url).status_code == 404


def test_admin_sends_a_password_link(client, world):
    login_verified(client, world.thai_admin)
    assert client.post(detail(world.thai_viewer, "password_link")).status_code == 302
    assert mail.outbox[0].to == [world.thai_viewer.email]


def test_org_admin_of_the_hub_cannot_touch_hub_admins(world):
    hub_org_admin = User.objects.create_user("ops@hub.example", "x", organisation=world.hub,
                                             role=Role.ORG_ADMIN)
    with pytest.raises(NotFound):
        services.set_active(hub_org_admin, world.hub_admin, False)
