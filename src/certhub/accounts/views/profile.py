"""The user's own account: profile, password, two-factor, API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from certhub.core.errors import InvalidInput

from .. import queries, services, tokens, two_factor
from ..forms import ProfileForm, TokenForm
from ._common import account_page, add_domain_error, set_language_cookie


@account_page
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    initial = {"full_name": user.full_name, "time_zone": user.time_zone,
               "language": user.language}
    form = ProfileForm(data=request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_profile(user, request=request, **form.cleaned_data)
        except InvalidInput as exc:
            add_domain_error(form, exc)
        else:
            if user.language:
                translation.activate(user.language)
            messages.success(request, _("Your profile was saved."))
            response = redirect("accounts:profile")
            set_language_cookie(response, user.language)
            return response
    return render(request, "accounts/profile.html", {
        "form": form,
        "has_two_factor": two_factor.has_device(user),
        "backup_codes_left": two_factor.backup_codes_left(user),
        "usable_tokens": sum(1 for t in queries.tokens_of(user) if t.is_usable()),
    })


@account_page
@never_cache
@require_POST
def regenerate_backup_codes(request):
    if not two_factor.has_device(request.user):
        return redirect("accounts:two_factor_setup")
    codes = two_factor.regenerate_backup_codes(request.user, request=request)
    return render(request, "accounts/backup_codes.html",
                  {"codes": codes, "continue_url": reverse_lazy("accounts:profile")})


@account_page
@require_POST
def disable_two_factor(request):
    services.disable_own_two_factor(request.user, request=request)
    messages.success(request, _("Two-factor authentication is off."))
    return redirect("accounts:profile")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.record_password_changed(self.request.user, request=self.request, how="changed")
        messages.success(self.request, gettext_lazy("Your password was changed."))
        return response


@account_page
@require_http_methods(["GET", "POST"])
def token_list(request):
    user = request.user
    form = TokenForm(data=request.POST or None, user=user)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _token, new_secret = tokens.issue(user, name=data["name"], scope=data["scope"],
                                             expires_in_days=data["expires_days"],
                                             request=request)
        except InvalidInput as exc:
            add_domain_error(form, exc)
        else:
            # Shown in this response only; never stored, never put in the session.
            form = TokenForm(user=user)
    response = render(request, "accounts/tokens.html", {
        "form": form, "tokens": queries.tokens_of(user), "new_secret": new_secret,
    })
    if new_secret:
        response["Cache-Control"] = "no-store"
    return response


@account_page
@require_POST
def token_revoke(request, pk: int):
    token = queries.own_token(request.user, pk)
    tokens.revoke(token, actor=request.user, request=request)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("accounts:tokens")
