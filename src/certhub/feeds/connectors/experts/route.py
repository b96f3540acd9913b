"""Country, AS number and responsible organisation(s) of each event, from the directory lookup.

One ``resolve_many`` call per batch (most specific wins: registered prefix > ASN > domain >
country). The lookup value is the event's IP address when it has one, else its value (a URL
or domain is matched by its host, a prefix by the registered range containing it). Hashes
are about no network: they are routed to nobody and seen by hub staff only. The lookup's
country and ASN are preferred to the feed's own columns, so that a finding's country is the
one it was routed by; the feed's are kept when the lookup has none.
"""

from __future__ import annotations

from certhub.directory.lookup import resolve_many

from ..events import HASH_TYPES, Event

CACHE_SIZE = 20_000  # distinct lookup values remembered by a run (then forgotten at once)


class Router:
    """Feeds repeat addresses (many URLs on one host, a scanner's address in every report):
    each distinct lookup value is resolved once per run, within CACHE_SIZE values."""

    def __init__(self):
        self.cache: dict[str, object] = {}

    def process(self, events: list[Event]) -> None:
        targets = [event for event in events if event.ip or event.value_type not in HASH_TYPES]
        if not targets:
            return
        cache = self.cache
        keys = [event.ip or event.value for event in targets]
        missing = list(dict.fromkeys(key for key in keys if key not in cache))
        if missing:
            if len(cache) + len(missing) > CACHE_SIZE:
                cache.clear()
                missing = list(dict.fromkeys(keys))
            cache.update(zip(missing, resolve_many(missing), strict=True))
        for event, key in zip(targets, keys, strict=True):
            result = cache[key]
            if result.error:
                continue
            if result.country:
                event.country = result.country
            if result.asn is not None:
                event.asn = result.asn
            if result.matches:
                event.matches = result.matches
                event.rule = result.matches[0].rule
