"""What kind of value is this? Refang it, recognise it and reduce it to the target a lookup needs.

Every lookup value becomes one of four targets: an IP range (an address is a range of one), a
domain name, an AS number or a country code. URLs and email addresses are reduced to their host
or domain. Detection order, first match wins:

    scheme://host...           URL (host may be a name, an IPv4 address or an [IPv6] literal)
    mailto:x@y, local@domain   email address (domain may be an [address literal])
    A.B.C.D/N, v6::/N          prefix (host bits are ignored, with a note)
    host/path                  URL without a scheme (as defanged feeds often write them)
    AS4788, 4788               AS number: a bare integer is an ASN, never an integer address
    TH, th                     ISO 3166-1 country code: a bare two-letter value is a country,
                               not a top-level domain
    2001:db8::1, A.B.C.D       address (an IPv4-mapped IPv6 address counts as IPv4; host:port and
                               [v6]:port lose the port)
    anything else              domain or host name (IDNA), else malformed

IPv4 addresses, by far the most common value in a batch, are parsed without ``ipaddress``;
``ipv4_numbers`` turns a whole batch of them into a numpy array in one pass.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import partial
from socket import AF_INET, inet_ntoa, inet_pton
from urllib.parse import urlsplit

import numpy as np
from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput
from certhub.directory import normalise

MAX_LENGTH = 2048

# Value kinds a Resolution reports.
IPV4, IPV6, PREFIX, URL, EMAIL, ASN, COUNTRY, DOMAIN = (
    "ipv4", "ipv6", "prefix", "url", "email", "asn", "country", "domain")

# Targets: what is actually looked up.
T_IP, T_DOMAIN, T_ASN, T_COUNTRY = "ip", "domain", "asn", "country"

_DEFANGED = re.compile(r"\Ahxxp|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\[:\]|\[://\]|\[@\]|\[at\]|"
                       r"\(at\)", re.IGNORECASE)
# The names normalise.domain accepts unchanged (its label rule, no IDNA, no dots to strip).
_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
_PLAIN_NAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\Z")
_REFANGED = {"hxxp": "http", "[.]": ".", "(.)": ".", "{.}": ".", "[dot]": ".", "(dot)": ".",
             "[:]": ":", "[://]": "://", "[@]": "@", "[at]": "@", "(at)": "@"}


@dataclass(slots=True)
class Parsed:
    """One recognised value. ``start``/``end`` bound an IP target (equal for an address)."""

    kind: str
    normalised: str
    target: str
    version: int = 0
    start: int = 0
    end: int = 0
    address: str = ""  # the address whose country is looked up (a prefix's network address)
    domain: str = ""
    asn: int = 0
    country: str = ""
    host_bits_ignored: bool = False


def refang(text: str) -> str:
    """Undo common defanging: hxxp://, example[.]com, 10(.)0(.)0(.)1, user[at]example.org."""
    if not _DEFANGED.search(text):
        return text
    return _DEFANGED.sub(lambda m: _REFANGED[m.group(0).lower()], text)


def parse(raw: str) -> Parsed:
    """Recognise ``raw`` or raise InvalidInput saying why it is not a lookup value."""
    if not isinstance(raw, str):
        raise InvalidInput(_("A lookup value must be text."), field="q")
    text = raw.strip()
    if not text:
        raise InvalidInput(_("The lookup value is empty."), field="q")
    if len(text) > MAX_LENGTH:
        raise InvalidInput(_("The lookup value is longer than %(max)d characters.")
                           % {"max": MAX_LENGTH}, field="q")
    if text[0].isdigit():
        found = _plain_ipv4(text)
        if found is not None:
            return found
    text = refang(text)
    if "://" in text:
        return _url(raw, text)
    if "@" in text or text[:7].lower() == "mailto:":
        return _email(raw, text)
    if "/" in text:
        return _prefix_or_bare_url(raw, text)
    if text.isdigit() or (text[:2].upper() == "AS" and text[2:].isdigit()):
        return _asn(raw, text)
    if len(text) == 2 and text.isascii() and text.isalpha():
        return _country(raw, text)
    target = _host(raw, text)
    if target is None:
        raise _unrecognised(raw)
    return target


def _unrecognised(raw: str) -> InvalidInput:
    return InvalidInput(
        _("%(value)s is not an IP address, prefix, URL, email address, AS number, country code "
          "or domain name.") % {"value": _quoted(raw)}, field="q")


def _quoted(raw: str) -> str:
    shown = raw.strip()
    return repr(shown if len(shown) <= 80 else shown[:77] + "...")


def _asn(raw: str, text: str) -> Parsed:
    try:
        number = normalise.asn(text)
    except InvalidInput:
        raise InvalidInput(_("%(value)s is not an AS number (AS1 to AS%(max)d).")
                           % {"value": _quoted(raw), "max": normalise.MAX_ASN},
                           field="q") from None
    return Parsed(ASN, f"AS{number}", T_ASN, asn=number)


def _country(raw: str, text: str) -> Parsed:
    try:
        code = normalise.country(text)
    except InvalidInput:
        raise InvalidInput(_("%(value)s is not an ISO 3166-1 country code.")
                           % {"value": _quoted(raw)}, field="q") from None
    return Parsed(COUNTRY, code, T_COUNTRY, country=code)


def _plain_ipv4(text: str) -> Parsed | None:
    """The fast path for the most common value: a canonical dotted-quad IPv4 address."""
    try:
        packed = inet_pton(AF_INET, text)
    except OSError:
        return None
    if inet_ntoa(packed) != text:  # leading zeros: left to _ipv4 to refuse with a reason
        return None
    number = int.from_bytes(packed, "big")
    return Parsed(IPV4, text, T_IP, 4, number, number, text)


_pton4 = partial(inet_pton, AF_INET)


def ipv4_numbers(texts: list[str]) -> tuple[np.ndarray, list[int]]:
    """The dotted-quad IPv4 addresses among ``texts`` as int64 numbers, in ascending order, and
    the position in ``texts`` of each.

    A text is an address when ``inet_pton`` takes it, which (in the C libraries Python runs on)
    also refuses leading zeros, spaces and short forms: exactly the texts ``_plain_ipv4`` takes.
    The packed addresses are joined into one buffer that numpy reads at once; a batch with
    something else in it (rare) is sorted out text by text. Sorted, the numbers are searched
    several times faster (``searchsorted`` then walks its table in order).
    """
    try:
        packed = b"".join(map(_pton4, texts))
        positions = np.arange(len(texts))
    except (OSError, TypeError, ValueError):
        chunks, kept = [], []
        for position, text in enumerate(texts):
            try:
                chunks.append(_pton4(text))
            except (OSError, TypeError, ValueError):
                continue
            kept.append(position)
        packed, positions = b"".join(chunks), np.array(kept, dtype=np.intp)
    numbers = np.frombuffer(packed, dtype=">u4").astype(np.int64)
    order = np.argsort(numbers, kind="stable")
    return numbers[order], positions[order].tolist()


def _ipv4(raw: str, text: str) -> int | None:
    """The address as an integer; None when ``text`` is not shaped like a dotted quad."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if not (part.isascii() and part.isdigit()):
            return None
        octet = int(part)
        if octet > 255 or (len(part) > 1 and part[0] == "0"):
            raise InvalidInput(_("%(value)s is not an IPv4 address: each of the four numbers "
                                 "must be 0 to 255, without leading zeros.")
                               % {"value": _quoted(raw)}, field="q")
        value = (value << 8) | octet
    return value


def _address(raw: str, text: str, kind: str | None = None) -> Parsed | None:
    """An IPv4 or IPv6 address; None when ``text`` does not look like one."""
    number = _ipv4(raw, text)
    if number is not None:
        return Parsed(kind or IPV4, text, T_IP, 4, number, number, text)
    if ":" not in text:
        return None
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return None
    mapped = address.ipv4_mapped
    if mapped is not None:
        value, shown = int(mapped), str(mapped)
        return Parsed(kind or IPV4, shown, T_IP, 4, value, value, shown)
    shown = str(address)
    return Parsed(kind or IPV6, shown, T_IP, 6, int(address), int(address),
                  shown.split("%", 1)[0])


def _host(raw: str, text: str, kind: str | None = None) -> Parsed | None:
    """An address or a domain name, allowing a port (host:port, [v6]:port); None if neither."""
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not (rest[:1] == ":" and rest[1:].isdigit())):
            return None
        return _address(raw, inside, kind)
    found = _address(raw, text, kind)
    if found is not None:
        return found
    if text.count(":") == 1:
        text, _colon, port = text.partition(":")
        if not port.isdigit():
            return None
        found = _address(raw, text, kind)
        if found is not None:
            return found
    elif ":" in text:
        raise InvalidInput(_("%(value)s is not an IPv6 address.") % {"value": _quoted(raw)},
                           field="q")
    name = _domain(text)
    return Parsed(kind or DOMAIN, name, T_DOMAIN, domain=name) if name else None


def _domain(text: str) -> str | None:
    """normalise.domain, with a fast path for names that are already plain lower-case ASCII."""
    lowered = text.lower()
    if len(lowered) <= 253 and _PLAIN_NAME.match(lowered) and not lowered.rpartition(".")[
            2].isdigit():
        return lowered
    try:
        return normalise.domain(text)
    except InvalidInput:
        return None


def _url(raw: str, text: str) -> Parsed:
    try:
        host = urlsplit(text).netloc.rpartition("@")[2]
    except ValueError:
        host = ""
    if not host:
        raise InvalidInput(_("%(value)s is not a URL with a host name or address.")
                           % {"value": _quoted(raw)}, field="q")
    found = _host(raw, host, URL)
    if found is None:
        raise InvalidInput(_("The host of the URL %(value)s is not a domain name or IP address.")
                           % {"value": _quoted(raw)}, field="q")
    return found


def _prefix_or_bare_url(raw: str, text: str) -> Parsed:
    head, _slash, tail = text.partition("/")
    if tail.isascii() and tail.isdigit():
        try:
            interface = ipaddress.ip_interface(text)
        except ValueError:
            interface = None
        if interface is not None:
            return _prefix(interface)
        if ":" in head or _looks_like_ipv4(head):
            raise InvalidInput(_("%(value)s is not an IP prefix.") % {"value": _quoted(raw)},
                               field="q")
    found = _host(raw, head, URL)
    if found is None:
        raise _unrecognised(raw)
    return found


def _looks_like_ipv4(text: str) -> bool:
    return text.count(".") == 3 and text.replace(".", "").isdigit()


def _prefix(interface: ipaddress.IPv4Interface | ipaddress.IPv6Interface) -> Parsed:
    network = interface.network
    host_bits_ignored = interface.ip != network.network_address
    mapped = getattr(network.network_address, "ipv4_mapped", None)
    if mapped is not None and network.prefixlen >= 96:
        network = ipaddress.IPv4Network((int(mapped), network.prefixlen - 96))
    return Parsed(PREFIX, str(network), T_IP, network.version, int(network.network_address),
                  int(network.broadcast_address), str(network.network_address),
                  host_bits_ignored=host_bits_ignored)


def _email(raw: str, text: str) -> Parsed:
    if text[:7].lower() == "mailto:":
        text = text[7:].split("?", 1)[0]
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in local):
        raise InvalidInput(_("%(value)s is not an email address.") % {"value": _quoted(raw)},
                           field="q")
    if domain.startswith("[") and domain.endswith("]"):
        literal = domain[1:-1]
        found = _address(raw, literal[5:] if literal.lower().startswith("ipv6:") else literal,
                         EMAIL)
    else:
        found = _address(raw, domain, EMAIL) or _domain_or_none(domain, EMAIL)
    if found is None:
        raise InvalidInput(_("The domain of the email address %(value)s is not valid.")
                           % {"value": _quoted(raw)}, field="q")
    return found


def _domain_or_none(text: str, kind: str) -> Parsed | None:
    name = _domain(text)
    return Parsed(kind, name, T_DOMAIN, domain=name) if name else None
