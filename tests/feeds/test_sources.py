"""Collectors against local sources: HTTP with conditional GET on a 127.0.0.1 server, a folder
of files, and the Celery task (eager without a broker)."""

from __future__ import annotations

import shutil
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from certhub.feeds import queries, services, tasks
from certhub.feeds.models import Feed, FeedRun, RunStatus

from .conftest import SAMPLES, make_feed

pytestmark = pytest.mark.django_db

BODY = (SAMPLES / "feodo_ipblocklist.csv").read_bytes()
ETAG = '"feodo-v1"'


class _Feodo(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_GET(self):
        _Feodo.requests.append(dict(self.headers))
        if self.path != "/downloads/ipblocklist.csv":
            self.send_response(404)
            self.end_headers()
            return
        if self.headers.get("If-None-Match") == ETAG:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("ETag", ETAG)
        self.send_header("Last-Modified", formatdate(usegmt=True))
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Feodo.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Feodo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_source_with_conditional_get(world, server):
    feed = make_feed("feodo", "feodo-csv", f"{server}/downloads/ipblocklist.csv", source="http")
    [run] = services.run_feed(feed)
    assert run.status == RunStatus.SUCCEEDED
    assert run.routed == 2
    feed.refresh_from_db()
    assert feed.etag == ETAG
    assert queries.inbox(world.thai_analyst).count() == 1
    [again] = services.run_feed(feed)
    assert again.not_modified
    assert again.read == 0
    assert _Feodo.requests[-1]["If-None-Match"] == ETAG


def test_http_errors_fail_the_run_with_the_reason(world, server):
    feed = make_feed("gone", "feodo-csv", f"{server}/missing.csv", source="http")
    with pytest.raises(services.InvalidInput, match="HTTP 404"):
        services.run_feed(feed)
    run = FeedRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert "HTTP 404" in run.error


def test_folder_source_runs_each_file(world, tmp_path):
    shutil.copy(SAMPLES / "2025-03-02-scan_http-asean-geo.csv", tmp_path)
    shutil.copy(SAMPLES / "2025-03-02-compromised_website-asean-geo.csv", tmp_path)
    (tmp_path / "notes.txt").write_text("not a report")
    feed = make_feed("shadowserver", "shadowserver-csv", tmp_path, source="folder",
                     collector_params={"pattern": "*.csv"})
    runs = services.run_feed(feed)
    assert [run.status for run in runs] == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]
    assert sorted(queries.inbox(world.hub_admin).values_list("type", flat=True)) == [
        "system-compromise", "system-compromise", "vulnerable-system", "vulnerable-system"]
    # The next run reads only files that are new or changed since.
    [nothing] = services.run_feed(feed)
    assert nothing.not_modified
    shutil.copy(SAMPLES / "2025-03-02-event4_sinkhole_http-asean-geo.csv", tmp_path)
    [new] = services.run_feed(feed)
    assert new.source.endswith("event4_sinkhole_http-asean-geo.csv")
    assert new.routed == 2


def test_task_runs_the_feed_in_process(world):
    feed = make_feed("urlhaus", "urlhaus-csv", SAMPLES / "urlhaus_country.csv",
                     schedule="every 1h")
    assert tasks.run_due_feeds.delay().get() == [feed.pk]
    assert Feed.objects.get().last_started_at is not None
    assert FeedRun.objects.get().status == RunStatus.SUCCEEDED
    assert tasks.run_due_feeds.delay().get() == []
    assert tasks.run_feed.name == "certhub.feeds.run_feed"
