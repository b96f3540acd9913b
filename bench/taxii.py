"""Benchmark of the TAXII 2.1 server (issue 4) against the OASIS reference server, medallion.

    python bench/taxii.py [--n 100000] [--medallion-n 10000] [--limit 1000] [--post 5000]

Uses DATABASE_URL when set (in a throwaway test database created next to it, never the database
itself), else a temporary SQLite file. Both servers run as separate processes on 127.0.0.1 and
are driven over plain HTTP (requests), one request at a time:

- certhub: ``certhub serve`` (gunicorn, 1 worker) over --n indicators generated straight into
  the database in bulk (intel's own bulk writer, one report per 100,000; then ANALYZE, as
  autovacuum would), read through the hub's "visible" collection with a Bearer token;
- medallion (memory backend, Flask/werkzeug) over the first --medallion-n of the same
  indicators, with HTTP Basic auth.

For each: the time to the first page (GET objects/?limit=--limit), objects/s over every page
(following ``next`` while ``more``), and objects/s accepted by POST (--post new indicators in
envelopes of --post-batch, each answered with its status). Every request to medallion has a
timeout (--timeout): a request that exceeds it is reported as "timeout" and medallion is
restarted. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SRC = Path(__file__).resolve().parent.parent / "src"
sys.path.insert(0, str(SRC))

TAXII = "application/taxii+json;version=2.1"
MEDALLION_COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
MEDALLION_USER, MEDALLION_PASSWORD = "bench", "bench-password"
REPORT_SIZE = 100_000
STORE_CHUNK = 25_000
NAMESPACE = uuid.UUID("0b7c3a8e-54f1-4d8e-9a43-6f2b1d0c9e11")


def indicator(number: int, *, prefix: str = "bench") -> dict:
    """Indicator ``number``, the same in every run (and for both servers)."""
    digest = hashlib.sha256(f"{prefix}-{number}".encode()).digest()
    kind = number % 4
    if kind == 0:
        address = ".".join(str(part) for part in (11 + digest[0] % 89, digest[1], digest[2],
                                                  1 + digest[3] % 254))
        pattern = f"[ipv4-addr:value = '{address}']"
    elif kind == 1:
        pattern = f"[domain-name:value = 'h{number:x}-{digest[4]}.{prefix}-{number % 977}.com']"
    elif kind == 2:
        pattern = f"[url:value = 'http://h{number:x}.{prefix}-{number % 977}.net/p/{number}']"
    else:
        pattern = f"[file:hashes.'SHA-256' = '{digest.hex()}']"
    return {"type": "indicator", "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid5(NAMESPACE, f'{prefix}-{number}')}",
            "created": "2026-01-05T10:00:00.000Z", "modified": "2026-01-05T10:00:00.000Z",
            "name": f"Benchmark indicator {number}", "indicator_types": ["malicious-activity"],
            "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-01-05T10:00:00Z"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="indicators served by certhub")
    parser.add_argument("--medallion-n", type=int, default=10_000,
                        help="indicators served by medallion (at most --n)")
    parser.add_argument("--limit", type=int, default=1000, help="objects per page")
    parser.add_argument("--post", type=int, default=5000, help="indicators POSTed")
    parser.add_argument("--post-batch", type=int, default=1000, help="objects per POST")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds per request to medallion before 'timeout'")
    parser.add_argument("--skip-medallion", action="store_true")
    parser.add_argument("--no-analyze", action="store_true",
                        help="leave the database without planner statistics after the bulk load")
    parser.add_argument("--serve-medallion", nargs=2, metavar=("DATA", "PORT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_medallion:
        serve_medallion(Path(args.serve_medallion[0]), int(args.serve_medallion[1]))
        return

    workdir = Path(tempfile.mkdtemp(prefix="certhub-bench-taxii-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhub.config.settings")
    os.environ["CERTHUB_DATA_DIR"] = str(workdir)
    os.environ["CERTHUB_API_RATE_LIMIT"] = "10000000/m"  # measure the work, not the throttle
    os.environ["CERTHUB_ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    vendor = connection.vendor
    test_db = None
    if vendor == "sqlite":
        call_command("migrate", verbosity=0)
    else:
        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(json.dumps(run(args, vendor, workdir)))
    finally:
        if test_db is not None:
            connection.close()
            connection.creation.destroy_test_db(test_db, verbosity=0)


# --- data -----------------------------------------------------------------------------------------
def generate(n: int) -> tuple[object, float]:
    """n indicators in TLP:GREEN reports of BenchA, written with intel's bulk writer."""
    from certhub.accounts.models import Role, User
    from certhub.directory.models import Organisation
    from certhub.intel import plan
    from certhub.intel.models import Report

    org = Organisation.objects.create(name="BenchA", short_name="BenchA", slug="bencha",
                                      kind="national_cert", country="TH")
    user = User.objects.create_user("analyst@bencha.example", "bench password 123",
                                    organisation=org, role=Role.ANALYST)
    started = time.perf_counter()
    for first in range(0, n, REPORT_SIZE):
        report = Report.unrestricted.create(owner=org, created_by=user, tlp="green",
                                            stix_id=f"report--{uuid.uuid4()}",
                                            title=f"Benchmark report {first // REPORT_SIZE}",
                                            source="stix")
        for start in range(first, min(n, first + REPORT_SIZE), STORE_CHUNK):
            built = plan.ImportPlan(stix_id=report.stix_id, title=report.title)
            for number in range(start, min(n, first + REPORT_SIZE, start + STORE_CHUNK)):
                obj = indicator(number)
                moment = plan.parse_timestamp(obj["modified"])
                built.objects.append(plan.PlannedObject(
                    stix_id=obj["id"], type="indicator", json=plan.dumps(obj), created=moment,
                    modified=moment, name=obj["name"], pattern=obj["pattern"],
                    valid_from=moment))
            plan.store(report, built)
        print(f"  generated {min(n, first + REPORT_SIZE)} / {n}", file=sys.stderr)
    return user, time.perf_counter() - started


def medallion_data(path: Path, n: int) -> None:
    objects, manifest = [], []
    for number in range(n):
        obj = indicator(number)
        objects.append(obj)
        added = f"2026-01-05T10:{number // 60000 % 60:02d}:{number // 1000 % 60:02d}." \
                f"{number % 1000:03d}000Z"
        manifest.append({"id": obj["id"], "date_added": added, "version": obj["modified"],
                         "media_type": "application/stix+json;version=2.1"})
    data = {
        "/discovery": {"title": "medallion", "api_roots": ["http://127.0.0.1/api1/"]},
        "api1": {"information": {"title": "bench", "versions": [TAXII],
                                 "max_content_length": 1_000_000_000},
                 "status": [],
                 "collections": [{"id": MEDALLION_COLLECTION, "title": "bench",
                                  "can_read": True, "can_write": True,
                                  "media_types": ["application/stix+json;version=2.1"],
                                  "objects": objects, "manifest": manifest}]},
    }
    path.write_text(json.dumps(data))


# --- servers --------------------------------------------------------------------------------------
def serve_medallion(data: Path, port: int) -> None:
    import medallion
    from medallion.exceptions import BackendError, ProcessingError
    from werkzeug.serving import make_server

    app = medallion.application_instance
    config = {"users": {MEDALLION_USER: MEDALLION_PASSWORD},
              "taxii": {"max_page_size": 10_000},
              "backend": {"module": "medallion.backends.memory_backend",
                          "module_class": "MemoryBackend", "filename": str(data)}}
    for part in ("users", "taxii", "backend"):
        medallion.set_config(app, part, config)
    medallion.register_blueprints(app)
    app.register_error_handler(ProcessingError, medallion.handle_processing_error)
    app.register_error_handler(BackendError, medallion.handle_backend_error)
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


class Server:
    def __init__(self, command: list[str], env: dict, probe: str, auth):
        import requests

        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                requests.get(probe, headers={"Accept": TAXII}, auth=auth, timeout=2)
                return
            except requests.RequestException:
                if self.process.poll() is not None:
                    raise SystemExit(f"{command[:3]} exited with "
                                     f"{self.process.returncode}") from None
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"{command[:3]} did not start")

    def cpu_s(self) -> float:
        """CPU seconds used so far by the server's processes (its session: master, workers)."""
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == self.process.pid:  # session id
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def database_url() -> str:
    """DATABASE_URL pointing at the throwaway test database the benchmark created."""
    from django.db import connection

    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def start_certhub(workdir: Path, port: int, auth) -> Server:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = database_url()
    certhub = Path(sys.executable).with_name("certhub")
    command = [str(certhub), "serve", "--port", str(port), "--workers", "1", "--threads", "2"]
    return Server(command, env, f"http://127.0.0.1:{port}/taxii2/", auth)


def start_medallion(data: Path, port: int) -> Server:
    command = [sys.executable, __file__, "--serve-medallion", str(data), str(port)]
    return Server(command, {**os.environ}, f"http://127.0.0.1:{port}/taxii2/",
                  (MEDALLION_USER, MEDALLION_PASSWORD))


# --- measurements ---------------------------------------------------------------------------------
def measure_get(session, objects_url: str, args, *, expected: int, timeout: float | None,
                server: Server) -> dict:
    """Time to the first page, then objects/s over every page; a request past ``timeout``
    ends the measurement as "timeout"."""
    import requests

    result: dict = {}
    headers = {"Accept": TAXII}
    params: dict = {"limit": args.limit}
    fetched, pages = 0, 0
    cpu_before = server.cpu_s()
    started = time.perf_counter()
    try:
        while True:
            response = session.get(objects_url, params=params, headers=headers, timeout=timeout)
            response.raise_for_status()
            envelope = response.json()
            pages += 1
            fetched += len(envelope.get("objects", []))
            if pages == 1:
                result["first_page_s"] = round(time.perf_counter() - started, 3)
                print(f"  first page: {result['first_page_s']} s", file=sys.stderr)
            if not envelope.get("more") or not envelope.get("next"):
                break
            params = {"limit": args.limit, "next": envelope["next"]}
    except requests.Timeout:
        result.setdefault("first_page_s", "timeout")
        result.update({"get_objects_per_s": "timeout", "get_timeout_after_pages": pages})
        print(f"  GET timed out after {pages} pages", file=sys.stderr)
        return result
    elapsed = time.perf_counter() - started
    # The server's own CPU seconds: unlike the wall time, they do not grow when other programs
    # share the cores (the database server's, on PostgreSQL, are not included).
    cpu = server.cpu_s() - cpu_before
    result.update({"get_pages": pages, "get_objects": fetched, "get_s": round(elapsed, 2),
                   "get_objects_per_s": round(fetched / elapsed),
                   "get_server_cpu_s": round(cpu, 2),
                   "get_objects_per_server_cpu_s": round(fetched / cpu) if cpu else None})
    print(f"  paged GET: {fetched} objects in {pages} pages, {elapsed:.1f} s "
          f"({fetched / elapsed:.0f}/s)", file=sys.stderr)
    if fetched != expected:
        result["get_warning"] = f"expected {expected} objects"
    return result


def run(args, vendor: str, workdir: Path) -> dict:
    import requests

    from certhub.accounts import tokens
    from certhub.accounts.models import TokenScope
    from certhub.taxii import services as taxii_services
    from certhub.taxii.models import Collection, CollectionKind

    summary: dict = {"database": vendor, "n": args.n, "limit": args.limit, "post": args.post,
                     "loadavg_start": round(os.getloadavg()[0], 2)}
    user, generate_s = generate(args.n)
    summary["generate_s"] = round(generate_s, 1)
    from django.db import connection

    if not args.no_analyze:
        started = time.perf_counter()
        with connection.cursor() as cursor:  # planner statistics, as a maintained database has
            cursor.execute("ANALYZE")
        summary["analyze_s"] = round(time.perf_counter() - started, 1)
    root = taxii_services.ensure_defaults()
    visible = Collection.objects.get(api_root=root, kind=CollectionKind.VISIBLE)
    writable = Collection.objects.filter(api_root=root).exclude(write_tlp="").exclude(
        kind=CollectionKind.FINDINGS).order_by("kind").first()
    token = tokens.issue(user, name="bench", scope=TokenScope.WRITE)[1]
    connection.close()  # the server process reads what this one wrote

    print(f"certhub ({vendor}), {args.n} indicators:", file=sys.stderr)
    port = free_port()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    server = start_certhub(workdir, port, None)
    try:
        base = f"http://127.0.0.1:{port}/taxii2/{root.slug}/collections/"
        certhub = measure_get(session, f"{base}{visible.id}/objects/", args, expected=args.n,
                              timeout=None, server=server)
        certhub.update(post_to(session, f"{base}{(writable or visible).id}/objects/", args,
                               timeout=None, prefix="certhub-post", server=server))
    finally:
        server.stop()
    summary["certhub"] = certhub

    medallion_n = min(args.n, args.medallion_n)
    summary["medallion_n"] = medallion_n
    if not args.skip_medallion:
        print(f"medallion (memory backend), {medallion_n} indicators:", file=sys.stderr)
        data = workdir / "medallion.json"
        medallion_data(data, medallion_n)
        port = free_port()
        server = start_medallion(data, port)
        session = requests.Session()
        session.auth = (MEDALLION_USER, MEDALLION_PASSWORD)
        try:
            url = f"http://127.0.0.1:{port}/api1/collections/{MEDALLION_COLLECTION}/objects/"
            result = measure_get(session, url, args, expected=medallion_n, timeout=args.timeout,
                                 server=server)
            if result.get("get_objects_per_s") == "timeout":
                server.stop()  # it would go on computing the abandoned page
                server = start_medallion(data, port)
            result.update(post_to(session, url, args, timeout=args.timeout,
                                  prefix="medallion-post", server=server))
            summary["medallion"] = result
        finally:
            server.stop()
    summary["loadavg_end"] = round(os.getloadavg()[0], 2)
    return summary


def post_to(session, url: str, args, *, timeout, prefix: str, server: Server) -> dict:
    import requests

    posted = 0
    cpu_before = server.cpu_s()
    started = time.perf_counter()
    try:
        for first in range(0, args.post, args.post_batch):
            batch = [indicator(number, prefix=prefix)
                     for number in range(first, min(args.post, first + args.post_batch))]
            response = session.post(url, data=json.dumps({"objects": batch}),
                                    headers={"Accept": TAXII, "Content-Type": TAXII},
                                    timeout=timeout)
            response.raise_for_status()
            posted += int(response.json().get("success_count", 0))
    except requests.Timeout:
        print("  POST timed out", file=sys.stderr)
        return {"post_objects_per_s": "timeout"}
    elapsed = time.perf_counter() - started
    print(f"  POST: {posted} objects accepted in {elapsed:.1f} s ({posted / elapsed:.0f}/s)",
          file=sys.stderr)
    cpu = server.cpu_s() - cpu_before
    return {"post_objects": posted, "post_s": round(elapsed, 2),
            "post_objects_per_s": round(posted / elapsed) if elapsed else 0,
            "post_server_cpu_s": round(cpu, 2)}


if __name__ == "__main__":
    main()
