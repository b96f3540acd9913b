"""Feeds on a real Celery worker, against RabbitMQ and Redis (CI starts both; the URLs come in
CERTHUB_TEST_RABBITMQ_URL and CERTHUB_TEST_REDIS_URL).

The worker is another process, so it works on a database of its own, in a file: a SQLite file
here, or a database next to DATABASE_URL's on PostgreSQL (never pytest-django's test database,
which may be in memory or inside a transaction). The test writes the directory and the feed
through ``certhub shell``, asks for the beat's task (the ``feeds-run-due`` entry of
CELERY_BEAT_SCHEDULE) on a queue of its own, kills the worker with SIGKILL half-way through the
run, starts another, and checks that every line of the input was processed exactly once. A
second test has the feed's input split into parts (``FEEDS_PART_BYTES`` made small through a
settings module of its own) and two workers sharing them.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

pytestmark = pytest.mark.broker

VENV_BIN = Path(sys.executable).parent
BROKERS = {"rabbitmq": "CERTHUB_TEST_RABBITMQ_URL", "redis": "CERTHUB_TEST_REDIS_URL"}
LINES = 80_000  # data lines: 8 batches of 10,000, long enough to be killed half-way
BAD_EVERY = 9_973  # a refused line now and then
DUPLICATE_EVERY = 10  # every 10th line repeats an earlier line's URL
COUNTRIES = ["VN", "ID", "TH", "MY", "SG", "PH", "DE", "US"]

SETUP = """
from certhub.directory.models import ConstituencyEntry, Organisation
from certhub.feeds.services import feed_from_definition
for country in {countries!r}:
    org, created = Organisation.objects.get_or_create(
        slug="cert-" + country.lower(), defaults={{"name": "CERT " + country,
        "short_name": "CERT-" + country, "kind": "national_cert", "country": country}})
    if created:
        ConstituencyEntry.objects.create(organisation=org, kind="country", value=country)
feed_from_definition({{"name": {name!r}, "source": "file", "location": {path!r},
                      "parser": "urlhaus-csv", "schedule": "every 1d",
                      "warninglists": False}}).save()
"""


def broker_problem(name: str) -> str | None:
    """Why the broker ``name`` cannot be tested against, or None."""
    variable = BROKERS[name]
    url = os.environ.get(variable, "")
    if not url:
        return f"{variable} is not set: no {name} broker to test against (.ci/run sets it)"
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:  # any failure to connect means: not reachable
        return f"{name} at {variable} is not reachable: {exc}"
    return None


def broker_url(name: str) -> str:
    problem = broker_problem(name)
    if problem:
        pytest.skip(problem)
    return os.environ[BROKERS[name]]


class WorkerDatabase:
    """The worker's database, read directly (no Django) while the worker writes to it."""

    def __init__(self, url: str):
        self.url = url

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.url.startswith("sqlite"):
            with sqlite3.connect(urlsplit(self.url).path[1:] if self.url.startswith(
                    "sqlite:////") else self.url.removeprefix("sqlite:///"), timeout=20) as db:
                return db.execute(sql.replace("%s", "?"), params).fetchall()
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as db:
            return db.execute(sql, params).fetchall()

    def one(self, sql: str, params: tuple = ()):
        rows = self.rows(sql, params)
        return rows[0] if rows else None


@pytest.fixture(scope="module")
def worker_env(tmp_path_factory):
    problems = [broker_problem(name) for name in BROKERS]
    if all(problems):  # before creating and migrating a database for nothing
        pytest.skip("; ".join(problems))
    data = tmp_path_factory.mktemp("broker-data")
    base = os.environ.get("DATABASE_URL", "")
    created = None
    if base.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(base)
        created = f"{parts.path.lstrip('/') or 'certhub'}_feeds_broker"
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')
            db.execute(f'CREATE DATABASE "{created}"')
        url = urlunsplit(parts._replace(path=f"/{created}"))
    else:
        url = f"sqlite:///{data / 'worker.sqlite3'}"
    env = {**os.environ, "CERTHUB_DATA_DIR": str(data), "DATABASE_URL": url,
           "CERTHUB_LOG_LEVEL": "INFO"}
    env.pop("CERTHUB_BROKER_URL", None)
    subprocess.run([str(VENV_BIN / "certhub"), "migrate", "--verbosity", "0"], env=env,
                   check=True, timeout=600)
    yield env
    if created:
        import psycopg

        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')


def write_feed(path: Path) -> dict:
    """A URLhaus CSV feed; returns which data lines are refused and which repeat a URL."""
    bad, duplicate, lines = set(), set(), []
    for index in range(LINES):
        number = index + 2  # physical line: line 1 is the comment header
        if index and index % BAD_EVERY == 0:
            lines.append('"2025-03-02 10:00:00","not a url at all"')
            bad.add(number)
            continue
        if index and index % DUPLICATE_EVERY == 0:
            seed = index - 7 if (index - 7) % BAD_EVERY else index - 8
            duplicate.add(number)
        else:
            seed = index
        a, b, c = 11 + seed // 65025 % 100, seed // 255 % 255, seed % 255 + 1
        ip = f"{a}.{b}.{c}.{seed % 7 + 1}"
        country = COUNTRIES[seed % len(COUNTRIES)]
        lines.append(f'"2025-03-02 10:00:00","http://{ip}:8080/bins/{seed}.sh","online",'
                     f'"malware_download","{ip}","{ip}","64500","{country}"')
    path.write_text("# Dateadded,URL,URL_status,Threat,Host,IPaddress,ASnumber,Country\n"
                    + "\n".join(lines) + "\n", encoding="utf-8")
    return {"bad": bad, "duplicate": duplicate, "last": LINES + 1}


def start_worker(env: dict, broker: str, queue: str, log: Path) -> subprocess.Popen:
    worker_env = {**env, "CERTHUB_BROKER_URL": broker}
    handle = log.open("ab")
    return subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "certhub.config.celery", "worker", "--pool", "solo",
         "--queues", queue, "--hostname", f"{queue}-{uuid.uuid4().hex[:6]}@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"],
        env=worker_env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def send_beat_task(broker: str, queue: str) -> None:
    """What celery beat sends for the feeds entry, on this test's queue."""
    from celery import Celery

    task = settings.CELERY_BEAT_SCHEDULE["feeds-run-due"]["task"]
    app = Celery("certhub-test", broker=broker)
    try:
        app.send_task(task, queue=queue)
    finally:
        app.close()


def delete_queue(broker: str, queue: str) -> None:
    from kombu import Connection

    try:
        with Connection(broker, connect_timeout=3) as connection:
            if broker.startswith("redis"):
                connection.default_channel.client.delete(queue)
            else:
                connection.default_channel.queue_delete(queue)
    except Exception:
        pass


def wait_for(condition, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")


@pytest.mark.parametrize("broker_name", ["rabbitmq", "redis"])
def test_scheduled_feed_survives_a_killed_worker(broker_name, worker_env, tmp_path):
    broker = broker_url(broker_name)
    name = f"big-{broker_name}"
    feed_path = tmp_path / "feed.csv"
    expected = write_feed(feed_path)
    subprocess.run([str(VENV_BIN / "certhub"), "shell", "-c",
                    SETUP.format(countries=COUNTRIES,
                                 name=name, path=str(feed_path))],
                   env=worker_env, check=True, timeout=300)
    db = WorkerDatabase(worker_env["DATABASE_URL"])
    [(feed_id,)] = db.rows("SELECT id FROM feeds_feed WHERE name = %s", (name,))
    queue = f"certhub-test-feeds-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"

    def run_state():
        return db.one("SELECT id, status, position, attempts FROM feeds_feedrun "
                      "WHERE feed_id = %s ORDER BY id", (feed_id,))

    first = start_worker(worker_env, broker, queue, log)
    second = None
    try:
        send_beat_task(broker, queue)
        # Kill the worker once at least one batch is committed, well before the end.
        state = wait_for(lambda: (s := run_state()) and s[2] > 0 and s, 180,
                         "the first committed batch", log)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        run_id, status, position, attempts = run_state()
        assert (run_id, attempts) == (state[0], 1)
        assert status == "running", "the run ended before the worker could be killed"
        assert 0 < position < expected["last"]
        # Nothing of the interrupted run is visible: its findings wait for the run to succeed.
        assert db.one("SELECT COUNT(*) FROM feeds_finding f JOIN feeds_feedrun r "
                      "ON r.id = f.run_id WHERE r.status = 'succeeded' AND f.feed_id = %s",
                      (feed_id,))[0] == 0

        second = start_worker(worker_env, broker, queue, log)
        send_beat_task(broker, queue)  # the beat's next tick
        wait_for(lambda: run_state()[1] == "succeeded", 300, "the resumed run to succeed", log)
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
        delete_queue(broker, queue)

    runs = db.rows("SELECT id, status, attempts, read, parsed, failed, duplicates, position "
                   "FROM feeds_feedrun WHERE feed_id = %s", (feed_id,))
    assert len(runs) == 1, runs  # resumed, not started again
    run_id, status, attempts, read, _parsed, failed, duplicates, position = runs[0]
    assert (status, attempts, position) == ("succeeded", 2, expected["last"])
    assert read == LINES
    assert failed == len(expected["bad"])
    assert duplicates == len(expected["duplicate"])
    # Every line exactly once: each good, first-seen line is one finding (one per organisation
    # it is routed to: one here), each refused line one error, nothing twice.
    lines = [row[0] for row in db.rows(
        "SELECT line FROM feeds_finding WHERE run_id = %s ORDER BY line", (run_id,))]
    good = sorted(set(range(2, expected["last"] + 1)) - expected["bad"] - expected["duplicate"])
    assert lines == good
    errors = [row[0] for row in db.rows(
        "SELECT line FROM feeds_runerror WHERE run_id = %s ORDER BY line", (run_id,))]
    assert errors == sorted(expected["bad"])


PARTS_SETTINGS = """from certhub.config.settings import *  # noqa: F403
FEEDS_SPLIT_MIN_BYTES = 0
FEEDS_PART_BYTES = 2_000_000
"""


@pytest.mark.parametrize("broker_name", ["rabbitmq", "redis"])
def test_two_workers_share_the_parts_of_one_run(broker_name, worker_env, tmp_path):
    """The feed's task splits the input and sends one task per part; two worker processes
    take them; the run ends succeeded once, every line processed exactly once."""
    broker = broker_url(broker_name)
    (tmp_path / "partsettings.py").write_text(PARTS_SETTINGS)
    env = {**worker_env, "DJANGO_SETTINGS_MODULE": "partsettings",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    name = f"parts-{broker_name}"
    feed_path = tmp_path / "feed.csv"
    expected = write_feed(feed_path)
    subprocess.run([str(VENV_BIN / "certhub"), "shell", "-c",
                    SETUP.format(countries=COUNTRIES, name=name, path=str(feed_path))],
                   env=env, check=True, timeout=300)
    db = WorkerDatabase(env["DATABASE_URL"])
    [(feed_id,)] = db.rows("SELECT id FROM feeds_feed WHERE name = %s", (name,))
    queue = f"certhub-test-parts-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "workers.log"

    def run_state():
        return db.one("SELECT id, status FROM feeds_feedrun WHERE feed_id = %s ORDER BY id",
                      (feed_id,))

    workers = [start_worker(env, broker, queue, log) for _ in range(2)]
    try:
        send_beat_task(broker, queue)
        wait_for(lambda: (state := run_state()) and state[1] == "succeeded", 300,
                 "the split run to succeed", log)
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
        delete_queue(broker, queue)

    runs = db.rows("SELECT id, status, attempts, read, failed, duplicates, position "
                   "FROM feeds_feedrun WHERE feed_id = %s", (feed_id,))
    assert len(runs) == 1, runs
    run_id, status, attempts, read, failed, duplicates, position = runs[0]
    assert (status, attempts, position) == ("succeeded", 1, expected["last"])
    assert (read, failed, duplicates) == (LINES, len(expected["bad"]),
                                          len(expected["duplicate"]))
    parts = db.rows("SELECT status, attempts, worker FROM feeds_runpart WHERE run_id = %s",
                    (run_id,))
    assert len(parts) >= 4
    assert {(status, attempts) for status, attempts, _worker in parts} == {("succeeded", 1)}
    assert len({worker for _status, _attempts, worker in parts}) == 2  # both workers took some
    # Every line exactly once: one finding per distinct URL (parts side by side may keep a
    # later line of a URL repeated across a part boundary), one error per refused line.
    findings = db.rows("SELECT line, value FROM feeds_finding WHERE run_id = %s", (run_id,))
    lines = [line for line, _value in findings]
    assert len(lines) == len(set(lines)) == LINES - len(expected["bad"]) - len(
        expected["duplicate"])
    assert {value for _line, value in findings} == {
        line.split('","')[1] for number, line in enumerate(
            feed_path.read_text().splitlines(), 1) if number > 1 and number not in expected["bad"]}
    errors = [row[0] for row in db.rows(
        "SELECT line FROM feeds_runerror WHERE run_id = %s ORDER BY line", (run_id,))]
    assert errors == sorted(expected["bad"])
