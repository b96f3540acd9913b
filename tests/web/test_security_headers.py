"""Security headers on page responses: CSP without inline script, no framing, nosniff, HSTS."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _csp(response) -> dict[str, str]:
    return {part.split()[0]: part for part in
            (p.strip() for p in response["Content-Security-Policy"].split(";")) if part}


def test_page_headers(client, world):
    response = client.get(reverse("web:directory"))
    csp = _csp(response)
    assert csp["script-src"] == "script-src 'self'"  # no 'unsafe-inline', no CDN
    assert csp["style-src"] == "style-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response  # CERTHUB_TLS is off


def test_pages_have_no_inline_script_and_no_external_assets(client, world):
    text = client.get(reverse("web:lookup")).content.decode()
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", text, re.S)
    assert scripts
    assert all(body.strip() == "" for body in scripts)
    assert not re.search(r"\son[a-z]+=", text)  # no inline event handlers
    assert not re.search(r'(src|href)="(https?:)?//', text.replace(
        'href="https://www.', ""))  # assets come from this server


def test_hsts_when_served_over_tls(settings, world):
    settings.SECURE_HSTS_SECONDS = 31536000  # what CERTHUB_TLS=1 sets
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get(reverse("web:directory"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_error_pages_carry_headers_too(client, world):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Content-Security-Policy" in response
