"""Field validators for the directory: country, partial dates, time zones, E.164, PGP keys."""

from __future__ import annotations

import re
import warnings
import zoneinfo
from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput

from . import normalise

_PARTIAL_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def validate_country_code(value: str) -> None:
    if value and value.upper() not in normalise.country_codes():
        raise ValidationError(_("%(value)s is not an ISO 3166-1 alpha-2 country code."),
                              params={"value": value})


def validate_partial_date(value: str) -> None:
    if value and not _PARTIAL_DATE.match(value):
        raise ValidationError(_("Use YYYY, YYYY-MM or YYYY-MM-DD."))


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value and value not in _zones():
        raise ValidationError(_("%(value)s is not an IANA time zone."), params={"value": value})


def validate_e164(value: str) -> None:
    """A phone number written in E.164: '+' then country code and number, digits only."""
    if not value:
        return
    if not re.fullmatch(r"\+[1-9]\d{6,14}", value):
        raise ValidationError(_("Write the number in E.164 form, e.g. +6621234567."))
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValidationError(_("%(value)s is not a phone number."), params={"value": value}) \
            from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("%(value)s is not a valid phone number."), params={"value": value})


def _load_key(armored: str):
    # PGPy is pure Python and needs no gpg binary; it warns about algorithms it does not
    # implement, which matters for encryption (issue: digests) but not for reading a fingerprint.
    import pgpy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key, _ = pgpy.PGPKey.from_blob(armored.strip())
    return key


def validate_pgp_public_key(value: str) -> None:
    if not value:
        return
    try:
        key = _load_key(value)
    except Exception:  # PGPy raises many unrelated types for malformed armour
        raise ValidationError(_("This is not an ASCII-armoured OpenPGP public key.")) from None
    if not key.is_public:
        raise ValidationError(_("This is a private key. Paste the public key only."))


def pgp_fingerprint(armored: str) -> str:
    """The primary key's fingerprint as 40 (v4) upper-case hex digits, without spaces."""
    try:
        return str(_load_key(armored).fingerprint).replace(" ", "").upper()
    except Exception:
        raise InvalidInput("not an ASCII-armoured OpenPGP public key", field="pgp_key") from None


def format_fingerprint(fingerprint: str) -> str:
    """Groups of four, as gpg shows them: 'ABCD 1234 ...'."""
    groups = [fingerprint[i:i + 4] for i in range(0, len(fingerprint), 4)]
    half = len(groups) // 2
    return " ".join(groups[:half]) + "  " + " ".join(groups[half:]) if groups else ""
