"""Lookup API, mounted at /api/v1/lookup/.

Who may ask: a single lookup (``GET /?q=``) is open to anonymous callers, because what it reveals
(organisations and their constituencies) is public RFC 2350 information, shown on the public
directory pages too. A batch (``POST /batch``) needs an authenticated user (token or session):
it costs real work and is meant for members routing feeds, and authentication gives it a
per-token rate limit rather than a per-address one.
"""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.utils.translation import gettext as _
from ninja import Router
from ninja.errors import AuthenticationError, HttpError
from pydantic import ValidationError

from certhub.core.errors import InvalidInput

from . import resolve, resolve_many
from .schemas import MAX_BATCH, BatchIn, ResolutionOut

router = Router(tags=["lookup"])

# 100,000 URLs of a realistic length; Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB, for forms)
# is too small for a full batch, so this endpoint reads its body itself under its own limit.
MAX_BATCH_BYTES = 32 * 1024 * 1024


@router.get("/", response=ResolutionOut, summary="Who is responsible for one value")
def lookup_one(request, q: str):
    """An IPv4/IPv6 address or prefix, domain, host name, URL, email address, AS number
    (AS4788 or 4788) or country code; defanged values (hxxp, [.]) are accepted.
    A malformed value is refused with 400 and the reason."""
    return resolve(q).to_dict()


@router.post(
    "/batch", response=list[ResolutionOut],
    summary=f"Who is responsible for each of up to {MAX_BATCH:,} values",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": BatchIn.model_json_schema()}}}},
)
def lookup_batch(request):
    """Body: ``{"values": [...]}``. One result per value, in order. A malformed value does not
    fail the batch: its result carries ``error`` instead."""
    user = request.auth
    if user is None or not user.is_authenticated:
        raise AuthenticationError(401, _("authentication required"))
    values = _batch_values(request)
    results = [result.to_dict() for result in resolve_many(values)]
    # The dicts already have the documented shape; validating 100,000 of them again through
    # the response schema would cost more than the lookup itself.
    return JsonResponse(results, safe=False, json_dumps_params={"ensure_ascii": False})


def _batch_values(request) -> list[str]:
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    too_large = _("the request body is larger than %(limit)d bytes") % {"limit": MAX_BATCH_BYTES}
    if length > MAX_BATCH_BYTES:
        raise HttpError(413, too_large)
    body = request.read(MAX_BATCH_BYTES + 1)
    if len(body) > MAX_BATCH_BYTES:
        raise HttpError(413, too_large)
    try:
        return BatchIn.model_validate(json.loads(body)).values
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, ValidationError) and exc.errors():
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error.get("loc", ())) or "body"
            raise InvalidInput(f"{where}: {error.get('msg', 'invalid')}", field=where) from None
        raise InvalidInput(_('the body must be JSON: {"values": ["...", ...]}'),
                           field="body") from None
