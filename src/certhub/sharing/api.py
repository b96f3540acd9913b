"""Sharing API: sharing groups (list, detail, create, update, members). Thin: parse, call
queries/services, return schemas."""


from ninja import Router, Status

from certhub.core.api_guards import require_user, require_writer

from . import queries, services
from .schemas import GroupIn, GroupOut, GroupPatch, MembersIn

router = Router(tags=["sharing"])


def _managing_org(short_name: str):
    return services.organisations_by_short_name([short_name], field="managed_by")[0]


@router.get("/groups", response=list[GroupOut], summary="List sharing groups")
def list_groups(request, search: str = "", member: str = ""):
    return list(queries.groups(require_user(request), search=search, member=member))


@router.get("/groups/{slug}", response=GroupOut, summary="A sharing group and its members")
def get_group(request, slug: str):
    return queries.group(require_user(request), slug)


@router.post("/groups", response={201: GroupOut}, summary="Create a sharing group (hub admins)")
def create_group(request, payload: GroupIn):
    user = require_writer(request)
    group = services.create_group(
        user, name=payload.name, slug=payload.slug, description=payload.description,
        managed_by=_managing_org(payload.managed_by),
        members=services.organisations_by_short_name(payload.members), request=request)
    return Status(201, queries.group(user, group.slug))


@router.patch("/groups/{slug}", response=GroupOut, summary="Rename or describe a sharing group")
def update_group(request, slug: str, payload: GroupPatch):
    user = require_writer(request)
    group = queries.group(user, slug)
    managed_by = _managing_org(payload.managed_by) if payload.managed_by else None
    services.update_group(user, group, name=payload.name, description=payload.description,
                          managed_by=managed_by, request=request)
    return queries.group(user, slug)


@router.put("/groups/{slug}/members", response=GroupOut,
            summary="Replace the members of a sharing group")
def set_members(request, slug: str, payload: MembersIn):
    user = require_writer(request)
    group = queries.group(user, slug)
    services.set_members(user, group, services.organisations_by_short_name(payload.members),
                         request=request)
    return queries.group(user, slug)


@router.post("/groups/{slug}/members", response=GroupOut,
             summary="Add organisations to a sharing group")
def add_members(request, slug: str, payload: MembersIn):
    user = require_writer(request)
    group = queries.group(user, slug)
    services.add_members(user, group, services.organisations_by_short_name(payload.members),
                         request=request)
    return queries.group(user, slug)


@router.delete("/groups/{slug}/members/{short_name}", response=GroupOut,
               summary="Remove an organisation from a sharing group")
def remove_member(request, slug: str, short_name: str):
    user = require_writer(request)
    group = queries.group(user, slug)
    services.remove_members(user, group, services.organisations_by_short_name([short_name]),
                            request=request)
    return queries.group(user, slug)
