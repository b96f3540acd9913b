"""Django admin for hub administrators: sharing groups (writes in the UI/API go through
services; the admin is a maintenance tool)."""

from django.contrib import admin

from .models import SharingGroup


@admin.register(SharingGroup)
class SharingGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "managed_by")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("members",)
    autocomplete_fields = ("managed_by",)
