from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from .api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("accounts/", include("certhub.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin's own login would skip the audited, two-factor login page.
    path("admin/login/", RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
    path("admin/", admin.site.urls),
    path("", include("certhub.web.urls")),
]
