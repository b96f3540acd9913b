"""Lean routing of addresses for the feed pipeline: country, AS number and responsible
organisations of a whole batch, without the ``Resolution`` objects, names and notes.

``route_addresses`` answers exactly what ``resolve_many`` answers for the same values (its
``country``, ``asn`` and ``matches``): the same index (``current()``), the same IP data
sources, the same precedence (``_Batch.ip_matches``: registered prefix > ASN, when IP-to-ASN
data is configured > country) and the same Match objects. What it saves is the rest of
``resolve_many``'s work per value, about a dozen microseconds.

Dotted-quad IPv4 addresses, most of a feed, are handled column by column: converted to integers
in one pass (``detect.ipv4_numbers``), their registered prefixes found with one
``numpy.searchsorted`` over the index's prefix segments, their AS numbers with one more
(iptoasn TSV data; MaxMind data answers address by address), their countries with one call of
the country source (iptocc is vectorised). Any other value about an IP address or range is
looked up as ``resolve_many`` does, value by value: canonical IPv6 addresses and IPv4 prefixes
recognised directly, the rest (an IPv4-mapped address, a URL on an address, ...) by
``detect.parse``. A value that is not about an address (a domain, an AS number, ...) or is
malformed gets None: route it with ``resolve_many``.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from itertools import compress
from socket import AF_INET, AF_INET6, inet_ntoa, inet_ntop, inet_pton

import numpy as np

from certhub.core.errors import InvalidInput

from . import detect
from .detect import T_IP
from .index import PrefixTable, Registered
from .resolver import _Batch, _no_gc_pauses
from .results import Match

# (country, AS number, matches) of one value, as resolve_many would report them.
Route = tuple[str | None, int | None, tuple[Match, ...]]

# Per prefix table (one per index build, forgotten with it): its segment starts as an array
# and which segments belong to a registered prefix.
_segments: weakref.WeakKeyDictionary[PrefixTable, tuple[np.ndarray, np.ndarray]] = \
    weakref.WeakKeyDictionary()


def route_addresses(addresses: Iterable[str]) -> list[Route | None]:
    """One Route per value, in order; None for a value that is not an IP address or range
    (or not a lookup value at all). Never raises per item."""
    addresses = list(addresses)
    routes: list[Route | None] = [None] * len(addresses)
    if not addresses:
        return routes
    with _no_gc_pauses(len(addresses)):
        batch = _Batch()
        candidates = [at for at, text in enumerate(addresses)
                      if isinstance(text, str) and ":" not in text]
        numbers, kept = detect.ipv4_numbers([addresses[at] for at in candidates])
        plain = [candidates[position] for position in kept]
        for at, route in zip(plain, _route_ipv4(batch, numbers, [addresses[at] for at in plain]),
                             strict=True):
            routes[at] = route
        if len(plain) < len(addresses):
            rest = sorted(set(range(len(addresses))).difference(plain))
            targets = [_target(addresses[at]) for at in rest]
            for at, route in zip(rest, _route_targets(batch, targets), strict=True):
                routes[at] = route
    return routes


def _route_ipv4(batch: _Batch, numbers: np.ndarray, addresses: list[str]) -> list[Route]:
    """Canonical dotted-quad addresses (``numbers``: the same as integers), column by column."""
    countries = batch.country_source.countries(addresses)
    source = batch.asn_source
    asns = source.asns_of_ipv4(numbers, addresses) if source is not None \
        else [None] * len(addresses)
    # Every tier is decided by ip_matches. Most addresses get their country's tier (or none):
    # one call per distinct country, then the few under a registered AS or prefix.
    ip_matches = batch.ip_matches
    by_country = {country: ip_matches(None, None, country) for country in set(countries)}
    matches = list(map(by_country.__getitem__, countries))
    for at in compress(range(len(asns)), map(batch.index.asns.__contains__, asns)):
        matches[at] = ip_matches(None, asns[at], countries[at])
    for at, registered in _registered_ipv4(batch.index.prefixes[4], numbers):
        matches[at] = ip_matches(registered, asns[at], countries[at])
    return list(zip(countries, asns, matches, strict=True))


def _registered_ipv4(table: PrefixTable, numbers: np.ndarray
                     ) -> list[tuple[int, Registered]]:
    """(position, most specific registered prefix) of the addresses inside one."""
    if not len(table) or not len(numbers):
        return []
    segments = _segments.get(table)
    if segments is None:
        segments = _segments[table] = (
            np.array(table.starts, dtype=np.int64),
            np.array([payload is not None for payload in table.payloads], dtype=bool))
    starts, registered = segments
    # starts[0] is 0: every address falls in a segment; an address is a range of one, so the
    # segment's prefix (the innermost covering it) contains all of it.
    at = np.searchsorted(starts, numbers, side="right") - 1
    inside = np.flatnonzero(registered[at])
    payloads = table.payloads
    return [(position, payloads[segment])
            for position, segment in zip(inside.tolist(), at[inside].tolist(), strict=True)]


# (IP version, first address, last address, address whose country is looked up)
Target = tuple[int, int, int, str]


def _target(value: str) -> Target | None:
    """The IP range a value is about, as ``detect.parse`` sees it; None if not about one.

    Canonical IPv6 addresses and IPv4 prefixes, the other values feeds carry in numbers, are
    recognised without ``ipaddress`` (which costs several microseconds a value); anything else
    goes through ``detect.parse`` itself.
    """
    if isinstance(value, str):
        found = _plain_ipv6(value) if ":" in value else _plain_ipv4_prefix(value)
        if found is not None:
            return found
    try:
        item = detect.parse(value)
    except InvalidInput:
        return None
    if item.target != T_IP:
        return None
    return item.version, item.start, item.end, item.address


def _plain_ipv6(text: str) -> Target | None:
    """An IPv6 address written as ``str(ipaddress.IPv6Address)`` writes it (lower case,
    longest zero run compressed), not IPv4-mapped: what detect.parse makes of it, faster."""
    try:
        packed = inet_pton(AF_INET6, text)
    except (OSError, ValueError):
        return None
    # No dotted tail: inet_ntop writes mapped and compatible addresses the IPv4 way, Python not.
    if "." in text or inet_ntop(AF_INET6, packed) != text:
        return None
    number = int.from_bytes(packed, "big")
    if number >> 32 == 0xFFFF:  # IPv4-mapped: detect.parse takes it as the IPv4 address
        return None
    return 6, number, number, text


def _plain_ipv4_prefix(text: str) -> Target | None:
    """An IPv4 prefix a.b.c.d/n (host bits set or not), as detect.parse reads it."""
    head, slash, length = text.partition("/")
    if not slash or not (length.isascii() and length.isdigit()) or str(int(length)) != length \
            or int(length) > 32:
        return None
    try:
        packed = inet_pton(AF_INET, head)
    except (OSError, ValueError):
        return None
    host_bits = (1 << (32 - int(length))) - 1
    start = int.from_bytes(packed, "big") & ~host_bits
    return 4, start, start | host_bits, inet_ntoa(start.to_bytes(4, "big"))


def _route_targets(batch: _Batch, targets: list[Target | None]) -> list[Route | None]:
    """Routes of IP ranges one by one, as ``_Batch._ip`` routes them."""
    ranges = [target for target in targets if target is not None]
    countries = iter(batch.country_source.countries([target[3] for target in ranges]))
    source = batch.asn_source
    hits = iter(source.lookup_many(ranges) if source is not None else [None] * len(ranges))
    prefixes = batch.index.prefixes
    routes: list[Route | None] = []
    for target in targets:
        if target is None:
            routes.append(None)
            continue
        country, hit = next(countries), next(hits)
        asn = hit.asn if hit is not None else None
        version, start, end, _address = target
        registered = prefixes[version].containing(start, end)
        routes.append((country, asn, batch.ip_matches(registered, asn, country)))
    return routes
