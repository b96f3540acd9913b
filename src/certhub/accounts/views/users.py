"""User management for administrators: a hub administrator manages everyone, an organisation
administrator the users of their own organisation."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from certhub.core.errors import InvalidInput
from certhub.core.errors import PermissionDenied as DomainPermissionDenied
from certhub.directory.models import Organisation

from .. import queries, services, tokens, two_factor
from ..forms import UserChangeForm, UserCreateForm
from ._common import account_page, add_domain_error


def _admin_only(request) -> None:
    # Not found rather than forbidden, as everywhere: the admin pages do not exist for others.
    if not services.assignable_roles(request.user):
        raise Http404


@account_page
def user_list(request):
    _admin_only(request)
    actor = request.user
    organisation = None
    org_slug = request.GET.get("org", "")
    if org_slug and actor.is_hub_admin:
        organisation = Organisation.objects.filter(slug=org_slug).first()
    search = request.GET.get("q", "").strip()[:100]
    users = queries.manageable_users(actor, organisation=organisation, search=search)
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/users/list.html", {
        "page": page, "search": search, "org_slug": org_slug,
        "organisations": Organisation.objects.order_by("short_name")
        if actor.is_hub_admin else None,
    })


@account_page
@require_http_methods(["GET", "POST"])
def user_create(request):
    _admin_only(request)
    actor = request.user
    form = UserCreateForm(data=request.POST or None, actor=actor,
                          roles=services.assignable_roles(actor))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.create_user(actor, email=data["email"],
                                        organisation=data["organisation"], role=data["role"],
                                        full_name=data["full_name"], request=request)
        except (InvalidInput, DomainPermissionDenied) as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("%(email)s was created and sent a link to choose a "
                                        "password.") % {"email": user.email})
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/users/create.html", {"form": form})


@account_page
@require_http_methods(["GET", "POST"])
def user_detail(request, pk: int):
    actor = request.user
    target = queries.manageable_user(actor, pk)
    roles = services.assignable_roles(actor)
    if target.role not in roles:
        roles = [target.role, *roles]
    form = UserChangeForm(data=request.POST or None, roles=roles,
                          initial={"full_name": target.full_name, "role": target.role})
    if request.method == "POST" and form.is_valid():
        try:
            services.change_user(actor, target, request=request, **form.cleaned_data)
        except (InvalidInput, DomainPermissionDenied) as exc:
            add_domain_error(form, exc)
            target.refresh_from_db()
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("accounts:user_detail", pk=target.pk)
    return render(request, "accounts/users/detail.html", {
        "target": target, "form": form, "is_self": target.pk == actor.pk,
        "has_two_factor": two_factor.has_device(target),
        "tokens": queries.tokens_of(target),
    })


def _user_action(action):
    """A POST button on the user page: run ``action`` and come back with its message."""

    @account_page
    @require_POST
    def view(request, pk: int):
        target = queries.manageable_user(request.user, pk)
        try:
            message = action(request, target)
        except InvalidInput as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, message)
        return redirect("accounts:user_detail", pk=target.pk)

    view.__name__ = action.__name__
    return view


@_user_action
def user_deactivate(request, target):
    services.set_active(request.user, target, False, request=request)
    return _("%(email)s can no longer log in; their tokens stop working.") % {
        "email": target.email}


@_user_action
def user_activate(request, target):
    services.set_active(request.user, target, True, request=request)
    return _("%(email)s can log in again.") % {"email": target.email}


@_user_action
def user_reset_two_factor(request, target):
    services.reset_two_factor(request.user, target, request=request)
    return _("Two-factor authentication of %(email)s was reset.") % {"email": target.email}


@_user_action
def user_send_password_link(request, target):
    services.send_password_link(request.user, target, request=request)
    return _("A link to set a password was sent to %(email)s.") % {"email": target.email}


@account_page
@require_POST
def user_token_revoke(request, pk: int, token_pk: int):
    target = queries.manageable_user(request.user, pk)
    token = queries.own_token(target, token_pk)
    tokens.revoke(token, actor=request.user, request=request)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("accounts:user_detail", pk=target.pk)
