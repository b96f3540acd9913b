"""Micro-benchmark of the two costliest experts of the feed pipeline (issue 5): the warning-list
flagger and the router, per event, before and after their batch (vectorised) rewrite.

    python bench/experts.py --n 100000 [--batch-size 10000] [--repeat 5] [--no-asn]

Uses DATABASE_URL when set (in a throwaway test database created next to it, never the database
itself), else a temporary SQLite file. Loads the directory of bench/lookup.py (the eleven ASEAN
national CERTs with countries, ASNs, prefixes, plus extra prefixes and domain suffixes), a
synthetic IP-to-ASN table (unless --no-asn), and generates n normalised events with a fixed seed
in the mix of the feeds the hub takes (URLhaus-like URLs with the address they resolved to,
public IPv4 addresses, some repeated and some in registered prefixes, IPv6 addresses, prefixes,
domains, email addresses, hashes; a few values known to the warning lists).

"before" is the previous per-event code, kept here as it was: ``_Index.bits`` per value for the
flagger, ``resolve_many`` per distinct value for the router. "after" is the experts as they are.
Each runs in batches of --batch-size with a fresh expert (an empty routing cache); the lookup
alone is also timed on the distinct IPv4 addresses (``resolve_many`` against
``route_addresses``). Runs are interleaved, --repeat times, the best counts, in CPU time of the
process (a busy machine distorts it less than wall time). Before and after must give the same
flags and routes (``"same"`` in the output).

The last line printed is one JSON object (CPU µs per event, or per address for the lookup):
{"n", "warninglists_before_us", "warninglists_after_us", "router_before_us", "router_after_us",
 "lookup_ipv4_before_us", "lookup_ipv4_after_us", "same", "database", "asn_data", ...}
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))
sys.path.insert(0, str(BENCH))

import lookup as lookup_bench  # noqa: E402  (bench/lookup.py: directory and ASN table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="events")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each; the best counts")
    parser.add_argument("--asn-ranges", type=int, default=200_000,
                        help="rows of the synthetic IP-to-ASN table")
    parser.add_argument("--no-asn", action="store_true", help="run without IP-to-ASN data")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="certhub-bench-experts-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhub.config.settings")
    os.environ["CERTHUB_DATA_DIR"] = str(workdir)
    os.environ["CERTHUB_ASN_DB"] = "" if args.no_asn else str(lookup_bench.synthetic_asn_table(
        workdir / "ip2asn-combined.tsv", args.asn_ranges, args.seed))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    vendor = connection.vendor
    test_db = None
    if vendor == "sqlite":
        call_command("migrate", verbosity=0)
    else:  # never write benchmark rows into the configured database itself
        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(json.dumps(run(args, vendor)))
    finally:
        if test_db is not None:
            connection.creation.destroy_test_db(test_db, verbosity=0)


def run(args, vendor: str) -> dict:
    from certhub.directory.lookup import ipdata, resolve_many, route_addresses
    from certhub.feeds.connectors.experts import Router, WarninglistFlagger
    from certhub.feeds.connectors.experts.warninglists import index

    rng = random.Random(args.seed)
    lookup_bench.load_directory(rng, 400)
    flags_index = index()
    if flags_index is None:
        sys.exit("pymispwarninglists is not installed: nothing to measure for the flagger")
    values = make_values(rng, args.n, flags_index)
    source = ipdata.asn_source()
    resolve_many(["1.1.1.1"])  # warm up: index, IP data, translations
    addresses = list(dict.fromkeys(value for kind, value, _ip in values if kind == "ipv4"))

    only_ipv4 = [value for value in values if value[0] == "ipv4"]
    only_urls = [value for value in values if value[0] == "url"]

    def run_experts(make, process, sample=values) -> tuple[float, list]:
        events, expert = make_events(sample), make()
        gc.collect()  # start each run with the collector's counters at zero, not mid-way
        started = time.process_time()  # CPU time: other processes on the machine count less
        for start in range(0, len(events), args.batch_size):
            process(expert, events[start:start + args.batch_size])
        return (time.process_time() - started) / len(events) * 1e6, events

    def run_lookup(lookup) -> tuple[float, list]:
        gc.collect()
        started = time.process_time()
        found = lookup(addresses)
        return (time.process_time() - started) / len(addresses) * 1e6, found

    contenders = {
        "warninglists_before": lambda: run_experts(lambda: PerValueFlagger(flags_index),
                                                   PerValueFlagger.process),
        "warninglists_after": lambda: run_experts(WarninglistFlagger, WarninglistFlagger.process),
        "router_before": lambda: run_experts(PerValueRouter, PerValueRouter.process),
        "router_after": lambda: run_experts(Router, Router.process),
        # The flagger on feeds of one kind: addresses only (Shadowserver, Feodo), URLs only
        # (URLhaus, with the address each resolved to).
        "warninglists_ipv4_before": lambda: run_experts(lambda: PerValueFlagger(flags_index),
                                                        PerValueFlagger.process, only_ipv4),
        "warninglists_ipv4_after": lambda: run_experts(WarninglistFlagger,
                                                       WarninglistFlagger.process, only_ipv4),
        "warninglists_url_before": lambda: run_experts(lambda: PerValueFlagger(flags_index),
                                                       PerValueFlagger.process, only_urls),
        "warninglists_url_after": lambda: run_experts(WarninglistFlagger,
                                                      WarninglistFlagger.process, only_urls),
        "lookup_ipv4_before": lambda: run_lookup(resolve_many),
        "lookup_ipv4_after": lambda: run_lookup(route_addresses),
    }
    best = dict.fromkeys(contenders, float("inf"))
    outcome = {}
    for _ in range(args.repeat):  # interleaved, so that a busy moment does not favour one
        for name, contender in contenders.items():
            seconds, outcome[name] = contender()
            best[name] = min(best[name], seconds)
    flags = {name: [event.warninglists for event in outcome[f"warninglists_{name}"]]
             for name in ("before", "after")}
    routes = {name: [routed(event) for event in outcome[f"router_{name}"]]
              for name in ("before", "after")}
    lookups = [(result.country, result.asn, result.matches)
               for result in outcome["lookup_ipv4_before"]]
    same = (flags["before"] == flags["after"] and routes["before"] == routes["after"]
            and lookups == outcome["lookup_ipv4_after"])
    summary = {"n": args.n, "batch_size": args.batch_size, "ipv4_addresses": len(addresses)}
    for name in ("warninglists", "warninglists_ipv4", "warninglists_url", "router",
                 "lookup_ipv4"):
        before, after = best[f"{name}_before"], best[f"{name}_after"]
        summary |= {f"{name}_before_us": round(before, 2), f"{name}_after_us": round(after, 2),
                    f"{name}_speedup": round(before / after, 1)}
        print(f"{name}: {before:.2f} → {after:.2f} µs", file=sys.stderr)
    summary |= {
        "same": same,
        "flagged": sum(1 for names in flags["after"] if names),
        "routed": sum(1 for route in routes["after"] if route[2]),
        "database": "postgresql" if vendor == "postgresql" else vendor,
        "asn_data": "none" if source is None else "synthetic",
        "load_avg_1m": os.getloadavg()[0],
    }
    return summary


def routed(event) -> tuple:
    return event.country, event.asn, event.matches, event.rule


# --- the previous code, per value ---------------------------------------------------------------
class PerValueFlagger:
    """The flagger as it was: ``_Index.bits`` event by event."""

    def __init__(self, index):
        self.index = index
        self.names: dict = {}

    def process(self, events) -> None:
        index, names_cache = self.index, self.names
        for event in events:
            mask = index.bits(event.value_type, event.value, event.ip)
            if mask:
                signature = (mask, event.value_type)
                names = names_cache.get(signature)
                if names is None:
                    names = names_cache[signature] = index.names_for(mask, event.value_type)
                if names:
                    event.warninglists = names


class PerValueRouter:
    """The router as it was: every distinct lookup value through resolve_many."""

    def __init__(self):
        self.cache: dict = {}

    def process(self, events) -> None:
        from certhub.directory.lookup import resolve_many
        from certhub.feeds.connectors.events import HASH_TYPES
        from certhub.feeds.connectors.experts.route import CACHE_SIZE

        targets = [event for event in events if event.ip or event.value_type not in HASH_TYPES]
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


# --- events -------------------------------------------------------------------------------------
def make_values(rng: random.Random, n: int, flags_index) -> list[tuple[str, str, str | None]]:
    """(value_type, value, ip) as the normaliser leaves them; about 15% repeat an earlier one."""
    public_ipv4, int_to_ipv4 = lookup_bench.public_ipv4, lookup_bench.int_to_ipv4
    listed_hosts = sorted(flags_index.hosts)[:5000]
    listed_hashes = [text for text in sorted(flags_index.hash_like) if len(text) == 32][:2000]
    registered = [(1 << 24) | (128 << 8), (175 << 24) | (136 << 16)]  # 1.0.128.0, 175.136.0.0

    def ipv4():
        number = (rng.choice(registered) + rng.randint(0, 1 << 15) if rng.random() < 0.1
                  else public_ipv4(rng))
        address = int_to_ipv4(number)
        return "ipv4", address, address

    def ipv6():
        address = f"2{rng.randint(0x001, 0xfff):03x}:{rng.randint(0, 0xffff):x}::" \
                  f"{rng.randint(1, 0xffff):x}"
        return "ipv6", address, address

    def host():
        return rng.choice(listed_hosts) if rng.random() < 0.05 else lookup_bench.host_name(rng)

    def url():
        if rng.random() < 0.1:  # on a name, without its address
            return "url", f"{rng.choice(['http', 'https'])}://{host()}/" \
                          f"{rng.choice(['login.php', 'wp-admin/', 'a/b?c=1', ''])}", None
        # URLhaus: on an address (70%) or a name, with the address it resolved to
        address = int_to_ipv4(public_ipv4(rng))
        name = address if rng.random() < 0.7 else host()
        return "url", f"http://{name}:{rng.choice([80, 443, 8080])}/" \
                      f"{rng.choice(['bins/x86', 'i', 'Mozi.m'])}", address

    def md5():
        return "md5", (rng.choice(listed_hashes) if rng.random() < 0.05
                       else f"{rng.getrandbits(128):032x}"), None

    def prefix():
        length = rng.randint(16, 28)
        base = public_ipv4(rng) >> (32 - length) << (32 - length)
        return "prefix", f"{int_to_ipv4(base)}/{length}", None

    makers = [(45, url), (35, ipv4), (3, ipv6), (3, prefix), (6, lambda: ("domain", host(), None)),
              (3, lambda: ("email", f"abuse{rng.randint(1, 99)}@{host()}", None)), (5, md5)]
    chosen = rng.choices([maker for _, maker in makers], weights=[w for w, _ in makers], k=n)
    values: list[tuple[str, str, str | None]] = []
    for maker in chosen:
        values.append(rng.choice(values) if values and rng.random() < 0.15 else maker())
    return values


def make_events(values):
    from certhub.feeds.connectors.events import Event

    return [Event(line, "", value, value_type, ip=ip)
            for line, (value_type, value, ip) in enumerate(values, 1)]


if __name__ == "__main__":
    main()
