"""Users (each of one organisation, with one role) and their personal API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certhub.directory.validators import validate_time_zone


class Role(models.TextChoices):
    HUB_ADMIN = "hub_admin", _("hub administrator")
    ORG_ADMIN = "org_admin", _("organisation administrator")
    ANALYST = "analyst", _("analyst")
    VIEWER = "viewer", _("viewer")


WRITING_ROLES = {Role.HUB_ADMIN, Role.ORG_ADMIN, Role.ANALYST}
ADMIN_ROLES = {Role.HUB_ADMIN, Role.ORG_ADMIN}


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("users need an email address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("role", Role.HUB_ADMIN)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT,
                                     related_name="users", verbose_name=_("organisation"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True,
                                 validators=[validate_time_zone])
    language = models.CharField(_("language"), max_length=10, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    @property
    def is_staff(self) -> bool:
        """Django's admin site is for hub administrators only."""
        return self.is_active and self.role == Role.HUB_ADMIN

    @property
    def is_hub_admin(self) -> bool:
        return self.role == Role.HUB_ADMIN

    @property
    def can_write(self) -> bool:
        return self.is_active and self.role in WRITING_ROLES

    @property
    def requires_two_factor(self) -> bool:
        return self.role in ADMIN_ROLES or self.organisation.require_mfa

    def administers(self, organisation) -> bool:
        """May change ``organisation``'s directory entry and users."""
        if not self.is_active:
            return False
        return self.role == Role.HUB_ADMIN or (
            self.role == Role.ORG_ADMIN and self.organisation_id == organisation.pk
        )


class TokenScope(models.TextChoices):
    READ = "read", _("read")
    WRITE = "write", _("read and write")


TOKEN_PREFIX = "chub_"


def hash_token(raw: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; no salt or stretching needed.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("token starts with"), max_length=16, editable=False)
    scope = models.CharField(_("scope"), max_length=10, choices=TokenScope.choices,
                             default=TokenScope.READ)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def generate() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return (self.revoked is None and self.user.is_active
                and (self.expires is None or self.expires > now))

    @property
    def allows_write(self) -> bool:
        return self.scope == TokenScope.WRITE
