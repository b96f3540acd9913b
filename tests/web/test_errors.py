"""Error pages use the site's layout (the handlers config/urls.py installs)."""

from __future__ import annotations

import pytest
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.test import RequestFactory
from django.urls import reverse

from certhub.web.views import errors

pytestmark = pytest.mark.django_db


def _request(client_user=None):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/somewhere/")
    request.user = client_user or AnonymousUser()
    return request


@pytest.mark.parametrize(("handler", "status", "text"), [
    (errors.bad_request, 400, "Bad request"),
    (errors.permission_denied, 403, "Not allowed"),
    (errors.page_not_found, 404, "Page not found"),
])
def test_error_pages_in_layout(world, handler, status, text):
    response = handler(_request(), Exception("x"))
    body = response.content.decode()
    assert response.status_code == status
    assert text in body
    assert 'class="topbar"' in body
    assert reverse("web:directory") in body


def test_server_error_renders_without_the_request(world):
    response = errors.server_error(_request())
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_csrf_failure_page(world):
    response = errors.csrf_failure(_request(), reason=REASON_NO_CSRF_COOKIE)
    assert response.status_code == 403
    assert "The form has expired" in response.content.decode()


def test_unknown_url_uses_the_404_page_when_installed(client, world, settings):
    from django.conf import settings as django_settings

    from certhub.config import urls

    if getattr(urls, "handler404", None) != "certhub.web.views.errors.page_not_found":
        pytest.skip("config/urls.py does not install the web error handlers yet")
    assert django_settings.CSRF_FAILURE_VIEW == "certhub.web.views.errors.csrf_failure"
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
