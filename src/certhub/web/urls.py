from django.urls import include, path

from .routes import feeds as feeds_routes
from .routes import incidents as incidents_routes
from .routes import intel as intel_routes
from .routes import notify as notify_routes
from .routes import taxii as taxii_routes
from .views import audit, dashboard, directory, lookup

app_name = "web"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("directory/", directory.directory, name="directory"),
    path("directory/<slug:slug>/", directory.organisation, name="organisation"),
    path("lookup/", lookup.lookup, name="lookup"),
    path("audit/", audit.audit_log, name="audit"),
    # Each domain's pages live in routes/<domain>.py so that they grow apart.
    path("intel/", include(intel_routes.urlpatterns)),
    path("feeds/", include(feeds_routes.urlpatterns)),
    path("incidents/", include(incidents_routes.urlpatterns)),
    path("taxii/", include(taxii_routes.urlpatterns)),
    path("notifications/", include(notify_routes.urlpatterns)),
]
