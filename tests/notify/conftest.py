"""Fixtures of the notify tests: a PGP key pair, a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def make_key_pair(email: str = "duty@example.org"):
    """A fresh OpenPGP key (ECDSA P-256 primary, ECDH encryption subkey): (private, public)."""
    import pgpy
    from pgpy.constants import (
        CompressionAlgorithm,
        EllipticCurveOID,
        HashAlgorithm,
        KeyFlags,
        PubKeyAlgorithm,
        SymmetricKeyAlgorithm,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key = pgpy.PGPKey.new(PubKeyAlgorithm.ECDSA, EllipticCurveOID.NIST_P256)
        uid = pgpy.PGPUID.new("Duty officer", email=email)
        key.add_uid(uid, usage={KeyFlags.Sign, KeyFlags.Certify},
                    hashes=[HashAlgorithm.SHA256], ciphers=[SymmetricKeyAlgorithm.AES256],
                    compression=[CompressionAlgorithm.Uncompressed])
        sub = pgpy.PGPKey.new(PubKeyAlgorithm.ECDH, EllipticCurveOID.NIST_P256)
        key.add_subkey(sub, usage={KeyFlags.EncryptCommunications, KeyFlags.EncryptStorage})
    return key, str(key.pubkey)


@pytest.fixture(scope="session")
def key_pair():
    return make_key_pair()


def decrypt_pgp_mime(email_message, private_key):
    """The decrypted inner MIME entity (an email.message.Message) of a PGP/MIME mail."""
    import email

    import pgpy

    mime = email.message_from_bytes(email_message.message().as_bytes())
    assert mime.get_content_type() == "multipart/encrypted"
    assert mime.get_param("protocol") == "application/pgp-encrypted"
    version, encrypted = mime.get_payload()
    assert version.get_content_type() == "application/pgp-encrypted"
    assert "Version: 1" in version.get_payload()
    assert encrypted.get_content_type() == "application/octet-stream"
    armored = encrypted.get_payload()
    assert armored.startswith("-----BEGIN PGP MESSAGE-----")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clear = private_key.decrypt(pgpy.PGPMessage.from_blob(armored)).message
    if isinstance(clear, str):
        clear = clear.encode()
    return email.message_from_bytes(bytes(clear))


class Receiver:
    """A real HTTP server on 127.0.0.1 recording each POST (headers, body)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": body})
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if receiver.status < 300 else b"nope")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def json(self, index: int = -1) -> dict:
        return json.loads(self.requests[index]["body"])

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def allow_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True


def logged_in(user):
    """A client whose session passed every login step the user needs (two-factor included)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    if user.requires_two_factor:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
