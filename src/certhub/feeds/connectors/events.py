"""What flows between parser and experts: an ``Event`` per finding, a ``Bad`` per refused line.

Plain slotted classes, not dicts or JSON messages: a million of them pass through a run, and
the experts work on whole batches of them (IntelMQ's bots pass one JSON message per event).
"""

from __future__ import annotations

import datetime as dt

RAW_MAX = 500  # characters of the source line kept with a finding or an error

# Value types of a finding (what ``value`` holds).
IPV4, IPV6, PREFIX, URL = "ipv4", "ipv6", "prefix", "url"
DOMAIN, EMAIL, ASN = "domain", "email", "asn"
MD5, SHA1, SHA256, SHA512 = "md5", "sha1", "sha256", "sha512"
VALUE_TYPES = (IPV4, IPV6, PREFIX, URL, DOMAIN, EMAIL, ASN, MD5, SHA1, SHA256, SHA512)
HASH_TYPES = frozenset({MD5, SHA1, SHA256, SHA512})


class Event:
    """One finding as a parser saw it; experts fill in the rest.

    ``taxonomy``/``type`` left empty take the feed's defaults. ``value_type`` may be left empty
    when the parser cannot tell (the normaliser detects it). ``ip`` is the address the finding
    is about (routing uses it before ``value``).
    """

    __slots__ = ("asn", "country", "extra", "ip", "key", "line", "matches", "observed", "port",
                 "raw", "rule", "taxonomy", "type", "value", "value_type", "warninglists")

    def __init__(self, line: int, raw: str, value: str, value_type: str = "",
                 ip: str | None = None, port: int | None = None, asn: int | None = None,
                 country: str = "", observed: dt.datetime | None = None, taxonomy: str = "",
                 type: str = "", extra: dict | None = None):
        self.line = line
        self.raw = raw
        self.value = value
        self.value_type = value_type
        self.ip = ip
        self.port = port
        self.asn = asn
        self.country = country
        self.observed = observed
        self.taxonomy = taxonomy
        self.type = type
        self.extra = extra
        self.key = 0
        self.matches = ()
        self.rule = ""
        self.warninglists = ()

    def __repr__(self) -> str:
        return f"<Event line {self.line} {self.value_type}:{self.value}>"


class Bad:
    """A line that could not become a finding, and why. Recorded as a RunError, never dropped."""

    __slots__ = ("line", "raw", "reason")

    def __init__(self, line: int, reason: str, raw: str = ""):
        self.line = line
        self.reason = reason
        self.raw = raw[:RAW_MAX]

    def __repr__(self) -> str:
        return f"<Bad line {self.line}: {self.reason}>"
