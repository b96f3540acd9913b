"""TAXII 2.1 server routes, mounted at /taxii2/ (OASIS TAXII 2.1, sections 4 and 5)."""

from django.urls import path

from . import views

app_name = "taxii"

_COLLECTION = "<slug:root>/collections/<str:collection_id>/"

urlpatterns = [
    path("", views.discovery, name="discovery"),
    path("<slug:root>/", views.api_root, name="api_root"),
    path("<slug:root>/status/<uuid:status_id>/", views.status, name="status"),
    # taxii2-client asks for a status without the trailing slash.
    path("<slug:root>/status/<uuid:status_id>", views.status),
    path("<slug:root>/collections/", views.collection_list, name="collections"),
    path(_COLLECTION, views.collection_detail, name="collection"),
    path(_COLLECTION + "manifest/", views.manifest, name="manifest"),
    path(_COLLECTION + "objects/", views.objects, name="objects"),
    path(_COLLECTION + "objects/<str:object_id>/", views.object_detail, name="object"),
    path(_COLLECTION + "objects/<str:object_id>/versions/", views.object_versions,
         name="versions"),
    path("<path:rest>", views.not_found),
]
