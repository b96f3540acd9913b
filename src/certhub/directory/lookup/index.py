"""The in-memory index of the directory's constituencies, rebuilt when the directory changes.

Prefixes of each IP version are flattened into disjoint segments, each carrying the most specific
registered prefix that covers it, so the longest-prefix match of an address is one bisect.
ASNs, domain suffixes and countries are dictionaries.

Freshness: ``current()`` runs one aggregate query (row counts, highest ids and latest
modification times of organisations and constituency entries) and rebuilds when the answer
differs from the one the index was built for, so a change made by any process (web, API, CLI,
import) is seen by the next lookup. Changes made with ``QuerySet.update()`` bypass ``modified``;
in-process callers that do that call ``invalidate()``.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from bisect import bisect_right
from dataclasses import dataclass

from django.db import connection

from certhub.core.errors import InvalidInput
from certhub.directory import normalise
from certhub.directory.models import ConstituencyEntry, Organisation

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OrgInfo:
    id: int
    short_name: str
    slug: str
    name: str
    kind: str


class Registered:
    """A registered prefix, its organisations, and the registered prefix that contains it."""

    __slots__ = ("end", "orgs", "parent", "start", "text")

    def __init__(self, start: int, end: int, text: str, orgs: tuple[int, ...],
                 parent: Registered | None):
        self.start, self.end, self.text, self.orgs, self.parent = start, end, text, orgs, parent


class PrefixTable:
    """Longest-prefix match over the registered prefixes of one IP version."""

    def __init__(self, networks: dict[tuple[int, int], tuple[str, tuple[int, ...]]]):
        # Segment i covers [starts[i], starts[i + 1]) and belongs to payloads[i] (or nobody).
        self.count = len(networks)
        self.starts: list[int] = [0]
        self.payloads: list[Registered | None] = [None]
        open_: list[Registered] = []  # the chain of prefixes containing the sweep position
        # CIDR blocks are either nested or disjoint: sorting by start, outermost first, lets a
        # stack track the containing chain.
        for (start, end), (text, orgs) in sorted(networks.items(),
                                                 key=lambda item: (item[0][0], -item[0][1])):
            while open_ and open_[-1].end < start:
                self._close(open_)
            registered = Registered(start, end, text, orgs, open_[-1] if open_ else None)
            self._mark(start, registered)
            open_.append(registered)
        while open_:
            self._close(open_)

    def _close(self, open_: list[Registered]) -> None:
        closed = open_.pop()
        self._mark(closed.end + 1, open_[-1] if open_ else None)

    def _mark(self, position: int, payload: Registered | None) -> None:
        if self.starts[-1] == position:
            self.payloads[-1] = payload
        else:
            self.starts.append(position)
            self.payloads.append(payload)

    def __len__(self) -> int:
        return self.count

    def containing(self, start: int, end: int) -> Registered | None:
        """The most specific registered prefix containing every address from start to end."""
        found = self.payloads[bisect_right(self.starts, start) - 1]
        while found is not None and found.end < end:
            found = found.parent
        return found


@dataclass(frozen=True)
class Index:
    stamp: tuple
    orgs: dict[int, OrgInfo]
    prefixes: dict[int, PrefixTable]
    asns: dict[int, tuple[int, ...]]
    domains: dict[str, tuple[int, ...]]
    countries: dict[str, tuple[int, ...]]

    def domain_suffix(self, name: str) -> tuple[str, tuple[int, ...]] | None:
        """The longest registered suffix of ``name`` (whole labels only) and its organisations."""
        domains = self.domains
        suffix = name
        while True:
            orgs = domains.get(suffix)
            if orgs is not None:
                return suffix, orgs
            dot = suffix.find(".")
            if dot < 0:
                return None
            suffix = suffix[dot + 1:]


_lock = threading.Lock()
_current: Index | None = None


def stamp() -> tuple:
    """One query telling whether the directory changed: counts, highest ids, latest changes."""
    quote = connection.ops.quote_name
    # Table and column names come from the models, never from input.
    columns = ", ".join(
        f"(SELECT {aggregate} FROM {quote(model._meta.db_table)})"  # noqa: S608
        for model in (Organisation, ConstituencyEntry)
        for aggregate in ("COUNT(*)", "MAX(id)", f"MAX({quote('modified')})")
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")
        return (connection.alias, *cursor.fetchone())


def current() -> Index:
    """The index for the directory as it is now (at most one freshness query per call)."""
    global _current
    now = stamp()
    index = _current
    if index is not None and index.stamp == now:
        return index
    with _lock:
        index = _current
        if index is None or index.stamp != now:
            index = build(now)
            _current = index
    return index


def invalidate() -> None:
    """Forget the index; the next lookup rebuilds it."""
    global _current
    with _lock:
        _current = None


def build(at: tuple | None = None) -> Index:
    at = stamp() if at is None else at
    rows = list(ConstituencyEntry.objects.order_by().values_list("organisation_id", "kind",
                                                                 "value"))
    orgs = {
        pk: OrgInfo(pk, short_name, slug, name, kind)
        for pk, short_name, slug, name, kind in Organisation.objects.order_by().filter(
            pk__in={row[0] for row in rows}).values_list("pk", "short_name", "slug", "name",
                                                         "kind")
    }
    networks: dict[int, dict[tuple[int, int], list]] = {4: {}, 6: {}}
    asns: dict[int, list[int]] = {}
    domains: dict[str, list[int]] = {}
    countries: dict[str, list[int]] = {}
    for org_id, kind, value in rows:
        try:
            _add(org_id, kind, value, networks, asns, domains, countries)
        except InvalidInput as exc:  # written around validation; never let it break routing
            log.warning("constituency %s %r of organisation %s ignored: %s", kind, value, org_id,
                        exc.message)

    def ordered(ids) -> tuple[int, ...]:
        # An organisation deleted between the two queries is simply left out.
        return tuple(sorted({pk for pk in ids if pk in orgs},
                            key=lambda pk: orgs[pk].short_name.lower()))

    def owned(table: dict) -> dict:
        return {key: owners for key, ids in table.items() if (owners := ordered(ids))}

    return Index(
        stamp=at,
        orgs=orgs,
        prefixes={version: PrefixTable({key: (text, owners)
                                        for key, (text, ids) in table.items()
                                        if (owners := ordered(ids))})
                  for version, table in networks.items()},
        asns=owned(asns),
        domains=owned(domains),
        countries=owned(countries),
    )


def _add(org_id, kind, value, networks, asns, domains, countries) -> None:
    if kind == "prefix":
        network = normalise.prefix(value)
        if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96 \
                and network.network_address.ipv4_mapped is not None:
            network = ipaddress.IPv4Network((int(network.network_address.ipv4_mapped),
                                             network.prefixlen - 96))
        key = (int(network.network_address), int(network.broadcast_address))
        networks[network.version].setdefault(key, (str(network), []))[1].append(org_id)
    elif kind == "asn":
        asns.setdefault(normalise.asn(value), []).append(org_id)
    elif kind == "domain":
        domains.setdefault(normalise.domain(value), []).append(org_id)
    elif kind == "country":
        countries.setdefault(normalise.country(value), []).append(org_id)
