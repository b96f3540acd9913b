"""Notification pages: my notifications; my organisation's webhooks and their delivery log
(administrators only: anyone else gets the 404 of a page that does not exist)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certhub.core.errors import CerthubError
from certhub.notify import queries, services

from ._common import not_found_as_404

PAGE_SIZE = 50


@login_required
@require_GET
def notifications(request):
    unread_only = request.GET.get("unread") == "1"
    rows = queries.notifications_of(request.user, unread=True if unread_only else None)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/notify/list.html", {
        "page": page, "unread_only": unread_only,
        "unread": queries.unread_count(request.user),
        "may_manage_webhooks": services.may_manage_webhooks(request.user,
                                                            request.user.organisation)})


@login_required
@require_POST
def mark_all_read(request):
    services.mark_read(request.user)
    return redirect("web:notifications")


@login_required
@require_POST
@not_found_as_404
def mark_read(request, pk: int):
    services.mark_read(request.user, [queries.notification(request.user, pk).pk])
    return redirect("web:notifications")


@login_required
@require_GET
@not_found_as_404
def open_notification(request, pk: int):
    """Mark read and follow the notification's link (a path on this site only)."""
    note = queries.notification(request.user, pk)
    services.mark_read(request.user, [note.pk])
    target = note.url if note.url.startswith("/") and url_has_allowed_host_and_scheme(
        note.url, allowed_hosts={request.get_host()}) else ""
    return redirect(target or "web:notifications")


class WebhookForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    url = forms.CharField(label=gettext_lazy("URL"), max_length=2000,
                          help_text=gettext_lazy("An https:// address of your receiver."))
    events = forms.CharField(
        label=gettext_lazy("Events"), max_length=2000,
        help_text=gettext_lazy("Event names or prefixes, separated by spaces or commas, e.g. "
                               "feeds.findings incidents.*; * for every event."))
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)


def _webhook_form_errors(form, exc: CerthubError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def webhooks(request):
    user = request.user
    if not services.may_manage_webhooks(user, user.organisation):
        raise Http404
    form = WebhookForm(request.POST or None)
    new_secret, new_hook = None, None
    if request.method == "POST" and form.is_valid():
        try:
            new_hook, new_secret = services.create_webhook(
                user, user.organisation, name=form.cleaned_data["name"],
                url=form.cleaned_data["url"], events=form.cleaned_data["events"],
                active=form.cleaned_data["active"], request=request)
        except CerthubError as exc:
            _webhook_form_errors(form, exc)
        else:
            form = WebhookForm()
    return render(request, "web/notify/webhooks.html", {
        "hooks": queries.webhooks_of(user), "form": form, "new_secret": new_secret,
        "new_hook": new_hook, "may_create": True})


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def webhook(request, pk: int):
    user = request.user
    hook = queries.webhook(user, pk)
    new_secret = None
    form = WebhookForm(initial={"name": hook.name, "url": hook.url,
                                "events": " ".join(hook.events), "active": hook.active})
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "delete":
                services.delete_webhook(user, hook, request=request)
                messages.success(request, _("The webhook was deleted."))
                return redirect("web:webhooks")
            if action == "rotate":
                new_secret = services.rotate_secret(user, hook, request=request)
            elif action == "ping":
                services.ping_webhook(user, hook, request=request)
                messages.success(request, _("A test call was queued; see the delivery log."))
                return redirect("web:webhook", pk=hook.pk)
            else:
                form = WebhookForm(request.POST)
                if form.is_valid():
                    services.change_webhook(user, hook, name=form.cleaned_data["name"],
                                            url=form.cleaned_data["url"],
                                            events=form.cleaned_data["events"],
                                            active=form.cleaned_data["active"], request=request)
                    messages.success(request, _("The webhook was saved."))
                    return redirect("web:webhook", pk=hook.pk)
        except CerthubError as exc:
            if exc.status == 404:
                raise
            _webhook_form_errors(form, exc)
        hook.refresh_from_db()
    calls = Paginator(queries.deliveries(user, hook), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/notify/webhook.html", {
        "hook": hook, "form": form, "new_secret": new_secret, "page": calls})
