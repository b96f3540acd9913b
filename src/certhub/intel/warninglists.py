"""Known false positives: the MISP warning lists shipped in the ``pymispwarninglists`` package.

Loaded once per process, offline, from the package's data, into indexes built for batch
lookups: exact strings and host names are matched in a sorted table, host names by every parent
domain, CIDR lists by prefix length. (The package's own slow search walks each list per value;
a 100,000-value lookup needs constant time per value.) A list applies only to the observable
types its ``matching_attributes`` name, as in MISP.

Memory: the lists hold 2.5 million strings (two top-million site lists, benign file hashes).
Kept as Python strings in dicts they took ~400 MB per process; here each entry is one 64-bit
number in a sorted array (a 56-bit BLAKE2 hash of the text and the list's number; a false match
needs a 56-bit collision, ~1 in 10^10 per value checked), ~20 MB in all. The built index is
cached on disk (CERTHUB_DATA_DIR/cache), so later processes load it in a fraction of a second
instead of parsing the JSON again.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import pickle
import re
import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from .normalise import ObservableType

T = ObservableType
_DOMAIN_LIKE = re.compile(r"^\.?[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$")
# MISP attribute types a list names in matching_attributes -> our observable types.
_MISP_TO_KINDS = {
    "ip-src": {T.IPV4, T.IPV6, T.PREFIX}, "ip-dst": {T.IPV4, T.IPV6, T.PREFIX},
    "ip-src|port": {T.IPV4, T.IPV6}, "ip-dst|port": {T.IPV4, T.IPV6},
    "domain|ip": {T.DOMAIN, T.HOSTNAME, T.IPV4, T.IPV6}, "domain": {T.DOMAIN, T.HOSTNAME},
    "hostname": {T.DOMAIN, T.HOSTNAME}, "hostname|port": {T.HOSTNAME, T.DOMAIN},
    "url": {T.URL}, "uri": {T.URL}, "md5": {T.MD5}, "filename|md5": {T.MD5},
    "sha1": {T.SHA1}, "filename|sha1": {T.SHA1}, "sha256": {T.SHA256},
    "filename|sha256": {T.SHA256}, "sha512": {T.SHA512}, "filename|sha512": {T.SHA512},
    "ssdeep": {T.SSDEEP}, "filename|ssdeep": {T.SSDEEP}, "email-src": {T.EMAIL},
    "email-dst": {T.EMAIL}, "target-email": {T.EMAIL}, "whois-registrant-email": {T.EMAIL},
    "dns-soa-email": {T.EMAIL},
}
_ALL_KINDS = frozenset(ObservableType.values)

_lock = threading.Lock()
_index: _Index | None = None
_FORMAT = 2  # of the cached index; bump when _Index changes
logger = logging.getLogger(__name__)


def _key(text: str) -> int:
    """The top 56 bits of the text's BLAKE2b hash, shifted to leave 8 bits for a list number."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=7).digest()
    return int.from_bytes(digest, "big") << 8


class _Table:
    """A set of strings, each in some lists: sorted (hash, list number) keys in one array."""

    def __init__(self) -> None:
        self.keys = array("Q")

    def add(self, text: str, number: int) -> None:
        self.keys.append(_key(text) | number)

    def freeze(self) -> None:
        self.keys = array("Q", sorted(set(self.keys)))

    def bits(self, text: str) -> int:
        key, keys, found = _key(text), self.keys, 0
        index = bisect_left(keys, key)
        while index < len(keys) and keys[index] >> 8 == key >> 8:
            found |= 1 << (keys[index] & 0xFF)
            index += 1
        return found


def lists_path() -> Path:
    import pymispwarninglists

    return Path(pymispwarninglists.__file__).parent / "data" / "misp-warninglists" / "lists"


class _Index:
    def __init__(self, documents: Iterable[dict]) -> None:
        self.names: list[str] = []
        self.kinds: list[frozenset[str]] = []
        self.exact = _Table()
        self.hosts = _Table()
        self.networks: dict[tuple[int, int], dict[int, int]] = {}
        self.others: list[tuple[re.Pattern | str, int]] = []  # regexes and short substrings
        for number, document in enumerate(documents):
            self.names.append(document["name"])
            attributes = document.get("matching_attributes") or []
            kinds = set().union(*(_MISP_TO_KINDS.get(a, set()) for a in attributes))
            self.kinds.append(frozenset(kinds) if attributes else _ALL_KINDS)
            self._add(number, document["type"], document["list"])
        self.exact.freeze()
        self.hosts.freeze()
        self.prefix_lengths = {version: sorted((length for (v, length) in self.networks
                                                if v == version), reverse=True)
                               for version in (4, 6)}

    @staticmethod
    def _set(table: dict, key, bit: int) -> None:
        table[key] = table.get(key, 0) | bit

    def _add(self, number: int, kind: str, entries: Iterable[str]) -> None:
        bit = 1 << number
        for entry in entries:
            text = str(entry).strip().lower()
            if not text:
                continue
            if kind == "cidr":
                try:
                    network = ipaddress.ip_network(text, strict=False)
                except ValueError:
                    self.exact.add(text, number)
                    continue
                table = self.networks.setdefault((network.version, network.prefixlen), {})
                shift = network.max_prefixlen - network.prefixlen
                self._set(table, int(network.network_address) >> shift, bit)
            elif kind == "hostname" or (kind == "substring" and _DOMAIN_LIKE.match(text)):
                # Substring lists of domains (disposable e-mail providers) match as suffixes.
                self.hosts.add(text.strip("."), number)
            elif kind == "substring":
                self.others.append((text, bit))
            elif kind == "regex":
                try:
                    self.others.append((re.compile(str(entry)), bit))
                except re.error:
                    continue
            else:
                self.exact.add(text, number)

    def _address_bits(self, text: str) -> int:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return 0
        bits, number = 0, int(address)
        for length in self.prefix_lengths[address.version]:
            table = self.networks[(address.version, length)]
            bits |= table.get(number >> (address.max_prefixlen - length), 0)
        return bits

    def _host_bits(self, host: str) -> int:
        bits, labels = 0, host.split(".")
        for start in range(len(labels)):
            bits |= self.hosts.bits(".".join(labels[start:]))
        return bits

    def check(self, kind: str, value: str) -> list[str]:
        text = value.lower()
        bits = self.exact.bits(text)
        if kind in (T.IPV4, T.IPV6):
            bits |= self._address_bits(text)
        elif kind == T.PREFIX:
            bits |= self._address_bits(text.partition("/")[0])
        host = ""
        if kind in (T.DOMAIN, T.HOSTNAME):
            host = text
        elif kind == T.URL:
            host = (urlsplit(text).hostname or "").strip("[]")
        elif kind == T.EMAIL:
            host = text.rpartition("@")[2]
        if host:
            bits |= self.exact.bits(host) | self._host_bits(host) | self._address_bits(host)
        for needle, bit in self.others:
            if (needle.search(value) if isinstance(needle, re.Pattern) else needle in text):
                bits |= bit
        return sorted(self.names[number] for number in range(len(self.names))
                      if bits >> number & 1 and kind in self.kinds[number])


def _documents():
    """One list at a time, so that only the index stays in memory."""
    for path in sorted(lists_path().glob("*/list.json")):
        with path.open(encoding="utf-8") as handle:
            yield json.load(handle)


def _cache_path() -> Path | None:
    try:
        import pymispwarninglists
        from django.conf import settings
        version = getattr(pymispwarninglists, "__version__", "")
        if not version:
            from importlib.metadata import version as package_version
            version = package_version("pymispwarninglists")
        return Path(settings.DATA_DIR) / "cache" / f"warninglists-{version}-{_FORMAT}.pickle"
    except Exception:  # no settings or metadata: build in memory every time
        return None


def _build() -> _Index:
    path = _cache_path()
    if path is not None and path.exists():
        try:
            with path.open("rb") as handle:
                # certhub wrote this file itself, in its own data folder.
                return pickle.load(handle)  # noqa: S301
        except Exception:
            logger.warning("ignoring unreadable warning-list cache %s", path)
    index = _Index(_documents())
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            with temporary.open("wb") as handle:
                pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)
            temporary.replace(path)
        except OSError:
            logger.warning("cannot write the warning-list cache %s", path)
    return index


def _load() -> _Index:
    global _index
    with _lock:
        if _index is None:
            _index = _build()
    return _index


def check(kind: str, value: str) -> list[str]:
    """Names of the warning lists that hold this normalised value (empty if none)."""
    return _load().check(kind, value)


def check_many(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """{(kind, value): list names} for the pairs that hit at least one list."""
    index = _load()
    found = {}
    for kind, value in pairs:
        names = index.check(kind, value)
        if names:
            found[(kind, value)] = names
    return found
