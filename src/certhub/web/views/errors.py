"""Error pages in the site's layout. config/urls.py names these as handler400/403/404/500 and
settings.CSRF_FAILURE_VIEW names csrf_failure."""

from __future__ import annotations

import logging

from django.http import HttpResponse, HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)


def _render(request, template: str, status: int, context: dict | None = None) -> HttpResponse:
    return HttpResponse(loader.render_to_string(template, context or {}, request), status=status)


@requires_csrf_token
def bad_request(request, exception=None):
    return _render(request, "web/errors/400.html", 400)


@requires_csrf_token
def permission_denied(request, exception=None):
    return _render(request, "web/errors/403.html", 403)


@requires_csrf_token
def page_not_found(request, exception=None):
    return _render(request, "web/errors/404.html", 404)


def server_error(request):
    # Rendered without the request: its context processors (user, session) may be what failed.
    try:
        return HttpResponseServerError(loader.render_to_string("web/errors/500.html"))
    except Exception:
        logger.exception("the 500 page itself failed to render")
        return HttpResponseServerError("Server error", content_type="text/plain")


def csrf_failure(request, reason: str = ""):
    return _render(request, "web/errors/csrf.html", 403)
