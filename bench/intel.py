"""Benchmark of threat-intelligence import and lookup (issue 3), through the HTTP API.

    python bench/intel.py [--n 100000] [--observables 1000000] [--lookups 1000] [--batch 10000]

Uses DATABASE_URL when set (in a throwaway test database created next to it, never the database
itself), else a temporary SQLite file. Data is generated deterministically (--seed):

1. import: a STIX 2.1 bundle of n indicators (IPv4, domain, URL and SHA-256 patterns, one
   value each) POSTed to /api/v1/intel/import/stix with a Bearer token; objects/s end to end
   (request parsing, validation, planning, storage, audit, response);
2. with --observables values stored (spread over --reports reports of three organisations at
   mixed TLP, written with COPY/bulk inserts), --lookups single-value GET /api/v1/intel/lookup
   requests (half hits, half misses), p50/p99 in ms;
3. one POST /api/v1/intel/lookup of --batch values (half hits), seconds, best of three.

Also reports the warning lists' load time and resident memory (first build, and from the disk
cache in a new process) and the machine's load average. The last line printed is one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
sys.path.insert(0, str(SRC))

TLDS = ["com", "net", "org", "io", "th", "co.th", "sg", "com.my", "id", "vn", "ph"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="indicators in the bundle")
    parser.add_argument("--observables", type=int, default=1_000_000,
                        help="observables stored before the lookups")
    parser.add_argument("--reports", type=int, default=500, help="reports holding them")
    parser.add_argument("--lookups", type=int, default=1000, help="single-value requests")
    parser.add_argument("--batch", type=int, default=10_000, help="values in the batch lookup")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="certhub-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhub.config.settings")
    os.environ["CERTHUB_DATA_DIR"] = str(workdir)
    os.environ["CERTHUB_API_RATE_LIMIT"] = "10000000/m"  # measure the work, not the throttle
    os.environ["CERTHUB_ALLOWED_HOSTS"] = "testserver,localhost"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    vendor = connection.vendor
    test_db = None
    if vendor == "sqlite":
        call_command("migrate", verbosity=0)
    else:
        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True,
                                                   serialize=False)
    try:
        print(json.dumps(run(args, vendor)))
    finally:
        if test_db is not None:
            connection.creation.destroy_test_db(test_db, verbosity=0)


def database_cpu_s() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (0 elsewhere)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # a database on another host
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ipv4(rng: random.Random) -> str:
    # Public-looking addresses outside the ranges warning lists hold whole (private, TEST-NET).
    return ".".join(str(part) for part in (rng.randint(11, 99), rng.randint(0, 255),
                                           rng.randint(0, 255), rng.randint(1, 254)))


def domain(rng: random.Random, number: int) -> str:
    return f"h{number:x}-{rng.randint(0, 10**6)}.bench-{number % 977}.{rng.choice(TLDS)}"


def indicator_bundle(rng: random.Random, n: int) -> dict:
    objects = []
    for number in range(n):
        kind = number % 4
        if kind == 0:
            pattern = f"[ipv4-addr:value = '{ipv4(rng)}']"
        elif kind == 1:
            pattern = f"[domain-name:value = '{domain(rng, number)}']"
        elif kind == 2:
            pattern = f"[url:value = 'http://{domain(rng, number)}/p/{number}']"
        else:
            pattern = f"[file:hashes.'SHA-256' = '{rng.getrandbits(256):064x}']"
        objects.append({
            "type": "indicator", "spec_version": "2.1",
            "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            "created": "2026-01-05T10:00:00.000Z", "modified": "2026-01-05T10:00:00.000Z",
            "name": f"Benchmark indicator {number}", "indicator_types": ["malicious-activity"],
            "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-01-05T10:00:00Z"})
    return {"type": "bundle", "id": f"bundle--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            "objects": objects}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(args, vendor: str) -> dict:
    from django.test import Client

    from certhub.accounts import tokens
    from certhub.accounts.models import Role, TokenScope, User
    from certhub.directory.models import Organisation
    from certhub.intel import warninglists

    rng = random.Random(args.seed)
    summary: dict = {"database": vendor, "n": args.n, "observables": args.observables}

    before = rss_mb()
    started = time.perf_counter()
    warninglists.check("ipv4-addr", "8.8.8.8")
    summary["warninglists_build_s"] = round(time.perf_counter() - started, 3)
    summary["warninglists_build_rss_mb"] = round(rss_mb() - before, 1)
    summary.update(warninglists_from_cache())
    summary["loadavg_start"] = round(os.getloadavg()[0], 2)

    orgs = [Organisation.objects.create(name=name, short_name=name, slug=name.lower(),
                                        kind="national_cert", country=country)
            for name, country in (("BenchA", "TH"), ("BenchB", "MY"), ("BenchC", "SG"))]
    users = [User.objects.create_user(f"analyst@{org.slug}.example", "bench password 123",
                                      organisation=org, role=Role.ANALYST) for org in orgs]
    token = tokens.issue(users[0], name="bench", scope=TokenScope.WRITE)[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    # 1. Import through the API.
    body = json.dumps(indicator_bundle(rng, args.n)).encode()
    server_before = database_cpu_s()
    cpu_before = time.process_time()
    started = time.perf_counter()
    response = client.post("/api/v1/intel/import/stix?tlp=green", body,
                           content_type="application/json")
    elapsed = time.perf_counter() - started
    # CPU seconds spent, here and in the database server process: unlike the wall time, they
    # do not grow when other programs share the two cores.
    python_cpu = time.process_time() - cpu_before
    database_cpu = database_cpu_s() - server_before
    summary["import_python_cpu_s"] = round(python_cpu, 3)
    summary["import_database_cpu_s"] = round(database_cpu, 3)
    summary["import_objects_per_cpu_s"] = round(args.n / (python_cpu + database_cpu))
    if response.status_code != 201:
        raise SystemExit(f"import failed: {response.status_code} {response.content[:500]!r}")
    summary["import_s"] = round(elapsed, 3)
    summary["import_objects_per_s"] = round(args.n / elapsed)
    print(f"imported {args.n} indicators in {elapsed:.2f} s ({args.n / elapsed:.0f}/s)",
          file=sys.stderr)

    # 2. A million observables, then single lookups.
    started = time.perf_counter()
    stored = store_observables(rng, args, orgs, users)
    summary["generate_s"] = round(time.perf_counter() - started, 1)
    hits = rng.sample(stored, min(len(stored), max(args.lookups, args.batch)))
    misses = [ipv4(random.Random(args.seed + 1 + i)) .replace(".", ".1", 1)
              for i in range(max(args.lookups, args.batch))]
    reader = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(users[1], name='r')[1]}")
    for value in hits[:20]:  # warm up: connection, caches
        reader.get("/api/v1/intel/lookup", {"value": value})
    latencies = []
    found = 0
    server_before, cpu_before = database_cpu_s(), time.process_time()
    for number in range(args.lookups):
        value = hits[number // 2] if number % 2 == 0 else misses[number // 2]
        started = time.perf_counter()
        response = reader.get("/api/v1/intel/lookup", {"value": value})
        latencies.append((time.perf_counter() - started) * 1000)
        found += response.json()["found"]
    cpu = time.process_time() - cpu_before + database_cpu_s() - server_before
    summary["lookup_cpu_ms_per_request"] = round(cpu / args.lookups * 1000, 2)
    summary["lookup_p50_ms"] = round(percentile(latencies, 0.50), 2)
    summary["lookup_p99_ms"] = round(percentile(latencies, 0.99), 2)
    summary["lookup_found"] = found
    print(f"single lookups: p50 {summary['lookup_p50_ms']} ms, p99 {summary['lookup_p99_ms']} ms",
          file=sys.stderr)

    # 3. Batch lookup.
    half = args.batch // 2
    batch = hits[:half] + misses[:args.batch - half]
    rng.shuffle(batch)
    payload = json.dumps({"values": batch})
    best = float("inf")
    server_before, cpu_before = database_cpu_s(), time.process_time()
    for _ in range(3):
        started = time.perf_counter()
        response = reader.post("/api/v1/intel/lookup", payload, content_type="application/json")
        best = min(best, time.perf_counter() - started)
    summary["batch_cpu_s"] = round((time.process_time() - cpu_before + database_cpu_s()
                                    - server_before) / 3, 3)
    summary["batch_values"] = len(batch)
    summary["batch_s"] = round(best, 3)
    summary["batch_found"] = response.json()["found"]
    print(f"batch of {len(batch)}: {best:.3f} s", file=sys.stderr)
    summary["loadavg_end"] = round(os.getloadavg()[0], 2)
    return summary


_CACHED_LOAD = """
import json, time, django
django.setup()
from pathlib import Path
def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
from certhub.intel import warninglists
before, started = rss(), time.perf_counter()
warninglists.check("ipv4-addr", "8.8.8.8")
print(json.dumps({"warninglists_cached_load_s": round(time.perf_counter() - started, 3),
                  "warninglists_cached_rss_mb": round(rss() - before, 1)}))
"""


def warninglists_from_cache() -> dict:
    """Load time and memory of the warning lists in a new process, from the on-disk cache the
    first load wrote (what every server process after the first one pays)."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", _CACHED_LOAD], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(SRC)}, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def store_observables(rng: random.Random, args, orgs, users) -> list[str]:
    """--observables values in --reports reports (mixed owners and TLPs, some AMBER shared with
    the second organisation), written in bulk. Returns the values readable by the reader
    (users[1])."""
    from django.db import connection
    from django.utils import timezone

    from certhub.intel.models import Observable, Report

    tlps = ["green", "amber", "clear", "amber", "red"]
    reports = []
    for number in range(args.reports):
        owner = number % 3
        report = Report.unrestricted.create(
            owner=orgs[owner], created_by=users[owner], tlp=tlps[number % len(tlps)],
            stix_id=f"report--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            title=f"Bench report {number}", source="feed")
        if report.tlp == "amber" and owner != 1:
            report.audience_orgs.add(orgs[1])
        reports.append(report)
    visible = {r.pk for r in Report.objects.visible_to(users[1])}
    now = timezone.now()
    per_report = max(1, args.observables // len(reports))
    readable = []
    rows = []
    for index in range(args.observables):
        report = reports[min(index // per_report, len(reports) - 1)]
        if index % 2:
            kind, value = "ipv4-addr", ipv4(rng)
        else:
            kind, value = "domain-name", domain(rng, index)
        rows.append((report.pk, kind, value, now, now, True))
        if report.pk in visible and len(readable) < 50_000:
            readable.append(value)
    columns = ("report_id", "type", "value", "first_seen", "last_seen", "to_ids")
    if connection.vendor == "postgresql":
        defaults = ("comment", "misp_type", "misp_value", "misp_category", "misp_part",
                    "misp_object_relation")
        with connection.cursor() as cursor:
            names = ", ".join(columns + defaults)
            with cursor.cursor.copy(f"COPY intel_observable ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, "", "", "", "", 0, ""))
        with connection.cursor() as cursor:
            # As a production table would be: vacuumed and analysed, so that autovacuum does
            # not start on the fresh million rows in the middle of the measurement.
            cursor.execute("VACUUM ANALYZE intel_observable")
            cursor.execute("VACUUM ANALYZE intel_report")
    else:
        Observable.unrestricted.bulk_create(
            [Observable(report_id=r[0], type=r[1], value=r[2], first_seen=r[3], last_seen=r[4],
                        to_ids=r[5]) for r in rows], batch_size=5000)
    print(f"stored {len(rows)} observables in {len(reports)} reports", file=sys.stderr)
    return readable


if __name__ == "__main__":
    main()
