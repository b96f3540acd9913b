"""Normalising the values a constituency and a lookup speak of: prefixes, ASNs, domains, countries.

Both the directory's stored constituency and every lookup input pass through these functions, so
that '2001:DB8::/32', 'AS4788' and 'Example.CO.TH.' compare equal to what was registered.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from babel import Locale

from certhub.core.errors import InvalidInput

_ASN = re.compile(r"^(?:AS)?(\d{1,10})$", re.IGNORECASE)
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
MAX_ASN = 4_294_967_295  # 32-bit ASNs (RFC 6793)


# Two-letter codes CLDR lists that are not ISO 3166-1 countries: exceptionally reserved (EU, UN,
# AC, TA...), user-assigned or private-use (XK, XA, XB, QO, ZZ "unknown region").
NOT_ISO_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN",
                               "XA", "XB", "XK", "ZZ"})


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes known to CLDR (via Babel): no numeric regions, no pseudo-codes."""
    return frozenset(code for code in Locale("en").territories
                     if len(code) == 2 and code.isalpha() and code not in NOT_ISO_COUNTRIES)


def country_name(code: str, locale: str = "en") -> str:
    try:
        return Locale.parse(locale.replace("-", "_")).territories.get(code.upper(), code.upper())
    except (ValueError, TypeError):
        return code.upper()


def country(value: str) -> str:
    code = value.strip().upper()
    if code == "UK":  # the ccTLD, not the ISO code
        code = "GB"
    if code not in country_codes():
        raise InvalidInput(f"{value!r} is not an ISO 3166-1 alpha-2 country code", field="country")
    return code


def asn(value: str | int) -> int:
    match = _ASN.match(str(value).strip())
    if not match or not 0 < int(match.group(1)) <= MAX_ASN:
        raise InvalidInput(f"{value!r} is not an AS number (e.g. AS4788 or 4788)", field="asn")
    return int(match.group(1))


def prefix(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A network; a bare address becomes a /32 or /128. Host bits must be zero."""
    text = value.strip()
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise InvalidInput(f"{value!r} is not an IP prefix: {exc}", field="prefix") from None


def domain(value: str) -> str:
    """Lower-case ASCII (IDNA) form without a trailing dot; '.co.th' and 'co.th' are the same."""
    text = value.strip().rstrip(".").lstrip(".").lower()
    if text.startswith("*."):
        text = text[2:]
    try:
        ascii_form = text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError:
        raise InvalidInput(f"{value!r} is not a valid domain name", field="domain") from None
    labels = ascii_form.split(".")
    if not ascii_form or len(ascii_form) > 253 or not all(_LABEL.match(lb) for lb in labels):
        raise InvalidInput(f"{value!r} is not a valid domain name", field="domain")
    if labels[-1].isdigit():
        raise InvalidInput(f"{value!r} is not a domain name (it looks like an address)",
                           field="domain")
    return ascii_form


def constituency_value(kind: str, value: str) -> str:
    """The stored, canonical text of a constituency entry of ``kind``."""
    if kind == "prefix":
        return str(prefix(value))
    if kind == "asn":
        return str(asn(value))
    if kind == "domain":
        return domain(value)
    if kind == "country":
        return country(value)
    raise InvalidInput(f"unknown constituency kind {kind!r}", field="kind")
