"""The TAXII client pulls from a second TAXII 2.1 server started in the test (the OASIS reference
server, medallion, memory backend, HTTP Basic auth) and is idempotent on re-run."""

from __future__ import annotations

import io
import json
import socket
import threading
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from certhub.intel.models import Observable, Report, StixObject
from certhub.taxii.client import services, tasks
from certhub.taxii.client.models import AuthKind, PullRun, RemoteCollection, RunStatus

pytestmark = pytest.mark.django_db(transaction=False)

SAMPLE = Path(__file__).parent.parent / "intel" / "samples" / "stix_bundle.json"
COLLECTION_ID = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"
USER, PASSWORD = "partner-reader", "s3cret-Partner-Pass"


def _data_file(tmp_path: Path) -> Path:
    """A medallion memory-backend data file: one API root, one collection holding the real
    STIX 2.1 objects of the intel sample bundle, added one second apart."""
    objects = json.loads(SAMPLE.read_text())["objects"]
    manifest = []
    for number, obj in enumerate(objects):
        added = f"2025-01-01T00:00:{number:02d}.000000Z"
        if "modified" not in obj and "created" not in obj:  # an SCO: medallion's own field
            obj["_date_added"] = added
        manifest.append({"id": obj["id"], "date_added": added,
                         "version": obj.get("modified", obj.get("created", added)),
                         "media_type": "application/stix+json;version=2.1"})
    data = {
        "/discovery": {"title": "Partner TAXII", "default": "http://127.0.0.1/api1/",
                       "api_roots": ["http://127.0.0.1/api1/"]},
        "api1": {
            "information": {"title": "Partner API root", "versions": ["application/taxii+json;"
                                                                     "version=2.1"],
                            "max_content_length": 10_000_000},
            "status": [],
            "collections": [{
                "id": COLLECTION_ID, "title": "Partner indicators", "can_read": True,
                "can_write": True, "media_types": ["application/stix+json;version=2.1"],
                "objects": objects, "manifest": manifest}],
        },
    }
    path = tmp_path / "medallion.json"
    path.write_text(json.dumps(data))
    return path


class Medallion:
    """medallion's Flask app on 127.0.0.1, a random port, in a thread."""

    def __init__(self, data_file: Path):
        import medallion
        from flask import Flask
        from medallion.exceptions import BackendError, ProcessingError
        from werkzeug.serving import make_server

        app = Flask(f"medallion-{uuid.uuid4().hex[:8]}")
        config = {"users": {USER: PASSWORD}, "taxii": {"max_page_size": 100},
                  "backend": {"module": "medallion.backends.memory_backend",
                              "module_class": "MemoryBackend", "filename": str(data_file)}}
        for part in ("users", "taxii", "backend"):
            medallion.set_config(app, part, config)
        medallion.register_blueprints(app)
        app.register_error_handler(ProcessingError, medallion.handle_processing_error)
        app.register_error_handler(BackendError, medallion.handle_backend_error)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api1/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, objects: list[dict]) -> None:
        """POST objects to the collection, as a partner adding intelligence would."""
        from taxii2client.v21 import Collection

        with Collection(f"{self.url}collections/{COLLECTION_ID}/", user=USER,
                        password=PASSWORD) as collection:
            status = collection.add_objects({"objects": objects})
        assert status.success_count == len(objects)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def partner_server(tmp_path):
    server = Medallion(_data_file(tmp_path))
    yield server
    server.stop()


def _indicator(value: str) -> dict:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2026-11-20T10:00:00.000Z", "modified": "2026-11-20T10:00:00.000Z",
            "name": f"Phishing host {value}", "indicator_types": ["malicious-activity"],
            "pattern": f"[domain-name:value = '{value}']", "pattern_type": "stix",
            "valid_from": "2026-11-20T10:00:00Z"}


def _remote(world, url: str, **fields) -> RemoteCollection:
    values = {"name": "partner", "title": "Partner CERT", "api_root_url": url,
              "collection_id": COLLECTION_ID, "auth": AuthKind.BASIC, "username": USER,
              "secret": PASSWORD, "owner": world.thai, "run_as": world.thai_analyst,
              "tlp": "amber", "page_size": 3, "timeout": 10, **fields}
    remote = RemoteCollection(**values)
    remote.full_clean()
    remote.save()
    remote.audience_orgs.set([world.my])
    return remote


def _reports(world):
    return Report.objects.visible_to(world.thai_analyst).filter(owner=world.thai)


def test_pull_stores_reports_with_configured_owner_tlp_audience_and_is_idempotent(
        world, partner_server):
    remote = _remote(world, partner_server.url)

    run = services.pull(remote, trigger="test")

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (run.fetched, run.stored, run.skipped, run.failed) == (8, 8, 0, 0)
    assert run.pages == 3  # limit 3: the client followed more/next
    reports = list(_reports(world))
    assert len(reports) == 1
    report = reports[0]
    # exactly one STIX report object in the batch: the intel report takes its id and name
    assert report.stix_id == "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3"
    assert report.title == "Poison Ivy phishing wave against ministries"
    assert report.owner == world.thai
    assert report.created_by == world.thai_analyst
    assert report.tlp == "amber"
    assert list(report.audience_orgs.values_list("short_name", flat=True)) == ["MyCERT"]
    assert StixObject.objects.of_visible(report).count() == 8
    assert Observable.objects.of_visible(report).filter(value="198.51.100.7").exists()
    # the audience sees it, an outsider does not
    assert Report.objects.visible_to(world.my_analyst).filter(pk=report.pk).exists()
    assert not Report.objects.visible_to(world.sg_analyst).filter(pk=report.pk).exists()
    remote.refresh_from_db()
    assert remote.added_after == "2025-01-01T00:00:07.000000Z"
    assert run.resumed_to == remote.added_after

    again = services.pull(remote, trigger="test")
    assert again.status == RunStatus.SUCCEEDED, again.error
    assert again.added_after == "2025-01-01T00:00:07.000000Z"
    assert (again.fetched, again.stored) == (0, 0)

    # Even asked for everything again, nothing new is stored: all eight are already known.
    RemoteCollection.objects.filter(pk=remote.pk).update(added_after="")
    remote.refresh_from_db()
    third = services.pull(remote, trigger="test")
    assert (third.fetched, third.stored, third.skipped, third.failed) == (8, 0, 8, 0)
    assert _reports(world).count() == 1
    assert StixObject.unrestricted.count() == 8


def test_objects_added_on_the_remote_are_the_only_ones_fetched_next(world, partner_server):
    remote = _remote(world, partner_server.url)
    services.pull(remote)
    partner_server.add([_indicator("login-portal.example.com"),
                        _indicator("secure-update.example.net")])

    run = services.pull(remote, trigger="test")

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (run.fetched, run.stored, run.skipped) == (2, 2, 0)
    assert run.added_after == "2025-01-01T00:00:07.000000Z"
    assert _reports(world).count() == 2
    new = _reports(world).get(pk__in=PullRun.reports.through.objects.filter(
        pullrun=run).values("report_id"))
    assert new.title.startswith("Partner CERT: pulled ")
    assert set(Observable.objects.of_visible(new).values_list("value", flat=True)) == {
        "login-portal.example.com", "secure-update.example.net"}
    assert services.pull(remote).fetched == 0


def test_a_pull_that_stops_half_way_resumes_without_losing_or_doubling(world, partner_server):
    remote = _remote(world, partner_server.url)

    def worker_dies(run, fetched):
        raise RuntimeError("worker stopped")

    with pytest.raises(RuntimeError):
        services.pull(remote, progress=worker_dies, batch_objects=3)

    first = PullRun.objects.get()
    assert first.status == RunStatus.FAILED
    assert "worker stopped" in first.error
    assert (first.fetched, first.stored) == (3, 3)
    remote.refresh_from_db()
    # The first page ended at 00:00:02; more objects could share that date, so the next run
    # asks for everything from that moment on.
    assert remote.added_after == "2025-01-01T00:00:01.999999Z"

    second = services.pull(remote, batch_objects=3)

    assert second.status == RunStatus.SUCCEEDED, second.error
    assert (second.fetched, second.stored, second.skipped) == (6, 5, 1)
    assert StixObject.unrestricted.count() == 8
    remote.refresh_from_db()
    assert remote.added_after == "2025-01-01T00:00:07.000000Z"


def test_an_invalid_object_is_counted_as_failed_and_the_rest_is_stored(world, partner_server):
    remote = _remote(world, partner_server.url)
    services.pull(remote)
    bad = _indicator("bad.example.org")
    bad["pattern"] = "[domain-name:value = "  # not a STIX pattern
    partner_server.add([bad, _indicator("good.example.org")])

    run = services.pull(remote)

    assert run.status == RunStatus.SUCCEEDED
    assert (run.fetched, run.stored, run.failed) == (2, 1, 1)
    assert run.problems[0]["id"] == bad["id"]
    assert "pattern" in run.problems[0]["reason"].lower()


def test_bad_credentials_are_a_failed_run_with_the_reason(world, partner_server):
    remote = _remote(world, partner_server.url, secret="wrong password")

    run = services.pull(remote, trigger="test")

    assert run.status == RunStatus.FAILED
    assert "refused the credentials (HTTP 401)" in run.error
    assert "wrong password" not in run.error
    assert run.finished_at is not None
    assert run.stored == 0
    assert not _reports(world).exists()


def test_an_unreachable_remote_is_a_failed_run_with_the_reason(world):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    remote = _remote(world, f"http://127.0.0.1:{port}/api1/", timeout=3)

    run = services.pull(remote)

    assert run.status == RunStatus.FAILED
    assert "Cannot reach" in run.error
    assert f"127.0.0.1:{port}" in run.error


def test_a_wrong_collection_id_is_a_failed_run(world, partner_server):
    remote = _remote(world, partner_server.url, collection_id=str(uuid.uuid4()))

    run = services.pull(remote)

    assert run.status == RunStatus.FAILED
    assert "HTTP 404" in run.error


def test_bearer_token_is_sent_as_bearer(world, partner_server):
    # medallion only knows Basic: a bearer token is refused, which shows it was sent as one.
    remote = _remote(world, partner_server.url, auth=AuthKind.BEARER, username="",
                     secret="tok-123")
    run = services.pull(remote)
    assert run.status == RunStatus.FAILED
    assert "HTTP 401" in run.error
    assert "tok-123" not in run.error


def test_configuration_checks(world):
    remote = RemoteCollection(name="x", api_root_url="https://u:p@taxii.example.org/api1/",
                              collection_id="c1", auth=AuthKind.BASIC, username="u", secret="p",
                              owner=world.thai, run_as=world.thai_analyst)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="authentication fields"):
        remote.full_clean()
    remote.api_root_url = "https://taxii.example.org/api1/"
    remote.run_as = world.thai_viewer
    with pytest.raises(ValidationError, match="administrator or analyst"):
        remote.full_clean()
    remote.run_as = world.my_analyst
    with pytest.raises(ValidationError, match="owner organisation"):
        remote.full_clean()
    remote.run_as, remote.secret = world.thai_analyst, ""
    with pytest.raises(ValidationError, match="username and a password"):
        remote.full_clean()
    remote.secret, remote.timeout = "p", 3600
    with pytest.raises(ValidationError, match="600 seconds"):
        remote.full_clean()


def test_cli_pull_and_runs(world, partner_server):
    _remote(world, partner_server.url)
    out = io.StringIO()
    call_command("taxii", "pull", "partner", "--no-progress", stdout=out)
    assert "fetched 8, stored 8, skipped (already known) 0, failed 0" in out.getvalue()
    out = io.StringIO()
    call_command("taxii", "runs", "partner", stdout=out)
    assert "succeeded" in out.getvalue()
    with pytest.raises(CommandError, match="no remote TAXII collection"):
        call_command("taxii", "pull", "nope")


def test_cli_pull_failure_exits_with_the_reason(world, partner_server):
    _remote(world, partner_server.url, secret="nope-nope")
    with pytest.raises(CommandError, match="failed"):
        call_command("taxii", "pull", "partner", "--no-progress", stdout=io.StringIO())


def test_task_and_schedule(world, partner_server):
    remote = _remote(world, partner_server.url, schedule="every 1h")
    assert services.due_remotes() == [remote]
    assert tasks.pull_due() == [remote.pk]  # eager without a broker: pulled in-process
    assert PullRun.objects.get().status == RunStatus.SUCCEEDED
    assert services.due_remotes() == []
    RemoteCollection.objects.filter(pk=remote.pk).update(enabled=False)
    assert tasks.pull_due() == []


def test_admin_never_shows_the_secret_and_keeps_it_when_left_blank(world, partner_server,
                                                                   client):
    remote = _remote(world, partner_server.url)
    world.hub_admin.is_superuser = True  # as `certhub user create --superuser` makes them
    world.hub_admin.save()
    _log_in_with_two_factor(client, world.hub_admin)
    url = reverse("admin:taxii_client_remotecollection_change", args=[remote.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert PASSWORD not in page.content.decode()
    form = _admin_form_data(remote)
    form["title"] = "Renamed"
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    remote.refresh_from_db()
    assert remote.title == "Renamed"
    assert remote.secret == PASSWORD
    from certhub.audit.models import AuditEntry

    entry = AuditEntry.objects.filter(object_type="taxii_client.remotecollection").last()
    assert entry.details == {"fields": ["title"]}
    changelist = client.get(reverse("admin:taxii_client_pullrun_changelist"))
    assert changelist.status_code == 200


def _admin_form_data(remote) -> dict:
    data = {field: getattr(remote, field) for field in (
        "name", "title", "schedule", "api_root_url", "collection_id", "auth", "username",
        "timeout", "page_size", "tlp", "added_after")}
    data.update({"enabled": "on", "verify_tls": "on", "owner": remote.owner_id,
                 "run_as": remote.run_as_id, "secret": "",
                 "audience_orgs": [o.pk for o in remote.audience_orgs.all()]})
    return data


def _log_in_with_two_factor(client, user) -> None:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def test_runs_page_shows_own_organisations_runs_only(world, partner_server, client):
    remote = _remote(world, partner_server.url)
    services.pull(remote)
    client.force_login(world.thai_analyst)
    page = client.get(reverse("web:taxii-runs"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "partner" in body
    assert ">8<" in body
    report = _reports(world).get()
    assert reverse("web:intel-report", args=[report.pk]) in body
    client.force_login(world.sg_analyst)
    body = client.get(reverse("web:taxii-runs")).content.decode()
    assert "Partner CERT" not in body


def test_connect_page_names_the_real_urls(world, client):
    client.force_login(world.thai_analyst)
    page = client.get(reverse("web:taxii"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "http://testserver/taxii2/" in body
    assert "taxii2client" in body


def test_connect_page_is_public_docs_but_runs_need_login(client):
    assert client.get(reverse("web:taxii-runs")).status_code == 302

