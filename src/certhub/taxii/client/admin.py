"""Admin for remote TAXII collections: the secret is write-only (never shown back, kept when
the field is left blank), runs are read-only, and a "pull now" action runs the pull task."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import PullRun, RemoteCollection


class RemoteCollectionForm(forms.ModelForm):
    api_root_url = forms.URLField(
        label=gettext_lazy("API root URL"), max_length=2000, assume_scheme="https",
        help_text=gettext_lazy("The remote API root, e.g. https://taxii.example.org/api1/"))
    secret = forms.CharField(
        label=gettext_lazy("password or token"), required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("Never shown again. Leave blank to keep the one stored."))
    forget_secret = forms.BooleanField(label=gettext_lazy("remove the stored password or token"),
                                       required=False)

    class Meta:
        model = RemoteCollection
        fields = ("name", "title", "enabled", "schedule", "api_root_url", "collection_id",
                  "auth", "username", "secret", "verify_tls", "timeout", "page_size",
                  "allow_custom", "added_after", "owner", "run_as", "tlp", "audience_groups",
                  "audience_orgs")

    def clean(self):
        data = super().clean()
        if not data.get("secret") and self.instance.pk and not data.get("forget_secret"):
            # Blank means "keep": the model's check (run next) sees the stored secret.
            data["secret"] = RemoteCollection.objects.filter(pk=self.instance.pk).values_list(
                "secret", flat=True).first() or ""
        return data

    def _post_clean(self):
        super()._post_clean()
        from certhub.sharing.services import validate_audience

        try:
            validate_audience(self.cleaned_data.get("tlp", ""),
                              groups=self.cleaned_data.get("audience_groups") or (),
                              orgs=self.cleaned_data.get("audience_orgs") or ())
        except Exception as exc:
            self.add_error("tlp", getattr(exc, "message", str(exc)))


@admin.action(description=gettext_lazy("Pull now"))
def pull_now(modeladmin, request, queryset):
    from . import tasks

    for remote in queryset:
        tasks.pull.delay(remote.pk, trigger=f"admin:{request.user.email}")
    modeladmin.message_user(request, _("Pull started for %(n)d collection(s).")
                            % {"n": queryset.count()}, messages.INFO)


@admin.register(RemoteCollection)
class RemoteCollectionAdmin(admin.ModelAdmin):
    form = RemoteCollectionForm
    list_display = ("name", "api_root_url", "collection_id", "auth", "owner", "tlp", "schedule",
                    "enabled", "last_started_at", "added_after")
    list_filter = ("enabled", "auth", "tlp")
    search_fields = ("name", "title", "api_root_url", "collection_id")
    filter_horizontal = ("audience_groups", "audience_orgs")
    readonly_fields = ("last_started_at",)
    actions = [pull_now]

    def save_model(self, request, obj, form, change):
        """Saved with an audit entry naming the changed fields (the secret only as changed)."""
        from django.db import transaction

        from certhub.audit.services import Action, record

        changed = [name for name in form.changed_data if name != "forget_secret"
                   and not (name == "secret" and obj.secret == form.initial.get("secret"))]
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            record(Action.CHANGE if change else Action.CREATE, request=request, obj=obj,
                   details={"fields": changed})

    def delete_model(self, request, obj):
        from django.db import transaction

        from certhub.audit.services import Action, record

        with transaction.atomic():
            record(Action.DELETE, request=request, obj=obj)
            super().delete_model(request, obj)
    fieldsets = (
        (None, {"fields": ("name", "title", "enabled", "schedule")}),
        (gettext_lazy("Remote"), {"fields": ("api_root_url", "collection_id", "auth", "username",
                                             "secret", "forget_secret", "verify_tls", "timeout",
                                             "page_size", "allow_custom", "added_after",
                                             "last_started_at")}),
        (gettext_lazy("Stored as"), {"fields": ("owner", "run_as", "tlp", "audience_groups",
                                                "audience_orgs")}),
    )


@admin.register(PullRun)
class PullRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "remote", "status", "trigger", "started_at", "finished_at", "fetched",
                    "stored", "skipped", "failed", "short_error")
    list_filter = ("status", "remote")
    readonly_fields = [field.name for field in PullRun._meta.fields]
    exclude = ("reports",)

    @admin.display(description=gettext_lazy("error"))
    def short_error(self, run):
        return run.error[:120]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
