"""Notifications in the Django admin: read-mostly views for support."""

from django.contrib import admin

from .models import EmailDelivery, Message, Notification, Webhook, WebhookDelivery


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("event", "created", "dedupe_key")
    list_filter = ("event",)
    search_fields = ("event", "dedupe_key")
    readonly_fields = ("event", "url", "payload", "dedupe_key", "created")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("subject", "user", "event", "created", "read_at")
    list_filter = ("event",)
    search_fields = ("subject", "user__email")
    raw_id_fields = ("user", "message")


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    list_display = ("address", "subject", "status", "attempts", "sent_at")
    list_filter = ("status",)
    search_fields = ("address", "subject")
    raw_id_fields = ("user", "contact", "message")
    exclude = ("pgp_key",)


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "url", "active", "created")
    list_filter = ("active",)
    search_fields = ("name", "url", "organisation__short_name")
    raw_id_fields = ("created_by",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("webhook", "event", "status", "attempts", "response_status", "created")
    list_filter = ("status",)
    raw_id_fields = ("webhook", "message")
    readonly_fields = ("uid",)
