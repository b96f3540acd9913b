"""Import pages: preview first (nothing saved), then save all or nothing; bad input is named."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from certhub.intel.models import Observable, Report

from .conftest import sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(world) -> Client:
    client = Client()
    client.force_login(world.thai_analyst)
    return client


def _preview_then_save(client, url, data: dict, **save_fields):
    preview = client.post(url, {"action": "preview", **data})
    assert preview.status_code == 200
    assert preview.context["plans"], preview.content.decode()[:2000]
    token = preview.context["token"]
    assert not Report.unrestricted.exists()  # the preview saves nothing
    fields = {"action": "save", "token": token, **save_fields}
    return preview, client.post(url, fields)


def test_stix_upload_preview_then_save(world, analyst):
    url = reverse("web:intel-import-stix")
    assert analyst.get(url).status_code == 200
    bundle = json.dumps(sample("stix_bundle.json")).encode()
    preview, saved = _preview_then_save(
        analyst, url, {"file": SimpleUploadedFile("bundle.json", bundle), "tlp": "amber",
                       "audience_orgs": "MyCERT"},
        tlp="amber", audience_orgs="MyCERT")
    text = preview.content.decode()
    assert "update-check[.]example[.]net" in text  # defanged
    assert "Poison Ivy phishing wave against ministries" in text
    report = Report.unrestricted.get()
    assert saved.status_code == 302
    assert saved["Location"] == reverse("web:intel-report", args=[report.pk])
    assert report.source == "stix"
    assert list(report.audience_orgs.all()) == [world.my]
    assert Observable.unrestricted.filter(report=report).exists()


def test_stix_bad_object_is_named_and_nothing_is_saved(world, analyst):
    bundle = sample("stix_bundle.json")
    bundle["objects"][2]["pattern"] = "[ipv4-addr:value = "
    response = analyst.post(reverse("web:intel-import-stix"),
                            {"action": "preview", "text": json.dumps(bundle), "tlp": "amber"})
    assert response.status_code == 200
    assert not response.context.get("plans")
    errors = " ".join(str(e) for e in response.context["form"].errors.values())
    assert "nothing imported: object 2 (indicator--" in errors
    assert "Pattern failed to validate" in errors
    not_json = analyst.post(reverse("web:intel-import-stix"),
                            {"action": "preview", "text": "{not json", "tlp": "amber"})
    assert "not JSON" in not_json.content.decode()
    nothing = analyst.post(reverse("web:intel-import-stix"), {"action": "preview",
                                                              "tlp": "amber"})
    assert "Choose a file or paste the content." in nothing.content.decode()
    assert not Report.unrestricted.exists()


def test_expired_or_foreign_token_saves_nothing(world, analyst):
    url = reverse("web:intel-import-stix")
    preview = analyst.post(url, {"action": "preview", "tlp": "amber",
                                 "text": json.dumps(sample("stix_bundle.json"))})
    token = preview.context["token"]
    other = Client()
    other.force_login(world.my_analyst)
    response = other.post(url, {"action": "save", "token": token, "tlp": "amber"}, follow=True)
    assert "The preview has expired" in response.content.decode()
    assert not Report.unrestricted.exists()


def test_misp_preview_shows_recognised_tags_then_save(world, analyst):
    url = reverse("web:intel-import-misp")
    preview, saved = _preview_then_save(
        analyst, url, {"text": json.dumps(sample("misp_event.json")), "tlp": ""}, tlp="")
    plan = preview.context["plans"][0]
    assert "amber" in plan["tlp_found"]
    tags = {t.tag: t for t in plan["tags"]}
    assert tags['misp-galaxy:mitre-attack-pattern="Phishing - T1566"'].known
    assert "Attack Pattern" in preview.content.decode()
    assert saved.status_code == 302
    report = Report.unrestricted.get()
    assert report.tlp == "amber"
    assert report.source == "misp"
    page = analyst.get(saved["Location"]).content.decode()
    assert "Phishing - T1566" in page


def test_misp_bad_audience_is_refused_at_save_and_preview_shown_again(world, analyst):
    url = reverse("web:intel-import-misp")
    preview = analyst.post(url, {"action": "preview", "tlp": "",
                                 "text": json.dumps(sample("misp_event.json"))})
    response = analyst.post(url, {"action": "save", "token": preview.context["token"],
                                  "tlp": "", "audience_orgs": "NoSuchCERT"})
    assert response.status_code == 200
    assert "NoSuchCERT" in response.content.decode()
    assert response.context["plans"]
    assert not Report.unrestricted.exists()


CSV = "indicator,kind,note\nhxxp://bad[.]example/a,url,phishing page\n192.0.2[.]10,ip-dst,c2\n"


def test_csv_columns_preview_save(world, analyst):
    url = reverse("web:intel-import-csv")
    assert analyst.get(url).status_code == 200
    base = {"title": "Bank phishing IOCs", "tlp": "amber", "delimiter": ",",
            "has_header": "on", "labels": "PAP:AMBER"}
    columns = analyst.post(url, {"action": "columns", "text": CSV, **base})
    assert columns.status_code == 200
    mapping = columns.context["mapping_form"]
    assert mapping.initial["value"] == "indicator"
    assert mapping.initial["type"] == "kind"
    token = columns.context["token"]
    chosen = {"value": "indicator", "type": "kind", "comment": "note"}
    preview = analyst.post(url, {"action": "preview", "token": token, **base, **chosen})
    assert preview.context["plans"][0]["observable_count"] == 2
    assert "bad[.]example" in preview.content.decode()
    assert not Report.unrestricted.exists()
    saved = analyst.post(url, {"action": "save", "token": token, **base, **chosen})
    assert saved.status_code == 302
    report = Report.unrestricted.get()
    assert report.labels == ["PAP:AMBER"]
    assert report.source == "csv"
    assert set(Observable.unrestricted.filter(report=report).values_list("value", flat=True)) \
        == {"http://bad.example/a", "192.0.2.10"}


def test_csv_bad_line_is_named_and_nothing_saved(world, analyst):
    url = reverse("web:intel-import-csv")
    base = {"title": "Broken", "tlp": "amber", "delimiter": ",", "has_header": "on"}
    text = "value,type\n192.0.2.1,ipv4-addr\nnot an indicator,ipv4-addr\n"
    token = analyst.post(url, {"action": "columns", "text": text, **base}).context["token"]
    for action in ("preview", "save"):
        response = analyst.post(url, {"action": action, "token": token, **base,
                                      "value": "value", "type": "type"})
        assert response.status_code == 200
        assert "line 3" in response.content.decode()
    assert not Report.unrestricted.exists()


TEXT = """Phishing wave, 12 May
The kit is served from hxxps://login-bank-verify[.]xyz/verify and talks to 203.0.113[.]66.
Victims were also sent to www.google.com for the redirect.
"""


def test_free_text_extract_review_then_save(world, analyst):
    url = reverse("web:intel-import-text")
    assert analyst.get(url).status_code == 200
    review = analyst.post(url, {"action": "extract", "text": TEXT, "tlp": "amber"})
    assert review.status_code == 200
    candidates = {c["key"]: c for c in review.context["candidates"]}
    assert "url|https://login-bank-verify.xyz/verify" in candidates
    assert "ipv4-addr|203.0.113.66" in candidates
    assert review.context["confirm"].initial["title"] == "Phishing wave, 12 May"
    assert "hxxps[:]//login-bank-verify[.]xyz/verify" in review.content.decode()
    assert not Report.unrestricted.exists()
    # The analyst keeps the URL only, adds one value by hand, and tags it.
    keep = ["url|https://login-bank-verify.xyz/verify"]
    saved = analyst.post(url, {"action": "save", "observable": keep,
                               "candidate": list(candidates), "title": "Phishing wave",
                               "description": TEXT, "tlp": "amber",
                               "labels": 'rsit:fraud="phishing"', "extra": "198.51.100[.]3"})
    assert saved.status_code == 302
    report = Report.unrestricted.get()
    assert report.source == "text"
    assert report.labels == ['rsit:fraud="phishing"']
    assert set(Observable.unrestricted.filter(report=report).values_list("value", flat=True)) \
        == {"https://login-bank-verify.xyz/verify", "198.51.100.3"}


def test_free_text_nothing_chosen_or_bad_tag_is_explained(world, analyst):
    url = reverse("web:intel-import-text")
    candidates = ["ipv4-addr|203.0.113.66"]
    none = analyst.post(url, {"action": "save", "candidate": candidates, "title": "X",
                              "tlp": "amber"})
    assert "Choose at least one indicator to keep." in none.content.decode()
    assert none.context["candidates"][0]["checked"] is False
    bad = analyst.post(url, {"action": "save", "candidate": candidates,
                             "observable": candidates, "title": "X", "tlp": "amber",
                             "labels": "PAP:PURPLE"})
    assert "PAP:PURPLE" in bad.content.decode()
    assert not Report.unrestricted.exists()


def test_viewers_cannot_import(world):
    client = Client()
    client.force_login(world.thai_viewer)
    for name in ("web:intel-import", "web:intel-import-stix", "web:intel-import-misp",
                 "web:intel-import-csv", "web:intel-import-text"):
        assert client.get(reverse(name)).status_code == 403


def test_csv_option_mistake_keeps_the_staged_file(world, analyst):
    url = reverse("web:intel-import-csv")
    base = {"tlp": "amber", "delimiter": ",", "has_header": "on"}
    token = analyst.post(url, {"action": "columns", "text": CSV, "title": "T", **base}
                         ).context["token"]
    response = analyst.post(url, {"action": "save", "token": token, "title": "", **base,
                                  "value": "indicator"})
    assert response.status_code == 200
    assert response.context["form"].errors["title"]
    assert response.context["token"] == token
    assert response.context["mapping_form"] is not None
    assert not Report.unrestricted.exists()
    no_value = analyst.post(url, {"action": "columns", "text": "", "title": "T", **base})
    assert "Choose a file or paste the content." in no_value.content.decode()
