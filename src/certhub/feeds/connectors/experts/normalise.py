"""Refang and canonicalise values, and tell their type when the parser could not.

Canonical forms: IPv4 dotted quad without leading zeros, IPv6 compressed, prefixes as network/
length, URLs with lower-case scheme and host, domains lower-case without the trailing dot,
hashes lower-case hex, email addresses with a lower-case domain, AS numbers as AS<n>. The same
value always gets the same form, which is what deduplication compares.
"""

from __future__ import annotations

import ipaddress
import re
from socket import AF_INET, inet_pton

from django.utils.translation import gettext as _

from certhub.directory.lookup.detect import refang

from ..events import (
    ASN,
    DOMAIN,
    EMAIL,
    HASH_TYPES,
    IPV4,
    IPV6,
    MD5,
    PREFIX,
    SHA1,
    SHA256,
    SHA512,
    URL,
    VALUE_TYPES,
    Bad,
    Event,
)

_HEX = re.compile(r"\A[0-9a-f]+\Z")
_HASH_BY_LENGTH = {32: MD5, 40: SHA1, 64: SHA256, 128: SHA512}
_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"\A(?:{_LABEL}\.)+[a-z][a-z0-9-]{{0,62}}\Z")
_ASN = re.compile(r"\A(?:AS)?(\d{1,10})\Z", re.IGNORECASE)
_MAX_VALUE = 2048
_SPACE = re.compile(r"\s")


class Normaliser:
    def process(self, events: list[Event], bad: list[Bad]) -> list[Event]:
        kept = []
        append = kept.append
        space = _SPACE.search
        for event in events:
            value = refang(event.value.strip())  # returns at once when nothing is defanged
            kind = event.value_type or detect(value)
            if kind == URL and len(value) <= _MAX_VALUE:
                # The common case inline (a feed is mostly URLs or addresses): the same result
                # as canonical(URL, value), without the call.
                scheme, sep, rest = value.partition("://")
                if sep:
                    host, slash, path = rest.partition("/")
                    if host and not space(host):
                        event.value = f"{scheme.lower()}://{host.lower()}{slash}{path}"
                        event.value_type = kind
                        append(event)
                        continue
            try:
                value = canonical(kind, value)
            except ValueError as exc:
                bad.append(Bad(event.line, str(exc), event.raw))
                continue
            event.value, event.value_type = value, kind
            if event.ip is None and kind in (IPV4, IPV6):
                event.ip = value
            append(event)
        return kept


def detect(value: str) -> str:
    """The value type of ``value`` (best guess; ``canonical`` then checks it)."""
    if "://" in value:
        return URL
    if "/" in value:
        return PREFIX if _is_network(value) else URL
    if "@" in value:
        return EMAIL
    if ":" in value:
        return IPV6
    if value[:1].isdigit() and value.count(".") == 3 and value.replace(".", "").isdigit():
        return IPV4
    lowered = value.lower()
    if len(lowered) in _HASH_BY_LENGTH and _HEX.match(lowered):
        return _HASH_BY_LENGTH[len(lowered)]
    if (_ASN.match(value) and not value.isdigit()) or value.isdigit():
        return ASN
    return DOMAIN


def _is_network(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def canonical(kind: str, value: str) -> str:
    """``value`` in the canonical form of ``kind``; ValueError saying why it is not one."""
    if not value:
        raise ValueError(_("the value is empty"))
    if len(value) > _MAX_VALUE:
        raise ValueError(_("the value is longer than %(max)d characters") % {"max": _MAX_VALUE})
    if kind == IPV4:
        try:
            inet_pton(AF_INET, value)
        except OSError:
            raise ValueError(_("%(value)r is not an IPv4 address") % {"value": value}) from None
        return value
    if kind == URL:
        scheme, sep, rest = value.partition("://")
        if not sep:
            scheme, rest = "http", value
        host, slash, path = rest.partition("/")
        if not host or _SPACE.search(host):
            raise ValueError(_("%(value)r is not a URL with a host") % {"value": value})
        return f"{scheme.lower()}://{host.lower()}{slash}{path}"
    if kind == IPV6:
        try:
            return str(ipaddress.IPv6Address(value))
        except ValueError:
            raise ValueError(_("%(value)r is not an IPv6 address") % {"value": value}) from None
    if kind == PREFIX:
        try:
            return ipaddress.ip_network(value, strict=False).with_prefixlen
        except ValueError:
            raise ValueError(_("%(value)r is not an IP prefix") % {"value": value}) from None
    if kind == DOMAIN:
        name = value.lower().rstrip(".")
        if not _DOMAIN.match(name):
            try:
                name = name.encode("idna").decode("ascii")
            except UnicodeError:
                name = ""
            if not _DOMAIN.match(name):
                raise ValueError(_("%(value)r is not a domain name") % {"value": value})
        return name
    if kind in HASH_TYPES:
        lowered = value.lower()
        if _HASH_BY_LENGTH.get(len(lowered)) != kind or not _HEX.match(lowered):
            raise ValueError(_("%(value)r is not an %(kind)s hash")
                             % {"value": value, "kind": kind.upper()})
        return lowered
    if kind == EMAIL:
        local, at, domain = value.rpartition("@")
        if not at or not local or not domain:
            raise ValueError(_("%(value)r is not an email address") % {"value": value})
        return f"{local}@{canonical(DOMAIN, domain)}"
    if kind == ASN:
        found = _ASN.match(value)
        if not found or not 0 < int(found.group(1)) < 2**32:
            raise ValueError(_("%(value)r is not an AS number") % {"value": value})
        return f"AS{int(found.group(1))}"
    if kind not in VALUE_TYPES:
        raise ValueError(_("%(kind)s is not a value type") % {"kind": kind})
    return value
