"""Second factor: TOTP authenticator apps, one-time backup codes, and who must use them.

A login is two steps. The password logs the user in "half" (Django session, no OTP device);
``django_otp.login`` after a good code makes the session verified. Everything except the pages
needed to finish logging in refuses a half-logged-in session (see middleware and api_auth).
"""

from __future__ import annotations

import re
import secrets
from base64 import b32encode

import segno
from django.db import transaction
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from certhub.audit.services import Action, record

BACKUP_CODE_COUNT = 10
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud, typed by hand
_TOTP_NAME = "authenticator"
_BACKUP_NAME = "backup codes"


def has_device(user) -> bool:
    """The user has a confirmed second factor (and so must always use it)."""
    return user_has_device(user, confirmed=True)


def required(user) -> bool:
    """The session must be verified by a second factor before the user may do anything."""
    return user.requires_two_factor or has_device(user)


def pending(user) -> bool:
    """Logged in by password but not yet by a second factor that is required."""
    return (user.is_authenticated and not _is_verified(user) and required(user))


def _is_verified(user) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


# --- Checking a code -------------------------------------------------------------------------

def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def verify(user, code: str):
    """The device that accepts ``code`` (a 6-digit TOTP code or a backup code), or None.

    A code is tried only against the kind of device its shape fits, so a mistyped TOTP code does
    not count against the backup codes' throttle and the other way round. A backup code is used
    up by a successful check (django-otp deletes it).
    """
    code = normalise_code(code)
    if not code or len(code) > 32:
        return None
    model = TOTPDevice if code.isdigit() else StaticDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(code):
                return device
    return None


def is_backup_code(device) -> bool:
    return isinstance(device, StaticDevice)


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- Setting up -----------------------------------------------------------------------------

def pending_totp_device(user) -> TOTPDevice:
    """The unconfirmed authenticator being set up; the same one until it is confirmed."""
    device = (TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first())
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_TOTP_NAME, confirmed=False)
    return device


def secret_for_manual_entry(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, as authenticator apps accept it typed by hand."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """An inline SVG QR code of the otpauth:// URL: rendered here, no external service."""
    qr = segno.make(device.config_url, error="m")
    return qr.svg_inline(scale=5, border=2, dark="#000", light="#fff",
                         title="otpauth QR code")


def confirm_totp(user, device: TOTPDevice, code: str, *, request=None) -> list[str] | None:
    """Confirm the new authenticator with a code from it; return fresh backup codes, or None.

    On success the new device replaces any older authenticator of the user.
    """
    code = normalise_code(code)
    if not code.isdigit():
        return None
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
        if not device.verify_token(code):
            return None
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _replace_backup_codes(user)
        record(Action.SECURITY, user=user, request=request, obj=user,
               details={"event": "two-factor authenticator set up"})
    return codes


def regenerate_backup_codes(user, *, request=None) -> list[str]:
    with transaction.atomic():
        codes = _replace_backup_codes(user)
        record(Action.SECURITY, user=user, request=request, obj=user,
               details={"event": "backup codes regenerated"})
    return codes


def _replace_backup_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=_BACKUP_NAME, confirmed=True)
    codes = [_new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _new_backup_code() -> str:
    return "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(10))


def remove_all(user) -> int:
    """Delete every second-factor device of ``user`` (lost phone, or turning two-factor off).

    The caller audits: it knows who did it and why.
    """
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    removed_static, _ = StaticDevice.objects.filter(user=user).delete()
    return removed + removed_static  # rows, including backup codes
