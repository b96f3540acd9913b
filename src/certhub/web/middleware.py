"""Security headers and per-user time zones for every response."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.utils import timezone

# Everything is served from this origin (no CDN). No inline script or style anywhere: htmx runs
# with eval, script tags and injected indicator styles turned off (base.html's htmx-config), TLP
# chips are CSS classes. The browser test fails on any CSP violation it sees.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
# Swagger UI (vendored by Ninja, served from /static/) sets inline styles on its elements.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = DOCS_CSP if request.path.startswith("/api/v1/docs") else CSP
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy",
                                    "camera=(), microphone=(), geolocation=()")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


class UserTimezoneMiddleware:
    """Stored in UTC, shown in the user's zone (or the site's display zone)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        name = (getattr(user, "time_zone", "") if user is not None and user.is_authenticated
                else "") or settings.DISPLAY_TIME_ZONE
        try:
            timezone.activate(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
