"""The JSON API as a whole: docs served locally, one error format, rate limits per token."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from certhub.accounts import tokens
from certhub.config.api import api


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_openapi_document_and_docs_page_are_served_without_a_cdn(client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    paths = document.json()["paths"]
    assert any(path.startswith("/api/v1/directory/") for path in paths)
    assert any(path.startswith("/api/v1/lookup/") for path in paths)
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "script-src 'self';" in page["Content-Security-Policy"]


def test_errors_share_one_format(client, world):
    missing = client.get("/api/v1/directory/organisations/no-such-team")
    assert missing.status_code == 404
    assert missing.json() == {"status": 404, "code": "not_found",
                              "message": missing.json()["message"], "field": None}
    bad = client.get("/api/v1/lookup/", {"q": "999.1.1.1"})
    assert bad.status_code == 400
    body = bad.json()
    assert body["status"] == 400
    assert body["code"] == "invalid"
    assert body["message"]
    unauthenticated = client.get("/api/v1/accounts/me", **bearer("chub_not-a-real-token"))
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == "unauthenticated"
    assert unauthenticated["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture
def tight_rate_limit():
    throttle = api.throttle[0]
    saved = throttle.num_requests, throttle.duration
    throttle.num_requests, throttle.duration = 3, 60
    cache.clear()
    yield
    throttle.num_requests, throttle.duration = saved
    cache.clear()


def test_rate_limit_is_per_token(client, world, tight_rate_limit):
    _, first = tokens.issue(world.thai_analyst, name="first")
    _, second = tokens.issue(world.thai_analyst, name="second")
    statuses = [client.get("/api/v1/accounts/me", **bearer(first)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/accounts/me", **bearer(first))
    assert limited.json()["code"] == "rate_limited"
    assert int(limited["Retry-After"]) > 0
    # Another token of the same user has its own budget.
    assert client.get("/api/v1/accounts/me", **bearer(second)).status_code == 200


def test_anonymous_rate_limit_ignores_a_spoofed_forwarded_for(client, world, tight_rate_limit):
    statuses = [
        client.get("/api/v1/lookup/", {"q": "TH"},
                   HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
