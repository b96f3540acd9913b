"""Forms of the account pages. They parse and validate; services do the writes."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from certhub.directory.models import Organisation

from .models import Role, TokenScope, User


class LoginForm(auth_forms.AuthenticationForm):
    """Email and password. The field keeps the name ``username`` that django-axes watches."""

    username = auth_forms.UsernameField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True,
                                                         "autocomplete": "username"}))

    error_messages = {
        "invalid_login": _("The email address or password is not correct."),
        "inactive": _("This account is not active."),
    }


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=32, strip=True,
        help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "one-time-code",
                                      "inputmode": "text", "spellcheck": "false"}))


class ConfirmAuthenticatorForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"), max_length=10, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "pattern": r"[0-9 ]*"}))


@cache
def _zone_names() -> tuple[str, ...]:
    zones = sorted(name for name in zoneinfo.available_timezones()
                   if "/" in name and not name.startswith(("Etc/", "SystemV/")))
    return (*zones, "UTC")


def time_zone_choices():
    return [("", _("Site default (%(zone)s)") % {"zone": settings.DISPLAY_TIME_ZONE}),
            *((name, name.replace("_", " ")) for name in _zone_names())]


def language_choices():
    return [("", _("Site default")), *settings.LANGUAGES]


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, choices=time_zone_choices)
    language = forms.ChoiceField(label=_("Language"), required=False, choices=language_choices)


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What the token is for, e.g. 'SIEM export'."))
    scope = forms.ChoiceField(label=_("Scope"), choices=TokenScope.choices,
                              initial=TokenScope.READ)
    expires_days = forms.IntegerField(
        label=_("Expires after (days)"), required=False, min_value=1, initial=90,
        help_text=_("Leave empty for a token that does not expire."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expires_days"].max_value = settings.API_TOKEN_MAX_DAYS
        self.fields["expires_days"].widget.attrs["max"] = settings.API_TOKEN_MAX_DAYS
        if not user.can_write:
            self.fields["scope"].choices = [(TokenScope.READ, TokenScope.READ.label)]


def _role_choices(roles):
    return [(value, label) for value, label in Role.choices if value in roles]


class UserCreateForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    organisation = forms.ModelChoiceField(label=_("Organisation"),
                                          queryset=Organisation.objects.none())
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, actor: User, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(roles)
        self.fields["role"].initial = Role.ANALYST
        if actor.is_hub_admin:
            self.fields["organisation"].queryset = Organisation.objects.order_by("short_name")
        else:
            self.fields["organisation"].queryset = Organisation.objects.filter(
                pk=actor.organisation_id)
            self.fields["organisation"].initial = actor.organisation_id


class UserChangeForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(roles)


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's, extended to users whose password was never set (an invitation that got lost):
    certhub has no external login that an unusable password would stand for."""

    def get_users(self, email):
        return User.objects.filter(email__iexact=email, is_active=True)
