from urllib.parse import urlencode

from django.contrib import admin
from django.http import Http404
from django.shortcuts import redirect
from django.urls import include, path, reverse

from .api import api


def admin_login(request):
    """The admin's own login would skip the audited, two-factor login page: send visitors there.

    A signed-in user who lands here is not a hub administrator (the admin let them in otherwise),
    so answer 404 instead of looping between the two login pages.
    """
    if request.user.is_authenticated:
        raise Http404
    query = urlencode({"next": request.GET.get("next", "/admin/")})
    return redirect(f"{reverse('accounts:login')}?{query}")


urlpatterns = [
    path("api/v1/", api.urls),
    path("taxii2/", include("certhub.taxii.urls")),
    path("accounts/", include("certhub.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("", include("certhub.web.urls")),
]

handler400 = "certhub.web.views.errors.bad_request"
handler403 = "certhub.web.views.errors.permission_denied"
handler404 = "certhub.web.views.errors.page_not_found"
handler500 = "certhub.web.views.errors.server_error"
