"""TAXII 2.1 collection (paged) and a MISP feed served over HTTP, from a server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from certhub.feeds import queries, services
from certhub.feeds.models import Finding, RunStatus

from .conftest import SAMPLES, make_feed

pytestmark = pytest.mark.django_db

BUNDLE = json.loads((SAMPLES / "stix_bundle.json").read_text())
COLLECTION = "/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/"
MISP_FILES = {path.name: path.read_bytes() for path in (SAMPLES / "misp_feed").iterdir()}


class _Server(BaseHTTPRequestHandler):
    seen: list[tuple[str, dict]] = []

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        _Server.seen.append((url.path, query))
        if url.path == COLLECTION + "objects/":
            objects = BUNDLE["objects"]
            if "added_after" in query:
                page, more, after = [], False, None
            elif "next" not in query:
                page, more, after = objects[:3], True, "page-2"
            else:
                page, more, after = objects[3:], False, None
            body = {"more": more, "objects": page}
            if after:
                body["next"] = after
            self._send(json.dumps(body).encode(), "application/taxii+json;version=2.1",
                       {"X-TAXII-Date-Added-Last": "2025-03-01T08:00:00.000Z"})
        elif url.path.startswith("/misp/") and url.path[6:] in MISP_FILES:
            self._send(MISP_FILES[url.path[6:]], "application/json")
        else:
            self.send_response(404)
            self.end_headers()

    def _send(self, body: bytes, media_type: str, headers: dict | None = None):
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Server.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_taxii_collection_is_paged_and_resumed_from_the_last_date(world, server):
    feed = make_feed("partner-taxii", "stix2-bundle", server + COLLECTION, source="taxii")
    [run] = services.run_feed(feed)
    assert run.status == RunStatus.SUCCEEDED
    assert run.failed == 2  # the broken and the sigma indicator, with their positions
    assert set(queries.inbox(world.thai_analyst).values_list("value", flat=True)) == {
        "1.0.128.1", "https://secure-login.example.co.th/verify.php"}
    assert queries.inbox(world.sg_analyst).get().value == "update-check.example.sg"
    feed.refresh_from_db()
    assert feed.last_modified == "2025-03-01T08:00:00.000Z"
    [again] = services.run_feed(feed)
    assert again.not_modified
    assert _Server.seen[-1][1]["added_after"] == ["2025-03-01T08:00:00.000Z"]


def test_misp_feed_over_http(world, server):
    feed = make_feed("circl", "misp-feed", f"{server}/misp/", source="misp-feed")
    [run] = services.run_feed(feed)
    assert run.status == RunStatus.SUCCEEDED
    assert run.routed == 3
    assert Finding.objects.filter(organisation=world.my).get().port == 8443
