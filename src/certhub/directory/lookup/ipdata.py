"""Offline IP data: address → AS number (settings.ASN_DB) and address → country.

IP-to-ASN comes from an iptoasn.com TSV (``ip2asn-v4.tsv``, ``ip2asn-v6.tsv`` or
``ip2asn-combined.tsv``, optionally gzipped; columns range_start, range_end, AS_number,
country_code, AS_description; AS 0 means "not routed") or from a MaxMind-format ASN ``.mmdb``.
A TSV is loaded once into sorted arrays and searched with bisect (a batch of IPv4 addresses
with one numpy.searchsorted, ``asns_of_ipv4``). Sources are cached per file (path, size and
modification time), so replacing the file is picked up by the next lookup.

IP-to-country comes from the ``iptocc`` package (offline, vectorised: one call for a whole batch)
unless settings.COUNTRY_DB names a MaxMind-format country ``.mmdb``.
"""

from __future__ import annotations

import gzip
import logging
import socket
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import iptocc
import numpy as np
from django.conf import settings

log = logging.getLogger(__name__)

class Unavailable(Exception):
    """A configured IP data file cannot be read; lookups go on without it (and say so)."""


_lock = threading.Lock()
_asn_sources: dict[tuple, AsnSource] = {}
_country_sources: dict[tuple, CountrySource] = {}


@dataclass(frozen=True, slots=True)
class AsnHit:
    asn: int
    name: str


class AsnSource:
    """Address range → AS number, and what is known about an AS number itself."""

    description = ""

    def lookup(self, version: int, start: int, end: int, address: str) -> AsnHit | None:
        """The AS announcing every address from ``start`` to ``end``; None if none or several."""
        raise NotImplementedError

    def lookup_many(self, targets: list[tuple[int, int, int, str]]) -> list[AsnHit | None]:
        """``lookup`` for a batch of (version, start, end, address)."""
        return [self.lookup(*target) for target in targets]

    def asns_of_ipv4(self, numbers: np.ndarray, addresses: list[str]) -> list[int | None]:
        """The AS number announcing each IPv4 address (``numbers`` are the same addresses as
        integers), None where none: ``lookup_many`` without the hits."""
        hits = self.lookup_many([(4, number, number, address) for number, address
                                 in zip(numbers.tolist(), addresses, strict=True)])
        return [hit.asn if hit is not None else None for hit in hits]

    def name(self, asn: int) -> str:
        return ""

    def country(self, asn: int) -> str | None:
        return None


class _Ranges:
    """Disjoint, sorted address ranges of one IP version with their AS numbers."""

    def __init__(self, version: int):
        # bisect is fastest on a list; the other columns are read once per lookup, so compact
        # arrays do (IPv4 fits machine words, IPv6 needs Python integers).
        self.version = version
        self.starts: list[int] = []
        self.ends: Sequence[int] = array("I") if version == 4 else []
        self.asns: array = array("I")
        self.buckets: list[int] = []
        self.unsorted = False

    def add(self, start: int, end: int, asn: int) -> None:
        """Append a range; iptoasn files come sorted, anything else is sorted by finish()."""
        if self.asns and self.asns[-1] == asn and self.ends[-1] + 1 == start:
            self.ends[-1] = end  # the TSV splits some announcements; one range is enough
            return
        if self.starts and start <= self.starts[-1]:
            self.unsorted = True
        self.starts.append(start)
        self.ends.append(end)
        self.asns.append(asn)

    def finish(self) -> None:
        if self.unsorted:
            rows = sorted(zip(self.starts, self.ends, self.asns, strict=True))
            self.__init__(self.version)
            for row in rows:
                self.add(*row)
        if self.version == 4:
            # buckets[k] = first range starting at or after k.0.0.0/16: a lookup bisects only
            # the few ranges of its /16 instead of the whole table.
            self.buckets = [bisect_left(self.starts, k << 16) for k in range(65537)]

    def find(self, start: int, end: int) -> int | None:
        i = bisect_right(self.starts, start) - 1
        if i >= 0 and end <= self.ends[i]:
            return self.asns[i]
        return None


class TsvAsnSource(AsnSource):
    """The iptoasn.com TSV layout, held in memory as sorted columns (read once, streaming)."""

    def __init__(self, path: Path):
        self.description = str(path)
        self.ranges = {4: _Ranges(4), 6: _Ranges(6)}
        self.names: dict[int, str] = {}
        self.hits: dict[int, AsnHit] = {}
        self.countries: dict[int, str] = {}
        self._columns: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # IPv4, numpy
        tallies: dict[int, Counter] = {}  # only for the rare AS seen in several countries
        for version, start, end, asn, country, name in self._rows(path):
            self.ranges[version].add(start, end, asn)
            if asn not in self.names:
                self.names[asn] = name
                self.countries[asn] = country
            elif country and country != self.countries[asn]:
                tally = tallies.setdefault(asn, Counter({self.countries[asn]: 1}))
                tally[country] += 1
        for ranges in self.ranges.values():
            ranges.finish()
        # An AS is registered in one country in almost every case; else the most frequent.
        for asn, tally in tallies.items():
            self.countries[asn] = tally.most_common(1)[0][0]
        self.countries = {asn: country for asn, country in self.countries.items() if country}

    @staticmethod
    def _rows(path: Path):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                fields = line.rstrip("\r\n").split("\t")
                if len(fields) < 3 or line.startswith("#"):
                    continue
                try:
                    asn = int(fields[2])
                    if asn == 0:  # "not routed"
                        continue
                    version, start = _address_int(fields[0])
                    end_version, end = _address_int(fields[1])
                except (ValueError, OSError):
                    log.warning("%s line %d is not in the iptoasn layout; skipped", path, number)
                    continue
                if version != end_version or end < start:
                    log.warning("%s line %d has an invalid range; skipped", path, number)
                    continue
                country = fields[3].strip().upper() if len(fields) > 3 else ""
                name = fields[4].strip() if len(fields) > 4 else ""
                yield version, start, end, asn, country if country not in ("", "NONE") else "", \
                    name if name != "Not routed" else ""

    def lookup(self, version, start, end, address):
        asn = self.ranges[version].find(start, end)
        if asn is None:
            return None
        hit = self.hits.get(asn)
        if hit is None:
            hit = self.hits.setdefault(asn, AsnHit(asn, self.names.get(asn, "")))
        return hit

    def lookup_many(self, targets):
        # The hot loop of a batch (one pass per address): everything bound to locals.
        hits, names, found = self.hits, self.names, []
        append = found.append
        v4, v6 = self.ranges[4], self.ranges[6]
        starts, ends, asns, buckets = v4.starts, v4.ends, v4.asns, v4.buckets
        for version, start, end, _address in targets:
            if version == 4:
                bucket = start >> 16
                i = bisect_right(starts, start, buckets[bucket], buckets[bucket + 1]) - 1
                asn = asns[i] if i >= 0 and end <= ends[i] else None
            else:
                asn = v6.find(start, end)
            if asn is None:
                append(None)
                continue
            hit = hits.get(asn)
            if hit is None:
                hit = hits.setdefault(asn, AsnHit(asn, names.get(asn, "")))
            append(hit)
        return found

    def asns_of_ipv4(self, numbers, addresses):
        starts, ends, asns = self._ipv4_columns()
        if not len(starts):
            return [None] * len(numbers)
        # The range starting at or before each address, if it reaches the address (AS 0,
        # "not routed", is never stored, so 0 can stand for "none").
        at = np.searchsorted(starts, numbers, side="right") - 1
        inside = at >= 0
        at[~inside] = 0
        found = np.where(inside & (numbers <= ends[at]), asns[at], 0)
        return [asn or None for asn in found.tolist()]

    def _ipv4_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        columns = self._columns
        if columns is None:  # built on first use; two threads building it is harmless
            v4 = self.ranges[4]
            columns = self._columns = (np.array(v4.starts, dtype=np.int64),
                                       np.array(v4.ends, dtype=np.int64),
                                       np.array(v4.asns, dtype=np.int64))
        return columns

    def name(self, asn):
        return self.names.get(asn, "")

    def country(self, asn):
        return self.countries.get(asn)


class MmdbAsnSource(AsnSource):
    """A MaxMind-format ASN database (GeoLite2-ASN or compatible)."""

    def __init__(self, path: Path):
        import maxminddb

        self.description = str(path)
        self.reader = maxminddb.open_database(str(path))
        self.names: dict[int, str] = {}

    def lookup(self, version, start, end, address):
        try:
            record, prefix_length = self.reader.get_with_prefix_len(address)
        except ValueError:
            return None
        if not record or not record.get("autonomous_system_number"):
            return None
        if start != end:  # a prefix: the database's network must cover all of it
            bits = 32 if version == 4 else 128
            if (end - start + 1) > (1 << (bits - prefix_length)):
                return None
        asn = int(record["autonomous_system_number"])
        name = str(record.get("autonomous_system_organization") or "")
        self.names.setdefault(asn, name)
        return AsnHit(asn, name)

    def name(self, asn):
        return self.names.get(asn, "")


class CountrySource:
    description = "iptocc"

    def countries(self, addresses: list[str]) -> list[str | None]:
        """ISO alpha-2 codes for a batch of canonical address strings, None where unknown."""
        return iptocc.country_code(addresses) if addresses else []


class MmdbCountrySource(CountrySource):
    def __init__(self, path: Path):
        import maxminddb

        self.description = str(path)
        self.reader = maxminddb.open_database(str(path))

    def countries(self, addresses):
        found: list[str | None] = []
        cache: dict[str, str | None] = {}
        for address in addresses:
            if address not in cache:
                try:
                    record = self.reader.get(address) or {}
                except ValueError:
                    record = {}
                country = record.get("country") or record.get("registered_country") or {}
                cache[address] = country.get("iso_code")
            found.append(cache[address])
        return found


def asn_source() -> AsnSource | None:
    """The configured IP-to-ASN data, loaded on first use; None when settings.ASN_DB is unset.

    Raises Unavailable when the configured file cannot be read.
    """
    path = (settings.ASN_DB or "").strip()
    if not path:
        return None
    return _cached(_asn_sources, Path(path), _open_asn)


def country_source() -> CountrySource:
    """settings.COUNTRY_DB when set (Unavailable if unreadable), else the iptocc package."""
    path = (settings.COUNTRY_DB or "").strip()
    if not path:
        return _DEFAULT_COUNTRY
    return _cached(_country_sources, Path(path), MmdbCountrySource)


def _open_asn(path: Path) -> AsnSource:
    if path.suffix == ".mmdb":
        return MmdbAsnSource(path)
    return TsvAsnSource(path)


def _cached(cache: dict, path: Path, opener):
    try:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        source = cache.get(key)
        if source is None:
            with _lock:
                source = cache.get(key)
                if source is None:
                    source = opener(path)
                    cache.clear()  # keep only the current version of the file
                    cache[key] = source
    except Exception as exc:  # any unreadable file: a missing, truncated or foreign format
        log.error("IP data file %s cannot be used: %s", path, exc)
        raise Unavailable(str(path)) from exc
    return source


def _address_int(text: str) -> tuple[int, int]:
    if ":" in text:
        return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
    return 4, int.from_bytes(socket.inet_aton(text), "big")


_DEFAULT_COUNTRY = CountrySource()
