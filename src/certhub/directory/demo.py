"""The demo: the ASEAN directory (data/asean-demo.json, in the import format) and demo logins.

Everything in the demo directory is a public fact (organisations, websites, parent bodies, a
few well-known national AS numbers) except what is marked: every point of contact is an example
function at a reserved ``.example`` domain (``is_example``), and Example Bank is fictional.
Timor-Leste has no verified national CERT (see the reference data), so none is invented: its
country and the .tl domain are registered with the regional hub as coordinator of last resort.

Demo logins (data/demo-users.json) use the reserved ``.invalid`` top-level domain. Their
administrators get an authenticator whose secret is derived from the address, so that
``certhub demo-code EMAIL`` can print the current code. The command refuses any account that is
not a demo login holding exactly that derived secret: it only ever computes codes from secrets
that are public by design, never from a real user's device.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from certhub.audit.services import Action, record
from certhub.core.errors import InvalidInput

from . import importexport
from .models import Organisation

DATA_DIR = Path(__file__).resolve().parent / "data"
DIRECTORY_FILE = DATA_DIR / "asean-demo.json"
USERS_FILE = DATA_DIR / "demo-users.json"
DEMO_DEVICE_NAME = "demo authenticator"
# Roles that must use a second factor (accounts.models.ADMIN_ROLES); they get a demo device.
_TWO_FACTOR_ROLES = {"hub_admin", "org_admin"}


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    organisation: str
    password: str
    two_factor: bool


@lru_cache(maxsize=1)
def _users_file() -> dict:
    return json.loads(USERS_FILE.read_text(encoding="utf-8"))


def demo_logins() -> list[DemoLogin]:
    data = _users_file()
    return [DemoLogin(email=u["email"].lower(), role=u["role"], organisation=u["organisation"],
                      password=data["password"], two_factor=u["role"] in _TWO_FACTOR_ROLES)
            for u in data["users"]]


def demo_totp_key(email: str) -> str:
    """The demo authenticator's secret (40 hex digits) for ``email``: public by design."""
    return hashlib.sha1(f"certhub-demo-totp:{email.lower()}".encode(),
                        usedforsecurity=False).hexdigest()


@dataclass
class DemoResult:
    directory: importexport.ImportResult
    users_created: int
    logins: list[DemoLogin]


def load_demo(progress=None) -> DemoResult:
    """Load (or refresh) the demo directory and logins. Running it twice changes nothing."""
    with transaction.atomic():
        directory = importexport.import_directory(DIRECTORY_FILE.read_bytes(), user=None,
                                                  fmt="json", progress=progress)
        logins = demo_logins()
        created = sum(_ensure_login(login) for login in logins)
    return DemoResult(directory=directory, users_created=created, logins=logins)


def _ensure_login(login: DemoLogin) -> bool:
    user_model = get_user_model()
    if login.role not in {value for value, _label in user_model._meta.get_field("role").choices}:
        raise InvalidInput(_("Demo user %(email)s: unknown role %(role)s.")
                           % {"email": login.email, "role": login.role})
    organisation = Organisation.objects.filter(short_name=login.organisation).first()
    if organisation is None:
        raise InvalidInput(_("Demo user %(email)s: unknown organisation %(name)s.")
                           % {"email": login.email, "name": login.organisation})
    user = user_model.objects.filter(email__iexact=login.email).first()
    created = user is None
    if created:
        user = user_model.objects.create_user(login.email, login.password,
                                              organisation=organisation, role=login.role,
                                              full_name=_full_name(login.email))
        record(Action.CREATE, obj=user, details={"demo": True, "role": login.role,
                                                 "organisation": organisation.short_name})
    elif not user.check_password(login.password) or user.organisation_id != organisation.pk \
            or user.role != login.role or not user.is_active:
        # Restore the demo state so that the printed logins work.
        user.set_password(login.password)
        user.organisation, user.role, user.is_active = organisation, login.role, True
        user.save()
        record(Action.CHANGE, obj=user, details={"demo": True, "restored": True})
    if login.two_factor:
        _ensure_demo_device(user)
    return created


def _full_name(email: str) -> str:
    for entry in _users_file()["users"]:
        if entry["email"].lower() == email.lower():
            return entry.get("full_name", "")
    return ""


def _ensure_demo_device(user) -> TOTPDevice:
    key = demo_totp_key(user.email)
    device = TOTPDevice.objects.filter(user=user, key=key, confirmed=True).first()
    if device is None:
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name=DEMO_DEVICE_NAME, key=key,
                                           confirmed=True)
        record(Action.SECURITY, user=user, obj=user,
               details={"event": "demo authenticator set up", "demo": True})
    return device


def demo_code(email: str) -> str:
    """The current 6-digit code of a demo administrator's authenticator.

    Raises InvalidInput for anyone else: accounts the demo loader did not create, and demo
    accounts whose authenticator was replaced by a real one.
    """
    email = (email or "").strip().lower()
    if email not in {login.email for login in demo_logins()}:
        raise InvalidInput(_("%(email)s is not a demo account; demo-code only works for the "
                             "logins created by certhub loaddemo.") % {"email": email})
    device = TOTPDevice.objects.filter(user__email__iexact=email, confirmed=True,
                                       key=demo_totp_key(email)).first()
    if device is None:
        raise InvalidInput(_("%(email)s has no demo authenticator (not an administrator, not "
                             "loaded yet, or its authenticator was replaced).")
                           % {"email": email})
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(totp.token()).zfill(device.digits)
