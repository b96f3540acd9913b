"""Web UI routes for feeds (names are prefixed "web:" like every UI page)."""

from django.urls import path

from ..views import feeds

urlpatterns: list = [
    path("", feeds.inbox, name="feeds-inbox"),
    path("inbox.csv", feeds.inbox_csv, name="feeds-inbox-csv"),
    path("findings/<int:pk>/", feeds.finding, name="feeds-finding"),
    path("acknowledge/", feeds.acknowledge, name="feeds-acknowledge"),
    path("runs/", feeds.runs, name="feeds-runs"),
    path("runs/<int:pk>/", feeds.run, name="feeds-run"),
    path("sources/<slug:name>/run/", feeds.run_feed, name="feeds-run-feed"),
]
