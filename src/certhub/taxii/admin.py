from django.contrib import admin

from .models import ApiRoot, Collection, Status


@admin.register(ApiRoot)
class ApiRootAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "default", "max_content_length")


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ("title", "api_root", "kind", "sharing_group", "organisation", "write_tlp",
                    "enabled", "id")
    list_filter = ("api_root", "kind", "enabled")
    search_fields = ("title", "alias", "description")
    filter_horizontal = ("write_audience_groups", "write_audience_orgs")


@admin.register(Status)
class StatusAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "request_timestamp", "status", "total_count",
                    "success_count", "failure_count")
    readonly_fields = [field.name for field in Status._meta.fields]

    def has_add_permission(self, request):
        return False
