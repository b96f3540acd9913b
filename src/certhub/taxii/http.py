"""TAXII 2.1 over HTTP: media types, content negotiation, authentication and error resources.

Authentication is by API token only (no browser session, hence no CSRF): HTTP Basic with the
user's email as user name and a token as password, or ``Authorization: Bearer <token>``. Tokens
are checked by ``certhub.accounts.tokens.authenticate``, the same as the JSON API's.
"""

from __future__ import annotations

import base64
import binascii
import json

from django.http import HttpResponse
from django.utils.translation import gettext as _

from certhub.accounts import tokens

TAXII = "application/taxii+json"
STIX = "application/stix+json"
VERSION = "2.1"
TAXII_21 = f"{TAXII};version={VERSION}"
STIX_21 = f"{STIX};version={VERSION}"
REALM = 'realm="TAXII"'


class TaxiiError(Exception):
    """Answered as a TAXII error resource with ``status``."""

    def __init__(self, status: int, title: str, description: str = "", headers=None):
        super().__init__(title)
        self.status, self.title, self.description = status, title, description
        self.headers = headers or {}


def response(body: str | bytes | dict, status: int = 200, headers=None) -> HttpResponse:
    if isinstance(body, dict):
        body = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    answer = HttpResponse(body, status=status, content_type=TAXII_21)
    for name, value in (headers or {}).items():
        answer[name] = value
    return answer


def error_response(error: TaxiiError) -> HttpResponse:
    body = {"title": error.title, "http_status": str(error.status)}
    if error.description:
        body["description"] = error.description
    return response(body, error.status, error.headers)


def _media_ranges(header: str):
    """(type/subtype, parameters) of each range of an Accept or Content-Type header."""
    for part in header.split(","):
        pieces = [piece.strip() for piece in part.split(";")]
        if not pieces[0]:
            continue
        params = {}
        for piece in pieces[1:]:
            name, _sep, value = piece.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        yield pieces[0].lower(), params


def _fits(media: str, params: dict, allowed: tuple[str, ...]) -> bool:
    if params.get("version", VERSION) != VERSION:
        return False
    return media in allowed


def check_accept(request, *, stix: bool = False) -> None:
    """406 unless the client accepts TAXII 2.1 (or, where objects are served, STIX 2.1).

    A missing Accept header or a wildcard is taken as TAXII 2.1."""
    header = request.headers.get("Accept", "")
    if not header.strip():
        return
    allowed = (TAXII, STIX, "*/*", "application/*") if stix else (TAXII, "*/*", "application/*")
    for media, params in _media_ranges(header):
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if media in ("*/*", "application/*") or _fits(media, params, allowed):
            return
    raise TaxiiError(406, _("Not acceptable"),
                     (_("This endpoint serves %(taxii)s (objects also as %(stix)s).") if stix
                      else _("This endpoint serves %(taxii)s.")) % {"taxii": TAXII_21,
                                                                    "stix": STIX_21})


def check_content_type(request) -> None:
    """415 unless a POSTed envelope is TAXII 2.1 (or STIX 2.1) JSON."""
    ranges = list(_media_ranges(request.headers.get("Content-Type", "")))
    if len(ranges) != 1 or not _fits(*ranges[0], (TAXII, STIX)):
        raise TaxiiError(415, _("Unsupported media type"),
                         _("Send the envelope as %(taxii)s.") % {"taxii": TAXII_21})


def _challenge() -> dict:
    return {"WWW-Authenticate": f"Basic {REALM}, Bearer {REALM}"}


def authenticate(request):
    """(user, token) of the request's credentials; 401 with a challenge otherwise."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, credentials = header.partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    email = None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise TaxiiError(401, _("Unauthorized"), _("Malformed Basic credentials."),
                             _challenge()) from None
        email, _sep, raw = decoded.partition(":")
    elif scheme == "bearer":
        raw = credentials
    else:
        raise TaxiiError(401, _("Unauthorized"),
                         _("Authenticate with HTTP Basic (your email and an API token) or "
                           "'Authorization: Bearer <token>'."), _challenge())
    token = tokens.authenticate(raw)
    if token is None or (email is not None and email.strip().lower() != token.user.email.lower()):
        raise TaxiiError(401, _("Unauthorized"), _("Invalid, expired or revoked token."),
                         _challenge())
    request.user = token.user
    request.api_token = token
    return token.user, token
