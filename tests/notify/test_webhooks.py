"""Webhooks: real HTTP calls to a server on 127.0.0.1, signatures, retries, SSRF guard."""

from __future__ import annotations

import json
import time

import pytest

from certhub.core.errors import InvalidInput, NotFound
from certhub.notify import services, webhooks
from certhub.notify.models import Webhook, WebhookDelivery
from certhub.notify.services import notify


def make_hook(world, url, events=("feeds.findings",), org=None):
    hook, secret = services.create_webhook(world.thai_admin, org or world.thai, name="SIEM",
                                           url=url, events=list(events))
    return hook, secret


def test_signed_delivery_reaches_the_receiver(world, receiver, allow_private,
                                              django_capture_on_commit_callbacks):
    _hook, secret = make_hook(world, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        count = notify("feeds.findings", subject="S", body="B", organisations=[world.thai],
                       payload={"findings": 3})
    assert count >= 1
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert request["path"] == "/hook"
    assert headers["content-type"] == "application/json"
    assert headers["x-certhub-event"] == "feeds.findings"
    assert webhooks.verify(secret, headers["x-certhub-signature"], request["body"])
    assert not webhooks.verify("whsec_wrong", headers["x-certhub-signature"], request["body"])
    assert not webhooks.verify(secret, headers["x-certhub-signature"], request["body"] + b" ")
    body = receiver.json()
    assert body["event"] == "feeds.findings"
    assert body["data"] == {"findings": 3}
    assert body["organisation"] == "ThaiCERT"
    assert body["id"] == headers["x-certhub-delivery"]
    call = WebhookDelivery.objects.get()
    assert call.status == "succeeded"
    assert call.response_status == 200
    assert call.attempts == 1


def test_signature_is_hmac_sha256_over_timestamp_and_body():
    import hashlib
    import hmac

    header = webhooks.sign("s3cret", 1700000000, b'{"a":1}')
    expected = hmac.new(b"s3cret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert not webhooks.verify("s3cret", header, b'{"a":1}')  # too old: replay refused
    assert webhooks.verify("s3cret", header, b'{"a":1}', now=1700000100)


def test_subscriptions_by_name_and_prefix(world, receiver, allow_private,
                                         django_capture_on_commit_callbacks):
    make_hook(world, receiver.url, events=["incidents.*"])
    make_hook(world, receiver.url, events=["feeds."])
    make_hook(world, receiver.url + "?other", events=["incidents.request.created"])
    other_org, _ = make_hook(world, receiver.url, events=["*"], org=world.thai)
    other_org.organisation = world.my
    other_org.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify("incidents.request.created", subject="S", body="B", organisations=[world.thai])
    assert len(receiver.requests) == 2
    assert {r["path"] for r in receiver.requests} == {"/hook", "/hook?other"}


def test_failed_calls_are_retried_with_backoff(world, receiver, allow_private,
                                               django_capture_on_commit_callbacks):
    make_hook(world, receiver.url)
    receiver.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        notify("feeds.findings", subject="S", body="B", organisations=[world.thai], payload={})
    call = WebhookDelivery.objects.get()
    assert call.status == "retrying"
    assert call.attempts == 1
    assert call.response_status == 503
    first_wait = call.next_attempt_at - call.last_attempt_at
    assert services.retry_due()["webhooks"] == 0  # not due yet
    services.retry_due(now=call.next_attempt_at)
    call.refresh_from_db()
    assert call.status == "retrying"
    assert call.attempts == 2
    assert call.next_attempt_at - call.last_attempt_at > first_wait  # backing off
    receiver.status = 200
    services.retry_due(now=call.next_attempt_at)
    call.refresh_from_db()
    assert call.status == "succeeded"
    assert call.attempts == 3
    assert len(receiver.requests) == 3
    # The same delivery id every time, so receivers can drop duplicates.
    assert len({json.loads(r["body"])["id"] for r in receiver.requests}) == 1


def test_gives_up_after_the_last_attempt(world, receiver, allow_private,
                                         django_capture_on_commit_callbacks):
    make_hook(world, receiver.url)
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        notify("feeds.findings", subject="S", body="B", organisations=[world.thai], payload={})
    call = WebhookDelivery.objects.get()
    while call.status == "retrying":
        services.retry_due(now=call.next_attempt_at)
        call.refresh_from_db()
    assert call.status == "failed"
    assert call.attempts == services.MAX_ATTEMPTS


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd",
                                 "javascript:alert(1)", "http://user:pw@example.org/"])
def test_non_http_urls_are_refused(world, url):
    with pytest.raises(InvalidInput):
        make_hook(world, url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/x", "http://localhost/x",
                                 "http://10.1.2.3/x", "http://[::1]/x", "http://169.254.169.254/",
                                 "http://192.168.1.1/", "http://[::ffff:127.0.0.1]/"])
def test_private_addresses_are_refused(world, url):
    with pytest.raises(InvalidInput):
        make_hook(world, url)


def test_private_address_refused_at_call_time_too(world, receiver, settings,
                                                  django_capture_on_commit_callbacks):
    """A webhook saved while allowed (or whose name now resolves privately) is not called."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    make_hook(world, receiver.url)
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with django_capture_on_commit_callbacks(execute=True):
        notify("feeds.findings", subject="S", body="B", organisations=[world.thai], payload={})
    call = WebhookDelivery.objects.get()
    assert receiver.requests == []
    assert call.status == "retrying"
    assert "private" in call.error


def test_only_org_admins_manage_webhooks(world, allow_private):
    with pytest.raises(NotFound):
        services.create_webhook(world.thai_analyst, world.thai, name="x",
                                url="https://example.org/", events=["*"])
    with pytest.raises(NotFound):
        services.create_webhook(world.thai_admin, world.my, name="x",
                                url="https://example.org/", events=["*"])
    hook, _ = services.create_webhook(world.hub_admin, world.my, name="x",
                                      url="https://example.org/", events=["*"])
    with pytest.raises(NotFound):
        services.delete_webhook(world.thai_admin, hook)
    assert Webhook.objects.filter(pk=hook.pk).exists()


def test_bad_event_patterns_are_refused(world):
    with pytest.raises(InvalidInput):
        make_hook(world, "https://example.org/", events=[])
    with pytest.raises(InvalidInput):
        make_hook(world, "https://example.org/", events=["Feeds Findings!"])


def test_inactive_webhooks_are_not_called(world, receiver, allow_private,
                                          django_capture_on_commit_callbacks):
    hook, _ = make_hook(world, receiver.url)
    services.change_webhook(world.thai_admin, hook, active=False)
    with django_capture_on_commit_callbacks(execute=True):
        notify("feeds.findings", subject="S", body="B", organisations=[world.thai], payload={})
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_ping_and_rotated_secret(world, receiver, allow_private,
                                 django_capture_on_commit_callbacks):
    hook, old = make_hook(world, receiver.url)
    new = services.rotate_secret(world.thai_admin, hook)
    assert new != old
    with django_capture_on_commit_callbacks(execute=True):
        services.ping_webhook(world.thai_admin, hook)
    request = receiver.requests[0]
    signature = {k.lower(): v for k, v in request["headers"].items()}["x-certhub-signature"]
    assert webhooks.verify(new, signature, request["body"], now=time.time())
    assert not webhooks.verify(old, signature, request["body"])


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1 that no trust store knows."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_certificates_are_verified(world, receiver, allow_private, tmp_path,
                                        django_capture_on_commit_callbacks):
    """An HTTPS receiver with an untrusted certificate gets nothing: the call fails and is
    retried, it does not fall back to an unverified connection."""
    import ssl

    cert_path, key_path = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    url = receiver.url.replace("http://", "https://")
    make_hook(world, url)
    with django_capture_on_commit_callbacks(execute=True):
        notify("feeds.findings", subject="S", body="B", organisations=[world.thai], payload={})
    call = WebhookDelivery.objects.get()
    assert call.status == "retrying"
    assert "certificate" in call.error.lower() or "ssl" in call.error.lower()
    assert receiver.requests == []
