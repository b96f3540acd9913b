"""Django admin for hub administrators: a maintenance view of the directory.

Day-to-day changes go through the web UI and the API (services: permission checks, audit).
Contacts are not in the admin: the admin cannot apply the sharing rule to them.
"""

from django.contrib import admin

from .models import ConstituencyEntry, Organisation


class ConstituencyInline(admin.TabularInline):
    model = ConstituencyEntry
    extra = 0
    fields = ("kind", "value", "note")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("short_name", "name", "kind", "country", "membership", "coordinator")
    list_filter = ("kind", "membership", "country")
    search_fields = ("short_name", "name", "parent_body")
    prepopulated_fields = {"slug": ("short_name",)}
    autocomplete_fields = ("coordinator",)
    readonly_fields = ("pgp_fingerprint",)
    inlines = [ConstituencyInline]


@admin.register(ConstituencyEntry)
class ConstituencyEntryAdmin(admin.ModelAdmin):
    list_display = ("organisation", "kind", "value", "note")
    list_filter = ("kind",)
    search_fields = ("value", "organisation__short_name", "note")
    autocomplete_fields = ("organisation",)
