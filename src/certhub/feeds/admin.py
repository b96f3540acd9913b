from django.contrib import admin

from .models import Feed, FeedRun, RunError


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = ("name", "source_kind", "parser", "schedule", "type", "tlp", "enabled",
                    "last_started_at")
    list_filter = ("source_kind", "parser", "enabled")
    search_fields = ("name", "title", "location")


class RunErrorInline(admin.TabularInline):
    model = RunError
    extra = 0
    can_delete = False
    readonly_fields = ("line", "reason", "raw")
    max_num = 0


@admin.register(FeedRun)
class FeedRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "feed", "status", "started_at", "finished_at", "read", "failed",
                    "duplicates", "routed", "unrouted")
    list_filter = ("status", "feed")
    readonly_fields = [field.name for field in FeedRun._meta.fields]
    inlines = [RunErrorInline]

    def has_add_permission(self, request):
        return False
