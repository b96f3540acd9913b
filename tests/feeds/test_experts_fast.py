"""The batch (vectorised) warning-list flagger and router give the results of the per-value code.

Flagger: ``_Index.masks`` of a batch equals ``_Index.bits`` (the per-value rule, kept as the
reference) for every event, and ``WarninglistFlagger.process`` names the lists the previous
per-event loop named, on a synthetic set of lists (overlapping ranges, more lists than bits in a
machine word) and on the real MISP lists when installed.

Router: ``Router.process`` (``route_addresses`` for addresses, ``resolve_many`` for the rest)
sets the country, AS number, matches and rule the previous router (``resolve_many`` for every
distinct value) set, on thousands of normalised events, across batches and cache resets.
"""

from __future__ import annotations

import ipaddress
import json
import random

import pytest
from tests.lookup.test_route_addresses import asn_table, register_directory
from tests.lookup.test_route_addresses import sample as lookup_sample

from certhub.directory.lookup import resolve_many
from certhub.feeds.connectors.events import HASH_TYPES, Bad, Event
from certhub.feeds.connectors.experts import Normaliser, Router, WarninglistFlagger, route
from certhub.feeds.connectors.experts import warninglists as wl


# --- warning lists ------------------------------------------------------------------------------
def flag_per_event(index, events: list[Event]) -> list[tuple[str, ...]]:
    """The flagger's previous loop: one ``bits`` per event (the reference)."""
    flags = []
    for event in events:
        mask = index.bits(event.value_type, event.value, event.ip)
        flags.append(index.names_for(mask, event.value_type) if mask else ())
    return flags


def write_lists(folder) -> None:
    """MISP-layout lists: overlapping IPv4 and IPv6 ranges (one from 0, one to the top),
    host names, exact strings, type restrictions, and 70 more range lists (masks > 64 bits)."""
    rng = random.Random(21)
    lists = {
        "ranges-a": ("cidr", ["10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/8", "2001:db8::/32"],
                     ["ip-src", "ip-dst"]),
        "ranges-b": ("cidr", ["10.1.2.0/24", "255.255.255.255/32", "2001:db8:1::/48",
                              "192.0.2.1", "not a range"], []),
        "hosts": ("hostname", [".example.com", "cdn.example.net", "Mixed.Case.org"],
                  ["hostname", "domain"]),
        "hosts-urls": ("hostname", ["example.com", "phish.test"], ["url"]),
        "strings": ("string", ["http://bad.example/x", "8.8.8.8", "as13335", "mail.example.com",
                               "d41d8cd98f00b204e9800998ecf8427e", "10.1.2.3", "2001:db8::5"], []),
        "hashes": ("string", ["d41d8cd98f00b204e9800998ecf8427e"], ["md5"]),
        "emails": ("string", ["abuse@example.org"], ["email-src"]),
    }
    for number in range(70):
        length = rng.randint(8, 24)
        base = rng.getrandbits(32) >> (32 - length) << (32 - length)
        lists[f"random-{number:02d}"] = ("cidr", [f"{ipaddress.IPv4Address(base)}/{length}",
                                                 "10.0.0.0/8"], [])
    for name, (kind, entries, attributes) in lists.items():
        (folder / name).mkdir()
        (folder / name / "list.json").write_text(json.dumps(
            {"name": name, "type": kind, "list": entries, "matching_attributes": attributes}))


def varied_events(index, rng: random.Random, n: int) -> list[Event]:
    """Every value type; values from the lists themselves, next to them and far from them;
    URLs with ports, user info, IPv6 literals, upper case; events with and without ``ip``."""
    hosts = sorted(index.hosts) or ["example.com"]
    exact = sorted(index.exact) + sorted(index.hash_like) or ["8.8.8.8"]
    md5s = [text for text in exact if len(text) == 32] or ["0" * 32]
    v4 = [number for number in index.v4.starts if number < 2**32]
    v6 = [number for number in index.v6.starts if number < 2**128]

    def ipv4():
        number = rng.choice(v4) + rng.choice([-1, 0, 0, 1, 255]) if rng.random() < 0.7 \
            else rng.getrandbits(32)
        return str(ipaddress.IPv4Address(min(max(number, 0), 2**32 - 1)))

    def ipv6():
        number = rng.choice(v6) + rng.choice([-1, 0, 1]) if v6 and rng.random() < 0.7 \
            else rng.getrandbits(128)
        return str(ipaddress.IPv6Address(min(max(number, 0), 2**128 - 1)))

    def host():
        name = rng.choice(hosts)
        return rng.choice([name, f"www.{name}", f"a.b.{name}", f"x{name}", name.upper(),
                           f"{rng.getrandbits(20):x}.test"])

    def url():
        address = ipv4()
        where = rng.choice([host(), address, f"{address}:8080", f"{host()}:443",
                            f"user:pw@{host()}", f"{host()}@{address}", f"[{ipv6()}]",
                            f"[{ipv6()}]:80", "[2001:db8::5]", "", host().upper()])
        text = f"{rng.choice(['http', 'HTTPS', 'ftp'])}://{where}/{rng.choice(['', 'a/b', 'x'])}"
        return text if rng.random() < 0.9 else rng.choice(exact), rng.choice(
            [None, None, address, where.partition(":")[0]])

    makers = [
        lambda: ("ipv4", *(lambda a: (a, rng.choice([a, None])))(ipv4())),
        lambda: ("ipv6", ipv6(), None),
        lambda: ("prefix", f"{ipv4()}/{rng.randint(8, 32)}", rng.choice([None, ipv4()])),
        lambda: ("prefix", f"{ipv6()}/{rng.randint(32, 128)}", None),
        lambda: ("url", *url()),
        lambda: ("domain", host(), rng.choice([None, None, ipv4()])),
        lambda: ("email", f"{rng.choice(['abuse', 'x'])}@{host()}", None),
        lambda: ("asn", rng.choice(["AS13335", "AS4788", "as13335"]), None),
        lambda: ("md5", rng.choice(md5s) if rng.random() < 0.5
                 else f"{rng.getrandbits(128):032x}", None),
        lambda: ("sha256", rng.choice(exact), None),
        lambda: (rng.choice(["ipv4", "url", "domain"]), rng.choice(exact),
                 rng.choice([None, "not-an-address", "::1", ""])),
    ]
    events = []
    for line in range(n):
        kind, value, ip = rng.choice(makers)()
        events.append(Event(line, "", value, kind, ip=ip))
    return events


@pytest.fixture(scope="module")
def synthetic_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lists")
    write_lists(folder)
    index = wl._Index(folder)
    assert len(index.names) > 64  # masks do not fit a machine word
    return index


@pytest.fixture(scope="module")
def misp_index():
    index = wl.index()
    if index is None:
        pytest.skip("pymispwarninglists is not installed")
    return index


@pytest.mark.parametrize("which", ["synthetic_index", "misp_index"])
def test_batch_masks_equal_the_per_value_bits(request, which):
    index = request.getfixturevalue(which)
    events = varied_events(index, random.Random(22), 6000)
    masks = index.masks(events, {})
    assert masks == [index.bits(e.value_type, e.value, e.ip) for e in events]
    assert sum(1 for mask in masks if mask) > 600  # the sample does hit the lists


@pytest.mark.parametrize("which", ["synthetic_index", "misp_index"])
def test_flagger_names_the_lists_the_previous_loop_named(request, which, monkeypatch):
    index = request.getfixturevalue(which)
    monkeypatch.setattr(wl, "HOST_CACHE_SIZE", 50)  # the host cache is reset along the way
    events = varied_events(index, random.Random(23), 8000)
    expected = flag_per_event(index, events)
    flagger = WarninglistFlagger(enabled=False)
    flagger.index = index
    for start in range(0, len(events), 1000):  # one flagger, batch after batch, as a run does
        flagger.process(events[start:start + 1000])
    assert [event.warninglists for event in events] == expected
    assert sum(1 for names in expected if names) > 500


def test_flags_known_values_of_the_misp_lists(misp_index):
    events = [Event(1, "", "8.8.8.8", "ipv4", ip="8.8.8.8"),
              Event(2, "", "http://8.8.8.8:53/x", "url", ip="8.8.8.8"),
              Event(3, "", "10.1.2.3", "ipv4"), Event(4, "", "192.0.2.200", "ipv4")]
    flagger = WarninglistFlagger()
    flagger.index = misp_index
    flagger.process(events)
    dns, url_on_dns, private, documentation = (event.warninglists for event in events)
    assert any("DNS" in name for name in dns)
    assert not any("DNS" in name for name in url_on_dns)  # address lists apply to addresses
    assert any("1918" in name for name in private)
    assert documentation


def test_synthetic_lists_apply_to_their_value_types(synthetic_index):
    events = [Event(1, "", "10.1.2.3", "ipv4"), Event(2, "", "https://www.example.com/", "url"),
              Event(3, "", "www.example.com", "domain"), Event(4, "", "abuse@example.org",
                                                               "email"),
              Event(5, "", "d41d8cd98f00b204e9800998ecf8427e", "md5")]
    flagger = WarninglistFlagger(enabled=False)
    flagger.index = synthetic_index
    flagger.process(events)
    address, url, domain, email, md5 = (set(event.warninglists) for event in events)
    assert {"ranges-a", "ranges-b", "strings", "random-00"} <= address
    assert "hosts-urls" in url
    assert "hosts" in url
    assert "hosts-urls" not in domain
    assert "hosts" in domain
    assert email == {"emails"}
    assert md5 == {"hashes", "strings"}


# --- router -------------------------------------------------------------------------------------
class PerValueRouter:
    """The router's previous code: every distinct lookup value through resolve_many."""

    def __init__(self):
        self.cache: dict = {}

    def process(self, events: list[Event]) -> None:
        targets = [event for event in events if event.ip or event.value_type not in HASH_TYPES]
        keys = [event.ip or event.value for event in targets]
        missing = list(dict.fromkeys(key for key in keys if key not in self.cache))
        self.cache.update(zip(missing, resolve_many(missing), strict=True))
        for event, key in zip(targets, keys, strict=True):
            result = self.cache[key]
            if result.error:
                continue
            if result.country:
                event.country = result.country
            if result.asn is not None:
                event.asn = result.asn
            if result.matches:
                event.matches = result.matches
                event.rule = result.matches[0].rule


@pytest.fixture
def routed_world(world, settings, tmp_path):
    """The lookup tests' directory (nested prefixes, ASNs, countries) and IP-to-ASN data."""
    v4, v6 = register_directory(world)
    settings.ASN_DB = str(asn_table(tmp_path, v4, v6))
    return v4, v6


def feed_events(v4, v6, seed: int) -> list[Event]:
    """Normalised events as parsers give them: addresses (with the feed's own country and AS),
    URLs with the address they resolved to, names, e-mail addresses, hashes, bad values."""
    rng = random.Random(seed)
    values = lookup_sample(v4, v6, seed)
    raw = []
    for line, value in enumerate(values, 1):
        feed_country, feed_asn = rng.choice([("", None), ("ZZ", 65000)])
        raw.append(Event(line, "", value, asn=feed_asn, country=feed_country))
        if rng.random() < 0.2:  # a URL with its address, as URLhaus gives them
            address = str(ipaddress.IPv4Address(rng.getrandbits(32)))
            raw.append(Event(line, "", f"http://{value}:8080/x", "url",
                             ip=rng.choice([address, value])))
        if rng.random() < 0.05:
            raw.append(Event(line, "", f"{rng.getrandbits(128):032x}", "md5",
                             ip=rng.choice([None, value])))
        if rng.random() < 0.05:
            raw.append(Event(line, "", f"abuse@example{line}.co.th", "email"))
    bad: list[Bad] = []
    events = Normaliser().process(raw, bad)
    rng.shuffle(events)
    return events


def routed(events: list[Event]) -> list[tuple]:
    return [(e.country, e.asn, e.matches, e.rule) for e in events]


@pytest.mark.parametrize("cache_size", [route.CACHE_SIZE, 700])
def test_router_routes_as_the_previous_router(routed_world, monkeypatch, cache_size):
    monkeypatch.setattr(route, "CACHE_SIZE", cache_size)  # 700: the cache is reset in a run
    events = feed_events(*routed_world, seed=24)
    reference = feed_events(*routed_world, seed=24)
    router, previous = Router(), PerValueRouter()
    for start in range(0, len(events), 500):
        router.process(events[start:start + 500])
        previous.process(reference[start:start + 500])
    assert routed(events) == routed(reference)
    rules = {event.rule for event in events}
    assert {"prefix", "asn", "country", "domain", ""} <= rules
    assert any(event.country == "ZZ" for event in events)  # the feed's, when the lookup has none
    assert all(event.rule == "" for event in events if event.value_type in HASH_TYPES
               and not event.ip)
