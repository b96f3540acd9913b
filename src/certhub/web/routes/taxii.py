"""Web UI routes for taxii (names are prefixed "web:" like every UI page)."""

from django.urls import path

from ..views import taxii

urlpatterns: list = [
    path("", taxii.connect, name="taxii"),
    path("pulls/", taxii.pull_runs, name="taxii-runs"),
]
