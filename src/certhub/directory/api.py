"""Directory API, mounted at /api/v1/directory/: organisations, constituencies, points of
contact, import and export. Thin: parse, call queries/services, return schemas.

Organisations and constituencies are public RFC 2350 information (anonymous callers read them);
contacts follow the sharing rule: one not visible to the caller is 404 everywhere, and counts
include only visible ones.
"""


from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from certhub.core.api_guards import require_user, require_writer
from certhub.core.errors import InvalidInput

from . import importexport, queries, services
from .models import Organisation
from .schemas import (
    ConstituencyEntryOut,
    ConstituencyIn,
    ContactIn,
    ContactOut,
    ContactPatch,
    ImportResultOut,
    OrganisationDetail,
    OrganisationIn,
    OrganisationPatch,
    OrganisationSummary,
)

router = Router(tags=["directory"])

MAX_IMPORT_BYTES = 20 * 1024 * 1024


class OrganisationFilters(Schema):
    search: str = ""
    kind: str = ""
    country: str = ""
    membership: str = ""


def _detail(user, slug: str) -> Organisation:
    org = queries.with_visible_contact_counts(
        queries.organisations(user).filter(slug=slug), user).first()
    if org is None:
        return queries.organisation(user, slug)  # raises NotFound
    org.constituency_list = list(queries.constituency(org))
    org.contact_list = list(queries.contacts_with_audience(user, org))
    return org


def _coordinator(short_name: str | None):
    if short_name is None:
        return {}
    if not short_name.strip():
        return {"coordinator": None}
    from certhub.sharing.services import organisations_by_short_name
    return {"coordinator": organisations_by_short_name([short_name], field="coordinator")[0]}


# --- Organisations ---------------------------------------------------------------------------

@router.get("/organisations", response=list[OrganisationSummary],
            summary="List organisations")
@paginate(LimitOffsetPagination)
def list_organisations(request, filters: Query[OrganisationFilters]):
    user = request.auth
    return queries.with_visible_contact_counts(
        queries.organisations(user, search=filters.search, kind=filters.kind,
                              country=filters.country, membership=filters.membership), user)


@router.post("/organisations", response={201: OrganisationDetail},
             summary="Add an organisation (hub administrators)")
def create_organisation(request, payload: OrganisationIn):
    user = require_writer(request)
    fields = payload.dict(exclude_none=True, exclude={"coordinator"})
    org = services.create_organisation(user, request=request, **fields,
                                       **_coordinator(payload.coordinator))
    return Status(201, _detail(user, org.slug))


@router.get("/organisations/{slug}", response=OrganisationDetail,
            summary="An organisation: profile, constituency and the contacts visible to you")
def get_organisation(request, slug: str):
    org = _detail(request.auth, slug)
    services.record_opened(request.auth, org.contact_list, request=request)
    return org


@router.patch("/organisations/{slug}", response=OrganisationDetail,
              summary="Change an organisation")
def update_organisation(request, slug: str, payload: OrganisationPatch):
    user = require_writer(request)
    org = queries.organisation(user, slug)
    fields = payload.dict(exclude_unset=True, exclude={"coordinator"})
    if "coordinator" in payload.model_fields_set:
        fields.update(_coordinator(payload.coordinator or ""))
    org = services.update_organisation(user, org, request=request, **fields)
    return _detail(user, org.slug)


# --- Constituency ----------------------------------------------------------------------------

@router.get("/organisations/{slug}/constituency", response=list[ConstituencyEntryOut],
            summary="What an organisation is responsible for")
def list_constituency(request, slug: str):
    return list(queries.constituency(queries.organisation(request.auth, slug)))


@router.post("/organisations/{slug}/constituency", response={201: ConstituencyEntryOut},
             summary="Add a prefix, ASN, domain suffix or country")
def add_constituency(request, slug: str, payload: ConstituencyIn):
    user = require_writer(request)
    org = queries.organisation(user, slug)
    entry = services.add_constituency(user, org, payload.kind, payload.value, note=payload.note,
                                      request=request)
    return Status(201, entry)


@router.delete("/organisations/{slug}/constituency/{entry_id}", response={204: None},
               summary="Remove a constituency entry")
def remove_constituency(request, slug: str, entry_id: int):
    user = require_writer(request)
    org = queries.organisation(user, slug)
    services.remove_constituency(user, org, entry_id, request=request)
    return Status(204, None)


# --- Contacts --------------------------------------------------------------------------------

def _audience(payload) -> dict:
    return services.audience_from_names(groups=payload.audience_groups,
                                        orgs=payload.audience_orgs, users=payload.audience_users)


def _contact_out(user, pk: int):
    return queries.contacts_with_audience(user).get(pk=pk)


@router.get("/contacts", response=list[ContactOut], summary="Points of contact visible to you")
@paginate(LimitOffsetPagination)
def list_contacts(request, organisation: str = ""):
    user = request.auth
    org = queries.organisation(user, organisation) if organisation else None
    return queries.contacts_with_audience(user, org)


@router.get("/organisations/{slug}/contacts", response=list[ContactOut],
            summary="An organisation's points of contact visible to you")
def list_organisation_contacts(request, slug: str):
    user = request.auth
    return list(queries.contacts_with_audience(user, queries.organisation(user, slug)))


@router.post("/organisations/{slug}/contacts", response={201: ContactOut},
             summary="Add a point of contact to your organisation")
def create_contact(request, slug: str, payload: ContactIn):
    user = require_writer(request)
    org = queries.organisation(user, slug)
    audience = {name: value or [] for name, value in _audience(payload).items()}
    fields = payload.dict(exclude_none=True, exclude={"tlp", "audience_groups",
                                                      "audience_orgs", "audience_users"})
    contact = services.create_contact(user, org, tlp=payload.tlp, request=request, **audience,
                                      **fields)
    return Status(201, _contact_out(user, contact.pk))


@router.get("/contacts/{contact_id}", response=ContactOut, summary="A point of contact")
def get_contact(request, contact_id: int):
    user = request.auth
    contact = queries.contact(user, contact_id)  # NotFound unless visible
    services.record_opened(user, [contact], request=request)
    return _contact_out(user, contact_id)


@router.patch("/contacts/{contact_id}", response=ContactOut, summary="Change a point of contact")
def update_contact(request, contact_id: int, payload: ContactPatch):
    user = require_writer(request)
    queries.contact(user, contact_id)  # 404 before anything else for an invisible contact
    fields = payload.dict(exclude_unset=True, exclude={"tlp", "audience_groups",
                                                       "audience_orgs", "audience_users"})
    services.update_contact(user, contact_id, tlp=payload.tlp, request=request,
                            **_audience(payload), **fields)
    return _contact_out(user, contact_id)


@router.delete("/contacts/{contact_id}", response={204: None},
               summary="Delete a point of contact")
def delete_contact(request, contact_id: int):
    user = require_writer(request)
    queries.contact(user, contact_id)
    services.delete_contact(user, contact_id, request=request)
    return Status(204, None)


# --- Import and export -----------------------------------------------------------------------

@router.get("/export", summary="Export the directory as you see it (JSON or CSV)")
def export(request, format: str = "json"):
    user = require_user(request)
    content, content_type, filename = importexport.export_directory(
        user, fmt=format.lower(), request=request)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.post("/import", response=ImportResultOut,
             summary="Import organisations, constituencies, contacts and sharing groups "
                     "(hub administrators; all or nothing)")
def import_(request, format: str = ""):
    """Send the file as the request body (Content-Type application/json or text/csv) or as
    the multipart field ``file``. ``format`` (json or csv) overrides the guess."""
    user = require_writer(request)
    content = _uploaded(request)
    fmt = format.lower() or _format_of(request) or None
    result = importexport.import_directory(content, user=user, fmt=fmt, request=request)
    return result.as_dict()


def _uploaded(request) -> bytes:
    if request.content_type == "multipart/form-data":
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput(_("Send the file in the multipart field 'file'."), field="file")
        if upload.size > MAX_IMPORT_BYTES:
            raise InvalidInput(_("The file is too large (at most 20 MB)."), field="file")
        return upload.read()
    if not request.body:
        raise InvalidInput(_("The request body is empty; send a JSON or CSV file."),
                           field="file")
    return request.body


def _format_of(request) -> str:
    content_type = request.content_type or ""
    if content_type.endswith("json"):
        return "json"
    if content_type in ("text/csv", "application/csv"):
        return "csv"
    upload = request.FILES.get("file") if content_type == "multipart/form-data" else None
    if upload is not None and upload.name.lower().endswith((".csv", ".json")):
        return upload.name.lower().rsplit(".", 1)[1]
    return ""
