"""Benchmark of the batch responsibility lookup (issue 2, point 4).

    python bench/lookup.py --n 100000 [--asn-db ip2asn-combined.tsv.gz | --no-asn]

Uses DATABASE_URL when set (in a throwaway test database created next to it, never the database
itself), else a temporary SQLite file. Loads a realistic directory (the eleven ASEAN national
CERTs with their country and ccTLD, some ASNs and prefixes, plus a few hundred extra prefixes and
domain suffixes), generates n mixed values with a fixed seed (public IPv4 and IPv6 addresses,
host names, URLs, email addresses, AS numbers, country codes, a few malformed values) and times
the index build and resolve_many, best of three. Without --asn-db a synthetic IP-to-ASN table in
the iptoasn.com layout (--asn-ranges rows) is generated, so the ASN tier is exercised too.

The last line printed is one JSON object:
{"n", "build_s", "resolve_s", "per_value_us", "database", ...}.
The organisations, ASNs and prefixes here are benchmark data, not directory facts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
sys.path.insert(0, str(SRC))

# (country, short name, ccTLD, ASNs, prefixes): benchmark data, not directory facts.
NATIONAL_CERTS = [
    ("BN", "BruCERT", "bn", [10094], ["202.160.0.0/19"]),
    ("KH", "CamCERT", "kh", [17726], ["203.144.64.0/19"]),
    ("ID", "BSSN", "id", [7713, 4761], ["118.96.0.0/13", "2001:4488::/32"]),
    ("LA", "LaoCERT", "la", [9873], ["115.84.96.0/19"]),
    ("MY", "MyCERT", "my", [4788, 9534], ["175.136.0.0/13", "2001:e68::/32"]),
    ("MM", "mmCERT", "mm", [9988], ["103.25.12.0/22"]),
    ("PH", "CERT-PH", "ph", [9299], ["112.198.0.0/16", "2001:4450::/32"]),
    ("SG", "SingCERT", "sg", [7473, 3758], ["203.116.0.0/16", "2406:3000::/32"]),
    ("TH", "ThaiCERT", "th", [7470, 4651], ["1.0.128.0/17", "2001:c38::/32"]),
    ("VN", "VNCERT/CC", "vn", [45899, 7552], ["113.160.0.0/11", "2001:ee0::/32"]),
    ("TL", "TLCERT", "tl", [], []),
]
TLDS = ["com", "net", "org", "io", "th", "co.th", "go.th", "sg", "com.sg", "my", "com.my",
        "id", "co.id", "ph", "vn", "com.vn", "kh", "la", "mm", "bn", "tl", "uk", "de", "jp"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="values per batch")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--extra", type=int, default=400,
                        help="extra prefixes and domain suffixes in the directory")
    parser.add_argument("--asn-db", help="a real iptoasn.com TSV (.gz) or ASN .mmdb to use")
    parser.add_argument("--asn-ranges", type=int, default=200_000,
                        help="rows of the synthetic IP-to-ASN table")
    parser.add_argument("--no-asn", action="store_true", help="run without IP-to-ASN data")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="certhub-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhub.config.settings")
    os.environ["CERTHUB_DATA_DIR"] = str(workdir)
    if not args.no_asn:
        os.environ["CERTHUB_ASN_DB"] = args.asn_db or str(
            synthetic_asn_table(workdir / "ip2asn-combined.tsv", args.asn_ranges, args.seed))
    else:
        os.environ["CERTHUB_ASN_DB"] = ""

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
    from certhub.directory import lookup
    from certhub.directory.lookup import index, ipdata

    rng = random.Random(args.seed)
    load_directory(rng, args.extra)
    values = make_values(rng, args.n)

    started = time.perf_counter()
    source = ipdata.asn_source()
    asn_load = time.perf_counter() - started

    build = best_of(3, index.build)
    lookup.invalidate()
    lookup.resolve_many(values[:10])  # warm up: index, IP data, translations
    results = None

    def resolve():
        nonlocal results
        results = lookup.resolve_many(values)

    resolve_s = best_of(3, resolve)
    rules: dict[str, int] = {}
    for result in results:
        key = "error" if result.error else (result.rule or "none")
        rules[key] = rules.get(key, 0) + 1
    summary = {
        "n": len(values),
        "build_s": round(build, 4),
        "resolve_s": round(resolve_s, 4),
        "per_value_us": round(resolve_s / len(values) * 1e6, 2),
        "database": "postgresql" if vendor == "postgresql" else vendor,
        "asn_data": "none" if source is None else Path(source.description).name,
        "asn_load_s": round(asn_load, 3),
        "rules": dict(sorted(rules.items())),
    }
    print(f"resolved {summary['n']} values in {summary['resolve_s']} s "
          f"({summary['per_value_us']} µs each); index built in {summary['build_s']} s",
          file=sys.stderr)
    return summary


def best_of(times: int, func) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - started)
    return best


def load_directory(rng: random.Random, extra: int) -> None:
    from django.db import transaction

    from certhub.directory.models import ConstituencyEntry, Organisation

    entries = []
    with transaction.atomic():
        orgs = []
        for country, short_name, tld, asns, prefixes in NATIONAL_CERTS:
            org = Organisation.objects.create(
                name=f"{short_name} (benchmark)", short_name=short_name,
                slug=short_name.lower().replace("/", "-"), kind="national_cert",
                country=country)
            orgs.append(org)
            entries += [(org, "country", country), (org, "domain", tld)]
            entries += [(org, "asn", str(asn)) for asn in asns]
            entries += [(org, "prefix", prefix) for prefix in prefixes]
        for number in range(extra // 20):  # banks, universities, ... with their own space
            org = Organisation.objects.create(name=f"Member {number} (benchmark)",
                                              short_name=f"Member {number}",
                                              slug=f"member-{number}", kind="private_sector")
            orgs.append(org)
        for number in range(extra):
            org = rng.choice(orgs)
            if number % 2:
                length = rng.randint(16, 24)
                base = public_ipv4(rng) >> (32 - length) << (32 - length)
                entries.append((org, "prefix", f"{int_to_ipv4(base)}/{length}"))
            else:
                entries.append((org, "domain", f"org{number}.{rng.choice(TLDS)}"))
        ConstituencyEntry.objects.bulk_create(
            [ConstituencyEntry(organisation=org, kind=kind, value=value)
             for org, kind, value in entries], ignore_conflicts=True)


def make_values(rng: random.Random, n: int) -> list[str]:
    asns = [4788, 7470, 7473, 15169, *(rng.randint(1, 400_000) for _ in range(200))]
    makers = [(60, lambda: int_to_ipv4(public_ipv4(rng))),
              (8, lambda: f"2{rng.randint(0x001, 0xfff):03x}:{rng.randint(0, 0xffff):x}::"
                          f"{rng.randint(1, 0xffff):x}"),
              (12, lambda: host_name(rng)),
              (8, lambda: f"{rng.choice(['http', 'https', 'hxxp'])}://{host_name(rng)}/"
                          f"{rng.choice(['login.php', 'wp-admin/', 'a/b?c=1', ''])}"),
              (6, lambda: f"user{rng.randint(1, 999)}@{host_name(rng)}"),
              (4, lambda: rng.choice(["AS", ""]) + str(rng.choice(asns))),
              (1, lambda: rng.choice(["TH", "SG", "MY", "US", "vn", "id"])),
              (1, lambda: rng.choice(["999.1.1.1", "not a value!!", "AS99999999999"]))]
    weights = [weight for weight, _ in makers]
    chosen = rng.choices([maker for _, maker in makers], weights=weights, k=n)
    return [maker() for maker in chosen]


def host_name(rng: random.Random) -> str:
    label = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 12)))
    sub = rng.choice(["", "www.", "mail.", "cdn."])
    return f"{sub}{label}.{rng.choice(TLDS)}"


def public_ipv4(rng: random.Random) -> int:
    while True:
        value = rng.randint(1 << 24, (224 << 24) - 1)
        first = value >> 24
        if first not in (10, 127) and not (first == 192 and (value >> 16) & 0xFF == 168):
            return value


def int_to_ipv4(value: int) -> str:
    return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def synthetic_asn_table(path: Path, rows: int, seed: int) -> Path:
    """Consecutive IPv4 ranges over 1.0.0.0-223.255.255.255 in the iptoasn.com TSV layout."""
    rng = random.Random(seed)
    start, stop = 1 << 24, 224 << 24
    average = (stop - start) // rows
    known = [4788, 7470, 7473, 7713, 9299, 45899, 15169, 13335]
    with path.open("w", encoding="utf-8") as handle:
        while start < stop:
            end = min(stop - 1, start + rng.randint(1, 2 * average))
            asn = rng.choice(known) if rng.random() < 0.05 else (
                0 if rng.random() < 0.1 else rng.randint(1, 400_000))
            country = rng.choice(["TH", "SG", "MY", "US", "DE", "CN", "None"])
            name = "Not routed" if asn == 0 else f"BENCH-AS{asn}"
            handle.write(f"{int_to_ipv4(start)}\t{int_to_ipv4(end)}\t{asn}\t{country}\t{name}\n")
            start = end + 1
    return path


if __name__ == "__main__":
    main()
