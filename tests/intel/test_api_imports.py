"""Imports through the API: STIX bundles, MISP events and feeds, CSV with a column mapping, and
free text (extraction preview, then saving the reviewed list). Bad input: 400 naming the object
or line, nothing stored."""

from __future__ import annotations

import io
import json
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from certhub.intel.models import Observable, Report, StixObject

from .conftest import sample


def _nothing_stored():
    assert not Report.unrestricted.exists()
    assert not StixObject.unrestricted.exists()
    assert not Observable.unrestricted.exists()


def test_stix_bundle_as_body_and_as_upload(world, api, client):
    response = api.post(world.thai_analyst, "/import/stix", sample("stix_bundle.json"),
                        query="tlp=green&title=Renamed")
    assert response.status_code == 201, response.content
    [imported] = response.json()["reports"]
    assert imported["report"]["title"] == "Renamed"
    assert (imported["objects"], imported["sightings"]) == (8, 1)
    Report.unrestricted.all().delete()
    upload = SimpleUploadedFile("bundle.json", json.dumps(sample("stix_bundle.json")).encode())
    response = client.post("/api/v1/intel/import/stix?tlp=amber", {"file": upload},
                           **api.headers(world.thai_analyst))
    assert response.status_code == 201, response.content


def test_bad_stix_object_is_named_and_nothing_is_stored(world, api):
    bundle = sample("stix_bundle.json")
    bundle["objects"][3]["pattern"] = "[file:hashes.'SHA-256' = ]"
    response = api.post(world.thai_analyst, "/import/stix", bundle)
    assert response.status_code == 400
    error = response.json()
    assert error["field"] == "objects[3]"
    assert "object 3" in error["message"]
    assert bundle["objects"][3]["id"] in error["message"]
    _nothing_stored()
    assert api.post(world.thai_analyst, "/import/stix", "{not json",
                    content_type="application/json").status_code == 400
    assert api.post(world.thai_viewer, "/import/stix", sample("stix_bundle.json")
                    ).status_code == 403
    _nothing_stored()


def test_misp_event_imports(world, api):
    response = api.post(world.thai_analyst, "/import/misp", sample("misp_event.json"))
    assert response.status_code == 201, response.content
    [imported] = response.json()["reports"]
    assert imported["report"]["tlp"] == "amber"  # the event's own tag
    assert imported["observables"] > 0


def _feed_zip(events: list[dict], *, manifest: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if manifest:
            archive.writestr("feed/manifest.json", json.dumps(
                {e["Event"]["uuid"]: {"info": e["Event"]["info"]} for e in events}))
        for event in events:
            archive.writestr(f"feed/{event['Event']['uuid']}.json", json.dumps(event))
    return buffer.getvalue()


def test_misp_feed_zip_imports_every_event(world, api):
    first = sample("misp_event.json")
    second = sample("misp_event.json")
    second["Event"]["uuid"] = "0b3c2a1d-7e6f-4a5b-8c9d-0e1f2a3b4c5d"
    second["Event"]["info"] = "Second event"
    response = api.post(world.thai_analyst, "/import/misp", _feed_zip([first, second]),
                        content_type="application/zip")
    assert response.status_code == 201, response.content
    assert sorted(r["report"]["title"] for r in response.json()["reports"]) == sorted(
        [first["Event"]["info"], "Second event"])


def test_misp_feed_zip_without_manifest_is_refused(world, api):
    response = api.post(world.thai_analyst, "/import/misp",
                        _feed_zip([sample("misp_event.json")], manifest=False),
                        content_type="application/zip")
    assert response.status_code == 400
    assert "manifest.json" in response.json()["message"]
    _nothing_stored()


CSV = """indicator,kind,note,first
198.51.100[.]23,ip-dst,scanner,2024-05-01T00:00:00Z
hxxp://phish[.]example/login,url,landing page,1714521600
d41d8cd98f00b204e9800998ecf8427e,,empty file,
"""


def test_csv_with_a_column_mapping(world, api):
    response = api.post(world.thai_analyst, "/import/csv", {
        "csv": CSV, "title": "Scanner list", "tlp": "green",
        "mapping": {"value": "indicator", "type": "kind", "comment": "note",
                    "first_seen": "first"}})
    assert response.status_code == 201, response.content
    report = Report.unrestricted.get()
    rows = {(o.type, o.value, o.comment) for o in Observable.unrestricted.filter(report=report)}
    assert rows == {("ipv4-addr", "198.51.100.23", "scanner"),
                    ("url", "http://phish.example/login", "landing page"),
                    ("md5", "d41d8cd98f00b204e9800998ecf8427e", "empty file")}
    assert report.source == "csv"


def test_csv_without_header_uses_column_numbers(world, api):
    response = api.post(world.thai_analyst, "/import/csv", {
        "csv": "x,203.0.113.8\ny,evil.example.com\n", "title": "No header",
        "has_header": False, "mapping": {"value": "2", "comment": "1"}})
    assert response.status_code == 201, response.content
    assert Observable.unrestricted.count() == 2


def test_csv_errors_name_the_line_and_store_nothing(world, api):
    bad_value = CSV + "not an indicator!,,oops,\n"
    response = api.post(world.thai_analyst, "/import/csv", {
        "csv": bad_value, "title": "x", "mapping": {"value": "indicator", "type": "kind"}})
    assert response.status_code == 400
    assert response.json()["message"].startswith("line 5:")
    assert response.json()["field"] == "line 5"
    bad_type = api.post(world.thai_analyst, "/import/csv", {
        "csv": "v,t\n1.2.3.4,teapot\n", "title": "x", "mapping": {"value": "v", "type": "t"}})
    assert bad_type.status_code == 400
    assert "line 2" in bad_type.json()["message"]
    bad_date = api.post(world.thai_analyst, "/import/csv", {
        "csv": "v,d\n1.2.3.4,yesterday\n", "title": "x",
        "mapping": {"value": "v", "first_seen": "d"}})
    assert bad_date.status_code == 400
    assert "line 2" in bad_date.json()["message"]
    bad_column = api.post(world.thai_analyst, "/import/csv", {
        "csv": CSV, "title": "x", "mapping": {"value": "ioc"}})
    assert bad_column.status_code == 400
    assert bad_column.json()["field"] == "mapping.value"
    _nothing_stored()


TEXT = """Dear colleagues, the campaign used hxxps://login-portal[.]com/verify?id=7 and the C2
198.51.100[.]77 (backup at 203.0.113(.)4). The dropper's SHA-256 is
EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C and its MD5
d41d8cd98f00b204e9800998ecf8427e. Replies went to attacker[@]mail-drop[.]net."""


def test_free_text_extraction_refangs_and_saves_nothing(world, api):
    response = api.post(world.thai_analyst, "/extract", {"text": TEXT})
    assert response.status_code == 200
    found = {(c["type"], c["value"]) for c in response.json()["candidates"]}
    assert ("url", "https://login-portal.com/verify?id=7") in found
    assert ("ipv4-addr", "198.51.100.77") in found
    assert ("ipv4-addr", "203.0.113.4") in found
    assert ("sha256", "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c") in found
    assert ("md5", "d41d8cd98f00b204e9800998ecf8427e") in found
    assert ("email-addr", "attacker@mail-drop.net") in found
    shown = {c["value"]: c["defanged"] for c in response.json()["candidates"]}
    assert shown["198.51.100.77"] == "198.51.100[.]77"
    _nothing_stored()


def test_reviewed_extraction_is_saved_as_a_text_report(world, api):
    candidates = api.post(world.thai_analyst, "/extract", {"text": TEXT}).json()["candidates"]
    kept = [c for c in candidates if c["type"] != "md5"]
    response = api.post(world.thai_analyst, "/import/text", {
        "title": "From the email", "tlp": "amber", "audience_orgs": ["MyCERT"],
        "observables": [{"type": c["type"], "value": c["value"]} for c in kept]})
    assert response.status_code == 201, response.content
    report = Report.unrestricted.get()
    assert report.source == "text"
    assert Observable.unrestricted.filter(report=report).count() == len(kept)
    assert not Observable.unrestricted.filter(type="md5").exists()
