"""GET /api/v1/lookup/?q= and POST /api/v1/lookup/batch."""

from __future__ import annotations

import json

import pytest
from tests.conftest import add_constituency

from certhub.accounts import tokens
from certhub.directory.lookup import api as lookup_api
from certhub.directory.lookup.schemas import ResolutionOut

URL = "/api/v1/lookup/"
BATCH = "/api/v1/lookup/batch"


@pytest.fixture
def bearer(world):
    _token, secret = tokens.issue(world.thai_analyst, name="lookup test", scope="read")
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def post_batch(client, body, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(BATCH, data=data, content_type="application/json", **headers)


def test_single_lookup_is_open_to_anonymous_callers(client, world):
    add_constituency(world.thai, "prefix", "1.0.128.0/17")
    response = client.get(URL, {"q": "1.0.128.1"})
    assert response.status_code == 200
    body = response.json()
    assert body["rule"] == "prefix"
    assert body["matches"][0]["short_name"] == "ThaiCERT"
    assert body["matches"][0]["organisation_id"] == world.thai.pk
    assert body["country"] == "TH"


@pytest.mark.parametrize(("value", "short_name"), [
    ("www.example.co.th", "ThaiCERT"), ("https://example.gov.sg/", "SingCERT"),
    ("AS4788", "MyCERT"), ("4788", "MyCERT")])
def test_single_lookup_acceptance_values(client, world, value, short_name):
    body = client.get(URL, {"q": value}).json()
    assert [m["short_name"] for m in body["matches"]] == [short_name]


def test_address_outside_the_region_reports_country_without_member(client, world):
    body = client.get(URL, {"q": "8.8.8.8"}).json()
    assert (body["matches"], body["country"], body["rule"]) == ([], "US", None)


@pytest.mark.parametrize("value", ["999.1.1.1", "not a value!!", "AS99999999999"])
def test_malformed_value_is_400_with_a_reason(client, world, value):
    response = client.get(URL, {"q": value})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"status", "code", "message", "field"}
    assert (body["status"], body["code"], body["field"]) == (400, "invalid", "q")
    assert value in body["message"]


def test_missing_q_is_400(client, world):
    response = client.get(URL)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_batch_needs_an_authenticated_user(client, world):
    response = post_batch(client, {"values": ["1.0.128.1"]})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_batch_returns_one_result_per_value_with_errors_in_place(client, world, bearer):
    values = ["1.0.128.1", "999.1.1.1", "example.sg", "AS4788", "8.8.8.8"]
    response = post_batch(client, {"values": values}, **bearer)
    assert response.status_code == 200
    body = response.json()
    assert [item["input"] for item in body] == values
    for item in body:
        ResolutionOut.model_validate(item)  # the documented shape
    assert [item["error"] is not None for item in body] == [False, True, False, False, False]
    assert [[m["short_name"] for m in item["matches"]] for item in body] == [
        ["ThaiCERT"], [], ["SingCERT"], ["MyCERT"], []]
    assert "0 to 255" in body[1]["error"]


def test_batch_works_for_a_browser_session(client, world):
    client.force_login(world.my_analyst)
    response = post_batch(client, {"values": ["AS4788"]})
    assert response.status_code == 200
    assert response.json()[0]["matches"][0]["short_name"] == "MyCERT"


def test_batch_limit_is_100000_values(client, world, bearer):
    response = post_batch(client, {"values": ["TH"] * 100_001}, **bearer)
    assert response.status_code == 400
    assert response.json()["field"] == "values"


@pytest.mark.parametrize("body", ["not json", '{"values": "1.0.128.1"}', '{"values": [4788]}',
                                  "[]", '{"other": []}'])
def test_batch_with_a_malformed_body_is_400(client, world, bearer, body):
    response = post_batch(client, body, **bearer)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_batch_body_size_is_limited(client, world, bearer, monkeypatch):
    monkeypatch.setattr(lookup_api, "MAX_BATCH_BYTES", 100)
    response = post_batch(client, {"values": ["1.0.128.1"] * 20}, **bearer)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_operations_are_documented(client, world):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/lookup/" in schema["paths"]
    batch = schema["paths"]["/api/v1/lookup/batch"]["post"]
    assert "values" in json.dumps(batch["requestBody"])
