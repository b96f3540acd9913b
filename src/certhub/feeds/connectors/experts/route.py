"""Country, AS number and responsible organisation(s) of each event, from the directory lookup.

Most specific wins: registered prefix > ASN > domain > country. The lookup value is the event's
IP address when it has one, else its value (a URL or domain is matched by its host, a prefix by
the registered range containing it). Hashes are about no network: they are routed to nobody and
seen by hub staff only. The lookup's country and ASN are preferred to the feed's own columns, so
that a finding's country is the one it was routed by; the feed's are kept when the lookup has
none.

Per batch, the distinct values not yet cached are looked up at once: addresses (and prefixes)
with ``route_addresses``, the lean vectorised path that answers what ``resolve_many`` would
without building its Resolution objects; everything else (names, URLs on names, e-mail
addresses, AS numbers) with ``resolve_many``, as are values ``route_addresses`` declines.
"""

from __future__ import annotations

from certhub.directory.lookup import Route, resolve_many, route_addresses

from ..events import HASH_TYPES, IPV4, IPV6, PREFIX, Event

CACHE_SIZE = 20_000  # distinct lookup values remembered by a run (then forgotten at once)
_ADDRESS_TYPES = frozenset({IPV4, IPV6, PREFIX})


class Router:
    """Feeds repeat addresses (many URLs on one host, a scanner's address in every report):
    each distinct lookup value is resolved once per run, within CACHE_SIZE values."""

    def __init__(self):
        self.cache: dict[str, Route | None] = {}  # None: not a lookup value, routed nowhere

    def routes_of(self, keys: list[str], addresses: dict[str, bool]) -> list[Route | None]:
        """The route of each lookup value (its event's address, else its value), for events
        given as columns; ``addresses``: each distinct value, whether it is an address (or
        prefix)."""
        cache = self.cache
        missing = {key: is_address for key, is_address in addresses.items()
                   if key not in cache}
        if len(cache) + len(missing) > CACHE_SIZE:
            cache.clear()
            missing = addresses
        if missing:
            cache.update(_routes(missing))
        return list(map(cache.__getitem__, keys))

    def process(self, events: list[Event]) -> None:
        targets = [event for event in events if event.ip or event.value_type not in HASH_TYPES]
        if not targets:
            return
        cache = self.cache
        keys = [event.ip or event.value for event in targets]
        missing = self._missing(targets, keys)
        if missing:
            if len(cache) + len(missing) > CACHE_SIZE:
                cache.clear()
                missing = self._missing(targets, keys)
            cache.update(_routes(missing))
        for event, key in zip(targets, keys, strict=True):
            route = cache[key]
            if route is None:
                continue
            country, asn, matches = route
            if country:
                event.country = country
            if asn is not None:
                event.asn = asn
            if matches:
                event.matches = matches
                event.rule = matches[0].rule

    def _missing(self, targets: list[Event], keys: list[str]) -> dict[str, bool]:
        """The keys not cached, in order, each with whether it is an address (or prefix)."""
        cache = self.cache
        missing: dict[str, bool] = {}
        for event, key in zip(targets, keys, strict=True):
            if key not in cache and key not in missing:
                missing[key] = bool(event.ip) or event.value_type in _ADDRESS_TYPES
        return missing


def _routes(missing: dict[str, bool]) -> dict[str, Route | None]:
    addresses = [key for key, is_address in missing.items() if is_address]
    found = dict(zip(addresses, route_addresses(addresses), strict=True))
    # Names, and whatever route_addresses could not take (it then says None), in one call.
    others = [key for key in missing if found.get(key) is None]
    for key, result in zip(others, resolve_many(others), strict=True):
        found[key] = None if result.error else (result.country, result.asn, result.matches)
    return found
