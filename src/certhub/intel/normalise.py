"""Observable values in one canonical form: refanged on the way in, defanged for display.

Every value stored in the observable index and every value a lookup asks about passes through
``normalise(kind, value)``, so that 'hxxp://EVIL[.]example/a', 'EVIL.example.' and
'1.2.3[.]4' compare equal to what another member shared. ``detect`` guesses the kind of a bare
value (a pasted lookup list carries no types).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

from django.db import models
from django.utils.translation import gettext_lazy as _

from certhub.core.errors import InvalidInput
from certhub.directory import normalise as directory_normalise

# In UTF-8 bytes: long enough for real URLs, short enough for a B-tree index entry (PostgreSQL
# refuses entries over ~2700 bytes).
MAX_VALUE_LENGTH = 2048


class ObservableType(models.TextChoices):
    IPV4 = "ipv4-addr", _("IPv4 address")
    IPV6 = "ipv6-addr", _("IPv6 address")
    PREFIX = "ip-prefix", _("IP prefix")
    DOMAIN = "domain-name", _("domain name")
    HOSTNAME = "hostname", _("host name")
    URL = "url", _("URL")
    EMAIL = "email-addr", _("email address")
    MD5 = "md5", "MD5"
    SHA1 = "sha1", "SHA-1"
    SHA256 = "sha256", "SHA-256"
    SHA512 = "sha512", "SHA-512"
    SSDEEP = "ssdeep", "ssdeep"
    ASN = "asn", _("autonomous system")
    FILE_NAME = "file-name", _("file name")
    MUTEX = "mutex", _("mutex")
    REGISTRY_KEY = "windows-registry-key", _("Windows registry key")
    MAC = "mac-addr", _("MAC address")
    CVE = "vulnerability", _("vulnerability (CVE)")


# Plain strings for the hot paths: reading a member off a Django enum class costs a descriptor
# call each time, which showed up as a tenth of a 100,000-object import.
_T = type("_Kinds", (), {member.name: member.value for member in ObservableType})
_KINDS = frozenset(ObservableType.values)

HASH_LENGTHS = {_T.MD5: 32, _T.SHA1: 40, _T.SHA256: 64, _T.SHA512: 128}
NETWORK_TYPES = frozenset({ObservableType.IPV4, ObservableType.IPV6, ObservableType.PREFIX,
                           ObservableType.DOMAIN, ObservableType.HOSTNAME, ObservableType.URL,
                           ObservableType.EMAIL})

# Refanging: the common ways analysts neutralise indicators in reports and emails.
_REFANG_RULES = [
    (re.compile(r"^(h[xX*]{2}p|hxxp|meow)(s?)(?=\[?:)", re.IGNORECASE), r"http\2"),
    (re.compile(r"^fxp(?=\[?:)", re.IGNORECASE), "ftp"),
    (re.compile(r"\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\}", re.IGNORECASE),
     "."),
    (re.compile(r"\s+dot\s+", re.IGNORECASE), "."),
    (re.compile(r"\[\s*:\s*\]"), ":"),
    (re.compile(r"\[\s*/\s*\]"), "/"),
    (re.compile(r"\[\s*(?:@|at)\s*\]|\(\s*(?:@|at)\s*\)", re.IGNORECASE), "@"),
    (re.compile(r"\s+at\s+(?=[^\s]+\.[a-z]{2,}$)", re.IGNORECASE), "@"),
    (re.compile(r"\\\."), "."),
]
# Every rule above needs one of these; most values have none, and skip the nine substitutions.
_DEFANG_HINT = re.compile(r"[\[\](){}\\\s]|^(?:h[x*]|meow|fxp)", re.IGNORECASE)
_HEX = re.compile(r"^[0-9a-f]+$")
_SSDEEP = re.compile(r"^\d+:[A-Za-z0-9/+]+:[A-Za-z0-9/+]+(?:,\".*\")?$")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_MAC = re.compile(r"^[0-9a-f]{2}([:-]?)(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_REGISTRY_HIVES = {"hkey_local_machine": "HKEY_LOCAL_MACHINE", "hklm": "HKEY_LOCAL_MACHINE",
                   "hkey_current_user": "HKEY_CURRENT_USER", "hkcu": "HKEY_CURRENT_USER",
                   "hkey_classes_root": "HKEY_CLASSES_ROOT", "hkcr": "HKEY_CLASSES_ROOT",
                   "hkey_users": "HKEY_USERS", "hku": "HKEY_USERS",
                   "hkey_current_config": "HKEY_CURRENT_CONFIG", "hkcc": "HKEY_CURRENT_CONFIG"}


def refang(value: str) -> str:
    """Undo the usual defanging: hxxp, [.], (.), {.}, ' dot ', [:], [@], ' at '."""
    text = value.strip()
    if not _DEFANG_HINT.search(text):
        return text
    for pattern, replacement in _REFANG_RULES:
        text = pattern.sub(replacement, text)
    return text


def _invalid(kind: str, value: str, reason: str = "") -> InvalidInput:
    label = ObservableType(kind).label if kind in _KINDS else kind
    message = f"{value!r} is not a valid {label}"
    return InvalidInput(f"{message}: {reason}" if reason else message, field="value")


def _ip(kind: str, text: str) -> tuple[str, str]:
    """(kind, value): an address, or a prefix when it carries a mask shorter than a host."""
    try:
        if "/" in text:
            network = ipaddress.ip_network(text, strict=False)
            if network.prefixlen < network.max_prefixlen:
                return _T.PREFIX, str(network)
            text = str(network.network_address)
        address = ipaddress.ip_address(text)
    except ValueError as exc:
        raise _invalid(kind, text, str(exc)) from None
    if kind == _T.IPV4 and address.version != 4:
        raise _invalid(kind, text, "it is an IPv6 address")
    if kind == _T.IPV6 and address.version != 6:
        raise _invalid(kind, text, "it is an IPv4 address")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return _T.IPV4, str(address.ipv4_mapped)
    return (_T.IPV4 if address.version == 4 else _T.IPV6), str(address)


def _domain(kind: str, text: str) -> str:
    try:
        return directory_normalise.domain(text)
    except InvalidInput:
        raise _invalid(kind, text) from None


def _host(text: str) -> str:
    """A URL's host: an address (IPv6 in brackets) or a domain name."""
    bare = text.strip("[]")
    if not (bare[:1].isdigit() or ":" in bare):  # a name: skip the address parser's exception
        return _domain(_T.URL, text)
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return _domain(_T.URL, text)
    return f"[{address}]" if address.version == 6 else str(address)


def _url(text: str) -> str:
    if not _SCHEME.match(text):
        text = "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise _invalid(_T.URL, text, str(exc)) from None
    if not parts.hostname:
        raise _invalid(_T.URL, text, "no host")
    netloc = _host(parts.hostname)
    if parts.username or parts.password:
        credentials = parts.username or ""
        if parts.password is not None:
            credentials += ":" + parts.password
        netloc = f"{credentials}@{netloc}"
    if port is not None:
        netloc += f":{port}"
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, parts.query, parts.fragment))


def _email(text: str) -> str:
    if not _EMAIL.match(text):
        raise _invalid(_T.EMAIL, text)
    local, _at, domain = text.rpartition("@")
    return f"{local}@{_domain(_T.EMAIL, domain)}"


def _hash(kind: str, text: str) -> str:
    digest = text.lower()
    if len(digest) != HASH_LENGTHS[kind] or not _HEX.match(digest):
        raise _invalid(kind, text, f"expected {HASH_LENGTHS[kind]} hexadecimal digits")
    return digest


def _registry_key(text: str) -> str:
    hive, sep, rest = text.replace("/", "\\").partition("\\")
    canonical = _REGISTRY_HIVES.get(hive.lower())
    if canonical is None:
        raise _invalid(_T.REGISTRY_KEY, text, "unknown hive")
    return canonical + sep + rest


def _asn(text: str) -> str:
    try:
        return f"AS{directory_normalise.asn(text)}"
    except InvalidInput:
        raise _invalid(_T.ASN, text) from None


def normalise_typed(kind: str, value: str) -> tuple[str, str]:
    """(kind, canonical value); the kind changes only where the value says better (a /24 given
    as an ipv4-addr is an ip-prefix). Raises InvalidInput with the reason."""
    if kind not in _KINDS:
        raise InvalidInput(f"unknown observable type {kind!r}", field="type")
    text = refang(str(value))
    if not text:
        raise _invalid(kind, str(value), "empty")
    if kind in (_T.IPV4, _T.IPV6, _T.PREFIX):
        # A prefix given as a single host is that host's address; an address with a mask is
        # a prefix.
        kind, result = _ip(kind, text)
    elif kind in (_T.DOMAIN, _T.HOSTNAME):
        result = _domain(kind, text)
    elif kind == _T.URL:
        result = _url(text)
    elif kind == _T.EMAIL:
        result = _email(text)
    elif kind in HASH_LENGTHS:
        result = _hash(kind, text)
    elif kind == _T.SSDEEP:
        if not _SSDEEP.match(text):
            raise _invalid(kind, text)
        result = text
    elif kind == _T.ASN:
        result = _asn(text)
    elif kind == _T.CVE:
        if not _CVE.match(text):
            raise _invalid(kind, text, "expected CVE-YYYY-NNNN")
        result = text.upper()
    elif kind == _T.MAC:
        if not _MAC.match(text):
            raise _invalid(kind, text)
        digits = re.sub(r"[:-]", "", text.lower())
        result = ":".join(digits[i:i + 2] for i in range(0, 12, 2))
    elif kind == _T.REGISTRY_KEY:
        result = _registry_key(text)
    else:  # file names and mutexes are case-sensitive free text
        result = str(value).strip()
    if len(result.encode("utf-8")) > MAX_VALUE_LENGTH:  # bytes: what an index entry holds
        raise _invalid(kind, result[:80] + "…", f"longer than {MAX_VALUE_LENGTH} characters")
    return kind, result


def normalise(kind: str, value: str) -> str:
    """The canonical text of ``value`` as an observable of ``kind``."""
    return normalise_typed(kind, value)[1]


def detect(value: str) -> tuple[str, str]:
    """Guess the kind of a bare value and normalise it: (kind, value). Raises InvalidInput."""
    text = refang(str(value))
    lowered = text.lower()
    if not text:
        raise InvalidInput("empty value", field="value")
    if _HEX.match(lowered):
        for kind, length in HASH_LENGTHS.items():
            if len(lowered) == length:
                return kind, lowered
    candidates: list[str] = []
    if _SCHEME.match(text):
        candidates.append(_T.URL)
    if _CVE.match(text):
        candidates.append(_T.CVE)
    if re.match(r"^AS\d+$", text, re.IGNORECASE):
        candidates.append(_T.ASN)
    if _MAC.match(text) and not text.isdigit():
        candidates.append(_T.MAC)
    if _SSDEEP.match(text):
        candidates.append(_T.SSDEEP)
    if re.match(r"^(hk[a-z_]*)[\\/]", lowered):
        candidates.append(_T.REGISTRY_KEY)
    if "@" in text and " " not in text:
        candidates.append(_T.EMAIL)
    if ":" in text or re.match(r"^[\d.]+(/\d+)?$", text):
        candidates.append(_T.IPV4 if "." in text and ":" not in text
                          else _T.IPV6)
    if "/" in text and not text.startswith("/"):
        candidates.append(_T.URL)
    candidates.append(_T.DOMAIN)
    for kind in candidates:
        try:
            return normalise_typed(kind, text)
        except InvalidInput:
            continue
    raise InvalidInput(f"{value!r} is not an indicator certhub recognises", field="value")


def defang(value: str, kind: str) -> str:
    """The value made unclickable for display: hxxp://evil[.]example, 1.2.3[.]4, a[@]b[.]c."""
    if kind == _T.URL:
        scheme, sep, rest = value.partition("://")
        host, slash, path = rest.partition("/")
        scheme = scheme.replace("http", "hxxp").replace("ftp", "fxp")
        return f"{scheme}[{sep[0]}]{sep[1:]}{host.replace('.', '[.]')}{slash}{path}"
    if kind == _T.EMAIL:
        local, _at, domain = value.rpartition("@")
        return f"{local}[@]{domain.replace('.', '[.]')}"
    if kind in (_T.DOMAIN, _T.HOSTNAME):
        return value.replace(".", "[.]")
    if kind in (_T.IPV4, _T.PREFIX):
        head, dot, last = value.rpartition(".")
        return f"{head}[.]{last}" if dot else value
    if kind == _T.IPV6:
        return value.replace(":", "[:]", 1)
    return value
