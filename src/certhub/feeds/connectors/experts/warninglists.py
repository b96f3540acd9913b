"""Warning-list flags: names of the MISP warning lists (known benign or reserved values: public
DNS resolvers, cloud and CDN ranges, benign file hashes, RFC 1918 ...) that hold a finding's
value. Flags inform the analyst; they never drop a finding.

The lists ship with ``pymispwarninglists`` (read from its data folder, offline). Address ranges
of every CIDR list are merged into one sorted table of segments; exact strings and host names
(matched by every parent domain) are dictionaries; each maps to a bit set of lists. A list
applies only to the value types its ``matching_attributes`` name, as in MISP. Not applied here:
substring and regex lists (a few dozen entries that would cost a scan per value) and lists
larger than MAX_LIST_SIZE (the top-million site rankings: 100 MB each in memory); the intel
app's warning-list check covers those for single observables.

A batch is flagged column by column (``_Index.masks``), not value by value: exact strings by
C-level ``map(dict.get, ...)``; IPv4 addresses packed into one numpy array and looked up with one
``searchsorted`` over the merged segments (IPv6, rarer, by bisect); host names extracted only
from URLs, domains and email addresses, each distinct host looked up once per run (within
HOST_CACHE_SIZE hosts). ``_Index.bits`` is the same rule for one value, kept as the reference
the batch path is tested against.

When the package is not installed, ``available`` is False and findings get no flags.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import threading
from bisect import bisect_right
from itertools import compress, repeat
from operator import ne
from pathlib import Path
from socket import AF_INET, AF_INET6, inet_pton

import numpy as np

from certhub.directory.lookup.detect import ipv4_numbers

from ..events import ASN, DOMAIN, EMAIL, IPV4, IPV6, MD5, PREFIX, SHA1, SHA256, SHA512, URL, Event

MAX_LIST_SIZE = 250_000
MAX_FILE_BYTES = 16 << 20  # the two top-million rankings are 20-25 MB: skipped unread
HOST_CACHE_SIZE = 50_000  # distinct host masks a flagger remembers (then forgets at once)
_IP_TYPES = frozenset({IPV4, IPV6, PREFIX})
_HOST_TYPES = frozenset({DOMAIN, URL, EMAIL})
_HASH_TYPES = frozenset({MD5, SHA1, SHA256, SHA512})
_ADDRESS_TYPES = frozenset({IPV4, IPV6})
# Exact strings of these lengths (mostly file hashes: 4/5 of all) are kept apart, so that the
# lookups of every other value probe a table five times smaller.
_HASH_LENGTHS = frozenset({32, 40, 64, 128})
_ALL = frozenset({IPV4, IPV6, PREFIX, DOMAIN, URL, EMAIL, ASN, MD5, SHA1, SHA256, SHA512})
# MISP attribute types a list names in matching_attributes → finding value types.
_MISP_TYPES = {
    "ip-src": _IP_TYPES, "ip-dst": _IP_TYPES, "ip-src|port": _IP_TYPES,
    "ip-dst|port": _IP_TYPES, "domain|ip": _IP_TYPES | {DOMAIN},
    "domain": {DOMAIN, URL, EMAIL}, "hostname": {DOMAIN, URL, EMAIL},
    "hostname|port": {DOMAIN, URL}, "url": {URL}, "uri": {URL}, "link": {URL},
    "email": {EMAIL}, "email-src": {EMAIL}, "email-dst": {EMAIL}, "target-email": {EMAIL},
    "md5": {MD5}, "sha1": {SHA1}, "sha256": {SHA256}, "sha512": {SHA512},
    "filename|md5": {MD5}, "filename|sha1": {SHA1}, "filename|sha256": {SHA256},
    "filename|sha512": {SHA512}, "AS": {ASN},
}

_lock = threading.Lock()
_index: _Index | None = None
_missing = False


def lists_folder() -> Path | None:
    spec = importlib.util.find_spec("pymispwarninglists")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / "misp-warninglists" \
        / "lists"
    return folder if folder.is_dir() else None


class _Ranges:
    """Merged address ranges of all CIDR lists of one IP version: segment starts and bits."""

    def __init__(self, intervals: list[tuple[int, int, int]], vectorised: bool = False):
        edges: dict[int, list[tuple[int, int]]] = {}
        for start, end, bit in intervals:
            edges.setdefault(start, []).append((bit, 1))
            edges.setdefault(end + 1, []).append((bit, -1))
        counts: dict[int, int] = {}
        self.starts: list[int] = []
        self.bits: list[int] = []
        for point in sorted(edges):
            for bit, step in edges[point]:
                counts[bit] = counts.get(bit, 0) + step
            mask = 0
            for bit, count in counts.items():
                if count > 0:
                    mask |= bit
            self.starts.append(point)
            self.bits.append(mask)
        # For IPv4 batches: segment starts as an array, led by a segment from 0 without lists
        # (every address has a segment), and which segments hold any list. Masks stay Python
        # integers: there are more lists than bits in a machine word.
        if not self.starts or self.starts[0] != 0:
            self.starts.insert(0, 0)
            self.bits.insert(0, 0)
        if vectorised:
            self.array_starts = np.array(self.starts, dtype=np.int64)
            self.listed = np.array([bits != 0 for bits in self.bits], dtype=bool)

    def lookup(self, number: int) -> int:
        at = bisect_right(self.starts, number) - 1
        return self.bits[at] if at >= 0 else 0

    def lookup_many(self, numbers: np.ndarray) -> tuple[list[int], list[int]]:
        """``lookup`` of many (IPv4) numbers: the positions with any list, and their masks."""
        segments = np.searchsorted(self.array_starts, numbers, side="right") - 1
        found = np.flatnonzero(self.listed[segments])
        bits = self.bits
        return found.tolist(), [bits[at] for at in segments[found].tolist()]


class _Index:
    def __init__(self, folder: Path):
        self.names: list[str] = []
        self.types: list[frozenset[str]] = []
        self.exact: dict[str, int] = {}  # strings of other lengths than a hash's
        self.hash_like: dict[str, int] = {}  # strings of a hash's length
        self.hosts: dict[str, int] = {}
        intervals: dict[int, list[tuple[int, int, int]]] = {4: [], 6: []}
        for path in sorted(folder.glob("*/list.json")):
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            with path.open(encoding="utf-8") as handle:
                document = json.load(handle)
            entries = document.get("list") or []
            kind = document.get("type")
            if kind not in ("cidr", "hostname", "string") or len(entries) > MAX_LIST_SIZE:
                continue
            bit = 1 << len(self.names)
            self.names.append(document.get("name", path.parent.name))
            attributes = document.get("matching_attributes") or []
            types = set().union(*(_MISP_TYPES.get(a, set()) for a in attributes))
            self.types.append(frozenset(types or _ALL))
            for entry in entries:
                text = str(entry).strip().lower()
                if not text:
                    continue
                if kind == "cidr":
                    try:
                        network = ipaddress.ip_network(text, strict=False)
                    except ValueError:
                        continue
                    intervals[network.version].append(
                        (int(network.network_address), int(network.broadcast_address), bit))
                elif kind == "hostname":
                    host = text.lstrip(".")
                    self.hosts[host] = self.hosts.get(host, 0) | bit
                else:
                    table = self.hash_like if len(text) in _HASH_LENGTHS else self.exact
                    table[text] = table.get(text, 0) | bit
        self.v4 = _Ranges(intervals[4], vectorised=True)
        self.v6 = _Ranges(intervals[6])

    def bits(self, value_type: str, value: str, ip: str | None) -> int:
        text = value.lower()
        mask = self._exact(text)
        address = ip if ip else (value.partition("/")[0] if value_type == PREFIX else
                                 (value if value_type in (IPV4, IPV6) else None))
        if address:
            mask |= self._address(address)
        host = None
        if value_type == URL:
            host = text.partition("://")[2].split("/", 1)[0].rpartition("@")[2]
            host = host.rpartition(":")[0] if host.count(":") == 1 else host.strip("[]")
        elif value_type == DOMAIN:
            host = text
        elif value_type == EMAIL:
            host = text.rpartition("@")[2]
        if host and host != address:  # host lists hold names, not addresses
            mask |= self._exact(host)
            hosts = self.hosts
            labels = host
            while labels:
                mask |= hosts.get(labels, 0)
                labels = labels.partition(".")[2]
        return mask

    def masks(self, events: list[Event], host_masks: dict[str, int]) -> list[int]:
        """``bits`` of every event of a batch, in order (``host_masks``: the caller's cache)."""
        return self.masks_of([event.value for event in events],
                             [event.value_type for event in events],
                             [event.ip for event in events], host_masks)

    def masks_of(self, values: list[str], kinds: list[str], ips: list[str | None],
                 host_masks: dict[str, int], *, texts: list[str] | None = None,
                 hosts: list[str] | None = None, numbers: np.ndarray | None = None
                 ) -> list[int]:
        """``masks`` of events given as columns (value, value type and address of each).
        The columnar path computes on whole columns, and passes, the lower-case values
        (``texts``) and, when every event is a URL, their hosts as ``_url_host`` gives them
        and their dotted-quad addresses as numbers (-1: none)."""
        if texts is None:
            texts = list(map(str.lower, values))
        masks = list(map(self.exact.get, texts, repeat(0)))
        hash_like = self.hash_like
        for at in compress(range(len(texts)), map(_HASH_LENGTHS.__contains__, map(len, texts))):
            masks[at] = hash_like.get(texts[at], 0)
        if hosts is not None and numbers is not None:  # URLs: their address is ``ips``
            self._add_number_masks(numbers, masks)
            self._add_url_host_masks(hosts, ips, masks, host_masks)
            return masks
        addresses = [ip or (value if kind in _ADDRESS_TYPES else value.partition("/")[0]
                            if kind == PREFIX else None)
                     for ip, kind, value in zip(ips, kinds, values, strict=True)]
        self._add_address_masks(addresses, masks)
        if hosts is None:
            self._add_host_masks(kinds, texts, addresses, masks, host_masks)
        else:
            self._add_url_host_masks(hosts, addresses, masks, host_masks)
        return masks

    def _add_number_masks(self, numbers: np.ndarray, masks: list[int]) -> None:
        """``_add_address_masks`` for dotted-quad addresses given as numbers (-1: none)."""
        present = np.flatnonzero(numbers >= 0)
        found, bits = self.v4.lookup_many(np.sort(numbers[present]))
        if not found:
            return
        order = present[np.argsort(numbers[present], kind="stable")]
        for position, mask in zip(found, bits, strict=True):
            masks[int(order[position])] |= mask

    def _add_url_host_masks(self, hosts: list[str], addresses: list[str | None],
                            masks: list[int], cache: dict[str, int]) -> None:
        """``_add_host_masks`` for URLs whose hosts are given: only those that are names (not
        their event's address, as on most URLs of a feed) are looked at in Python."""
        host_mask = self._host_mask
        for at in compress(range(len(hosts)), map(ne, hosts, addresses)):
            host = hosts[at]
            if host:
                mask = cache.get(host)
                if mask is None:
                    mask = cache[host] = host_mask(host)
                masks[at] |= mask

    def _add_address_masks(self, addresses: list[str | None], masks: list[int]) -> None:
        v4 = [at for at, address in enumerate(addresses) if address and ":" not in address]
        if v4:
            numbers, kept = ipv4_numbers([addresses[at] for at in v4])
            found, bits = self.v4.lookup_many(numbers)
            for position, mask in zip(found, bits, strict=True):
                at = v4[kept[position]]
                masks[at] |= mask
        for at, address in enumerate(addresses):
            if address and ":" in address:
                masks[at] |= self._ipv6(address)

    def _add_host_masks(self, kinds: list[str], texts: list[str], addresses: list[str | None],
                        masks: list[int], cache: dict[str, int]) -> None:
        named = [at for at, kind in enumerate(kinds) if kind in _HOST_TYPES]
        hosts = [_url_host(texts[at]) if kinds[at] == URL else texts[at] if kinds[at] == DOMAIN
                 else texts[at].rpartition("@")[2] for at in named]
        host_mask = self._host_mask
        for at, host in zip(named, hosts, strict=True):
            if host and host != addresses[at]:  # host lists hold names, not addresses
                mask = cache.get(host)
                if mask is None:
                    mask = cache[host] = host_mask(host)
                masks[at] |= mask

    def _exact(self, text: str) -> int:
        return (self.hash_like if len(text) in _HASH_LENGTHS else self.exact).get(text, 0)

    def _host_mask(self, host: str) -> int:
        mask = self._exact(host)
        hosts = self.hosts
        labels = host
        while labels:
            mask |= hosts.get(labels, 0)
            labels = labels.partition(".")[2]
        return mask

    def _address(self, text: str) -> int:
        try:
            return self.v4.lookup(int.from_bytes(inet_pton(AF_INET, text), "big"))
        except OSError:
            pass
        try:
            return self.v6.lookup(int.from_bytes(inet_pton(AF_INET6, text), "big"))
        except OSError:
            return 0

    def _ipv6(self, text: str) -> int:
        try:
            return self.v6.lookup(int.from_bytes(inet_pton(AF_INET6, text), "big"))
        except (OSError, ValueError):
            return 0

    def names_for(self, mask: int, value_type: str) -> tuple[str, ...]:
        found = []
        number = 0
        while mask:
            if mask & 1 and value_type in self.types[number]:
                found.append(self.names[number])
            mask >>= 1
            number += 1
        return tuple(sorted(found))


def _url_host(text: str) -> str:
    """After the first "://", up to the first "/", after the last "@"; without the port when
    one ":" is left, else without enclosing brackets (an IPv6 literal)."""
    host = text.partition("://")[2].split("/", 1)[0].rpartition("@")[2]
    return host.rpartition(":")[0] if host.count(":") == 1 else host.strip("[]")


def index() -> _Index | None:
    """The process-wide index, built on first use; None without the package."""
    global _index, _missing
    if _index is None and not _missing:
        with _lock:
            if _index is None and not _missing:
                folder = lists_folder()
                if folder is None:
                    _missing = True
                else:
                    _index = _Index(folder)
    return _index


class WarninglistFlagger:
    def __init__(self, enabled: bool = True):
        self.index = index() if enabled else None
        self._names: dict[tuple[int, str], tuple[str, ...]] = {}  # a run meets few masks
        self._host_masks: dict[str, int] = {}

    @property
    def available(self) -> bool:
        return self.index is not None

    def flags_of(self, values: list[str], kinds: list[str], ips: list[str | None], *,
                 texts: list[str] | None = None, hosts: list[str] | None = None,
                 numbers: np.ndarray | None = None) -> list[tuple[str, ...]] | None:
        """The lists holding each event given as columns (empty tuples when none); None when
        no event is on any list (most batches) or flagging is off. ``texts``, ``hosts``: see
        ``_Index.masks_of``."""
        index = self.index
        if index is None or not values:
            return None
        if len(self._host_masks) > HOST_CACHE_SIZE:
            self._host_masks.clear()
        masks = index.masks_of(values, kinds, ips, self._host_masks, texts=texts, hosts=hosts,
                               numbers=numbers)
        found = None
        names_cache = self._names
        for at in compress(range(len(masks)), masks):
            signature = (masks[at], kinds[at])
            names = names_cache.get(signature)
            if names is None:
                names = names_cache[signature] = index.names_for(*signature)
            if names:
                if found is None:
                    found = [()] * len(values)
                found[at] = names
        return found

    def process(self, events: list[Event]) -> None:
        """``flags_of`` the events, set on each flagged one."""
        if self.index is None:
            return
        flags = self.flags_of([event.value for event in events],
                              [event.value_type for event in events],
                              [event.ip for event in events])
        if flags is None:
            return
        for at in compress(range(len(flags)), flags):  # the few flagged events only
            events[at].warninglists = flags[at]
