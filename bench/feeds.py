"""Benchmark of the feed pipeline end to end (issue 5): parse, enrich, classify, dedupe, route,
store.

    python bench/feeds.py --n 1000000 [--format urlhaus|feodo] [--batch-size 10000]
                          [--workers N]

Generates the feed with ../shared/bench/gen_feed.py (--seed 42, 10% duplicate rows) into a
temporary folder, uses DATABASE_URL when set (in a throwaway test database created next to it,
never the database itself), else a temporary SQLite file; migrates, loads a directory of the
eleven ASEAN national CERTs with their countries, and runs the feed through the pipeline.
Peak memory is the process's maximum resident set size (it includes Django and the IP data).
With ``--workers N`` (N > 1) the input is split into parts whatever its size and N worker
processes take them (``run_feed(workers=N)``); their CPU time and the largest worker's peak
memory are reported apart ("workers_cpu_s", "worker_peak_rss_mb").

Clean URLhaus batches take the columnar path (ADR 0005); ``CERTHUB_FEEDS_COLUMNAR=false``
measures the event path instead.

The last line printed is one JSON object:
{"n", "events_per_s", "seconds", "peak_rss_mb", "findings", "duplicates", "database", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
GENERATOR = Path(os.environ.get("CERTHUB_GEN_FEED", "/work/shared/bench/gen_feed.py"))
if not GENERATOR.exists():
    GENERATOR = ROOT.parent / "shared" / "bench" / "gen_feed.py"

# (country, short name): the national CERTs, routed by country.
NATIONAL_CERTS = [("BN", "BruCERT"), ("KH", "CamCERT"), ("ID", "BSSN"), ("LA", "LaoCERT"),
                  ("MY", "MyCERT"), ("MM", "mmCERT"), ("PH", "CERT-PH"), ("SG", "SingCERT"),
                  ("TH", "ThaiCERT"), ("VN", "VNCERT/CC"), ("TL", "TLCERT")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="lines in the generated feed")
    parser.add_argument("--format", choices=["urlhaus", "feodo"], default="urlhaus")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes sharing the input as parts")
    parser.add_argument("--no-warninglists", action="store_true")
    parser.add_argument("--profile", help="write a cProfile of the run to this file")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="certhub-bench-feeds-"))
    csv_path, json_path = workdir / "feed.csv", workdir / "feodo.json"
    started = time.perf_counter()
    command = [sys.executable, str(GENERATOR), "--lines", str(args.n), "--seed", "42",
               "--out", str(csv_path)]
    if args.format == "feodo":
        command += ["--feodo-json", str(json_path)]
    generated = json.loads(subprocess.run(command, check=True, capture_output=True,
                                          text=True).stdout.strip().splitlines()[-1])
    print(f"generated {generated['lines']} lines in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhub.config.settings")
    os.environ["CERTHUB_DATA_DIR"] = str(workdir)
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
        path = json_path if args.format == "feodo" else csv_path
        print(json.dumps(run(args, vendor, path, generated)))
    finally:
        if test_db is not None:
            connection.creation.destroy_test_db(test_db, verbosity=0)


def run(args, vendor: str, path: Path, generated: dict) -> dict:
    from certhub.directory.lookup import resolve_many
    from certhub.feeds import services
    from certhub.feeds.connectors.experts import warninglists
    from certhub.feeds.models import Feed, Finding

    load_directory()
    resolve_many(["1.0.128.1"])  # build the lookup index and load the IP data once, untimed
    # A worker builds the warning-list index once per process: timed apart from the run.
    index_started = time.perf_counter()
    if not args.no_warninglists:
        warninglists.index()
    warninglists_build_s = time.perf_counter() - index_started
    parser = "feodo-json" if args.format == "feodo" else "urlhaus-csv"
    feed = Feed.objects.create(name=f"bench-{parser}", source_kind="file", location=str(path),
                               parser=parser, parser_params={},
                               warninglists=not args.no_warninglists)
    if args.workers > 1:
        from django.conf import settings

        settings.FEEDS_SPLIT_MIN_BYTES = 0  # split whatever the size: the bench is about workers
    before = resource.getrusage(resource.RUSAGE_CHILDREN)  # the generator is a child too
    workers_peak = _ChildrenPeak() if args.workers > 1 else None
    started, cpu_started = time.perf_counter(), time.process_time()
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        runs = profiler.runcall(services.run_feed, feed, trigger="bench",
                                batch_size=args.batch_size, workers=args.workers)
        profiler.dump_stats(args.profile)
    else:
        runs = services.run_feed(feed, trigger="bench", batch_size=args.batch_size,
                                 workers=args.workers)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    if workers_peak is not None:
        workers_peak.stop()
    run = runs[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "n": generated["lines"],
        "events_per_s": round(run.read / seconds),
        "seconds": round(seconds, 2),
        "cpu_s": round(cpu_seconds, 2),  # this process only (not the PostgreSQL server)
        "load_avg_1m": round(os.getloadavg()[0], 2),  # other work on the machine
        "peak_rss_mb": round(peak, 1),
        "findings": Finding.objects.count(),
        "duplicates": run.duplicates,
        "database": "postgresql" if vendor == "postgresql" else vendor,
        "format": args.format,
        "read": run.read,
        "failed": run.failed,
        "routed": run.routed,
        "unrouted": run.unrouted,
        "expected_duplicates": generated["duplicates"],
        "batch_size": args.batch_size,
        "warninglists": not args.no_warninglists,
        "warninglists_build_s": round(warninglists_build_s, 2),
        "workers": args.workers,
        "parts": run.parts.count(),
        "workers_cpu_s": round(max(0.0, children.ru_utime + children.ru_stime - before.ru_utime
                                   - before.ru_stime), 2),
        # The largest worker's (ru_maxrss of the children would be the generator's).
        "worker_peak_rss_mb": workers_peak.peak_mb if workers_peak is not None else None,
    }


class _ChildrenPeak:
    """The largest peak resident size (VmHWM) among this process's children, read from /proc
    four times a second while the run lasts (a peak reached in a worker's last quarter second
    is missed). Linux only; None elsewhere."""

    def __init__(self):
        import threading

        self.peak_kib: int | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    @property
    def peak_mb(self) -> float | None:
        return None if self.peak_kib is None else round(self.peak_kib / 1024, 1)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()

    def _watch(self) -> None:
        me = str(os.getpid())
        proc = Path("/proc")
        while not self.done.wait(0.25):
            for status in proc.glob("[0-9]*/status"):
                try:
                    fields = dict(line.split(":", 1) for line in status.read_text().splitlines()
                                  if ":" in line)
                except OSError:
                    continue  # the process has ended
                if fields.get("PPid", "").strip() == me and "VmHWM" in fields:
                    peak = int(fields["VmHWM"].split()[0])
                    self.peak_kib = max(self.peak_kib or 0, peak)


def load_directory() -> None:
    from django.db import transaction

    from certhub.directory.models import ConstituencyEntry, Organisation

    with transaction.atomic():
        for country, short_name in NATIONAL_CERTS:
            org = Organisation.objects.create(
                name=f"{short_name} (benchmark)", short_name=short_name,
                slug=short_name.lower().replace("/", "-"), kind="national_cert", country=country)
            ConstituencyEntry.objects.create(organisation=org, kind="country", value=country)


if __name__ == "__main__":
    main()
