"""Web UI routes for notify (names are prefixed "web:" like every UI page)."""

from django.urls import path

from ..views import notify

urlpatterns: list = [
    path("", notify.notifications, name="notifications"),
    path("read/", notify.mark_all_read, name="notifications-read-all"),
    path("<int:pk>/read/", notify.mark_read, name="notification-read"),
    path("<int:pk>/open/", notify.open_notification, name="notification-open"),
    path("webhooks/", notify.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/", notify.webhook, name="webhook"),
]
