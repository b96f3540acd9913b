"""Fixtures for incidents: an API client helper, a fresh lookup index, attachments in a
temporary data folder, and factories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certhub.accounts import tokens
from certhub.accounts.models import TokenScope
from certhub.directory import lookup
from certhub.incidents import services

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Attachments under a temporary data folder; a lookup index built from this test's data;
    a clean cache for the public form's rate limit."""
    from django.core.cache import cache

    settings.DATA_DIR = tmp_path
    settings.PUBLIC_REPORT_POW_BITS = 8
    lookup.invalidate()
    cache.clear()
    yield
    lookup.invalidate()


class Api:
    """``api.get(user, path)``: a request to /api/v1/incidents/ as ``user`` (None: anonymous)."""

    prefix = "/api/v1/incidents"

    def __init__(self, client):
        self.client = client
        self._tokens: dict[tuple, str] = {}

    def headers(self, user) -> dict:
        if user is None:
            return {}
        scope = TokenScope.WRITE if user.can_write else TokenScope.READ
        key = (user.pk, scope)
        if key not in self._tokens:
            self._tokens[key] = tokens.issue(user, name="test", scope=scope)[1]
        return {"HTTP_AUTHORIZATION": f"Bearer {self._tokens[key]}"}

    def get(self, user, path, **params):
        return self.client.get(self.prefix + path, params, **self.headers(user))

    def post(self, user, path, data=None, **extra):
        return self.client.post(self.prefix + path, json.dumps(data or {}),
                                content_type="application/json", **self.headers(user), **extra)

    def patch(self, user, path, data=None):
        return self.client.patch(self.prefix + path, json.dumps(data or {}),
                                 content_type="application/json", **self.headers(user))

    def upload(self, user, path, name: str, content: bytes):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return self.client.post(self.prefix + path, {"file": SimpleUploadedFile(name, content)},
                                **self.headers(user))


@pytest.fixture
def api(client):
    return Api(client)


def make_incident(user, **fields):
    fields.setdefault("title", "Phishing campaign against member banks")
    fields.setdefault("tlp", "amber")
    fields.setdefault("type", "phishing")
    fields.setdefault("severity", "high")
    return services.create_incident(user=user, **fields)


@pytest.fixture
def thai_incident(world):
    """An AMBER incident of ThaiCERT (audience: ThaiCERT's own organisation only)."""
    return make_incident(world.thai_analyst, description="Seen from **175.136.10.20**.",
                         indicators=[("", "175.136.10.20"), ("", "login-bank.example.my")])
