"""Logging in: password first, then the second factor (or setting one up when it is required)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from .. import services, two_factor
from ..forms import ConfirmAuthenticatorForm, LoginForm, SecondFactorForm
from ._common import next_url, set_language_cookie, with_next


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login(request):
    user = request.user
    if user.is_authenticated and not two_factor.pending(user):
        return redirect(next_url(request))
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            return _password_accepted(request, form.get_user())
        email = request.POST.get("username", "")
        locked = getattr(request, "axes_locked_out", False)
        services.record_login_failed(request=request, email=email,
                                     reason="locked out" if locked else "password")
        # When locked out, django-axes' middleware replaces this response with the lockout page.
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get(
        "next", request.POST.get("next", ""))})


def _password_accepted(request, user):
    auth_login(request, user)
    if two_factor.has_device(user):
        response = redirect(with_next(reverse("accounts:two_factor"), request))
    elif user.requires_two_factor:
        response = redirect(with_next(reverse("accounts:two_factor_setup"), request))
    else:
        services.record_login(user, request=request, method="password")
        response = redirect(next_url(request))
    if user.language:
        translation.activate(user.language)
        set_language_cookie(response, user.language)
    return response


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def second_factor(request):
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if not two_factor.pending(user):
        return redirect(next_url(request))
    if not two_factor.has_device(user):
        return redirect(with_next(reverse("accounts:two_factor_setup"), request))
    form = SecondFactorForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor.verify(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            backup = two_factor.is_backup_code(device)
            services.record_login(user, request=request, method="password+backup code" if backup
                                  else "password+authenticator")
            if backup:
                left = two_factor.backup_codes_left(user)
                messages.warning(request, _("You used a backup code; %(left)s left. Make new "
                                            "ones on your profile page.") % {"left": left})
            return redirect(next_url(request))
        services.record_login_failed(request=request, email=user.email, user=user,
                                     reason="second factor")
        form.add_error("code", _("That code is not correct. Wait for a new code and try again; "
                                 "repeated failures make you wait longer."))
    return render(request, "accounts/two_factor.html", {"form": form,
                                                         "next": request.GET.get("next", "")})


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def setup_second_factor(request):
    """Set up an authenticator app. Open to a half-logged-in user only while they have no
    confirmed device: with one, the password alone must never be enough to add another."""
    user = request.user
    if not user.is_authenticated:
        return redirect(with_next(reverse("accounts:login"), request))
    if two_factor.pending(user) and two_factor.has_device(user):
        return redirect(with_next(reverse("accounts:two_factor"), request))
    finishing_login = two_factor.pending(user)
    device = two_factor.pending_totp_device(user)
    form = ConfirmAuthenticatorForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_totp(user, device, form.cleaned_data["code"], request=request)
        if codes is not None:
            device.refresh_from_db()
            otp_login(request, device)
            if finishing_login:
                services.record_login(user, request=request, method="password+authenticator")
            return render(request, "accounts/backup_codes.html",
                          {"codes": codes, "continue_url": next_url(request), "new_setup": True})
        form.add_error("code", _("That code is not correct. Check the time on your phone and "
                                 "enter the code the app shows now."))
    return render(request, "accounts/two_factor_setup.html", {
        "form": form, "qr_svg": two_factor.qr_svg(device),
        "secret": two_factor.secret_for_manual_entry(device),
        "required": user.requires_two_factor, "finishing_login": finishing_login,
        "next": request.GET.get("next", request.POST.get("next", "")),
    })


@require_POST
@csrf_protect
def logout(request):
    auth_logout(request)
    messages.info(request, _("You have been logged out."))
    return redirect("accounts:login")
