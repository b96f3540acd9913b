"""Split runs (issue 5): a large input read as parts by several workers gives exactly what one
pass over it gives, every line once, and stays invisible until every part has succeeded.

Parsers and planning are checked on real files; runs on the test database, their parts taken
in this process (``run_part``, as a Celery worker takes them) or, for the worker processes of
``certhub ingest --workers``, by real spawned processes on a database of their own (one is
killed with SIGKILL half-way through its part).
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from certhub.core.errors import Conflict
from certhub.feeds import queries, services
from certhub.feeds.connectors import parsers
from certhub.feeds.connectors.parsers.base import Span, count_lines
from certhub.feeds.models import Finding, RunError, RunPart, RunStatus
from certhub.feeds.parts import plan

from .conftest import make_feed
from .test_recovery import dead_pid

COUNTRIES = ["TH", "MY", "SG", "US", "DE"]


# --- inputs -------------------------------------------------------------------------------------
def urlhaus_lines(count: int, *, seed: int = 1) -> list[str]:
    """URLhaus country-feed rows: some refused (7 fields), some repeating an earlier URL."""
    chooser = random.Random(seed)
    lines = []
    for index in range(count):
        if index % 37 == 5:
            lines.append('"2025-03-02 10:00:00","http://x.example/","online","a","b","c","d"')
            continue
        seed_index = chooser.randrange(index) if index and index % 11 == 0 else index
        ip = f"1.{seed_index // 250 % 250}.{seed_index % 250}.{seed_index % 7 + 1}"
        country = COUNTRIES[seed_index % len(COUNTRIES)]
        lines.append(f'"2025-03-02 10:00:00","http://{ip}/bins/{seed_index}.sh","online",'
                     f'"malware_download","{ip}","{ip}","64500","{country}"')
    return lines


def write_urlhaus(path: Path, count: int, *, newline: str = "\n", bom: bool = False) -> Path:
    body = ["# URLhaus country feed (synthetic)", "# Dateadded,URL,URL_status,Threat,Host,"
            "IPaddress,ASnumber,Country"]
    for number, line in enumerate(urlhaus_lines(count)):
        body.append(line)
        if number == count // 3:
            body.extend(["", "# a comment in the middle"])
    text = newline.join(body) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def write_feodo(path: Path, count: int) -> Path:
    rows = [f'"2025-02-11 09:13:52","175.{n // 250 % 250}.{n % 250}.1","{443 + n % 3}",'
            f'"{"online" if n % 4 else "offline"}","2025-03-02","QakBot"' for n in range(count)]
    rows[count // 2] = '"2025-02-11 09:13:52","not an address","443","online","x","QakBot"'
    path.write_text("#######\n# abuse.ch Feodo Tracker (synthetic)\n#\n"
                    '"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"\n'
                    + "\n".join(rows) + "\n# END\n", encoding="utf-8")
    return path


def write_shadowserver(folder: Path, count: int) -> Path:
    path = folder / "2025-03-02-scan_http-asean-geo.csv"
    rows = [f'"2025-03-02 00:02:26","1.0.{n // 250 % 250}.{n % 250}","tcp",{80 + n % 2},,'
            f'"http",23969,"{COUNTRIES[n % len(COUNTRIES)]}"' for n in range(count)]
    path.write_text('"timestamp","ip","protocol","port","hostname","tag","asn","geo"\n'
                    + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def write_spamhaus(path: Path, count: int) -> Path:
    rows = [f"{10 + n // 250}.{n % 250}.0.0/16 ; SBL{n}" for n in range(count)]
    rows[7] = "not-a-prefix ; SBL7"
    path.write_text("; Spamhaus DROP (synthetic)\n; Last-Modified: today\n" + "\n".join(rows)
                    + "\n", encoding="utf-8")
    return path


def write_generic(path: Path, count: int) -> Path:
    rows = [f"2025-03-02T10:00:00+07:00\t1.0.{n // 250 % 250}.{n % 250}\t{22 + n % 3}\tnote {n}"
            for n in range(count)]
    path.write_text("# exported from a sensor\nreported\taddress\tport\tnote\n"
                    + "\n".join(rows) + "\n", encoding="utf-8")
    return path


GENERIC = {"columns": {"value": "address", "ip": "address", "port": "port",
                       "time": "reported"}, "delimiter": "\\t", "single_line": True}


def signature(items) -> list[tuple]:
    return [(type(item).__name__, item.line, getattr(item, "value", None)
             or getattr(item, "reason", None), item.raw) for item in items]


def read_in_parts(parser, path: Path, count: int) -> tuple[list, list]:
    """The items of every part of ``path`` one after the other, and the parts."""
    header = parser.header_end(path)
    assert header is not None
    planned = plan(path, count, header)
    items = []
    for part in planned:
        span = Span(part.start, part.end, part.first_line, header if part.start else 0)
        items += parser.part_items(path, 0, span)
    return items, planned


# --- parsers and planning -----------------------------------------------------------------------
@pytest.mark.parametrize(("name", "write", "params"), [
    ("urlhaus-csv", lambda folder: write_urlhaus(folder / "feed.csv", 400), {}),
    ("urlhaus-csv", lambda folder: write_urlhaus(folder / "feed.csv", 400, newline="\r\n",
                                                 bom=True), {}),
    ("feodo-csv", lambda folder: write_feodo(folder / "feodo.csv", 300), {}),
    ("shadowserver-csv", lambda folder: write_shadowserver(folder, 300), {}),
    ("spamhaus-drop", lambda folder: write_spamhaus(folder / "drop.txt", 300), {}),
    ("generic-csv", lambda folder: write_generic(folder / "sensor.tsv", 300), GENERIC),
])
def test_parts_read_exactly_what_one_pass_reads(name, write, params, tmp_path):
    path = write(tmp_path)
    parser = parsers.get(name)(**params)
    assert parser.can_split()
    whole = signature(parser.items(path))
    split, planned = read_in_parts(parser, path, 7)
    assert len(planned) == 7
    assert signature(split) == whole
    assert len(whole) >= 300


def test_a_part_resumes_after_its_committed_line(tmp_path):
    path = write_feodo(tmp_path / "feodo.csv", 300)
    parser = parsers.get("feodo-csv")()
    header = parser.header_end(path)
    third = plan(path, 4, header)[2]
    span = Span(third.start, third.end, third.first_line, header)
    middle = (third.first_line + third.last_line) // 2
    resumed = signature(parser.part_items(path, middle, span))
    assert resumed == [item for item in signature(parser.items(path, middle))
                       if item[1] <= third.last_line]
    assert resumed
    assert resumed[0][1] == middle + 1


def test_planned_parts_cover_the_file_at_line_boundaries(tmp_path):
    path = tmp_path / "mixed.txt"
    data = b"".join(f"line {n}".encode() + (b"\r\n", b"\n", b"\r")[n % 3]
                    for n in range(1000)) + b"last line without a break"
    path.write_bytes(data)
    planned = plan(path, 9, header=20)
    assert planned[0].start == 0
    assert planned[-1].end == len(data)
    assert all(a.end == b.start and a.last_line + 1 == b.first_line
               for a, b in itertools.pairwise(planned))
    assert all(data[part.start - 1:part.start] == b"\n" for part in planned[1:])
    for part in planned:
        assert part.last_line - part.first_line + 1 == count_lines(data[part.start:part.end])
        assert part.first_line == count_lines(data[:part.start]) + 1
    assert planned[-1].last_line == count_lines(data) == 1001
    assert plan(path, 1) == [type(planned[0])(0, len(data), 1, 1001)]


def test_multi_line_records_are_never_split(tmp_path):
    path = write_generic(tmp_path / "sensor.tsv", 10)
    assert not parsers.get("generic-csv")(**{**GENERIC, "single_line": False}).can_split()
    for name in ("stix2-bundle", "feodo-json", "misp-feed"):
        assert not parsers.get(name).splittable
    assert parsers.get("generic-csv")(**GENERIC).header_end(path) == len(
        b"# exported from a sensor\nreported\taddress\tport\tnote\n")


# --- runs ---------------------------------------------------------------------------------------
@pytest.fixture
def small_parts(settings):
    settings.FEEDS_SPLIT_MIN_BYTES = 0
    settings.FEEDS_PART_BYTES = 4_000
    return settings


def in_order(run, part_ids):
    for part_id in part_ids:
        services.run_part(part_id, batch_size=7)


def findings_of(run) -> list[tuple]:
    return sorted(Finding.objects.filter(run=run).values_list("value", "line",
                                                              "organisation_id"))


def same_values(run, other) -> bool:
    """The same findings (value, organisation), each from one line. Which line of a repeated
    value is kept depends on which part came first when parts are not taken in order."""
    lines = list(Finding.objects.filter(run=run).values_list("line", flat=True))
    assert len(lines) == len(set(lines))
    return sorted(Finding.objects.filter(run=run).values_list("value", "organisation_id")) \
        == sorted(Finding.objects.filter(run=other).values_list("value", "organisation_id"))


COUNTERS = ("read", "parsed", "failed", "duplicates", "routed", "unrouted", "routed_per_org")


def counters(run) -> dict:
    run.refresh_from_db()
    return {name: getattr(run, name) for name in COUNTERS}


@pytest.mark.django_db
@pytest.mark.parametrize("writer", ["urlhaus", "feodo"])
def test_a_split_run_gives_what_an_unsplit_run_gives(writer, world, small_parts, tmp_path):
    if writer == "urlhaus":
        path, parser = write_urlhaus(tmp_path / "feed.csv", 600), "urlhaus-csv"
    else:
        path, parser = write_feodo(tmp_path / "feodo.csv", 600), "feodo-csv"
    whole_feed = make_feed("whole", parser, path)
    split_feed = make_feed("split", parser, path)
    [whole] = services.run_feed(whole_feed, batch_size=7)
    [split] = services.run_feed(split_feed, batch_size=7, dispatch=in_order)
    assert not whole.parts.exists()
    parts = list(split.parts.all())
    assert len(parts) > 5
    assert all(part.status == RunStatus.SUCCEEDED and part.attempts == 1 for part in parts)
    assert [part.first_line for part in parts[1:]] == [p.last_line + 1 for p in parts[:-1]]
    split.refresh_from_db()
    assert split.status == RunStatus.SUCCEEDED
    assert split.position == parts[-1].last_line
    assert findings_of(split) == findings_of(whole)
    assert counters(split) == counters(whole)
    assert counters(whole)["failed"] > 0
    assert writer == "feodo" or counters(whole)["routed"] > 0  # Feodo rows have no country
    assert sorted(RunError.objects.filter(run=split).values_list("line", "reason")) == \
        sorted(RunError.objects.filter(run=whole).values_list("line", "reason"))


@pytest.mark.django_db
def test_parts_taken_in_any_order_process_every_line_once(world, small_parts, tmp_path):
    path = write_urlhaus(tmp_path / "feed.csv", 600)
    [whole] = services.run_feed(make_feed("whole", "urlhaus-csv", path), batch_size=7)

    def backwards(run, part_ids):
        in_order(run, list(reversed(part_ids)))

    [split] = services.run_feed(make_feed("split", "urlhaus-csv", path), batch_size=7,
                                dispatch=backwards)
    assert split.parts.count() > 5
    assert counters(split) == counters(whole)
    assert same_values(split, whole)


@pytest.mark.django_db
def test_a_split_run_stays_invisible_until_every_part_succeeded(world, small_parts, tmp_path):
    path = write_urlhaus(tmp_path / "feed.csv", 300)
    feed = make_feed("split", "urlhaus-csv", path)

    def only_the_first(run, part_ids):
        services.run_part(part_ids[0], batch_size=7)

    [run] = services.run_feed(feed, batch_size=7, dispatch=only_the_first)
    run.refresh_from_db()
    first, *rest = run.parts.all()
    assert first.status == RunStatus.SUCCEEDED
    assert rest
    assert run.status == RunStatus.RUNNING
    assert Finding.objects.filter(run=run).exists()
    assert not queries.visible_findings(world.hub_admin).filter(run=run).exists()
    with pytest.raises(Conflict):  # its parts are queued for workers: nothing to resume
        services.run_feed(feed, batch_size=7)
    for part in rest[:-1]:
        services.run_part(part.pk, batch_size=7)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert not queries.visible_findings(world.hub_admin).filter(run=run).exists()
    services.run_part(rest[-1].pk, batch_size=7)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert queries.visible_findings(world.hub_admin).filter(run=run).count() == \
        Finding.objects.filter(run=run).count() > 0
    assert services.run_part(rest[-1].pk) is None  # a message delivered twice: nothing


@pytest.mark.django_db
def test_crashed_parts_resume_after_their_committed_line(world, small_parts, tmp_path):
    path = write_urlhaus(tmp_path / "feed.csv", 600)
    [whole] = services.run_feed(make_feed("whole", "urlhaus-csv", path), batch_size=7)
    feed = make_feed("split", "urlhaus-csv", path)
    [run] = services.run_feed(feed, batch_size=7, dispatch=lambda run, ids: None)
    # Every part commits one batch, then its worker "dies" inside the next one.
    services.work_parts(run, batch_size=7, fail_after_batches=1)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    parts = list(run.parts.all())
    assert all(part.status == RunStatus.FAILED and part.position >= part.first_line
               for part in parts)
    assert feed.pk in services.resumable_feed_ids()
    assert not queries.visible_findings(world.hub_admin).filter(run=run).exists()
    [resumed] = services.run_feed(feed, batch_size=7)
    assert resumed.pk == run.pk
    assert resumed.status == RunStatus.SUCCEEDED
    assert all(part.status == RunStatus.SUCCEEDED and part.attempts == 2
               for part in run.parts.all())
    assert counters(run) == counters(whole)
    assert same_values(run, whole)


@pytest.mark.django_db
def test_a_part_of_a_dead_worker_is_resumed(world, small_parts, tmp_path):
    path = write_urlhaus(tmp_path / "feed.csv", 300)
    feed = make_feed("split", "urlhaus-csv", path, schedule="every 1d")
    [run] = services.run_feed(feed, batch_size=7, dispatch=lambda run, ids: None)
    first, second, *_rest = run.parts.all()
    services.run_part(first.pk, batch_size=7)
    # The second part's worker was killed half-way: its batches so far are committed.
    claimed = services._claim_part(run, second.pk)
    pipeline_items = parsers.get("urlhaus-csv")().part_items(
        path, 0, Span(second.byte_start, second.byte_end, second.first_line))
    from certhub.feeds.pipeline import Pipeline, SimulatedCrash

    with pytest.raises(SimulatedCrash):
        Pipeline(feed, run, batch_size=7, fail_after_batches=2, part=claimed).consume(
            pipeline_items)
    RunPart.objects.filter(pk=second.pk).update(
        worker=f"{services.this_worker().rpartition(':')[0]}:{dead_pid()}")
    assert feed.pk in services.resumable_feed_ids()
    assert feed in services.due_feeds()
    [resumed] = services.run_feed(feed, batch_size=7, resume_only=True)
    assert resumed.status == RunStatus.SUCCEEDED
    second.refresh_from_db()
    assert (second.status, second.attempts) == (RunStatus.SUCCEEDED, 2)
    lines = list(Finding.objects.filter(run=run).values_list("line", flat=True))
    run.refresh_from_db()
    assert len(lines) == len(set(lines)) == run.routed + run.unrouted
    assert run.read == sum(1 for line in path.read_text().splitlines()
                           if line and not line.startswith("#"))


@pytest.mark.django_db
def test_a_part_given_up_fails_the_run(world, small_parts, tmp_path):
    path = write_urlhaus(tmp_path / "feed.csv", 300)
    feed = make_feed("split", "urlhaus-csv", path)
    [run] = services.run_feed(feed, batch_size=7, dispatch=lambda run, ids: None)
    part = run.parts.first()
    RunPart.objects.filter(pk=part.pk).update(status=RunStatus.FAILED,
                                              attempts=services.MAX_ATTEMPTS, error="boom")
    for other in run.parts.exclude(pk=part.pk):
        services.run_part(other.pk, batch_size=7)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.attempts == services.MAX_ATTEMPTS
    assert "boom" in run.error
    assert feed.pk not in services.resumable_feed_ids()


@pytest.mark.django_db
def test_small_inputs_and_one_worker_are_not_split(world, settings, tmp_path):
    settings.FEEDS_SPLIT_MIN_BYTES = 10_000_000
    path = write_urlhaus(tmp_path / "feed.csv", 300)
    [run] = services.run_feed(make_feed("small", "urlhaus-csv", path), workers=4,
                              dispatch=in_order)
    assert run.status == RunStatus.SUCCEEDED
    assert not run.parts.exists()
    settings.FEEDS_SPLIT_MIN_BYTES = 0
    [run] = services.run_feed(make_feed("one", "urlhaus-csv", path), workers=1)
    assert run.status == RunStatus.SUCCEEDED
    assert not run.parts.exists()


@pytest.mark.django_db
def test_the_run_page_shows_the_parts(world, small_parts, tmp_path):
    from .conftest import logged_in

    path = write_urlhaus(tmp_path / "feed.csv", 300)
    [run] = services.run_feed(make_feed("split", "urlhaus-csv", path), batch_size=7,
                              dispatch=in_order)
    response = logged_in(world.hub_admin).get(f"/feeds/runs/{run.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "run-parts" in html
    for part in run.parts.all():
        assert f"{part.first_line}–{part.last_line}" in html


# --- worker processes (certhub ingest --workers), one killed ------------------------------------
SETTINGS = """from certhub.config.settings import *  # noqa: F403
FEEDS_SPLIT_MIN_BYTES = 0
FEEDS_PART_BYTES = {part_bytes}
"""


@pytest.fixture
def cli_env(tmp_path_factory):
    """Environment of a ``certhub`` process on a database of its own (the spawned workers
    must reach it: never pytest-django's, which may be in memory or in a transaction)."""
    data = tmp_path_factory.mktemp("parts-cli")
    base = os.environ.get("DATABASE_URL", "")
    created = admin = None
    if base.startswith(("postgres://", "postgresql://")):
        import psycopg

        url_parts = urlsplit(base)
        created = f"{url_parts.path.lstrip('/') or 'certhub'}_feeds_parts_cli"
        admin = urlunsplit(url_parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')
            db.execute(f'CREATE DATABASE "{created}"')
        url = urlunsplit(url_parts._replace(path=f"/{created}"))
    else:
        url = f"sqlite:///{data / 'cli.sqlite3'}"
    (data / "partsettings.py").write_text(SETTINGS.format(part_bytes=3_000_000))
    env = {**os.environ, "CERTHUB_DATA_DIR": str(data), "DATABASE_URL": url,
           "DJANGO_SETTINGS_MODULE": "partsettings",
           "PYTHONPATH": os.pathsep.join([str(data), os.environ.get("PYTHONPATH", "")])}
    env.pop("CERTHUB_BROKER_URL", None)
    subprocess.run([str(Path(sys.executable).parent / "certhub"), "migrate", "--verbosity", "0"],
                   env=env, check=True, timeout=600)
    yield env
    if created:
        import psycopg

        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')


def test_worker_processes_survive_one_killed_mid_part(cli_env, tmp_path):
    from .test_broker import COUNTRIES as BROKER_COUNTRIES
    from .test_broker import SETUP, WorkerDatabase, wait_for, write_feed

    path = tmp_path / "feed.csv"
    expected = write_feed(path)  # 80,000 data lines, refused and repeated ones among them
    certhub = str(Path(sys.executable).parent / "certhub")
    subprocess.run([certhub, "shell", "-c", SETUP.format(
        countries=BROKER_COUNTRIES, name="big", path=str(path))],
        env=cli_env, check=True, timeout=300)
    db = WorkerDatabase(cli_env["DATABASE_URL"])
    log = (tmp_path / "ingest.log").open("wb")
    ingest = subprocess.Popen([certhub, "ingest", str(path), "--parser", "urlhaus-csv",
                               "--feed", "big", "--workers", "3", "--batch-size", "500",
                               "--no-progress"], env=cli_env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # A part with committed batches, well before its end: kill its worker (SIGKILL).
        victim = wait_for(lambda: db.one(
            "SELECT id, worker, position, last_line FROM feeds_runpart WHERE status = "
            "'running' AND position > first_line + 1000 AND position < last_line - 5000 "
            "ORDER BY id"), 300, "a part half-way", tmp_path / "ingest.log")
        part_id, worker, _position, _last = victim
        os.kill(int(worker.rpartition(":")[2]), signal.SIGKILL)
        assert ingest.wait(timeout=600) == 0, (tmp_path / "ingest.log").read_text()[-3000:]
    finally:
        if ingest.poll() is None:
            os.killpg(ingest.pid, signal.SIGKILL)
            ingest.wait()
        log.close()
    [(run_id, status, read, failed, duplicates)] = db.rows(
        "SELECT id, status, read, failed, duplicates FROM feeds_feedrun")
    assert status == "succeeded"
    parts = db.rows("SELECT id, status, attempts, worker FROM feeds_runpart ORDER BY number")
    assert len(parts) >= 3
    assert all(row[1] == "succeeded" for row in parts)
    assert {row[0]: row[2] for row in parts}[part_id] == 2
    # The parts were shared between processes: the killed part was taken over by another.
    assert {row[0]: row[3] for row in parts}[part_id] != worker
    assert (read, failed, duplicates) == (80_000, len(expected["bad"]),
                                          len(expected["duplicate"]))
    # Every line exactly once: one finding per distinct URL (parts running side by side
    # may keep a later line of a URL repeated across a part boundary), one error per
    # refused line, nothing twice.
    findings = db.rows("SELECT line, value FROM feeds_finding WHERE run_id = %s", (run_id,))
    lines = [line for line, _value in findings]
    assert len(lines) == len(set(lines)) == 80_000 - len(expected["bad"]) - len(
        expected["duplicate"])
    assert {value for _line, value in findings} == urls_of(path, expected["bad"])
    errors = [row[0] for row in db.rows(
        "SELECT line FROM feeds_runerror WHERE run_id = %s ORDER BY line", (run_id,))]
    assert errors == sorted(expected["bad"])


def urls_of(path: Path, bad: set[int]) -> set[str]:
    return {line.split('","')[1] for number, line in enumerate(
        path.read_text().splitlines(), 1) if number > 1 and number not in bad}
