from django.urls import path

from .views import audit, dashboard, directory, lookup

app_name = "web"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("directory/", directory.directory, name="directory"),
    path("directory/<slug:slug>/", directory.organisation, name="organisation"),
    path("lookup/", lookup.lookup, name="lookup"),
    path("audit/", audit.audit_log, name="audit"),
]
