"""Directory test helpers: API calls with a Bearer token of a chosen user, test PGP keys."""

from __future__ import annotations

import json
import warnings

import pytest

from certhub.accounts import tokens
from certhub.accounts.models import TokenScope
from certhub.directory.models import Contact
from certhub.sharing.tlp import TLP


class Api:
    """``api.get(user, path)``: a request to /api/v1/directory/ as ``user`` (None: anonymous)."""

    prefix = "/api/v1/directory"

    def __init__(self, client):
        self.client = client
        self._tokens: dict[int, str] = {}

    def _headers(self, user, scope):
        if user is None:
            return {}
        key = (user.pk, scope)
        if key not in self._tokens:
            self._tokens[key] = tokens.issue(user, name="test", scope=scope)[1]
        return {"HTTP_AUTHORIZATION": f"Bearer {self._tokens[key]}"}

    def _scope(self, user):
        return TokenScope.WRITE if user is not None and user.can_write else TokenScope.READ

    def get(self, user, path, **params):
        return self.client.get(self.prefix + path, params, **self._headers(user,
                                                                           self._scope(user)))

    def send(self, method, user, path, data=None, *, scope=None):
        body = json.dumps(data) if data is not None else ""
        return getattr(self.client, method)(
            self.prefix + path, body, content_type="application/json",
            **self._headers(user, scope or self._scope(user)))

    def post(self, user, path, data=None, **kw):
        return self.send("post", user, path, data, **kw)

    def patch(self, user, path, data=None, **kw):
        return self.send("patch", user, path, data, **kw)

    def delete(self, user, path, **kw):
        return self.send("delete", user, path, **kw)


@pytest.fixture
def api(client):
    return Api(client)


def make_contact(owner, *, tlp=TLP.CLEAR, name="Incident reports", role="incident_reports",
                 groups=(), orgs=(), users=(), **fields) -> Contact:
    contact = Contact.unrestricted.create(owner=owner, tlp=tlp, name=name, role=role, **fields)
    contact.audience_groups.set(groups)
    contact.audience_orgs.set(orgs)
    contact.audience_users.set(users)
    return contact


@pytest.fixture(scope="session")
def pgp_key():
    """A real RSA public key made with PGPy, and its fingerprint as PGPy computes it."""
    import pgpy
    from pgpy.constants import (
        CompressionAlgorithm,
        HashAlgorithm,
        KeyFlags,
        PubKeyAlgorithm,
        SymmetricKeyAlgorithm,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key = pgpy.PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
        uid = pgpy.PGPUID.new("Incident reports", email="incident-reports@thaicert.example")
        key.add_uid(uid, usage={KeyFlags.Sign, KeyFlags.EncryptCommunications},
                    hashes=[HashAlgorithm.SHA256], ciphers=[SymmetricKeyAlgorithm.AES256],
                    compression=[CompressionAlgorithm.Uncompressed])
    return str(key.pubkey), str(key.fingerprint).replace(" ", "").upper(), str(key)
