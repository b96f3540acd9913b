"""Fixtures for intel: the sample STIX bundle and MISP event, read fresh for each test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certhub.accounts import tokens
from certhub.accounts.models import TokenScope

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


@pytest.fixture
def stix_bundle() -> dict:
    return sample("stix_bundle.json")


@pytest.fixture
def misp_event() -> dict:
    return sample("misp_event.json")


class Api:
    """``api.get(user, path)``: a request to /api/v1/intel/ as ``user`` (None: anonymous), with
    a Bearer token of the user (write scope for writers)."""

    prefix = "/api/v1/intel"

    def __init__(self, client):
        self.client = client
        self._tokens: dict[tuple, str] = {}

    def token(self, user, scope=None) -> str:
        scope = scope or (TokenScope.WRITE if user.can_write else TokenScope.READ)
        key = (user.pk, scope)
        if key not in self._tokens:
            self._tokens[key] = tokens.issue(user, name="test", scope=scope)[1]
        return self._tokens[key]

    def headers(self, user, scope=None) -> dict:
        return {} if user is None else {"HTTP_AUTHORIZATION": f"Bearer {self.token(user, scope)}"}

    def get(self, user, path, **params):
        return self.client.get(self.prefix + path, params, **self.headers(user))

    def send(self, method, user, path, data=None, *, content_type="application/json",
             query: str = ""):
        body = (json.dumps(data) if content_type == "application/json" and data is not None
                else data if data is not None else "")
        url = self.prefix + path + (f"?{query}" if query else "")
        return getattr(self.client, method)(url, body, content_type=content_type,
                                            **self.headers(user))

    def post(self, user, path, data=None, **kw):
        return self.send("post", user, path, data, **kw)

    def patch(self, user, path, data=None, **kw):
        return self.send("patch", user, path, data, **kw)

    def delete(self, user, path, **kw):
        return self.send("delete", user, path, **kw)


@pytest.fixture
def api(client):
    return Api(client)
