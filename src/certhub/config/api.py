"""The one NinjaAPI object: every app's router, token auth, one error format, rate limits."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from certhub.accounts.api_auth import CerthubAuth, PerTokenThrottle
from certhub.core.errors import CerthubError

api = NinjaAPI(
    title=f"{settings.SITE_NAME} API",
    version="1",
    description="certhub JSON API. Authenticate with `Authorization: Bearer <token>`; "
                "create tokens on your account page or with `certhub token create`.",
    auth=CerthubAuth(),
    throttle=[PerTokenThrottle(settings.API_RATE_LIMIT)],
    urls_namespace="api",
    docs_url="/docs",
)

_CODES = {400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
          429: "rate_limited"}


def error(request, status: int, message: str, *, code: str | None = None,
          field: str | None = None):
    """The one error format: {"status", "code", "message", "field"}."""
    response = api.create_response(
        request,
        {"status": status, "code": code or _CODES.get(status, "error"), "message": message,
         "field": field},
        status=status,
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="certhub"'
    return response


@api.exception_handler(CerthubError)
def _certhub_error(request, exc: CerthubError):
    return error(request, exc.status, exc.message, code=exc.code, field=exc.field)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query",
                                                                           "path", "payload")]
    message = first.get("msg", "invalid input")
    return error(request, 400, f"{'.'.join(location) + ': ' if location else ''}{message}",
                 code="invalid", field=".".join(location) or None)


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request, exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        return error(request, 400, f"{field}: {errors[0].messages[0]}", field=field)
    return error(request, 400, exc.messages[0])


@api.exception_handler(AuthenticationError)
def _authentication_error(request, exc: AuthenticationError):
    return error(request, 401, str(exc.message) if getattr(exc, "message", None)
                 else "authentication required")


@api.exception_handler(Throttled)
def _throttled(request, exc: Throttled):
    response = error(request, 429, "too many requests; slow down")
    if exc.wait:
        response["Retry-After"] = str(int(exc.wait) + 1)
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return error(request, exc.status_code, str(exc.message))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error(request, 404, "not found")


def _register_routers() -> None:
    from certhub.accounts.api import router as accounts_router
    from certhub.audit.api import router as audit_router
    from certhub.directory.api import router as directory_router
    from certhub.directory.lookup.api import router as lookup_router
    from certhub.feeds.api import router as feeds_router
    from certhub.incidents.api import router as incidents_router
    from certhub.intel.api import router as intel_router
    from certhub.notify.api import router as notify_router
    from certhub.sharing.api import router as sharing_router

    api.add_router("/directory/", directory_router)
    api.add_router("/lookup/", lookup_router)
    api.add_router("/accounts/", accounts_router)
    api.add_router("/sharing/", sharing_router)
    api.add_router("/audit/", audit_router)
    api.add_router("/intel/", intel_router)
    api.add_router("/feeds/", feeds_router)
    api.add_router("/incidents/", incidents_router)
    api.add_router("/notifications/", notify_router)


_register_routers()
