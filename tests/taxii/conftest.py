"""TAXII server fixtures: the hub's API root, tokens, and a client speaking TAXII 2.1."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from certhub.accounts import tokens
from certhub.taxii import services

TAXII = "application/taxii+json;version=2.1"
VISIBLE = "2f2c5b4e-8d51-4c55-9a0e-6b1b5a3b7a01"
OWN = "2f2c5b4e-8d51-4c55-9a0e-6b1b5a3b7a02"
FINDINGS = "2f2c5b4e-8d51-4c55-9a0e-6b1b5a3b7a03"


@pytest.fixture
def hub_root(db):
    # Migration 0002 creates them too, but transactional tests flush the tables afterwards.
    return services.ensure_defaults()


def token_for(user, scope: str = "write") -> str:
    return tokens.issue(user, name="taxii test", scope=scope)[1]


class TaxiiClient:
    """Django's test client with a token and the TAXII media type on every request."""

    def __init__(self, user=None, *, token: str | None = None, basic: bool = False):
        self.client = Client(raise_request_exception=False)
        self.headers = {"Accept": TAXII}
        if user is not None:
            token = token or token_for(user, "write" if user.can_write else "read")
            if basic:
                pair = base64.b64encode(f"{user.email}:{token}".encode()).decode()
                self.headers["Authorization"] = f"Basic {pair}"
            else:
                self.headers["Authorization"] = f"Bearer {token}"

    def _headers(self, extra: dict) -> dict:
        """Ours, overridden by ``HTTP_ACCEPT=...``-style keyword arguments."""
        named = {key.removeprefix("HTTP_").replace("_", "-").title(): value
                 for key, value in extra.items()}
        return {**self.headers, **named}

    def get(self, path: str, params=None, **headers):
        return self.client.get(path, params or {}, headers=self._headers(headers))

    def post(self, path: str, body, content_type: str = TAXII, **headers):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return self.client.post(path, data, content_type=content_type,
                                headers=self._headers(headers))


@pytest.fixture
def taxii_as():
    return TaxiiClient


def objects_url(collection: str, root: str = "hub") -> str:
    return f"/taxii2/{root}/collections/{collection}/objects/"
