"""Webhook calls: URL checks (no SSRF), HMAC-SHA256 signatures, the HTTP POST itself.

Signature (Stripe style), in the header ``X-Certhub-Signature: t=<unix time>,v1=<hex>``, where
``v1 = HMAC-SHA256(secret, "<t>.<raw request body>")``. Receivers recompute it over the raw
body, compare in constant time, and refuse a ``t`` older than a few minutes (replays).

Addresses: a URL must be http or https; unless ``CERTHUB_WEBHOOK_ALLOW_PRIVATE`` is set, every
address its host resolves to must be a public (globally routable) one, checked when the
webhook is saved and again at each call. The call connects to the very address that was
checked (no second DNS lookup an attacker could answer differently), sending the original
host name as Host and, for HTTPS, as SNI and for certificate verification.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput

SIGNATURE_HEADER = "X-Certhub-Signature"
EVENT_HEADER = "X-Certhub-Event"
DELIVERY_HEADER = "X-Certhub-Delivery"
USER_AGENT = "certhub-webhooks/1"
TIMEOUT_SECONDS = 10
SIGNATURE_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: float | None = None,
           tolerance: int = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """What a receiver does (used by the tests and given as the reference in the docs)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False))


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> str:
    """The URL, or InvalidInput: not http(s), no host, or a non-public address."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput(_("This is not a valid URL."), field="url") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(_("Webhook URLs must start with http:// or https://."), field="url")
    if not parts.hostname:
        raise InvalidInput(_("The URL has no host name."), field="url")
    if parts.username or parts.password:
        raise InvalidInput(_("Put no user name or password in the URL; the signature "
                             "authenticates the calls."), field="url")
    if not allow_private():
        host = parts.hostname
        try:
            addresses = [host] if _is_ip(host) else _resolve(host, port or 443)
        except OSError:
            addresses = []  # does not resolve yet: checked again at each call
        if host.rstrip(".").lower() == "localhost" or any(not _is_public(a) for a in addresses):
            raise InvalidInput(_("This address is local or private; webhooks go to public "
                                 "addresses only."), field="url")
    return url


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass
class Response:
    status: int
    excerpt: str


class DeliveryError(Exception):
    """The call could not be made or was refused before reaching the network."""


def post(url: str, body: bytes, headers: dict[str, str]) -> Response:
    """POST ``body`` to ``url`` (no redirects followed), pinned to the checked address."""
    import urllib3

    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    if parts.scheme not in ("http", "https") or not host:
        raise DeliveryError("not an http(s) URL")
    port = parts.port or (443 if https else 80)
    try:
        addresses = [host] if _is_ip(host) else _resolve(host, port)
    except OSError as exc:
        raise DeliveryError(f"cannot resolve {host}: {exc}") from None
    if not addresses:
        raise DeliveryError(f"cannot resolve {host}")
    if not allow_private() and any(not _is_public(a) for a in addresses):
        raise DeliveryError(f"{host} resolves to a local or private address; refused")
    address = addresses[0]
    timeout = urllib3.Timeout(connect=TIMEOUT_SECONDS, read=TIMEOUT_SECONDS)
    if https:
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, server_hostname=host,
            assert_hostname=host, cert_reqs="CERT_REQUIRED",
            ssl_context=ssl.create_default_context())
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = port == (443 if https else 80)
    host_header = host if ":" not in host else f"[{host}]"
    headers = {**headers, "Host": host_header if default_port else f"{host_header}:{port}",
               "User-Agent": USER_AGENT, "Content-Type": "application/json"}
    try:
        response = pool.urlopen("POST", path, body=body, headers=headers, redirect=False,
                                retries=False, preload_content=False)
        try:
            excerpt = response.read(1024, decode_content=False).decode("utf-8", "replace")
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        raise DeliveryError(str(exc)[:500]) from None
    finally:
        pool.close()
    return Response(response.status, excerpt)
