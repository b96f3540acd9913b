"""Every write to accounts: users, profiles, password-set mail, login audit. Callers pass ``actor``
(the user doing it) or None for the command line, which runs with the server's full authority.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from certhub.audit.services import Action, record
from certhub.core.errors import InvalidInput, NotFound, PermissionDenied

from . import two_factor
from .models import Role, User

# --- Who may manage whom --------------------------------------------------------------------

def assignable_roles(actor) -> list[str]:
    """Roles ``actor`` may give. Only a hub administrator makes hub administrators."""
    if actor is None or actor.is_hub_admin:
        return list(Role.values)
    if actor.role == Role.ORG_ADMIN:
        return [Role.ORG_ADMIN, Role.ANALYST, Role.VIEWER]
    return []


def can_manage(actor, target: User) -> bool:
    if actor is None:
        return True
    if not actor.administers(target.organisation):
        return False
    return actor.is_hub_admin or target.role != Role.HUB_ADMIN


def _check_manage(actor, target: User) -> None:
    if not can_manage(actor, target):
        # Users of other organisations are not shown to an org admin at all.
        raise NotFound(_("No such user."))


def _check_role(actor, role: str) -> None:
    if role not in Role.values:
        raise InvalidInput(_("Unknown role %(role)s; choose one of: %(roles)s.")
                           % {"role": role, "roles": ", ".join(Role.values)}, field="role")
    if role not in assignable_roles(actor):
        raise PermissionDenied(_("You may not give the role %(role)s.")
                               % {"role": Role(role).label}, field="role")


def _check_not_self(actor, target: User, message: str) -> None:
    """Administrators cannot lock themselves out by mistake; another administrator can."""
    if actor is not None and actor.pk == target.pk:
        raise InvalidInput(message)


# --- Users ----------------------------------------------------------------------------------

def create_user(actor, *, email: str, organisation, role: str, full_name: str = "",
                password: str | None = None, request=None, invite: bool = True) -> User:
    """Create a user. Without a password, an email with a link to set one is sent (``invite``)
    once the transaction commits; the account cannot be used until then."""
    email = User.objects.normalize_email((email or "").strip()).lower()
    if not email or "@" not in email:
        raise InvalidInput(_("Enter a valid email address."), field="email")
    if actor is not None and not actor.administers(organisation):
        raise PermissionDenied(_("You may only create users in your own organisation."),
                               field="organisation")
    _check_role(actor, role)
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise InvalidInput(_("A user with this email address already exists."),
                               field="email")
        user = User(email=email, organisation=organisation, role=role,
                    full_name=(full_name or "").strip())
        if password:
            _validate_password(password, user)
            user.set_password(password)
        else:
            user.set_unusable_password()
        _full_clean(user)
        user.save()
        record(Action.CREATE, user=actor, request=request, obj=user,
               details={"organisation": organisation.short_name, "role": role,
                        "password": "set" if password else "to be set by the user"})
        if invite and not password:
            transaction.on_commit(lambda: send_password_set_email(user, invitation=True))
    return user


def _full_clean(user: User) -> None:
    """Model validation, reported like every other bad input (field and reason)."""
    try:
        user.full_clean()
    except ValidationError as exc:
        field, errors = next(iter(exc.message_dict.items()))
        raise InvalidInput(errors[0], field=None if field == "__all__" else field) from None


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="password") from None


def change_user(actor, target: User, *, role: str | None = None, full_name: str | None = None,
                request=None) -> User:
    _check_manage(actor, target)
    changes: dict[str, list[str]] = {}
    with transaction.atomic():
        if role is not None and role != target.role:
            _check_not_self(actor, target, _("You cannot change your own role; ask another "
                                              "administrator."))
            _check_role(actor, role)
            changes["role"] = [target.role, role]
            target.role = role
        if full_name is not None and full_name.strip() != target.full_name:
            changes["full_name"] = [target.full_name, full_name.strip()]
            target.full_name = full_name.strip()
        if changes:
            _full_clean(target)
            target.save(update_fields=["role", "full_name"])
            record(Action.CHANGE, user=actor, request=request, obj=target, details=changes)
    return target


def set_active(actor, target: User, active: bool, *, request=None) -> User:
    """Deactivate (or reactivate) a user. An inactive user's sessions and tokens stop working
    at once: the auth backend and the token check both refuse inactive users."""
    _check_manage(actor, target)
    if not active:
        _check_not_self(actor, target, _("You cannot deactivate yourself; ask another "
                                          "administrator."))
    with transaction.atomic():
        if target.is_active != active:
            target.is_active = active
            target.save(update_fields=["is_active"])
            record(Action.CHANGE, user=actor, request=request, obj=target,
                   details={"is_active": [not active, active]})
    return target


def reset_two_factor(actor, target: User, *, request=None) -> None:
    """Remove a user's authenticator and backup codes (lost phone). If two-factor is required,
    the user sets up a new authenticator at the next login."""
    _check_manage(actor, target)
    with transaction.atomic():
        two_factor.remove_all(target)
        record(Action.SECURITY, user=actor, request=request, obj=target,
               details={"event": "two-factor reset by an administrator"})


def disable_own_two_factor(user, *, request=None) -> None:
    if user.requires_two_factor:
        raise PermissionDenied(_("Your role or organisation requires two-factor "
                                 "authentication."))
    with transaction.atomic():
        two_factor.remove_all(user)
        record(Action.SECURITY, user=user, request=request, obj=user,
               details={"event": "two-factor turned off"})


def update_profile(user, *, full_name: str, time_zone: str, language: str,
                   request=None) -> User:
    if language and language not in dict(settings.LANGUAGES):
        raise InvalidInput(_("Unknown language."), field="language")
    before = {"full_name": user.full_name, "time_zone": user.time_zone,
              "language": user.language}
    user.full_name, user.time_zone, user.language = full_name.strip(), time_zone, language
    _full_clean(user)
    changes = {k: [v, getattr(user, k)] for k, v in before.items() if v != getattr(user, k)}
    if changes:
        with transaction.atomic():
            user.save(update_fields=list(changes))
            record(Action.CHANGE, user=user, request=request, obj=user, details=changes)
    return user


def record_password_changed(user, *, request=None, how: str) -> None:
    record(Action.SECURITY, user=user, request=request, obj=user,
           details={"event": f"password {how}"})


# --- Mail -----------------------------------------------------------------------------------

def password_set_context(user: User) -> dict:
    """What the password mails need: the uid/token pair of Django's reset views, and the link."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return {"uid": uid, "token": token, "site_url": settings.SITE_URL,
            "link": settings.SITE_URL + path, "site_name": settings.SITE_NAME,
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400), "user": user,
            "email": user.email}


def send_password_set_email(user: User, *, invitation: bool) -> None:
    """Mail ``user`` a one-time link to choose a password, in the user's language."""
    context = password_set_context(user)
    template = "accounts/email/invitation" if invitation else "accounts/email/password_reset"
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}.txt", context)
    send_mail(" ".join(subject.splitlines()), body, None, [user.email])


def send_password_link(actor, target: User, *, request=None) -> None:
    """An administrator sends a user a fresh link to (re)set their password."""
    _check_manage(actor, target)
    record(Action.SECURITY, user=actor, request=request, obj=target,
           details={"event": "password link sent"})
    send_password_set_email(target, invitation=not target.has_usable_password())


# --- Login audit ------------------------------------------------------------------------------

def record_login(user, *, request, method: str) -> None:
    record(Action.LOGIN, user=user, request=request, obj=user, details={"method": method})


def record_login_failed(*, request, email: str, reason: str, user=None) -> None:
    """A failed step of a login. The password or code tried is never recorded."""
    target = user or User.objects.filter(email__iexact=(email or "")[:254]).first()
    record(Action.LOGIN_FAILED, user=user, request=request, obj=target,
           details={"email": (email or "")[:254], "reason": reason})
